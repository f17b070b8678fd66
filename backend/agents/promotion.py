"""Promotion agent: markdowns for cohorts near expiry (a small DP) and clearance of ambient overstock.

Expiry markdowns: for a SKU whose oldest cohort has k <= HORIZON days of life left, with x units,
the value of the cohort is V_k(x) = max_d E[ p(1-d) o - d p f + V_{k-1}(x - o) ], V_0(x) = -fee x,
where o = min(x, (1 - fresh_share) D_d) are old units sold (customers mostly take oldest first),
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
from scipy.stats import gamma

from backend.agents.demand import DemandModel
from backend.agents.plan import Draft, Plan

AGENT_ID = "promotion_agent"
LADDER = np.array([0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7])
HORIZON = 3
GRID = 21
QUAD = 7
FRESH_SHARE = 0.15          # share of shoppers who pick the freshest unit; an assumption
AMBIENT_LIFE = 30           # shelf life above which a SKU is treated as ambient
CLEAR_COVER, TARGET_COVER, CLEAR_MAX = 60.0, 30.0, 0.3


def markdown_dp(x_now: np.ndarray, days_left: np.ndarray, price: np.ndarray, fee: np.ndarray,
                mean0: np.ndarray, elasticity: np.ndarray, cv2: np.ndarray,
                fresh_share: float = FRESH_SHARE) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Best ladder discount today per SKU, its expected value and the no-markdown value.

    x_now (m,) units of the oldest cohort; days_left (m,) in 1..HORIZON; mean0 (m, HORIZON)
    expected demand at the regular price on each of the coming days; cv2 (m,) squared CV of a
    day's demand; returns (discount, value with the policy, value without markdowns).
    """
    m = len(x_now)
    q = (np.arange(QUAD) + 0.5) / QUAD
    shape = 1.0 / np.maximum(cv2, 1e-3)
    shock = gamma.ppf(q[None, :], shape[:, None], scale=1.0 / shape[:, None])  # (m, Q) mean 1
    xs = np.linspace(0.0, 1.0, GRID)[None, :] * x_now[:, None]                # (m, Z)
    dx = np.maximum(x_now / (GRID - 1), 1e-9)
    lift = (1.0 - LADDER)[None, :] ** elasticity[:, None]                    # (m, L)
    v_prev = -fee[:, None] * xs
    v_nomd = v_prev.copy()
    best_d = np.zeros((m, HORIZON + 1), dtype=np.int64)
    values = np.zeros((m, HORIZON + 1))
    values[:, 0] = v_prev[:, -1]
    nomd = np.zeros((m, HORIZON + 1))
    nomd[:, 0] = v_nomd[:, -1]
    rows = np.arange(m)[:, None, None, None]
    k = np.clip(days_left, 1, HORIZON)
    idx = np.arange(m)
    for s in range(1, HORIZON + 1):
        # with s days left the SKU is k - s days from today (stages beyond k are never used)
        mu = mean0[idx, np.clip(k - s, 0, HORIZON - 1)]
        dem = mu[:, None, None] * lift[:, :, None] * shock[:, None, :]          # (m, L, Q)
        old_dem = (1.0 - fresh_share) * dem
        o = np.minimum(xs[:, :, None, None], old_dem[:, None, :, :])            # (m, Z, L, Q)
        fresh = np.maximum(dem[:, None, :, :] - o, 0.0)
        pd = price[:, None] * (1.0 - LADDER)[None, :]                           # (m, L)
        rest = xs[:, :, None, None] - o
        pos = rest / dx[:, None, None, None]
        lo = np.clip(np.floor(pos).astype(np.int64), 0, GRID - 2)
        frac = np.clip(pos - lo, 0.0, 1.0)
        cont = (v_prev[rows, lo] * (1.0 - frac) + v_prev[rows, lo + 1] * frac)
        reward = (pd[:, None, :, None] * o - (price[:, None] * LADDER[None, :])[:, None, :, None] * fresh
                  + cont).mean(axis=3)                                          # (m, Z, L)
        choice = np.argmax(reward, axis=2)
        v_prev = np.take_along_axis(reward, choice[:, :, None], axis=2)[:, :, 0]
        best_d[:, s] = choice[:, -1]
        values[:, s] = v_prev[:, -1]
        cont0 = (v_nomd[rows[:, :, :, 0], lo[:, :, 0, :]] * (1.0 - frac[:, :, 0, :])
                 + v_nomd[rows[:, :, :, 0], lo[:, :, 0, :] + 1] * frac[:, :, 0, :])
        v_nomd = (price[:, None, None] * o[:, :, 0, :] + cont0).mean(axis=2)
        nomd[:, s] = v_nomd[:, -1]
    return LADDER[best_d[idx, k]], values[idx, k], nomd[idx, k]


