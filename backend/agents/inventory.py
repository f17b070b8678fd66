"""Inventory agent: order-up-to with expected spoilage, on the learned demand at the planned prices.

Decision rule, per SKU and day (review period R = 1): protect the L + 1 days until an order placed
tomorrow could arrive. Demand over them, D, has mean M = sum of the learned daily means (today
at today's planned markdown, later days at the planned regular price, weekday factors applied)
and variance sum(mu + mu^2 / k) plus the posterior variance of the log mean at that price. The
level S minimises, for D gamma with that mean and variance, the integral over u up to S of
co(u) F(u) - cu (1 - F(u)), plus penalty P(D > S): a newsvendor with underage cu = margin +
GOODWILL x price, overage co(u) = a day's holding + WASTE_AVERSION x P(the u-th unit expires) x
(cost + disposal fee), and a fixed penalty per stock-out day (STOCKOUT_PENALTY x the day's
expected margin). With a constant overage and no penalty S is the critical-ratio quantile
F^-1(cu / (cu + co)). The order is S minus the inventory position (on
hand + on order - expected spoilage over the L + 1 days, FIFO on the age cohorts), rounded up,
never negative.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special
from scipy.stats import norm

from backend.agents.demand import DemandLearner, DemandModel
from backend.agents.freshness import FreshPicks
from backend.agents.intervals import sales_interval
from backend.agents.plan import Draft, Plan
from backend.agents.views import SnapshotView

AGENT_ID = "inventory_agent"
GOODWILL = 0.0  # goodwill per unit short beyond the lost margin, as a share of price (tuned: none)
STOCKOUT_PENALTY = 0.4  # cost of a stock-out day, in units of the SKU's daily margin (tuned)
COARSE_GRID = np.linspace(-2.0, 5.0, 15)  # level search, in standard deviations of demand
FINE_POINTS = 11
WASTE_AVERSION = (
    1.5  # weight on the cost of a written-off unit: waste is disliked beyond its cost (tuned)
)
# Share of demand assumed not to draw down the oldest cohort, at least: a cautious, tuned floor
# that keeps the agent robust to how many shoppers really pick the freshest unit (never read
# from the store). Above it the agent believes the shelf: the share learned from how the age
# cohorts empty (freshness.py), which nears 1 where stock is issued freshest first (LIFO).
FRESHEST_PICK_MARGIN = 0.3
SUPPLY_MEMORY = 14.0  # days in the running mean of receipts
LEVEL_CHANGE = 0.2  # a weekday-free level change of this share (and >= 1 unit) is a decision
# What expiry costs the S-th unit: (daily mean demand, inverse dispersion, shelf life, loss,
# fresh-pick share, spillover demand over the days left; expiry_probability).
Expiry = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float | None, np.ndarray | float]


def expiry_probability(
    level: np.ndarray,
    mean: np.ndarray,
    daily: np.ndarray,
    inv_k: np.ndarray,
    shelf_life: np.ndarray,
    fresh_share: float | None = None,
    spill: np.ndarray | float = 0.0,
) -> np.ndarray:
    """P(the marginal unit of an order-up-to level expires unsold); level (n,) or (n, G).

    The top unit is left over when the protection period ends; it then has shelf_life - 1 days
    to sell, first in line (FIFO), behind the other leftovers (level - mean on average), so it
    expires when the old-taking demand over those days falls short of that safety stock. The
    old-taking demand is the share that does not pick the freshest, plus `spill` over those days:
    fresh pickers who find the fresher units gone (spillover_demand).
    """
    fresh_share = FRESHEST_PICK_MARGIN if fresh_share is None else fresh_share
    level = np.asarray(level, dtype=float)
    col = (slice(None),) + (None,) * (level.ndim - 1)
    rest = np.maximum(shelf_life - 1, 0).astype(float)
    mu = (1.0 - fresh_share) * daily * rest + spill
    var = np.maximum(mu + inv_k * (1.0 - fresh_share) ** 2 * daily**2 * rest, 1e-9)
    ahead = np.maximum(level - np.asarray(mean, dtype=float)[col], 0.0) + 1.0
    safe = np.maximum(mu, 1e-9)
    p = special.gammainc((safe * safe / var)[col], ahead / (var / safe)[col])
    return np.where((rest > 0)[col], p, 1.0)


def spillover_demand(
    daily: np.ndarray,
    inv_k: np.ndarray,
    fresh_share: float,
    supply: np.ndarray,
    shelf_life: np.ndarray,
) -> np.ndarray:
    """Fresh pickers who find no fresher unit and take a leftover, over the shelf_life - 1 days
    a unit left over at the end of the protection period has to sell: E[(f D - r supply)^+].

    D is the demand over those r days (gamma, mean r daily, variance r daily + inv_k (r
    daily)^2), f the share picking the freshest and supply the fresh units arriving a day (what
    the SKU receives on average); fresher units one day leaves are still ahead the next, hence
    the days pooled. Negligible where fresh units are stocked above the fresh pickers' demand;
    under freshest-first issuing (f near 1) with lean stock, the demand beyond the deliveries.
    """
    f = max(float(fresh_share), 1e-9)
    rest = np.maximum(np.asarray(shelf_life) - 1, 0).astype(float)
    d = daily * rest
    return f * lost_before_arrival(d, d + inv_k * d**2, rest * np.asarray(supply) / f)


def underage_cost(price: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """Cost of a unit of demand not served: the lost margin plus goodwill (GOODWILL x price)."""
    cu: np.ndarray = np.maximum(price - cost, 0.0) + GOODWILL * price
    return cu


def overage_cost(
    cost: np.ndarray, fee: np.ndarray, holding: float, p_expire: np.ndarray
) -> np.ndarray:
    """Cost of a unit left over: a day's holding plus P(it expires) x (cost + disposal fee)."""
    co: np.ndarray = holding * cost + p_expire * (cost + fee)
    return co


