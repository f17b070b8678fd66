"""What an operator override is expected to do, before it is applied: a what-if on the agent's
own demand model, with its uncertainty, over the hold period, with the override and without it.

One SKU is simulated forward PATHS times from what the store shows now (its stock in age
cohorts, its orders on the way, its posted price), the same way the store trades a day:
receive, sell oldest first (except the share of shoppers the store has been seen to pick the
freshest, learned from how its age cohorts empty: freshness.py), write off what reaches the end
of its life, carry the rest. Each path draws the
demand curve (log level, elasticity) from the agent's posterior and each day's demand from the
agent's negative binomial (its per-SKU dispersion and weekday factors), so the bands carry
both what the agent does not know and the day-to-day noise. The two arms share every draw
(common random numbers), so their difference is the override's effect, not noise.

Arms: a price override holds the regular price for its days, against today's regular price
held as long; a markdown override holds the discount, against no markdown; an order override
places its units today, against the order the inventory agent's own order-up-to level would
place. In both arms the SKU is replenished every later day up to the inventory agent's last
order-up-to level, scaled to the demand the arm's price brings, and no other markdown is
assumed. The figures per day and in total are the mean and the 10th, 50th and 90th
percentiles over the paths; profit is revenue less the cost of the units sold, holding and
the cost of units written off, as in the store's ledger.

Reads the store only through what an agent may see (a snapshot) and works on copies: a preview
changes nothing.
"""

from __future__ import annotations

import copy
import zlib
from typing import Any

import numpy as np

from backend.agents.levers import MAX_HOLD_DAYS, validate

PATHS = 2000
QUANTILES = (0.1, 0.5, 0.9)
FIGURES = ("units_sold", "revenue", "profit", "units_expired")


def horizon(agent_id: str, v: dict[str, Any], lead: int, life: int) -> int:
    """Days the preview covers: the hold, or for an order until its units are sold or expired."""
    if agent_id == "pricing_agent":
        return int(v["hold_days"])
    if agent_id == "promotion_agent":
        return int(v["days"])
    return min(lead + 1, MAX_HOLD_DAYS)


def preview_override(
    op: Any, agent_id: str, parameters: dict[str, Any], paths: int = PATHS
) -> dict[str, Any]:
    """The expected effect of `agent_id`'s override with `parameters` on the store `op` (an
    Operation between two days); raises the override's own validation errors."""
    op._check(agent_id)
    pub = op.public
    v = validate(agent_id, parameters, op.sku_index, pub.list_price)
    i = v["index"]
    snap = op.live.snapshot(history_days=1)
    model = copy.copy(op.agents[agent_id].model)  # reading it fills a cache: keep that on a copy
    lead, life = int(pub.lead_time[i]), int(pub.shelf_life[i])
    days = horizon(agent_id, v, lead, life)
    weekdays = (snap.weekday + np.arange(days)) % 7
    seed = zlib.crc32(f"{op.seed}:{snap.day}:{agent_id}:{v['sku']}".encode())
    rng = np.random.default_rng(seed)
    cov = model.cov()[i]
    coef = rng.multivariate_normal(model.mean[i], cov, size=paths, method="cholesky")
    inv_k = float(model.inv_k[i])
    shock = rng.gamma(1.0 / inv_k, inv_k, size=(paths, days))
    fresh = rng.random((paths, days))
    demand_seed = int(rng.integers(2**32))
    weekday = model.weekday_factors()[i]

    price_now = float(snap.price[i])
    held_markdown = op.holds.markdown_until[i] >= snap.day
    markdown_now = float(op.holds.markdown[i]) if held_markdown else 0.0
    arms = {
        "with_override": (price_now, markdown_now, None),
        "without_override": (price_now, markdown_now, None),
    }
    if agent_id == "pricing_agent":
        arms["with_override"] = (v["price"], markdown_now, None)
    elif agent_id == "promotion_agent":
        arms["with_override"] = (price_now, v["discount"], None)
        arms["without_override"] = (price_now, 0.0, None)
    else:
        arms["with_override"] = (price_now, markdown_now, v["quantity"])

    level_now = _level(op, i, model, price_now, markdown_now, lead, weekdays)
    x_now = np.log(price_now * (1.0 - markdown_now) / model.list_price[i])
    out = {
        "agent_id": agent_id,
        "sku": v["sku"],
        "parameters": {k: val for k, val in v.items() if k != "index"},
        "first_day": int(snap.day),
        "last_day": int(snap.day + days - 1),
        "horizon_days": days,
        "paths": paths,
    }
    for arm, (price, markdown, order_today) in arms.items():
        effective = price * (1.0 - markdown)
        x = np.log(effective / model.list_price[i])
        mu = np.exp(coef[:, :1] + coef[:, 1:] * x) * weekday[weekdays][None, :]  # (paths, days)
        # the agent's level follows the demand the arm's price brings (posterior elasticity)
        level = level_now * float(np.exp(model.mean[i, 1] * (x - x_now)))
        trace = _simulate(
            snap.stock_by_age[i, :life].astype(float),
            snap.pipeline[i].astype(float),
            lead,
            life,
            np.random.default_rng(demand_seed).poisson(mu * shock),  # same draws in both arms
            fresh,
            op.agents["promotion_agent"].fresh.share,
            level,
            order_today,
        )
        cost, fee = float(pub.unit_cost[i]), float(pub.disposal_fee[i])
        sold, expired, closing, stockout = trace
        revenue = effective * sold
        profit = revenue - cost * sold - pub.holding_rate * cost * closing - (cost + fee) * expired
        figures = dict(zip(FIGURES, (sold, revenue, profit, expired), strict=True))
        daily = {f: bands(x) for f, x in figures.items()}
        out[arm] = {
            "regular_price": round(price, 2),
            "markdown": markdown,
            "order_today": None if order_today is None else int(order_today),
            "daily": [
                {
                    "day": int(snap.day + t),
                    **{f: daily[f][t] for f in FIGURES},
                    "stockout_probability": float(p),
                }
                for t, p in enumerate(stockout.mean(axis=0))
            ],
            "total": {
                **{f: bands(x.sum(axis=1, keepdims=True))[0] for f, x in figures.items()},
                "stockout_days": bands(stockout.sum(axis=1, keepdims=True))[0],
                "stockout_probability": float(stockout.any(axis=1).mean()),
            },
        }
    return out


