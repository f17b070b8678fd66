"""Shared helpers for the store tests."""

from __future__ import annotations

import numpy as np

from backend.sim.store import Actions, Store


def run_standing(store: Store, days: int) -> None:
    for _ in range(days):
        store.apply(store.standing_actions())
        store.step()


def actions(
    store: Store,
    price: np.ndarray | None = None,
    markdown: np.ndarray | None = None,
    order: np.ndarray | None = None,
) -> Actions:
    n = store.n
    return Actions(
        price=store.catalog.list_price.copy() if price is None else price,
        markdown=np.zeros(n) if markdown is None else markdown,
        order_qty=np.zeros(n, dtype=np.int64) if order is None else order,
    )