def critical_ratio(cu: np.ndarray, co: np.ndarray) -> np.ndarray:
    """Newsvendor critical ratio cu / (cu + co)."""
    ratio: np.ndarray = cu / np.maximum(cu + co, 1e-12)
    return ratio


def _marginal_cost(
    mean: np.ndarray,
    var: np.ndarray,
    cu: np.ndarray,
    co: np.ndarray,
    penalty: np.ndarray,
    expiry: Expiry | None,
    s: np.ndarray,
) -> np.ndarray:
    """d/dS of the expected cost at levels s (n, G): co(S) F(S) - cu (1 - F(S)) - penalty f(S).

    D is gamma(mean, var); co(S) adds P(the S-th unit expires) x loss when `expiry` =
    (daily, inv_k, shelf_life, loss, fresh_share, spill) is given (expiry_probability).
    """
    safe = np.maximum(mean, 1e-9)[:, None]
    k = safe * safe / var[:, None]
    theta = var[:, None] / safe
    x = s / theta
    f = special.gammainc(k, x)
    dens = np.exp((k - 1.0) * np.log(np.maximum(x, 1e-300)) - x - special.gammaln(k)) / theta
    over = co[:, None]
    if expiry is not None:
        daily, inv_k, life, loss, share, spill = expiry
        p = expiry_probability(s, mean, daily, inv_k, life, share, spill)
        over = over + p * loss[:, None]
    marginal: np.ndarray = over * f - cu[:, None] * (1.0 - f) - penalty[:, None] * dens
    return marginal


def newsvendor_level(
    mean: np.ndarray,
    var: np.ndarray,
    cu: np.ndarray,
    co: np.ndarray,
    penalty: np.ndarray | float = 0.0,
    expiry: Expiry | None = None,
) -> np.ndarray:
    """Level S minimising E[overage cost] + cu E[(D-S)+] + penalty P(D > S), D gamma(mean, var).

    The overage cost of the S-th unit is co, plus P(it expires) x loss with `expiry`. With a
    constant co and no penalty S is the critical-ratio quantile F^-1(cu / (cu + co)); the penalty
    is a fixed cost per stock-out day (what the stock-out-days target charges), which matters
    most for slow movers. The cost is the integral of the marginal cost over a grid in standard
    deviations (coarse, then refined around the best point), and S its argmin.
    """
    mean = np.asarray(mean, dtype=float)
    n = mean.shape[0]
    var = np.maximum(np.asarray(var, dtype=float), 1e-9)
    cu = np.broadcast_to(np.asarray(cu, dtype=float), (n,))
    co = np.broadcast_to(np.asarray(co, dtype=float), (n,))
    pen = np.broadcast_to(np.asarray(penalty, dtype=float), (n,))
    sd = np.sqrt(var)[:, None]
    rows = np.arange(n)
    z = np.broadcast_to(COARSE_GRID, (n, len(COARSE_GRID)))
    for width in (COARSE_GRID[1] - COARSE_GRID[0], None):
        s = np.maximum(mean[:, None] + z * sd, 0.0)
        marginal = _marginal_cost(mean, var, cu, co, pen, expiry, s)
        step = np.diff(s, axis=1, prepend=s[:, :1])
        best = np.argmin(np.cumsum(marginal * step, axis=1), axis=1)
        z_best = z[rows, best]
        if width is None:
            break
        z = z_best[:, None] + np.linspace(-width, width, FINE_POINTS)[None, :]
    return np.where(mean > 0, np.maximum(mean + z_best * sd[:, 0], 0.0), 0.0)


