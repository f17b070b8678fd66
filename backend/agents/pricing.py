"""Pricing agent: Thompson sampling over a learned log-log demand curve with a stock constraint.

Decision rule, per SKU and day: draw (level, elasticity) from the posterior; over a geometric
price grid take the price maximising sampled profit (p - c) * d(p) subject to expected demand
until the next possible delivery not exceeding the stock that can sell by then. That LP over the
grid (maximise sum_j (p_j - c) d_j x_j s.t. sum_j d_j x_j <= cap, sum_j x_j <= 1) is solved in
closed form: the unconstrained argmax if it is feasible, else the two adjacent grid prices that
straddle the capacity, mixed in proportion (Ferreira, Simchi-Levi and Wang 2018). Without the
constraint the optimum is the Lerner price c * e / (1 + e) for elasticity e < -1. The cost c
is the unit cost plus SHRINK_WEIGHT x the SKU's recent write-offs per unit sold x (cost + fee):
a perishable unit sold carries part of the cost of the ones that expired.
A change is made only when the sampled profit at the target beats the sampled profit at the
current price by SWITCH_GAIN (a switching cost: shoppers and shelf labels dislike churn).
Guardrails: a regular price is never below cost, moves at most MAX_STEP per change and at most
MAX_CHANGES_PER_WEEK times in 7 days, is not raised on a SKU under markdown, and is left alone
on SKUs under an operator override. Changes smaller than MIN_CHANGE are not made.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import gamma

from backend.agents.demand import Z90, DemandLearner, DemandModel
from backend.agents.intervals import day_predictive, sales_interval
from backend.agents.plan import Draft, Plan
from backend.agents.views import SnapshotView

AGENT_ID = "pricing_agent"
GRID_LOW, GRID_HIGH, GRID_POINTS = 0.75, 3.2, 41  # price grid as multiples of list price
MAX_STEP = 0.12
MIN_CHANGE = 0.025
MAX_CHANGES_PER_WEEK = 1
SHRINK_DECAY = 0.97  # about a month's memory of the write-off rate
MAX_SHRINK = 1.0
SHRINK_WEIGHT = 0.5  # share of the write-off cost loaded on the unit cost (tuned)
SWITCH_GAIN = 0.08  # a change must raise sampled profit by 8%: a switching cost against churn


def lerner_price(cost: np.ndarray, elasticity: np.ndarray) -> np.ndarray:
    """Profit-maximising price c * e / (1 + e) for constant elasticity e < -1 (inf otherwise)."""
    e = np.asarray(elasticity, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(e < -1.0, np.asarray(cost) * e / (1.0 + e), np.inf)


def constrained_grid_choice(
    profit: np.ndarray, demand: np.ndarray, cap: np.ndarray, u: np.ndarray
) -> np.ndarray:
    """Grid index per row solving the two-constraint LP in closed form.

    `profit`, `demand`: (n, G) with demand decreasing along the grid; `cap`: (n,) capacity
    (inf = none); `u`: (n,) uniforms that pick between the two mixed prices.
    """
    n, g = profit.shape
    best = np.argmax(profit, axis=1)
    rows = np.arange(n)
    feasible = demand <= cap[:, None]
    binding = ~feasible[rows, best]
    # first feasible index (lowest feasible price); if none, the highest price
    any_feasible = feasible.any(axis=1)
    first = np.where(any_feasible, np.argmax(feasible, axis=1), g - 1)
    # a binding constraint only moves the price up: the optimum sits where demand meets capacity
    first = np.maximum(first, best)
    lower = np.maximum(first - 1, 0)
    d_lo, d_hi = demand[rows, lower], demand[rows, first]
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.where(d_lo > d_hi, (cap - d_hi) / (d_lo - d_hi), 0.0)
    x = np.clip(np.nan_to_num(x), 0.0, 1.0)
    mixed = np.where(u < x, lower, first)
    mixed = np.where(any_feasible, mixed, g - 1)
    chosen: np.ndarray = np.where(binding, mixed, best)
    return chosen


def apply_guardrails(
    current: np.ndarray,
    target: np.ndarray,
    cost: np.ndarray,
    can_change: np.ndarray,
    no_rise: np.ndarray,
) -> np.ndarray:
    """New regular price after the guardrails (step bound, cost floor, weekly limit, no rise)."""
    step = np.clip(target / current, 1.0 - MAX_STEP, 1.0 + MAX_STEP)
    new = current * step
    new = np.where(no_rise, np.minimum(new, current), new)
    new = np.maximum(new, cost)
    new = np.round(new, 2)
    new = np.where(new < cost, np.round(cost + 0.005, 2), new)
    small = np.abs(new / current - 1.0) < MIN_CHANGE
    return np.where(can_change & ~small, new, current)


class PricingAgent(DemandLearner):
    """Learns each SKU's demand curve and sets regular prices by Thompson sampling."""

    agent_id = AGENT_ID

    def __init__(self, list_price: np.ndarray, category: np.ndarray, seed: int) -> None:
        self.seen_day = -1  # last observed day learned from
        self.model = DemandModel(list_price, category)
        self.rng = np.random.default_rng([seed, 101])
        self.sold = np.zeros(len(list_price))
        self.expired = np.zeros(len(list_price))
        self.change_days = np.full((len(list_price), MAX_CHANGES_PER_WEEK), -10_000, dtype=np.int64)

    def learned(self, sales: np.ndarray, expired: np.ndarray) -> None:
        """The recent units sold and written off, for the shrink rate."""
        self.sold = SHRINK_DECAY * self.sold + np.asarray(sales, dtype=float)
        self.expired = SHRINK_DECAY * self.expired + np.asarray(expired, dtype=float)

    def shrink_rate(self) -> np.ndarray:
        """Units written off per unit sold, recently (exponentially weighted, 0 before any sale)."""
        return np.minimum(self.expired / np.maximum(self.sold, 1.0), MAX_SHRINK)

    def decide(self, snap: SnapshotView, plan: Plan, locked: np.ndarray) -> list[Draft]:
        """Set plan.price for SKUs not locked; return a draft per price change."""
        cat = snap.catalog
        cost = np.asarray(cat.unit_cost, dtype=float)
        # the cost of selling a perishable unit includes its share of the write-offs (shrink)
        cost_eff = cost + SHRINK_WEIGHT * self.shrink_rate() * (
            cost + np.asarray(cat.disposal_fee, dtype=float)
        )
        lp = np.asarray(cat.list_price, dtype=float)
        lead = np.asarray(cat.lead_time, dtype=np.int64)
        current = np.asarray(snap.price, dtype=float)
        n = len(lp)
        m = self.model
        grid = lp[:, None] * np.geomspace(GRID_LOW, GRID_HIGH, GRID_POINTS)[None, :]
        coef = m.sample(self.rng)
        coef[:, 1] = np.minimum(
            coef[:, 1], -1.05
        )  # a sampled inelastic curve would send price to the cap
        wd = m.weekday_factors()
        # expected demand over the days the stock on hand must last (until lead time passes)
        horizon = np.maximum(lead, 1)
        days = (snap.weekday + np.arange(int(horizon.max()))) % 7
        wsum = np.where(np.arange(len(days))[None, :] < horizon[:, None], wd[:, days], 0.0).sum(
            axis=1
        )
        x = np.log(grid / lp[:, None])
        unit = np.exp(np.minimum(coef[:, :1] + coef[:, 1:2] * x, 20.0))
        demand = unit * wsum[:, None]
        profit = (grid - cost_eff[:, None]) * demand
        pipe = np.asarray(snap.pipeline, dtype=float)
        k = np.arange(pipe.shape[1])[None, :]
        arriving = np.where(k < lead[:, None], pipe, 0.0).sum(axis=1)
        on_hand = np.asarray(snap.stock_by_age, dtype=float).sum(axis=1)
        avail = np.maximum(on_hand + arriving - plan.markdown_units, 0.0)
        cap = np.where(lead > 0, avail, np.inf)
        j = constrained_grid_choice(profit, demand, cap, self.rng.random(n))
        target = grid[np.arange(n), j]
        x_cur = np.log(current / lp)
        d_cur = np.exp(np.minimum(coef[:, 0] + coef[:, 1] * x_cur, 20.0)) * wsum
        pi_cur = (current - cost_eff) * np.minimum(d_cur, cap)
        pi_new = profit[np.arange(n), j]
        worth = pi_new > pi_cur * (1.0 + SWITCH_GAIN)
        recent = (self.change_days > snap.day - 7).sum(axis=1)
        can_change = ~locked & (recent < MAX_CHANGES_PER_WEEK) & worth
        under_md = plan.markdown > 0
        new = apply_guardrails(current, target, cost, can_change & ~under_md, np.zeros(n, bool))
        plan.price = np.where(locked, plan.price, new)
        changed = np.flatnonzero(~locked & (new != current))
        if changed.size:
            slot = np.argmin(self.change_days[changed], axis=1)
            self.change_days[changed, slot] = snap.day
        return self._drafts(snap, changed, current, new, cost)

    def _drafts(
        self,
        snap: SnapshotView,
        idx: np.ndarray,
        old: np.ndarray,
        new: np.ndarray,
        cost: np.ndarray,
    ) -> list[Draft]:
        if idx.size == 0:
            return []
        m = self.model
        e_mean, e_sd = m.elasticity()
        week = np.arange(7)
        d_new = m.mean_demand(np.repeat(new[:, None], 7, axis=1), week).mean(axis=1)
        d_old = m.mean_demand(np.repeat(old[:, None], 7, axis=1), week).mean(axis=1)
        tomorrow = m.mean_demand(new, snap.weekday)
        lows = dict(zip(idx.tolist(), gamma_quantile(tomorrow[idx], m.inv_k[idx], 0.1).tolist()))
        band = self._interval(snap, new)
        drafts = []
        for i in idx.tolist():
            gain = (new[i] - cost[i]) * d_new[i] - (old[i] - cost[i]) * d_old[i]
            lo_e, hi_e = e_mean[i] - Z90 * e_sd[i], e_mean[i] + Z90 * e_sd[i]
            mu = float(tomorrow[i])
            low = lows[i]
            conf = math.erf(0.5 / (e_sd[i] * math.sqrt(2.0)))
            drafts.append(
                Draft(
                    agent_id=AGENT_ID,
                    action_type="price_adjustment",
                    index=i,
                    parameters={
                        "old_price": round(float(old[i]), 2),
                        "new_price": round(float(new[i]), 2),
                        "elasticity": round(float(e_mean[i]), 3),
                    },
                    rationale=(
                        f"Posterior elasticity {e_mean[i]:.1f} (90% CI {lo_e:.1f}..{hi_e:.1f}); "
                        f"price {old[i]:.2f} -> {new[i]:.2f}; expected profit {gain:+.1f}/day"
                        + ("" if gain >= 0 else " (exploring: a posterior draw favours this price)")
                    ),
                    confidence=round(conf, 3),
                    expected={
                        "units_tomorrow": round(mu, 2),
                        "units_low": round(low, 2),
                        "profit_change_per_day": round(float(gain), 2),
                        "units_interval_80": [
                            round(float(band[0][i]), 2),
                            round(float(band[1][i]), 2),
                        ],
                    },
                    check=(
                        "units_within",
                        snap.day,
                        snap.day,
                        float(band[0][i]),
                        float(band[1][i]),
                    ),
                )
            )
        return drafts

    def _interval(self, snap: SnapshotView, new: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """80% interval of today's units sold at the new price (judged in outcomes.py), capped by
        the shelf; a lead-time-0 SKU's shelf is today's order, not yet placed: no cap."""
        mu, var = day_predictive(self.model, new, snap.weekday)
        shelf = np.asarray(snap.stock_by_age).sum(axis=1) + np.asarray(snap.pipeline)[:, 0]
        return sales_interval(
            mu, var, np.where(np.asarray(snap.catalog.lead_time) > 0, shelf, np.inf)
        )


def gamma_quantile(mu: np.ndarray, inv_k: np.ndarray, q: float) -> np.ndarray:
    """q-quantile of daily units: a gamma with the negative binomial's mean and variance."""
    mu = np.maximum(np.asarray(mu, dtype=float), 1e-9)
    var = mu + mu * mu * np.asarray(inv_k, dtype=float)
    quantile: np.ndarray = gamma.ppf(q, mu * mu / var, scale=var / mu)
    return quantile
