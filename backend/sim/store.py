"""The simulated store: stock in age cohorts, deliveries, censored sales, expiry, the ledger.

Day t (store.day == t): agents read snapshot(); apply() posts today's prices, markdowns and
orders (lead time L arrives at the opening of day t + L, L = 0 before today's opening); step()
receives, sells, charges holding, ages and writes off, records, and advances to t + 1.
A SKU-day is stocked out when the shelf was emptied (sales == units available, an empty shelf
included): what a store sees; whether demand went beyond the stock stays hidden.

Randomness (common random numbers): three numpy Generators seeded from the store seed, one per
stream: 0 the demand uniform, 1 the gamma demand shock, 2 the stochastic rounding of the
fresh-picking share. Every day each draws a full (n,) vector whatever the prices or stock, so
two stores with the same catalog and seed see the same shocks. Realised demand is the Poisson
inverse CDF of the uniform at the price-dependent rate, hence monotone in price.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from backend.sim.arrays import FloatArray, IntArray
from backend.sim.catalog import Catalog, PublicCatalog
from backend.sim.ledger import DayRecord, Ledger, Observations
from backend.sim.true_demand import demand_rate, demand_sd, poisson_ppf

log = logging.getLogger(__name__)

MAX_ORDER = 1_000_000  # units per SKU-day; keeps every unit count inside int32
STANDING_Z = 1.3  # safety factor of the standing rule (tuned: waste 2-6%, fill 97%+)
STREAMS = ("uniform", "shock", "fresh")
STATE_VERSION = 1


@dataclass(frozen=True, eq=False)
class Actions:
    """Today's levers: regular price (n,), markdown fraction in [0, 0.9) (n,), order units (n,)."""

    price: np.ndarray
    markdown: np.ndarray
    order_qty: np.ndarray


@dataclass(frozen=True, eq=False)
class Snapshot:
    """What an agent may see before today's decisions (copies; no hidden parameters)."""

    day: int
    weekday: int
    catalog: PublicCatalog
    price: np.ndarray
    markdown: np.ndarray
    stock_by_age: IntArray
    pipeline: IntArray
    history: Observations

    @property
    def stock(self) -> IntArray:
        total: IntArray = self.stock_by_age.sum(axis=1)
        return total

    @property
    def on_order(self) -> IntArray:
        total: IntArray = self.pipeline.sum(axis=1)
        return total


class RandomStream(Protocol):
    """What the store draws from a stream: a numpy Generator, or a stand-in for one in tuning."""

    def random(self, n: int) -> FloatArray: ...

    def gamma(self, shape: FloatArray, scale: FloatArray) -> FloatArray: ...


def _streams(seed: int) -> dict[str, RandomStream]:
    return {
        name: np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(i,)))
        for i, name in enumerate(STREAMS)
    }


