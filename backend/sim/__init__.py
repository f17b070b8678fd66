"""The simulated grocery store: catalog, demand, stock in age cohorts, ledger (pure, no I/O)."""

from __future__ import annotations

from backend.sim.catalog import CATEGORIES, Catalog, PublicCatalog, make_catalog
from backend.sim.ledger import DayRecord, Ledger, Observations
from backend.sim.store import Actions, Snapshot, Store

__all__ = [
    "CATEGORIES",
    "Actions",
    "Catalog",
    "DayRecord",
    "Ledger",
    "Observations",
    "PublicCatalog",
    "Snapshot",
    "Store",
    "make_catalog",
]