def bands(x: np.ndarray) -> list[dict[str, float]]:
    """Per column of x (paths, columns): the mean and the 10th, 50th and 90th percentiles."""
    q = np.quantile(x, QUANTILES, axis=0)
    return [
        {"mean": float(m), "p10": float(a), "p50": float(b), "p90": float(c)}
        for m, a, b, c in zip(x.mean(axis=0), *q, strict=True)
    ]


def _level(
    op: Any, i: int, model: Any, price: float, markdown: float, lead: int, weekdays: np.ndarray
) -> float:
    """The inventory agent's last order-up-to level for the SKU (weekday-free); before it
    recorded one, the demand its model expects over lead + 1 days plus two of their sd."""
    recorded = float(op.agents["inventory_agent"].levels[i])
    if recorded >= 0:
        return recorded
    x = np.log(price * (1.0 - markdown) / model.list_price[i])
    daily = np.exp(model.mean[i, 0] + model.mean[i, 1] * x) * model.weekday_factors()[i][weekdays]
    mu = float(daily.mean()) * (lead + 1)
    return mu + 2.0 * float(np.sqrt(mu + model.inv_k[i] * mu * mu))


def _simulate(
    stock0: np.ndarray,
    pipe0: np.ndarray,
    lead: int,
    life: int,
    demand: np.ndarray,
    fresh: np.ndarray,
    fresh_share: float,
    level: float,
    order_today: int | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Trade one SKU forward on every path; (sold, expired, closing, stocked out), each (P, T)."""
    paths, days = demand.shape
    stock = np.tile(stock0, (paths, 1))
    pipe = np.tile(pipe0, (paths, 1))
    sold, expired, closing = (np.zeros((paths, days)) for _ in range(3))
    stockout = np.zeros((paths, days), dtype=bool)
    for t in range(days):
        position = stock.sum(axis=1) + pipe.sum(axis=1)
        if t == 0 and order_today is not None:
            order = np.full(paths, float(order_today))
        else:
            order = np.maximum(np.ceil(level - position - 1e-9), 0.0)
        pipe[:, lead] += order
        stock[:, life - 1] += pipe[:, 0]
        available = stock.sum(axis=1)
        sales = np.minimum(demand[:, t], available)
        freshest = np.minimum(np.floor(fresh_share * sales + fresh[:, t]), sales)
        _take(stock, sales - freshest, oldest=True)
        _take(stock, freshest, oldest=False)
        expired[:, t] = stock[:, 0]
        stock[:, :-1] = stock[:, 1:]
        stock[:, -1] = 0.0
        pipe[:, :-1] = pipe[:, 1:]
        pipe[:, -1] = 0.0
        sold[:, t] = sales
        closing[:, t] = stock.sum(axis=1)
        stockout[:, t] = sales >= available
    return sold, expired, closing, stockout


def _take(stock: np.ndarray, qty: np.ndarray, oldest: bool) -> None:
    """Remove qty units per path from the oldest (or freshest) cohorts first, in place."""
    s = stock if oldest else stock[:, ::-1]
    before = np.cumsum(s, axis=1) - s
    s -= np.clip(qty[:, None] - before, 0.0, s)


def realised(op: Any, sku: str, first_day: int, last_day: int) -> dict[str, Any] | None:
    """What the SKU did from first_day to last_day, from the store's ledger; None until the
    last day has traded or once the first has left the ledger."""
    led = op.live.ledger
    i = op.sku_index.get(sku)
    if i is None or last_day >= op.day or first_day < op.day - min(led.days, led.history_days):
        return None
    back = op.day - first_day
    span = slice(0, last_day - first_day + 1)
    pub = op.public
    cost, fee = float(pub.unit_cost[i]), float(pub.disposal_fee[i])
    price = led.window("price", back)[span, i] * (1.0 - led.window("markdown", back)[span, i])
    sold = led.window("sales", back)[span, i].astype(float)
    expired = led.window("expired", back)[span, i].astype(float)
    closing = led.window("closing_stock", back)[span, i].astype(float)
    revenue = float(price @ sold)
    profit = revenue - cost * sold.sum() - pub.holding_rate * cost * closing.sum()
    profit -= (cost + fee) * expired.sum()
    return {
        "first_day": first_day,
        "last_day": last_day,
        "units_sold": int(sold.sum()),
        "revenue": revenue,
        "profit": float(profit),
        "units_expired": int(expired.sum()),
        "stockout_days": int(led.window("stocked_out", back)[span, i].sum()),
    }
