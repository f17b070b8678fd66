"""Promotion agent: markdowns for cohorts near expiry (a small DP) and clearance of ambient overstock.

Expiry markdowns: for a SKU whose oldest cohort has k <= HORIZON days of life left, with x units,
the value of the cohort is V_k(x) = max_d E[ p(1-d) o - d p f + V_{k-1}(x - o) ], V_0(x) = -fee x,
where o = min(x, (1 - f) D_d) are old units sold (customers mostly take oldest first; f, the
share who pick the freshest, is learned from the shelf's cohorts: freshness.py),
f = D_d - o are fresher units sold at the discount (revenue given away), and D_d is demand at
the discounted price from the learned curve. The unit cost is sunk. d runs over LADDER; the state
x over a per-SKU grid 0..x_now; demand over gamma quadrature points. Today's markdown is the
argmax at (k, x_now). Ambient clearance: when stock covers more than CLEAR_COVER days of demand,
post the smallest ladder discount whose expected lift brings cover down to TARGET_COVER days
(capped at CLEAR_MAX).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import gamma, norm

from backend.agents.demand import DemandLearner, DemandModel
from backend.agents.freshness import FreshPicks
from backend.agents.intervals import day_predictive, sales_interval
from backend.agents.plan import Draft, Plan
from backend.agents.views import SnapshotView

AGENT_ID = "promotion_agent"
LADDER = np.array([0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7])
HORIZON = 3
GRID = 13
QUAD = 5
AMBIENT_LIFE = 30  # shelf life above which a SKU is treated as ambient
CLEAR_COVER, TARGET_COVER, CLEAR_MAX = 60.0, 30.0, 0.3
MIN_GAIN = 0.01  # least expected value a markdown must add, as a share of the unit price
RISK_UNITS = 0.3  # expected units left at expiry below which no markdown is considered


def _stage(
    states: np.ndarray,
    v_prev: np.ndarray,
    v_nomd: np.ndarray,
    dx: np.ndarray,
    mu: np.ndarray,
    lift: np.ndarray,
    shock: np.ndarray,
    price: np.ndarray,
    fresh_share: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One DP stage at `states` (m, S): best value, its ladder index, and the no-markdown value.

    v_prev / v_nomd (m, Z) are the next stage's values on the grid 0, dx, 2 dx, ...
    """
    m = states.shape[0]
    dem = mu[:, None, None] * lift[:, :, None] * shock[:, None, :]  # (m, L, Q)
    o = np.minimum(states[:, :, None, None], (1.0 - fresh_share) * dem[:, None, :, :])
    fresh = np.maximum(dem[:, None, :, :] - o, 0.0)  # (m, S, L, Q)
    pos = (states[:, :, None, None] - o) / dx[:, None, None, None]
    lo = np.clip(np.floor(pos).astype(np.int64), 0, GRID - 2)
    frac = np.clip(pos - lo, 0.0, 1.0)
    flat = lo.reshape(m, -1)
    cont = (
        np.take_along_axis(v_prev, flat, axis=1).reshape(lo.shape) * (1.0 - frac)
        + np.take_along_axis(v_prev, flat + 1, axis=1).reshape(lo.shape) * frac
    )
    pd = price[:, None] * (1.0 - LADDER)[None, :]
    give = price[:, None] * LADDER[None, :]
    reward = (pd[:, None, :, None] * o - give[:, None, :, None] * fresh + cont).mean(axis=3)
    choice = np.argmax(reward, axis=2)
    value = np.take_along_axis(reward, choice[:, :, None], axis=2)[:, :, 0]
    lo0, fr0 = lo[:, :, 0, :], frac[:, :, 0, :]
    flat0 = lo0.reshape(m, -1)
    cont0 = (
        np.take_along_axis(v_nomd, flat0, axis=1).reshape(lo0.shape) * (1.0 - fr0)
        + np.take_along_axis(v_nomd, flat0 + 1, axis=1).reshape(lo0.shape) * fr0
    )
    nomd = (price[:, None, None] * o[:, :, 0, :] + cont0).mean(axis=2)
    return value, choice, nomd


