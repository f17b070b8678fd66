"""The competent baseline: what a good grocer runs without learning, and per-SKU accounts.

It knows each SKU's true mean demand at list price and its spread (as the standing rule does)
and never changes the list price. Each day it
- orders up to a perishability-aware level: the mean demand over today .. today + L (weekday
  shape applied) plus z standard deviations of that demand, against the inventory position
  on hand + on order - the units expected to expire before the order lands (a fluid projection
  of mean sales taken oldest first: stock that expires before the order arrives does not count);
- posts a fixed clearance markdown: CLEARANCE_DISCOUNT off a SKU whose carried-over units on
  their last day of life exceed CLEARANCE_TRIGGER x today's expected sales. Today's own bake of
  a one-day line is not a carry-over: a one-day line is never cleared by this rule.

z, and whether the clearance rule runs on the SKU at all, are chosen per SKU by simulation on
the known parameters: the store is run once per value of Z_GRID with the rule on and once with
it off (all side by side, on the same demand draws) for TUNING_DAYS on random streams no store
seed can produce (a separate spawn key), and each SKU takes the setting with the best profit
among those whose fill rate (units sold / units demanded) is at least FILL_FLOOR; a SKU that no
setting brings to the floor takes the one with the highest fill rate. (In this store a markdown
discounts every unit of the SKU, so on fast lines it can cost more margin than it saves.) Without the floor a profit-only
rule runs its shelves near empty, which no grocer promises.
"""

from __future__ import annotations

import numpy as np

from backend.sim.catalog import Catalog
from backend.sim.ledger import DayRecord
from backend.sim.oracle import expected_write_offs
from backend.sim.store import STREAMS, Actions, Store

CLEARANCE_DISCOUNT = 0.30
CLEARANCE_TRIGGER = 1.0
FILL_FLOOR = 0.97
Z_GRID = np.arange(-0.5, 4.01, 0.25)
CHUNK_SKUS = 1_000  # SKUs tuned side by side: bounds memory at (CHUNK_SKUS x grid) rows
TUNING_DAYS = 364
TUNING_KEY = 1_000  # spawn key of the tuning streams; stores use 0..len(STREAMS)-1


