"""The known-parameter oracle policy and a provable upper bound on any policy's profit.

The oracle knows the true demand model (not the noise). Each day it
- prices every SKU at the price maximising the day's expected profit for the stock on the
  shelf (economics.optimal_price: the Lerner price with ample stock, higher when stock is
  scarce, lower when units are about to expire), no markdowns;
- orders up to a perishability-aware newsvendor level: the critical-ratio quantile of demand
  over today .. today + L at the Lerner price, against the stock it expects still to be
  sellable then (on hand + on order - expected write-offs before the order lands).
  Critical ratio (p - c) / ((p - c) + h c + (c + fee) * pi), where pi is the chance that a
  unit left over at the end of its first day ends up written off: 1 for one-day goods; for
  longer lives the chance that the rest of its life sells less than one day's mean demand
  (the leftover is first in line, behind about that much older stock).

profit_upper_bound: no policy can earn more on a SKU-day than (p - c) x demand at price p,
maximised over p with the realised demand draws known (perfect hindsight, free and exact
stock, no holding or disposal). Under the Poisson-quantile demand, demand at price p is at
least d exactly when the rate exceeds gammainccinv(d, u), which gives the highest price p_d
at which d units sell; the bound is sum over SKU-days of max(0, max_d (p_d - c) d).
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

from backend.sim.catalog import Catalog
from backend.sim.economics import expected_profit, lerner_price, optimal_price
from backend.sim.store import Actions, Store, daily_draws
from backend.sim.true_demand import poisson_ppf

__all__ = [
    "Oracle",
    "expected_profit",
    "expected_write_offs",
    "lerner_price",
    "optimal_price",
    "oracle_actions",
    "profit_upper_bound",
]

MAX_CRITICAL_RATIO = 0.995


def _write_off_risk(catalog: Catalog, mean_day: np.ndarray) -> np.ndarray:
    """pi: chance a leftover unit is never sold before it expires (see module docstring)."""
    k = catalog.dispersion
    rest = np.maximum(catalog.shelf_life - 1, 1).astype(float)
    shape = k * rest  # sum of iid NB(mean m, k) is NB(rest m, rest k)
    p = shape / (shape + rest * mean_day)
    below = stats.nbinom.cdf(np.ceil(mean_day) - 1, shape, p)
    return np.where(catalog.shelf_life <= 1, 1.0, below)


def expected_write_offs(
    store: Store, today_price: np.ndarray, later_price: np.ndarray | None = None
) -> np.ndarray:
    """Units expected to expire between now and the opening of day + L (fluid projection):
    mean demand at today_price today and at later_price (default the Lerner price) after,
    taken oldest first."""
    c = store.catalog
    # Only the cohorts that can reach their last day within max_lead_time days matter: sales
    # take the oldest first, so younger stock neither expires in the window nor changes what
    # the older cohorts sell.
    k = min(c.max_shelf_life, c.max_lead_time + 1)
    stock = store.stock_by_age[:, :k].astype(float)
    pipe = store.pipeline.astype(float)
    lands = np.flatnonzero(c.shelf_life <= k)
    lerner = lerner_price(c) if later_price is None else later_price
    lost = np.zeros(c.n)
    for j in range(c.max_lead_time):
        wd = (store.day + j) % 7
        stock[lands, c.shelf_life[lands] - 1] += pipe[lands, j]
        price = today_price if j == 0 else lerner
        mean = c.base_demand * c.weekday[:, wd] * (price / c.list_price) ** c.elasticity
        sell = np.minimum(mean, stock.sum(axis=1))
        before = np.cumsum(stock, axis=1) - stock
        stock -= np.clip(sell[:, None] - before, 0.0, stock)
        active = j < c.lead_time  # only days before this SKU's order lands
        lost += np.where(active, stock[:, 0], 0.0)
        stock[:, :-1] = stock[:, 1:]
        stock[:, -1] = 0.0
    return lost


def oracle_actions(store: Store) -> Actions:
    """Today's oracle decisions for `store` (reads the true demand parameters)."""
    c = store.catalog
    arriving = store.pipeline[:, 0]
    available = store.stock_by_age.sum(axis=1) + arriving
    expiring = store.stock_by_age[:, 0] + np.where(c.shelf_life == 1, arriving, 0)
    price, _ = optimal_price(c, store.weekday, available.astype(float), expiring.astype(float))

    plan = lerner_price(c)
    level = (plan / c.list_price) ** c.elasticity
    days = np.roll(c.weekday, -store.weekday, axis=1) * level[:, None]  # means t .. t+6
    in_window = np.arange(7)[None, :] <= c.lead_time[:, None]
    mean = (c.base_demand[:, None] * days * in_window).sum(axis=1)
    var = (
        c.base_demand[:, None] * days * in_window
        + (c.base_demand[:, None] * days) ** 2 * in_window / c.dispersion[:, None]
    ).sum(axis=1)
    shape = mean**2 / np.maximum(var - mean, 1e-9)  # moment-matched negative binomial
    mean_day = c.base_demand * level
    margin = plan - c.unit_cost
    over = c.holding_rate * c.unit_cost + (c.unit_cost + c.disposal_fee) * _write_off_risk(
        c, mean_day
    )
    ratio = np.clip(margin / (margin + over), 0.0, MAX_CRITICAL_RATIO)
    target = stats.nbinom.ppf(ratio, shape, shape / (shape + mean))
    position = available - arriving + store.pipeline.sum(axis=1) - expected_write_offs(store, price)
    order = np.maximum(np.ceil(target - position), 0).astype(np.int64)
    # Same-day deliveries (L = 0) land before trading: price on the stock they bring.
    now = (c.lead_time == 0) & (order > 0)
    if now.any():
        more = np.where(now, order, 0)
        fresh_expiring = np.where(c.shelf_life == 1, more, 0)
        repriced, _ = optimal_price(
            c,
            store.weekday,
            (available + more).astype(float),
            (expiring + fresh_expiring).astype(float),
        )
        price = np.where(now, repriced, price)
    return Actions(price=price, markdown=np.zeros(c.n), order_qty=order)