def expected_spoilage(
    stock_by_age: np.ndarray,
    demand_cum: np.ndarray,
    sd_cum: np.ndarray,
    fresh_share: float | None = None,
    arrivals_cum: np.ndarray | None = None,
) -> np.ndarray:
    """Expected units expiring unsold, FIFO by age, within the columns given.

    stock_by_age (n, H): units with j + 1 days left; demand_cum (n, H): mean demand over days
    0..j; sd_cum its standard deviation. Cohort j loses E[(C_j - D)^+] - E[(C_{j-1} - D)^+]
    with C the cumulative stock through j and D the old-taking demand over its remaining life:
    the share not picking the freshest, plus, with arrivals_cum (n, H) (fresh units arriving
    over days 0..j), the fresh pickers who find those gone, E[(f D - arrivals)^+].
    """
    fresh_share = FRESHEST_PICK_MARGIN if fresh_share is None else fresh_share
    c = np.cumsum(stock_by_age, axis=1)
    c_prev = c - stock_by_age
    mu = (1.0 - fresh_share) * demand_cum
    sd = (1.0 - fresh_share) * sd_cum
    if arrivals_cum is not None:
        f = max(float(fresh_share), 1e-9)
        var = sd_cum**2
        mu = mu + f * lost_before_arrival(demand_cum, var, arrivals_cum / f)
        safe = np.maximum(demand_cum, 1e-9)
        theta = np.maximum(var, 1e-9) / safe
        spills = special.gammaincc(safe / theta, np.maximum(arrivals_cum, 0.0) / f / theta)
        sd = sd + f * sd_cum * np.where(demand_cum > 0, spills, 0.0)
    sd = np.maximum(sd, 1e-6)

    def loss(level: np.ndarray) -> np.ndarray:
        z = (level - mu) / sd
        return (level - mu) * norm.cdf(z) + sd * norm.pdf(z)

    waste = np.clip(loss(c) - loss(c_prev), 0.0, stock_by_age)
    per_sku: np.ndarray = waste.sum(axis=1)
    return per_sku


def lost_before_arrival(mean: np.ndarray, var: np.ndarray, stock: np.ndarray) -> np.ndarray:
    """E[(D - stock)^+] for D gamma(mean, var): the sales lost while an order is on its way."""
    safe = np.maximum(mean, 1e-9)
    theta = np.maximum(var, 1e-9) / safe
    k = safe / theta
    x = np.maximum(stock, 0.0) / theta
    lost = safe * special.gammaincc(k + 1.0, x) - np.maximum(stock, 0.0) * special.gammaincc(k, x)
    return np.where(mean > 0, np.maximum(lost, 0.0), 0.0)