class SkuTotals:
    """Per-SKU sums over traded days: profit, units sold, demanded, expired, stock-out days."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        n = catalog.n
        self.profit = np.zeros(n)
        self.sold = np.zeros(n, dtype=np.int64)
        self.demanded = np.zeros(n, dtype=np.int64)
        self.expired = np.zeros(n, dtype=np.int64)
        self.stockout_days = np.zeros(n, dtype=np.int64)
        self.revenue = np.zeros(n)

    def add(self, rec: DayRecord) -> None:
        c = self.catalog
        self.profit += (
            (rec.effective_price - c.unit_cost) * rec.sales
            - c.holding_rate * c.unit_cost * rec.closing_stock
            - (c.unit_cost + c.disposal_fee) * rec.expired
        )
        self.sold += rec.sales
        self.revenue += rec.effective_price * rec.sales
        self.demanded += rec.demand
        self.expired += rec.expired
        self.stockout_days += rec.stocked_out

    def shrink_pct_of_sales(self, mask: np.ndarray) -> float:
        """Units written off at list price as % of sales revenue over the SKUs in `mask`: how
        stores report shrink (of retail sales)."""
        lost = float((self.catalog.list_price * self.expired)[mask].sum())
        return 100.0 * lost / max(float(self.revenue[mask].sum()), 1e-12)

    def fill_rate(self) -> np.ndarray:
        return np.where(self.demanded > 0, self.sold / np.maximum(self.demanded, 1), 1.0)


def baseline_actions(store: Store, z: np.ndarray, clearance: np.ndarray | None = None) -> Actions:
    """Today's competent-baseline decisions for `store` with per-SKU safety factors z, the
    clearance rule on the SKUs where `clearance` is True (all when None)."""
    c, day = store.catalog, store.day
    rows = np.arange(c.n)
    shape = np.roll(c.weekday, -(day % 7), axis=1)  # multipliers of days t .. t+6
    window = np.arange(7)[None, :] <= c.lead_time[:, None]
    daily = c.base_demand[:, None] * shape
    mean = (daily * window).sum(axis=1)
    var = ((daily + daily**2 / c.dispersion[:, None]) * window).sum(axis=1)
    level = np.ceil(mean + np.asarray(z) * np.sqrt(var))
    list_price = c.list_price.astype(float)
    position = (
        store.stock_by_age.sum(axis=1)
        + store.pipeline.sum(axis=1)
        - store._orders_today
        - expected_write_offs(store, list_price, list_price)
    )
    order = np.maximum(np.ceil(level - position), 0).astype(np.int64)
    carried = store.stock_by_age[rows, 0]
    clear = carried > CLEARANCE_TRIGGER * daily[:, 0]
    if clearance is not None:
        clear &= np.asarray(clearance, dtype=bool)
    return Actions(
        price=list_price.copy(),
        markdown=np.where(clear, CLEARANCE_DISCOUNT, 0.0),
        order_qty=order,
    )


class _Tiled:
    """A Generator stand-in drawing one block of values and repeating it `reps` times, so every
    replica of a SKU meets the same demand (common random numbers across the z grid)."""

    def __init__(self, gen: np.random.Generator, reps: int) -> None:
        self.gen, self.reps = gen, reps

    def random(self, n: int) -> np.ndarray:
        return np.tile(self.gen.random(n // self.reps), self.reps)

    def gamma(self, shape: np.ndarray, scale: np.ndarray) -> np.ndarray:
        m = len(shape) // self.reps
        return np.tile(self.gen.gamma(shape[:m], scale[:m]), self.reps)


def tune(
    catalog: Catalog, seed: int, days: int = TUNING_DAYS, grid: np.ndarray = Z_GRID
) -> tuple[np.ndarray, np.ndarray]:
    """Per-SKU (z, clearance on): best simulated profit subject to fill rate >= FILL_FLOOR."""
    grid = np.asarray(grid, dtype=float)
    z, clear = np.empty(catalog.n), np.empty(catalog.n, dtype=bool)
    for start in range(0, catalog.n, CHUNK_SKUS):
        rows = np.arange(start, min(start + CHUNK_SKUS, catalog.n))
        z[rows], clear[rows] = _tune_rows(catalog.rows(rows), seed, days, grid)
    return z, clear


def tune_safety_factors(
    catalog: Catalog, seed: int, days: int = TUNING_DAYS, grid: np.ndarray = Z_GRID
) -> np.ndarray:
    """Per-SKU z of tune() (the clearance choice dropped)."""
    return tune(catalog, seed, days, grid)[0]


def _tune_rows(
    catalog: Catalog, seed: int, days: int, grid: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    n, g = catalog.n, 2 * len(grid)  # every z with the clearance rule on, then off
    store = Store(catalog.rows(np.tile(np.arange(n), g)), seed, history_days=1)
    store._rng = {
        name: _Tiled(
            np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(TUNING_KEY, i))),
            g,
        )
        for i, name in enumerate(STREAMS)
    }
    zs = np.concatenate([grid, grid])
    ons = np.repeat([True, False], len(grid))
    z, on = np.repeat(zs, n), np.repeat(ons, n)
    totals = SkuTotals(store.catalog)
    for _ in range(days):
        store.apply(baseline_actions(store, z, on))
        totals.add(store.step())
    profit = totals.profit.reshape(g, n)
    fill = totals.fill_rate().reshape(g, n)
    ok = fill >= FILL_FLOOR
    best_ok = np.where(ok, profit, -np.inf).argmax(axis=0)
    pick = np.where(ok.any(axis=0), best_ok, fill.argmax(axis=0))
    return zs[pick], ons[pick]


class CompetentBaseline:
    """The competent baseline bound to a catalog, its safety factors tuned at construction."""

    def __init__(self, catalog: Catalog, seed: int, days: int = TUNING_DAYS) -> None:
        self.catalog = catalog
        self.z, self.clearance = tune(catalog, seed, days)

    def actions(self, store: Store) -> Actions:
        if store.n != self.catalog.n:
            raise ValueError(f"store: expected {self.catalog.n} SKUs, got {store.n}")
        return baseline_actions(store, self.z, self.clearance)