def clearance_discount(cover_days: np.ndarray, elasticity: np.ndarray) -> np.ndarray:
    """Smallest ladder discount whose lift (1-d)^e brings cover down to TARGET_COVER (capped)."""
    need = np.maximum(cover_days / TARGET_COVER, 1.0)
    with np.errstate(divide="ignore"):
        d = 1.0 - need ** (1.0 / np.minimum(elasticity, -1.05))
    ladder = LADDER[(LADDER > 0) & (LADDER <= CLEAR_MAX)]
    pick = np.searchsorted(ladder, d - 1e-9)
    return np.where(cover_days > CLEAR_COVER, ladder[np.minimum(pick, len(ladder) - 1)], 0.0)


class PromotionAgent:
    """Posts markdowns on near-expiry cohorts and clearance discounts on ambient overstock."""

    agent_id = AGENT_ID

    def __init__(self, list_price: np.ndarray, category: np.ndarray, seed: int) -> None:
        self.seen_day = -1                              # last observed day learned from
        self.model = DemandModel(list_price, category)

    def learn(self, weekday: int, price: np.ndarray, sales: np.ndarray, stocked_out: np.ndarray) -> None:
        self.model.update(weekday, price, sales, stocked_out)

    def decide(self, snap, plan: Plan, locked: np.ndarray) -> list[Draft]:
        """Set plan.markdown (and plan.markdown_units) on SKUs not locked; drafts for new markdowns."""
        cat = snap.catalog
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
        expected_left = x_now - (1.0 - FRESH_SHARE) * np.cumsum(mean0, axis=1)[np.arange(n), np.minimum(col, HORIZON - 1)]
        cand = np.flatnonzero(has_old & ~locked & (expected_left > -1.5 * np.sqrt(x_now + 1.0)))
        exp_val = {}
        if cand.size:
            cv2 = m.inv_k[cand] + 1.0 / np.maximum(mean0[cand, 0], 0.05)
            fee = np.asarray(cat.disposal_fee, dtype=float)[cand]
            d, v, v0 = markdown_dp(x_now[cand], days_left[cand], price[cand], fee,
                                   mean0[cand], e_use[cand], cv2)
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
        drafts = []
        for i in new_idx.tolist():
            sku_units = int(x_now[i])
            sold = float(min(x_now[i], (1 - FRESH_SHARE) * mean0[i, 0] * lift[i]))
            conf = math.erf(0.5 / (e_sd[i] * math.sqrt(2.0)))
            if clear[i] > 0 and clear[i] >= md[i] - 1e-12 and i not in exp_val:
                drafts.append(Draft(
                    agent_id=AGENT_ID, action_type="promotion_creation", index=i,
                    parameters={"discount": float(md[i]), "reason": "overstock",
                                "cover_days": round(float(cover[i]), 1)},
                    rationale=(f"Stock covers {cover[i]:.0f} days of demand against a {TARGET_COVER:.0f}-day "
                               f"target; {md[i]:.0%} off lifts demand {lift[i]:.2f}x at elasticity {e_mean[i]:.1f}"),
                    confidence=round(conf, 3),
                    expected={"units_today": round(float(mean0[i, 0] * lift[i]), 2),
                              "cover_days_after": round(float(cover[i] / lift[i]), 1)},
                    check=("units_at_least", snap.day, 0.5 * float(mean0[i, 0] * lift[i]))))
                continue
            v, v0 = exp_val.get(i, (0.0, 0.0))
            drafts.append(Draft(
                agent_id=AGENT_ID, action_type="markdown_application", index=i,
                parameters={"discount": float(md[i]), "units_at_risk": sku_units,
                            "days_left": int(days_left[i]),
                            "price": round(float(price[i] * (1 - md[i])), 2)},
                rationale=(f"{sku_units} units expire in {int(days_left[i])} day(s) against expected sales "
                           f"{(1 - FRESH_SHARE) * mean0[i, :days_left[i]].sum():.1f}; {md[i]:.0%} off "
                           f"(elasticity {e_mean[i]:.1f}) adds {v - v0:+.2f} expected value"),
                confidence=round(conf, 3),
                expected={"old_units_sold_today": round(sold, 2), "value_gain": round(v - v0, 2)},
                check=("units_at_least", snap.day, 0.5 * sold)))
        return drafts
