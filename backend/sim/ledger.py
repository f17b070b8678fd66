"""The store's books: running totals since the start and a bounded ring of per-SKU day records.

Identities kept exactly (see docs/sim.md): profit = revenue - cogs - holding - disposal;
per SKU, received = sold + expired + closing - opening.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from backend.sim.arrays import IndexArray
from backend.sim.catalog import Catalog
from backend.sim.economics import expected_profit, optimal_price

# Per-SKU day fields held in the ring, with their storage dtype. Units fit int32: orders are
# capped at 1e6 per SKU-day and demand rates at 1e6 (store.MAX_ORDER, demand.MAX_RATE).
ARRAY_FIELDS: dict[str, type] = {
    "price": np.float64,
    "markdown": np.float64,
    "demand": np.int32,
    "sales": np.int32,
    "stocked_out": np.bool_,
    "received": np.int32,
    "ordered": np.int32,
    "expired": np.int32,
    "available": np.int32,
    "expiring": np.int32,
    "closing_stock": np.int32,
}
SCALAR_FIELDS: dict[str, type] = {
    "day": np.int64,
    "weekday": np.int64,
    "revenue": np.float64,
    "cogs": np.float64,
    "holding": np.float64,
    "disposal": np.float64,
    "inventory_value": np.float64,
}
TOTAL_FIELDS = (
    "revenue",
    "cogs",
    "holding",
    "disposal",
    "units_sold",
    "units_expired",
    "units_received",
    "units_ordered",
    "units_demanded",
    "stockout_sku_days",
)
# Per-day totals kept beside the ring: units written off, stocked-out SKUs, and the summed
# expected profit at posted and at optimal prices (NaN until price_scores computes the day).
DAY_SUMS = ("expired", "stocked_out", "posted", "optimal")
# The ring's attributes: per-day rows, stored a day at a time (rows / put_rows), not whole.
# Per-SKU running sums since the start (the ring drops old days; these do not), for figures
# per SKU or category over the whole run: money and units of each SKU add up across days.
SKU_TOTALS = ("revenue", "sales", "expired", "closing_stock", "demand", "stocked_out")
RING = ("_arrays", "_scalars", "_posted", "_optimal", "_sums")
OBSERVABLE_FIELDS = (
    "price",
    "markdown",
    "sales",
    "stocked_out",
    "expired",
    "received",
    "ordered",
    "closing_stock",
)


@dataclass(frozen=True, eq=False)
class DayRecord:
    """One traded day. Per-SKU arrays have length n; `demand` is hidden (KPIs only).

    available: units on the shelf when trading opened (opening stock + today's receipts);
    expiring: of those, units on their last day of life; closing_stock: units carried into
    tomorrow after write-off; stocked_out: the shelf was emptied (sales == available, an empty
    shelf included), what a store sees, not whether demand went beyond the stock (hidden).
    Money in currency units; inventory_value is closing stock at cost.
    """

    day: int
    weekday: int
    price: np.ndarray
    markdown: np.ndarray
    demand: np.ndarray
    sales: np.ndarray
    stocked_out: np.ndarray
    received: np.ndarray
    ordered: np.ndarray
    expired: np.ndarray
    available: np.ndarray
    expiring: np.ndarray
    closing_stock: np.ndarray
    revenue: float
    cogs: float
    holding: float
    disposal: float
    inventory_value: float

    @property
    def effective_price(self) -> np.ndarray:
        return self.price * (1.0 - self.markdown)

    @property
    def profit(self) -> float:
        return self.revenue - self.cogs - self.holding - self.disposal

    @property
    def opening_stock(self) -> np.ndarray:
        opening: np.ndarray = self.available.astype(np.int64) - self.received
        return opening


@dataclass(frozen=True, eq=False)
class Observations:
    """The observable past, oldest row first: (T,) day/weekday and (T, n) per-SKU arrays."""

    day: np.ndarray
    weekday: np.ndarray
    price: np.ndarray
    markdown: np.ndarray
    effective_price: np.ndarray
    sales: np.ndarray
    stocked_out: np.ndarray
    expired: np.ndarray
    received: np.ndarray
    ordered: np.ndarray
    closing_stock: np.ndarray

    @property
    def days(self) -> int:
        return int(self.day.shape[0])


class Ledger:
    """Running totals since the start plus the last `history_days` DayRecords."""

    def __init__(self, n_skus: int, history_days: int = 364) -> None:
        if (
            isinstance(history_days, bool)
            or not isinstance(history_days, (int, np.integer))
            or history_days < 1
        ):
            raise ValueError(f"history_days: expected an integer >= 1, got {history_days!r}")
        self.n = int(n_skus)
        self.history_days = int(history_days)
        self._allocate_ring()
        self._count = 0  # days recorded since the start; the ring holds the last min(count, H)
        self.totals: dict[str, float | int] = {f: 0 for f in TOTAL_FIELDS}
        for f in ("revenue", "cogs", "holding", "disposal"):
            self.totals[f] = 0.0
        self.inventory_value = 0.0
        self.sku_totals = {f: np.zeros(self.n) for f in SKU_TOTALS}

    def _allocate_ring(self) -> None:
        h, n = self.history_days, self.n
        # np.full writes every page now (np.zeros would map them as the ring fills): a store's
        # memory is what it will be on its last day from the first, not a slow climb for a year.
        self._arrays: dict[str, np.ndarray] = {
            f: np.full((h, n), 0, dtype=t) for f, t in ARRAY_FIELDS.items()
        }
        self._scalars: dict[str, np.ndarray] = {
            f: np.full(h, 0, dtype=t) for f, t in SCALAR_FIELDS.items()
        }
        # Expected profit at posted / optimal prices per SKU-day, computed on first request
        # (price_scores) and kept: NaN until then. Keeps step() fast at 10,000 SKUs.
        self._posted = np.full((h, n), np.nan)
        self._optimal = np.full((h, n), np.nan)
        # Per-day totals over SKUs, so that a window's KPI sums days, not SKU-days.
        self._sums = {f: np.zeros(h) for f in DAY_SUMS}

    # -- running totals ----------------------------------------------------------------------
    @property
    def days(self) -> int:
        return self._count

    @property
    def profit(self) -> float:
        t = self.totals
        return float(t["revenue"] - t["cogs"] - t["holding"] - t["disposal"])

    def summary(self) -> dict[str, float | int]:
        """Totals since the start, profit and current inventory value at cost."""
        return {
            **self.totals,
            "profit": self.profit,
            "inventory_value": self.inventory_value,
            "days": self._count,
        }

    def __getattr__(self, name: str) -> Any:
        totals = self.__dict__.get("totals")
        if totals is not None and name in totals:
            return totals[name]
        raise AttributeError(name)

    # -- recording ---------------------------------------------------------------------------
    def record(self, rec: DayRecord) -> None:
        i = self._count % self.history_days
        for f in ARRAY_FIELDS:
            self._arrays[f][i] = getattr(rec, f)
        for f in SCALAR_FIELDS:
            self._scalars[f][i] = getattr(rec, f)
        self._posted[i] = np.nan
        self._optimal[i] = np.nan
        sums = self._sums
        sums["expired"][i] = rec.expired.sum(dtype=np.int64)
        sums["stocked_out"][i] = rec.stocked_out.sum()
        sums["posted"][i] = sums["optimal"][i] = np.nan
        t = self.totals
        t["revenue"] += rec.revenue
        t["cogs"] += rec.cogs
        t["holding"] += rec.holding
        t["disposal"] += rec.disposal
        t["units_sold"] += int(rec.sales.sum(dtype=np.int64))
        t["units_expired"] += int(rec.expired.sum(dtype=np.int64))
        t["units_received"] += int(rec.received.sum(dtype=np.int64))
        t["units_ordered"] += int(rec.ordered.sum(dtype=np.int64))
        t["units_demanded"] += int(rec.demand.sum(dtype=np.int64))
        t["stockout_sku_days"] += int(rec.stocked_out.sum())
        self.inventory_value = rec.inventory_value
        s = self.sku_totals
        s["revenue"] += rec.effective_price * rec.sales
        for f in SKU_TOTALS[1:]:
            s[f] += getattr(rec, f)
        self._count += 1

    # -- reading the ring --------------------------------------------------------------------
    def _order(self, days: int | None) -> IndexArray:
        held = min(self._count, self.history_days)
        k = held if days is None else max(0, min(int(days), held))
        last = self._count - 1
        return (np.arange(last - k + 1, last + 1) % self.history_days).astype(np.intp)

    def window(self, field: str, days: int | None = None) -> np.ndarray:
        """The last `days` values of a field (all held if None), oldest first: (T, n) or (T,)."""
        idx = self._order(days)
        if field in ARRAY_FIELDS:
            return self._arrays[field][idx]
        if field in SCALAR_FIELDS:
            return self._scalars[field][idx]
        if field == "profit":
            s = self._scalars
            profit: np.ndarray = (
                s["revenue"][idx] - s["cogs"][idx] - s["holding"][idx] - s["disposal"][idx]
            )
            return profit
        known = sorted([*ARRAY_FIELDS, *SCALAR_FIELDS, "profit"])
        raise ValueError(f"field: expected one of {known}, got {field!r}")

    def records(self, days: int | None = None) -> list[DayRecord]:
        """The last `days` DayRecords held (all if None), oldest first."""
        return [self._record_at(int(i)) for i in self._order(days)]

    def last(self) -> DayRecord | None:
        return self._record_at(int(self._order(1)[0])) if self._count else None

    def _record_at(self, i: int) -> DayRecord:
        kw: dict[str, Any] = {f: self._arrays[f][i].copy() for f in ARRAY_FIELDS}
        for f, t in SCALAR_FIELDS.items():
            kw[f] = int(self._scalars[f][i]) if t is np.int64 else float(self._scalars[f][i])
        return DayRecord(**kw)

    def observations(self, days: int | None = None) -> Observations:
        idx = self._order(days)
        a = self._arrays
        kw = {f: a[f][idx] for f in OBSERVABLE_FIELDS}
        return Observations(
            day=self._scalars["day"][idx],
            weekday=self._scalars["weekday"][idx],
            effective_price=kw["price"] * (1.0 - kw["markdown"]),
            **kw,
        )

    def price_scores(
        self, catalog: Catalog, days: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(T, n) expected profit of each SKU-day's sales at the posted price and at the true
        optimal price for the same stock (economics), oldest first; computed once per day."""
        idx = self._order(days)
        self._score(idx, catalog)
        return self._posted[idx], self._optimal[idx]

    def day_sums(self, field: str, days: int | None = None) -> np.ndarray:
        """(T,) per-day totals over SKUs of a DAY_SUMS field, oldest first."""
        if field not in DAY_SUMS:
            raise ValueError(f"field: expected one of {list(DAY_SUMS)}, got {field!r}")
        return self._sums[field][self._order(days)]

    def price_score_sums(self, catalog: Catalog, days: int | None = None) -> tuple[float, float]:
        """Summed expected profit at posted and at optimal prices over the window's SKU-days."""
        idx = self._order(days)
        self._score(idx, catalog)
        return float(self._sums["posted"][idx].sum()), float(self._sums["optimal"][idx].sum())

    def _score(self, idx: IndexArray, catalog: Catalog) -> None:
        for i in idx[np.isnan(self._sums["posted"][idx])]:
            wd = int(self._scalars["weekday"][i])
            price = self._arrays["price"][i] * (1.0 - self._arrays["markdown"][i])
            avail = self._arrays["available"][i].astype(float)
            expiring = self._arrays["expiring"][i].astype(float)
            posted = expected_profit(catalog, wd, price, avail, expiring)
            self._posted[i] = posted
            # the grid optimum can fall a hair short of a posted price that is itself optimal
            self._optimal[i] = np.maximum(optimal_price(catalog, wd, avail, expiring)[1], posted)
            self._sums["posted"][i] = self._posted[i].sum()
            self._sums["optimal"][i] = self._optimal[i].sum()

    # -- the ring a day at a time ------------------------------------------------------------
    def rows(self, first: int = 0) -> dict[str, np.ndarray]:
        """Copies of the held rows of days first.. (day = the count when it was recorded)."""
        days = np.arange(max(first, self._count - self.history_days), self._count)
        i = days % self.history_days
        out: dict[str, np.ndarray] = {"day_index": days}
        out |= {f"a/{f}": a[i] for f, a in self._arrays.items()}
        out |= {f"s/{f}": a[i] for f, a in self._scalars.items()}
        out |= {f"sum/{f}": a[i] for f, a in self._sums.items()}
        out |= {"posted": self._posted[i], "optimal": self._optimal[i]}
        return out

    def put_rows(self, rows: dict[str, np.ndarray]) -> None:
        """Put rows from rows() back; rows outside what the ring holds now are ignored."""
        if not hasattr(self, "_arrays"):
            self._allocate_ring()
        days = np.asarray(rows["day_index"])
        if days.size == 0:
            return
        keep = (days >= self._count - self.history_days) & (days < self._count)
        i = days[keep] % self.history_days
        for f, a in self._arrays.items():
            a[i] = rows[f"a/{f}"][keep]
        for f, a in self._scalars.items():
            a[i] = rows[f"s/{f}"][keep]
        for f, a in self._sums.items():
            a[i] = rows[f"sum/{f}"][keep]
        self._posted[i], self._optimal[i] = rows["posted"][keep], rows["optimal"][keep]

    # -- persistence -------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "history_days": self.history_days,
            "count": self._count,
            "totals": dict(self.totals),
            "inventory_value": self.inventory_value,
            "arrays": {f: a.copy() for f, a in self._arrays.items()},
            "scalars": {f: a.copy() for f, a in self._scalars.items()},
            "price_scores": (self._posted.copy(), self._optimal.copy()),
            "sums": {f: a.copy() for f, a in self._sums.items()},
            "sku_totals": {f: a.copy() for f, a in self.sku_totals.items()},
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Ledger:
        led = cls(state["n"], state["history_days"])
        led._count = int(state["count"])
        led.totals = dict(state["totals"])
        led.inventory_value = float(state["inventory_value"])
        for f in ARRAY_FIELDS:
            led._arrays[f][...] = state["arrays"][f]
        for f in SCALAR_FIELDS:
            led._scalars[f][...] = state["scalars"][f]
        led._posted[...], led._optimal[...] = state["price_scores"]
        if "sku_totals" in state:
            led.sku_totals = {f: np.array(a, dtype=float) for f, a in state["sku_totals"].items()}
        else:  # saved before they were kept: not known for the days before the ring
            del led.sku_totals
        if "sums" in state:
            for f, a in led._sums.items():
                a[...] = state["sums"][f]
        else:  # a state saved before the per-day totals: derive them from the rows
            led._sums["expired"][...] = led._arrays["expired"].sum(axis=1, dtype=np.int64)
            led._sums["stocked_out"][...] = led._arrays["stocked_out"].sum(axis=1)
            led._sums["posted"][...] = led._posted.sum(axis=1)
            led._sums["optimal"][...] = led._optimal.sum(axis=1)
        return led
