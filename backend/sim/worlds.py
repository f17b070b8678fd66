"""Worlds the agents were not tuned for: stores whose demand generator differs from the default.

Each world changes the hidden generator only (the public catalog, hence what the agents see,
is the same); the known-parameter policies (oracle, competent baseline) read the world's
parameters, today's level included where it moves over time.

- level_low / level_high: base demand x0.2 / x5.
- inelastic / elastic: elasticities redrawn uniform in [-1.8, -1.2] / [-5.0, -3.5].
- linear: demand linear in price, d(p) = d(list) x max(0, 1 + e (p / list - 1)), the same slope
  at list price as the constant-elasticity curve (the oracle still prices by the latter: in this
  world it is not the optimum).
- poisson / overdispersed: no demand shock (plain Poisson) / three times the shock's variance.
- seasonal: an annual season of +-30% (a per-SKU phase) and a trend of +20% a year.
- fresh_none / fresh_half: a fresh-pick share of 0 / 0.5.
- shifts: each SKU's demand halves or doubles from one random day of the year on.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from backend.sim.catalog import Catalog
from backend.sim.ledger import DayRecord
from backend.sim.store import Store
from backend.sim.true_demand import MAX_RATE

WORLDS = (
    "level_low",
    "level_high",
    "inelastic",
    "elastic",
    "linear",
    "poisson",
    "overdispersed",
    "seasonal",
    "fresh_none",
    "fresh_half",
    "shifts",
)
WORLD_KEY = 2_000  # spawn key of a world's own draws; stores use 0..2, tuning 1000
SEASON, TREND, YEAR = 0.30, 0.20, 364.0
POISSON_K = 1e12  # a gamma shock of this shape is 1 to within 1e-6


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(WORLD_KEY,)))


def world_catalog(catalog: Catalog, world: str | None, seed: int) -> Catalog:
    """The catalog with the world's hidden parameters (the public fields unchanged)."""
    if world is None:
        return catalog
    if world not in WORLDS:
        raise ValueError(f"world: expected one of {', '.join(WORLDS)}, got {world!r}")
    rng, n = _rng(seed), catalog.n
    change: dict[str, Any] = {}
    if world in ("level_low", "level_high"):
        change["base_demand"] = catalog.base_demand * (0.2 if world == "level_low" else 5.0)
    elif world in ("inelastic", "elastic"):
        lo, hi = (-1.8, -1.2) if world == "inelastic" else (-5.0, -3.5)
        change["elasticity"] = rng.uniform(lo, hi, size=n)
    elif world == "poisson":
        change["dispersion"] = np.full(n, POISSON_K)
    elif world == "overdispersed":
        change["dispersion"] = catalog.dispersion / 3.0
    elif world in ("fresh_none", "fresh_half"):
        change["fresh_share"] = 0.0 if world == "fresh_none" else 0.5
    return dataclasses.replace(catalog, **change)


class WorldStore(Store):
    """A store in a world whose demand moves over time or is linear in price."""

    def __init__(self, catalog: Catalog, seed: int, world: str, history_days: int = 364):
        self.world = world
        self.base = catalog
        rng = _rng(seed)
        n = catalog.n
        self.phase = rng.uniform(0.0, 2 * np.pi, size=n)
        self.shift_day = rng.integers(0, int(YEAR), size=n)
        self.shift = np.where(rng.random(n) < 0.5, 0.5, 2.0)
        super().__init__(catalog, seed, history_days)
        self._set_level()

    def level(self, day: int) -> np.ndarray:
        """The world's multiplier of base demand on `day`."""
        n = self.base.n
        if self.world == "seasonal":
            seasonal: np.ndarray = (1.0 + SEASON * np.sin(2 * np.pi * day / YEAR + self.phase)) * (
                1.0 + TREND
            ) ** (day / YEAR)
            return seasonal
        if self.world == "shifts":
            return np.where(day >= self.shift_day, self.shift, 1.0)
        return np.ones(n)

    def _set_level(self) -> None:
        self.catalog = dataclasses.replace(
            self.base, base_demand=self.base.base_demand * self.level(self.day)
        )

    def _rate(self, effective: np.ndarray, shock: np.ndarray) -> np.ndarray:
        if self.world != "linear":
            return super()._rate(effective, shock)
        c = self.catalog
        ratio = np.asarray(effective, dtype=float) / c.list_price
        curve = np.maximum(1.0 + c.elasticity * (ratio - 1.0), 0.0)
        rate: np.ndarray = np.minimum(
            c.base_demand * c.weekday[:, self.weekday] * shock * curve, MAX_RATE
        )
        return rate

    def step(self) -> DayRecord:
        rec = super().step()
        self._set_level()
        return rec


def make_store(catalog: Catalog, seed: int, world: str | None) -> Store:
    """The store of `world` (a plain Store for the default world and catalog-only worlds)."""
    if world in ("linear", "seasonal", "shifts"):
        return WorldStore(catalog, seed, world)
    return Store(catalog, seed)