class InventoryAgent(DemandLearner):
    """Sets each day's order quantities from an order-up-to level with a spoilage correction."""

    agent_id = AGENT_ID

    def __init__(
        self,
        list_price: np.ndarray,
        category: np.ndarray,
        seed: int,
        stockout_penalty: float = STOCKOUT_PENALTY,
        waste_aversion: float = WASTE_AVERSION,
        lost_sales: bool = False,
    ) -> None:
        """stockout_penalty and waste_aversion weigh the owner's dislike of stock-out days and
        of waste beyond their cost (the store's tuned values by default; 0 and 1 price only
        the lost margin and the written-off unit's cost and fee). lost_sales counts the sales
        expected to be lost before an order arrives as not drawing the position down (exact
        for lost sales; off in the store, where with the tuned weights it cost profit)."""
        self.seen_day = -1  # last observed day learned from
        self.model = DemandModel(list_price, category)
        self.fresh = FreshPicks()
        self.supply: np.ndarray | None = None  # fresh units received a day (running mean)
        self.supply_day = -1
        self.stockout_penalty = float(stockout_penalty)
        self.waste_aversion = float(waste_aversion)
        self.lost_sales = bool(lost_sales)
        self.levels = np.full(len(list_price), -1.0)  # last recorded order-up-to level

    def _supply(self, snap: SnapshotView, daily: np.ndarray) -> np.ndarray:
        """Fresh units received a day: a running mean of the receipts the history shows
        (SUPPLY_MEMORY days), started at the expected daily demand."""
        h = getattr(snap, "history", None)
        if self.supply is None or self.supply.shape != daily.shape:
            self.supply = np.asarray(daily, dtype=float).copy()
        if h is not None and h.days and int(h.day[-1]) > self.supply_day:
            w = 1.0 / SUPPLY_MEMORY
            self.supply = (1.0 - w) * self.supply + w * np.asarray(h.received[-1], dtype=float)
            self.supply_day = int(h.day[-1])
        return self.supply

    def decide(self, snap: SnapshotView, plan: Plan, locked: np.ndarray) -> list[Draft]:
        """Set plan.order_qty for SKUs not locked; a draft where the order-up-to level moved."""
        cat = snap.catalog
        m = self.model
        self.fresh.observe(snap)
        share = max(FRESHEST_PICK_MARGIN, self.fresh.share)
        lead = np.asarray(cat.lead_time, dtype=np.int64)
        cost = np.asarray(cat.unit_cost, dtype=float)
        fee = np.asarray(cat.disposal_fee, dtype=float)
        life = np.asarray(cat.shelf_life, dtype=np.int64)
        n = len(cost)
        h = int(lead.max()) + 1
        days = (snap.weekday + np.arange(h)) % 7
        eff_today = plan.price * (1.0 - plan.markdown)
        prices = np.repeat(plan.price[:, None], h, axis=1)
        prices[:, 0] = eff_today
        mu = m.mean_demand(prices, days)  # (n, h)
        inside = np.arange(h)[None, :] <= lead[:, None]
        mu_in = np.where(inside, mu, 0.0)
        mean = mu_in.sum(axis=1)
        # parameter uncertainty of the log mean at the planned price (level and elasticity)
        c = m.cov()
        x = np.log(plan.price / m.list_price)
        var_level = c[:, 0, 0] + 2.0 * x * c[:, 0, 1] + x * x * c[:, 1, 1]
        inv_k = m.inv_k
        var = (mu_in + inv_k[:, None] * mu_in**2).sum(axis=1) + var_level * mean**2
        holding = float(cat.holding_rate)
        daily = mu.mean(axis=1)
        cu = underage_cost(plan.price, cost)
        penalty = self.stockout_penalty * np.maximum(plan.price - cost, 0.0) * daily
        # the overage cost of the S-th unit grows with S: more stock ahead of it, more risk it
        # expires; one that expires was also held every night of its life after the first
        # (shelf_life - 2 nights beyond the one overage_cost charges)
        waste = self.waste_aversion * (cost + fee) + holding * cost * np.maximum(life - 2, 0)
        supply = self._supply(snap, daily)
        level = newsvendor_level(
            mean,
            var,
            cu,
            overage_cost(cost, fee, holding, np.zeros(n)),
            penalty,
            expiry=(
                daily,
                inv_k,
                life,
                waste,
                share,
                spillover_demand(daily, inv_k, share, supply, life),
            ),
        )
        safe = np.maximum(mean, 1e-9)
        service = np.where(
            mean > 0,
            special.gammainc(
                safe * safe / np.maximum(var, 1e-9), level / (np.maximum(var, 1e-9) / safe)
            ),
            1.0,
        )
        stock = np.asarray(snap.stock_by_age, dtype=float)
        cols = min(stock.shape[1], h)
        within = np.where(np.arange(cols)[None, :] <= lead[:, None], stock[:, :cols], 0.0)
        dcum = np.cumsum(mu[:, :cols], axis=1)
        sdcum = np.sqrt(np.cumsum(mu[:, :cols] + inv_k[:, None] * mu[:, :cols] ** 2, axis=1))
        # fresh units arriving over the protection days: the pipeline, then a day's usual
        # receipts for today's order (it is what is being decided)
        arrivals = np.asarray(snap.pipeline, dtype=float)[:, :cols].copy()
        arrivals = np.where(np.arange(cols)[None, :] >= lead[:, None], supply[:, None], arrivals)
        spoil = expected_spoilage(within, dcum, sdcum, share, np.cumsum(arrivals, axis=1))
        held = stock.sum(axis=1) + np.asarray(snap.pipeline, dtype=float).sum(axis=1)
        position = held - spoil
        if self.lost_sales:
            # sales lost before today's order arrives are not backordered: they do not draw
            # the position down, so the level (set on the protection period's demand) is
            # reached with that much less ordered. Every unit held can serve those days (a
            # unit that expires later is one those days did not need).
            ahead = np.arange(h)[None, :] < lead[:, None]  # days t..t+L-1
            position = position + lost_before_arrival(
                np.where(ahead, mu, 0.0).sum(axis=1),
                np.where(ahead, mu + inv_k[:, None] * mu**2, 0.0).sum(axis=1),
                held,
            )
        # demand is learned only from what the shelf sells: a SKU with nothing on hand or on
        # order that has not shown an uncensored day yet stocks at least its expected demand
        # (under this much parameter uncertainty the level alone can be 0, and a SKU that is
        # never stocked never teaches its demand)
        level = np.where(held <= 0, np.maximum(level, np.ceil(mean)), level)
        qty = np.maximum(np.ceil(level - position - 1e-9), 0.0).astype(np.int64)
        plan.order_qty = np.where(locked, plan.order_qty, qty)
        # the routine weekday swing of the level is not a decision; a change of the weekday-free
        # level (the policy itself: new demand estimate, price or service target) is
        wsum = np.where(inside, m.weekday_factors()[:, days], 0.0).sum(axis=1)
        ref = level * (lead + 1) / np.maximum(wsum, 1e-9)
        moved = np.abs(ref - self.levels) >= np.maximum(
            1.0, LEVEL_CHANGE * np.maximum(self.levels, 0)
        )
        idx = np.flatnonzero(~locked & moved & (qty > 0))
        self.levels[idx] = ref[idx]
        # 80% interval of the units sold over the protection days (judged in outcomes.py),
        # capped by what will be on the shelf: stock, on order and today's order
        lo_b, hi_b = sales_interval(
            mean, var, stock.sum(axis=1) + np.asarray(snap.pipeline).sum(axis=1) + qty
        )
        drafts = []
        for i in idx.tolist():
            p_ok = float(service[i])
            drafts.append(
                Draft(
                    agent_id=AGENT_ID,
                    action_type="inventory_restock",
                    index=i,
                    parameters={
                        "order_qty": int(qty[i]),
                        "order_up_to": round(float(level[i]), 1),
                        "lead_time_days": int(lead[i]),
                    },
                    rationale=(
                        f"Forecast {mean[i]:.1f} units over {int(lead[i]) + 1} day(s) at "
                        f"{plan.price[i]:.2f}; order-up-to {level[i]:.0f} for {p_ok:.0%} service "
                        f"less {spoil[i]:.1f} expected spoilage; ordering {int(qty[i])}"
                    ),
                    confidence=round(
                        float(
                            math.erf(
                                1.0 / (math.sqrt(2.0) * max(math.sqrt(var_level[i]) * 4, 1e-6))
                            )
                        ),
                        3,
                    ),
                    expected={
                        "units_over_protection": round(float(mean[i]), 2),
                        "service_probability": round(p_ok, 3),
                        "expected_spoilage": round(float(spoil[i]), 2),
                        "units_interval_80": [round(float(lo_b[i]), 2), round(float(hi_b[i]), 2)],
                    },
                    check=(
                        "units_within",
                        snap.day,
                        snap.day + int(lead[i]),
                        float(lo_b[i]),
                        float(hi_b[i]),
                    ),
                )
            )
        return drafts