def _draw(
    rng: dict[str, RandomStream], catalog: Catalog
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """One day's draws, full (n,) vectors whatever the state: uniform, gamma shock, rounding."""
    k = catalog.dispersion
    n = catalog.n
    return rng["uniform"].random(n), rng["shock"].gamma(k, 1.0 / k), rng["fresh"].random(n)


def _generator(stream: RandomStream) -> np.random.Generator:
    if not isinstance(stream, np.random.Generator):
        raise TypeError(f"a store drawing from a {type(stream).__name__} has no state to save")
    return stream


def daily_draws(catalog: Catalog, seed: int, days: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The (uniform, shock) vectors Store(catalog, seed) meets on days 0..days-1."""
    rng = _streams(seed)
    for _ in range(days):
        u, shock, _ = _draw(rng, catalog)
        yield u, shock


def _check_array(name: str, value: Any, n: int) -> np.ndarray:
    array: np.ndarray
    if isinstance(value, np.ndarray):
        array = value
    else:
        try:
            array = np.asarray(value)
        except Exception:  # noqa: BLE001 - anything unconvertible is a shape error to the caller
            raise ValueError(
                f"Actions.{name}: expected a numeric array of shape ({n},), "
                f"got {type(value).__name__}"
            ) from None
    if array.shape != (n,):
        raise ValueError(f"Actions.{name}: expected shape ({n},), got {array.shape}")
    if array.dtype.kind not in "iuf":
        raise ValueError(f"Actions.{name}: expected a numeric array, got dtype {array.dtype}")
    if not np.all(np.isfinite(array)):
        bad = int(np.flatnonzero(~np.isfinite(array))[0])
        raise ValueError(
            f"Actions.{name}: expected finite values, got {array[bad].item()!r} at index {bad}"
        )
    return array


def _first_bad(name: str, value: np.ndarray, bad: np.ndarray, expected: str) -> None:
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"Actions.{name}: expected {expected}, got {value[i].item()!r} at index {i} "
            f"({int(bad.sum())} bad value(s))"
        )


class Store:
    """A grocery store traded one day per step(); deterministic for (catalog, seed)."""

    def __init__(self, catalog: Catalog, seed: int, history_days: int = 364) -> None:
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed: expected an integer >= 0, got {seed!r}")
        self.catalog = catalog
        self.seed = int(seed)
        self.day = 0
        n = catalog.n
        self.stock_by_age = np.zeros((n, catalog.max_shelf_life), dtype=np.int64)
        self.pipeline = np.zeros((n, catalog.max_lead_time + 1), dtype=np.int64)
        self.price = catalog.list_price.astype(float).copy()
        self.markdown = np.zeros(n)
        self._orders_today = np.zeros(n, dtype=np.int64)
        self._rng = _streams(self.seed)
        self.ledger = Ledger(n, history_days)
        self._rows = np.arange(n)
        # Open in steady state rather than with empty shelves: a day's cover (mean + one
        # sigma) of fresh units on the shelf and the mean daily flow already in the pipeline.
        mean0 = catalog.base_demand * catalog.weekday[:, 0]
        opening = np.ceil(mean0 + demand_sd(catalog, catalog.base_demand)).astype(np.int64)
        self.stock_by_age[self._rows, catalog.shelf_life - 1] = opening
        for k in range(1, self.pipeline.shape[1]):
            due = catalog.lead_time >= k
            flow = np.rint(catalog.base_demand * catalog.weekday[:, k % 7]).astype(np.int64)
            self.pipeline[due, k] = flow[due]

    @property
    def weekday(self) -> int:
        return self.day % 7

    @property
    def n(self) -> int:
        return self.catalog.n

    # -- what agents see ---------------------------------------------------------------------
    def snapshot(self, history_days: int | None = None) -> Snapshot:
        """Observables only; history limited to the last `history_days` (all held if None)."""
        return Snapshot(
            day=self.day,
            weekday=self.weekday,
            catalog=self.catalog.public(),
            price=self.price.copy(),
            markdown=self.markdown.copy(),
            stock_by_age=self.stock_by_age.copy(),
            pipeline=self.pipeline.copy(),
            history=self.ledger.observations(history_days),
        )

    # -- the standing rule -------------------------------------------------------------------
    def _standing_level(self) -> np.ndarray:
        """Order-up-to level: true mean at list price over days t..t+L plus z*sigma*sqrt(L+1)."""
        c, z = self.catalog, STANDING_Z
        cum = np.cumsum(np.roll(c.weekday, -self.weekday, axis=1), axis=1)
        days_mult = cum[self._rows, c.lead_time]  # sum of weekday multipliers t..t+L
        mean = c.base_demand * days_mult
        sigma = demand_sd(c, c.base_demand)
        standing: IntArray = np.ceil(mean + z * sigma * np.sqrt(c.lead_time + 1.0)).astype(np.int64)
        return standing

    def standing_actions(self) -> Actions:
        """The static baseline: list price, no markdown, order up to the standing level.

        Inventory position = units on hand + on order; perishability is ignored on purpose.
        """
        position = self.stock_by_age.sum(axis=1) + self.pipeline.sum(axis=1) - self._orders_today
        order = np.maximum(self._standing_level() - position, 0)
        return Actions(
            price=self.catalog.list_price.astype(float).copy(),
            markdown=np.zeros(self.n),
            order_qty=order.astype(np.int64),
        )

    # -- decisions ---------------------------------------------------------------------------
    def apply(self, actions: Actions) -> None:
        """Post today's prices and markdowns and place today's orders (a repeat call replaces)."""
        if not isinstance(actions, Actions):
            raise ValueError(f"actions: expected Actions, got {type(actions).__name__}")
        n = self.n
        price = _check_array("price", actions.price, n).astype(float)
        _first_bad("price", price, ~(price > 0), "prices > 0")
        markdown = _check_array("markdown", actions.markdown, n).astype(float)
        _first_bad(
            "markdown",
            markdown,
            (markdown < 0) | (markdown >= 0.9),
            "discount fractions in [0, 0.9)",
        )
        qty = _check_array("order_qty", actions.order_qty, n)
        if qty.dtype.kind == "f":
            _first_bad("order_qty", qty, qty != np.round(qty), "whole units")
        _first_bad(
            "order_qty", qty, (qty < 0) | (qty > MAX_ORDER), f"whole units in [0, {MAX_ORDER}]"
        )
        qty = qty.astype(np.int64)
        # Orders land in the pipeline now so the snapshot shows them as on order.
        self.pipeline[self._rows, self.catalog.lead_time] += qty - self._orders_today
        self._orders_today = qty
        self.price = price
        self.markdown = markdown

    # -- the day -----------------------------------------------------------------------------
    def _rate(self, effective: np.ndarray, shock: np.ndarray) -> np.ndarray:
        """Today's Poisson rate at the effective prices (a world may shape it otherwise)."""
        return demand_rate(self.catalog, self.weekday, effective, shock)

    def step(self) -> DayRecord:
        """Trade today and advance to tomorrow; returns the day's record (also in the ledger)."""
        c, rows, stock = self.catalog, self._rows, self.stock_by_age
        n = self.n
        u, shock, v = _draw(self._rng, c)

        opening = stock.sum(axis=1)
        received = self.pipeline[:, 0].copy()
        stock[rows, c.shelf_life - 1] += received
        available = opening + received
        expiring = stock[:, 0].copy()

        effective = self.price * (1.0 - self.markdown)
        rate = self._rate(effective, shock)
        demand = poisson_ppf(u, rate)
        sales = np.minimum(demand, available)
        fresh = np.minimum(np.floor(c.fresh_share * sales + v).astype(np.int64), sales)
        _take_oldest(stock, sales - fresh)
        _take_freshest(stock, fresh)

        expired = stock[:, 0].copy()
        stock[:, :-1] = stock[:, 1:]
        stock[:, -1] = 0
        closing = available - sales - expired
        self.pipeline[:, :-1] = self.pipeline[:, 1:]
        self.pipeline[:, -1] = 0

        cost = c.unit_cost
        rec = DayRecord(
            day=self.day,
            weekday=self.weekday,
            price=self.price.copy(),
            markdown=self.markdown.copy(),
            demand=demand,
            sales=sales,
            stocked_out=sales == available,
            received=received,
            ordered=self._orders_today,
            expired=expired,
            available=available,
            expiring=expiring,
            closing_stock=closing,
            revenue=float(effective @ sales),
            cogs=float(cost @ sales),
            holding=float(c.holding_rate * (cost @ closing)),
            disposal=float((cost + c.disposal_fee) @ expired),
            inventory_value=float(cost @ closing),
        )
        self.ledger.record(rec)
        self._orders_today = np.zeros(n, dtype=np.int64)
        self.day += 1
        return rec

    # -- persistence -------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """Everything needed to continue identically: a picklable dict of arrays and scalars."""
        return {
            "version": STATE_VERSION,
            "catalog": self.catalog.to_dict(),
            "seed": self.seed,
            "day": self.day,
            "stock_by_age": self.stock_by_age.copy(),
            "pipeline": self.pipeline.copy(),
            "price": self.price.copy(),
            "markdown": self.markdown.copy(),
            "orders_today": self._orders_today.copy(),
            "rng": {k: _generator(g).bit_generator.state for k, g in self._rng.items()},
            "ledger": self.ledger.state(),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Store:
        if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
            got = state.get("version") if isinstance(state, dict) else type(state).__name__
            raise ValueError(f"store state: expected version {STATE_VERSION}, got {got!r}")
        catalog = Catalog.from_dict(state["catalog"])
        store = cls(catalog, state["seed"], state["ledger"]["history_days"])
        store.day = int(state["day"])
        store.stock_by_age[...] = state["stock_by_age"]
        store.pipeline[...] = state["pipeline"]
        store.price = np.array(state["price"], dtype=float)
        store.markdown = np.array(state["markdown"], dtype=float)
        store._orders_today = np.array(state["orders_today"], dtype=np.int64)
        for k, g in store._rng.items():
            _generator(g).bit_generator.state = state["rng"][k]
        store.ledger = Ledger.from_state(state["ledger"])
        log.debug("restored store of %d SKUs at day %d", store.n, store.day)
        return store


def _take_oldest(stock: np.ndarray, qty: np.ndarray) -> None:
    """Remove qty units per row, lowest column (fewest days left) first, in place."""
    cols = np.flatnonzero(stock.any(axis=0))  # only the occupied cohorts: speed at 10k SKUs
    if cols.size == 0:
        return
    s = stock[:, cols]
    before = np.cumsum(s, axis=1) - s
    stock[:, cols] = s - np.clip(qty[:, None] - before, 0, s)


def _take_freshest(stock: np.ndarray, qty: np.ndarray) -> None:
    """Remove qty units per row, highest column (most days left) first, in place."""
    if not qty.any():
        return
    cols = np.flatnonzero(stock.any(axis=0))[::-1]
    s = stock[:, cols]
    before = np.cumsum(s, axis=1) - s
    stock[:, cols] = s - np.clip(qty[:, None] - before, 0, s)