def markdown_dp(
    x_now: np.ndarray,
    days_left: np.ndarray,
    price: np.ndarray,
    fee: np.ndarray,
    mean0: np.ndarray,
    elasticity: np.ndarray,
    cv2: np.ndarray,
    fresh_share: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Best ladder discount today per SKU, its expected value and the no-markdown value.

    x_now (m,) units of the oldest cohort; days_left (m,) in 1..HORIZON; mean0 (m, HORIZON)
    expected demand at the regular price on each of the coming days; cv2 (m,) squared CV of a
    day's demand; returns (discount, value with the policy, value without markdowns). Stages
    before today are solved on the whole state grid; today's only at x_now.
    """
    m = len(x_now)
    q = (np.arange(QUAD) + 0.5) / QUAD
    shape = 1.0 / np.maximum(cv2, 1e-3)
    shock = gamma.ppf(q[None, :], shape[:, None], scale=1.0 / shape[:, None])  # (m, Q) mean 1
    xs = np.linspace(0.0, 1.0, GRID)[None, :] * x_now[:, None]  # (m, Z)
    dx = np.maximum(x_now / (GRID - 1), 1e-9)
    lift = (1.0 - LADDER)[None, :] ** elasticity[:, None]  # (m, L)
    v_prev = -fee[:, None] * xs
    v_nomd = v_prev.copy()
    k = np.clip(days_left, 1, HORIZON)
    rows_all = np.arange(m)
    discount, value, nomd = np.zeros(m), np.zeros(m), np.zeros(m)
    for s in range(1, HORIZON + 1):
        # with s days left the SKU is k - s days from today
        mu = mean0[rows_all, np.clip(k - s, 0, HORIZON - 1)]
        today = np.flatnonzero(k == s)
        if today.size:
            v, c, n0 = _stage(
                x_now[today, None],
                v_prev[today],
                v_nomd[today],
                dx[today],
                mu[today],
                lift[today],
                shock[today],
                price[today],
                fresh_share,
            )
            discount[today], value[today], nomd[today] = LADDER[c[:, 0]], v[:, 0], n0[:, 0]
        later = np.flatnonzero(k > s)
        if later.size == 0:
            break
        v, _, n0 = _stage(
            xs[later],
            v_prev[later],
            v_nomd[later],
            dx[later],
            mu[later],
            lift[later],
            shock[later],
            price[later],
            fresh_share,
        )
        v_prev[later], v_nomd[later] = v, n0
    return discount, value, nomd


def clearance_discount(cover_days: np.ndarray, elasticity: np.ndarray) -> np.ndarray:
    """Smallest ladder discount whose lift (1-d)^e brings cover down to TARGET_COVER (capped)."""
    need = np.maximum(cover_days / TARGET_COVER, 1.0)
    with np.errstate(divide="ignore"):
        d = 1.0 - need ** (1.0 / np.minimum(elasticity, -1.05))
    ladder = LADDER[(LADDER > 0) & (LADDER <= CLEAR_MAX)]
    pick = np.searchsorted(ladder, d - 1e-9)
    return np.where(cover_days > CLEAR_COVER, ladder[np.minimum(pick, len(ladder) - 1)], 0.0)


class PromotionAgent(DemandLearner):
    """Posts markdowns on near-expiry cohorts and clearance discounts on ambient overstock."""

    agent_id = AGENT_ID

    def __init__(self, list_price: np.ndarray, category: np.ndarray, seed: int) -> None:
        self.seen_day = -1  # last observed day learned from
        self.model = DemandModel(list_price, category)
        self.fresh = FreshPicks()

    def decide(self, snap: SnapshotView, plan: Plan, locked: np.ndarray) -> list[Draft]:
        """Set plan.markdown (and plan.markdown_units) on SKUs not locked; drafts for new markdowns."""
        cat = snap.catalog
        self.fresh.observe(snap)
        f = self.fresh.share
        # the shelf at today's opening: what is on hand plus today's deliveries, which arrive
        # with their full shelf life (a one-day product ordered yesterday expires tonight)
        stock = np.asarray(snap.stock_by_age, dtype=float).copy()
        n, a = stock.shape
        life = np.asarray(cat.shelf_life, dtype=np.int64)
        stock[np.arange(n), np.minimum(life, a) - 1] += np.asarray(snap.pipeline, dtype=float)[:, 0]
        price = np.asarray(plan.price, dtype=float)
        md = np.zeros(n)
        m = self.model
        e_mean, e_sd = m.elasticity()
        e_use = np.minimum(e_mean, -1.05)
        horizon_cols = min(HORIZON, a)
        nonempty = stock[:, :horizon_cols] > 0
        has_old = nonempty.any(axis=1) & (np.asarray(cat.shelf_life) <= AMBIENT_LIFE)
        col = np.argmax(nonempty, axis=1)
        days_left = col + 1
        x_now = stock[np.arange(n), col]
        week = (snap.weekday + np.arange(HORIZON)) % 7
        mean0 = m.mean_demand(np.repeat(price[:, None], HORIZON, axis=1), week)
        # ahead of the cohort in the queue: nothing (it is the oldest); it needs to sell within k days
        # the DP runs only where the oldest cohort risks expiring: expected units left at its
        # end of life (normal loss function, old-taking demand over its days left) >= RISK_UNITS
        cum = np.cumsum(mean0, axis=1)[np.arange(n), np.minimum(col, HORIZON - 1)] * (1.0 - f)
        sd = np.sqrt(cum + m.inv_k * cum * cum) + 1e-9
        zz = (x_now - cum) / sd
        left = (x_now - cum) * norm.cdf(zz) + sd * norm.pdf(zz)
        cand = np.flatnonzero(has_old & ~locked & (left >= RISK_UNITS))
        exp_val = {}
        if cand.size:
            cv2 = m.inv_k[cand] + 1.0 / np.maximum(mean0[cand, 0], 0.05)
            fee = np.asarray(cat.disposal_fee, dtype=float)[cand]
            d, v, v0 = markdown_dp(
                x_now[cand], days_left[cand], price[cand], fee, mean0[cand], e_use[cand], cv2, f
            )
            # a markdown must be worth something: at least MIN_GAIN of a unit's price in value
            d = np.where(v - v0 >= MIN_GAIN * price[cand], d, 0.0)
            md[cand] = d
            exp_val = {int(i): (float(v[j]), float(v0[j])) for j, i in enumerate(cand) if d[j] > 0}
        # ambient clearance
        ambient = (np.asarray(cat.shelf_life) > AMBIENT_LIFE) & ~locked
        daily = mean0[:, 0]
        cover = stock.sum(axis=1) / np.maximum(daily, 0.05)
        clear = np.where(ambient, clearance_discount(cover, e_use), 0.0)
        md = np.maximum(md, clear)
        plan.markdown = np.where(locked, plan.markdown, md)
        lift = (1.0 - plan.markdown) ** e_use
        plan.markdown_units = np.where(plan.markdown > 0, mean0[:, 0] * lift, 0.0)
        prev = np.asarray(snap.markdown, dtype=float)
        new_idx = np.flatnonzero(~locked & (md > 0) & (np.abs(md - prev) > 1e-9))
        # 80% interval of today's units sold at the marked-down price (judged in outcomes.py),
        # capped by the shelf; a lead-time-0 SKU's shelf is today's order, not yet placed: no cap
        mu_b, var_b = day_predictive(m, price * (1.0 - plan.markdown), snap.weekday)
        lo_b, hi_b = sales_interval(
            mu_b, var_b, np.where(np.asarray(cat.lead_time) > 0, stock.sum(axis=1), np.inf)
        )
        drafts = []
        for i in new_idx.tolist():
            sku_units = int(x_now[i])
            sold = float(min(x_now[i], (1 - f) * mean0[i, 0] * lift[i]))
            conf = math.erf(0.5 / (e_sd[i] * math.sqrt(2.0)))
            if clear[i] > 0 and clear[i] >= md[i] - 1e-12 and i not in exp_val:
                drafts.append(
                    Draft(
                        agent_id=AGENT_ID,
                        action_type="promotion_creation",
                        index=i,
                        parameters={
                            "discount": float(md[i]),
                            "reason": "overstock",
                            "cover_days": round(float(cover[i]), 1),
                        },
                        rationale=(
                            f"Stock covers {cover[i]:.0f} days of demand against a {TARGET_COVER:.0f}-day "
                            f"target; {md[i]:.0%} off lifts demand {lift[i]:.2f}x at elasticity {e_mean[i]:.1f}"
                        ),
                        confidence=round(conf, 3),
                        expected={
                            "units_today": round(float(mean0[i, 0] * lift[i]), 2),
                            "cover_days_after": round(float(cover[i] / lift[i]), 1),
                            "units_interval_80": [
                                round(float(lo_b[i]), 2),
                                round(float(hi_b[i]), 2),
                            ],
                        },
                        check=("units_within", snap.day, snap.day, float(lo_b[i]), float(hi_b[i])),
                    )
                )
                continue
            with_markdown, without = exp_val.get(i, (0.0, 0.0))
            gain = with_markdown - without
            drafts.append(
                Draft(
                    agent_id=AGENT_ID,
                    action_type="markdown_application",
                    index=i,
                    parameters={
                        "discount": float(md[i]),
                        "units_at_risk": sku_units,
                        "days_left": int(days_left[i]),
                        "price": round(float(price[i] * (1 - md[i])), 2),
                    },
                    rationale=(
                        f"{sku_units} units expire in {int(days_left[i])} day(s) against expected sales "
                        f"{(1 - f) * mean0[i, : days_left[i]].sum():.1f}; {md[i]:.0%} off "
                        f"(elasticity {e_mean[i]:.1f}) adds {gain:+.2f} expected value"
                    ),
                    confidence=round(conf, 3),
                    expected={
                        "old_units_sold_today": round(sold, 2),
                        "value_gain": round(gain, 2),
                        "units_interval_80": [round(float(lo_b[i]), 2), round(float(hi_b[i]), 2)],
                    },
                    check=("units_within", snap.day, snap.day, float(lo_b[i]), float(hi_b[i])),
                )
            )
        return drafts