class Oracle:
    """The oracle as a policy object bound to a catalog (what evaluate.py drives)."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def actions(self, store: Store) -> Actions:
        if store.n != self.catalog.n:
            raise ValueError(f"store: expected {self.catalog.n} SKUs, got {store.n}")
        return oracle_actions(store)


def profit_upper_bound(catalog: Catalog, seed: int, days: int) -> float:
    """Upper bound on the profit of any policy over days 0..days-1 of Store(catalog, seed)."""
    if days < 0:
        raise ValueError(f"days: expected an integer >= 0, got {days!r}")
    c = catalog
    total = 0.0
    for day, (u, shock) in enumerate(daily_draws(c, seed, days)):
        a = c.base_demand * c.weekday[:, day % 7] * shock  # rate at list price
        at_cost = poisson_ppf(u, a * (c.unit_cost / c.list_price) ** c.elasticity)
        # d above demand-at-cost can only sell below cost; d from 1 to it, ragged per SKU
        idx = np.flatnonzero(at_cost > 0)
        if idx.size == 0:
            continue
        counts = at_cost[idx]
        sku = np.repeat(idx, counts)
        d = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts) + 1
        rate_d = special.gammainccinv(d.astype(float), u[sku])
        p_d = c.list_price[sku] * (rate_d / a[sku]) ** (1.0 / c.elasticity[sku])
        gain = (p_d - c.unit_cost[sku]) * d
        best = np.maximum.reduceat(gain, np.cumsum(counts) - counts)
        total += float(np.maximum(best, 0.0).sum())
    return total * (1.0 + 1e-9)  # float slack: the bound must hold through rounding
