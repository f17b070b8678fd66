"""Promotion rule: the markdown DP against brute force, clearance, and the agent's markdowns."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import numpy as np
import pytest

from backend.agents import promotion
from backend.agents.plan import Plan
from backend.agents.promotion import LADDER, PromotionAgent, clearance_discount, markdown_dp

F = 0.2  # a fresh-pick share for the brute-force check (the agent learns its own)


def day_value(x: float, d: float, demand: float, price: float, e: float) -> tuple[float, float]:
    """Deterministic demand: the day's reward and the old units left."""
    dem = demand * (1 - d) ** e
    old = min(x, (1 - F) * dem)
    fresh = max(dem - old, 0.0)
    return price * (1 - d) * old - d * price * fresh, x - old


def brute_force(x: float, k: int, demand: list[float], price: float, e: float, fee: float) -> dict:
    """Value of every ladder sequence over k days; the DP must pick the best first step."""
    best: dict[float, float] = {}
    for seq in itertools.product(LADDER, repeat=k):
        left, total = x, 0.0
        for day, d in enumerate(seq):
            r, left = day_value(left, d, demand[day], price, e)
            total += r
        total -= fee * left
        best[seq[0]] = max(best.get(seq[0], -np.inf), total)
    return best


@pytest.mark.parametrize(
    "x, k, demand, e",
    [
        (10.0, 1, [4.0, 4.0, 4.0], -2.5),  # far more than a day sells: mark down
        (2.0, 1, [4.0, 4.0, 4.0], -2.5),  # sells anyway: no markdown
        (12.0, 2, [4.0, 3.0, 3.0], -2.0),
        (9.0, 3, [3.0, 2.5, 2.0], -3.0),
    ],
)
def test_markdown_dp_matches_brute_force_on_deterministic_demand(x, k, demand, e) -> None:
    price, fee = 2.0, 0.1
    d, v, v0 = markdown_dp(
        np.array([x]),
        np.array([k]),
        np.array([price]),
        np.array([fee]),
        np.array([demand]),
        np.array([e]),
        np.array([1e-4]),
        F,
    )
    best = brute_force(x, k, demand, price, e, fee)
    top = max(best.values())
    assert best[float(d[0])] >= top - 0.02 * abs(top) - 1e-9  # its first step is optimal
    assert v[0] == pytest.approx(top, rel=0.03, abs=0.05)
    assert v0[0] == pytest.approx(
        brute_force(x, k, demand, price, e, fee)[0.0]
        if k == 1
        else _no_markdown(x, k, demand, price, e, fee),
        rel=0.03,
        abs=0.05,
    )
    if x <= (1 - F) * demand[0]:
        assert d[0] == 0.0


def _no_markdown(x, k, demand, price, e, fee) -> float:
    left, total = x, 0.0
    for day in range(k):
        r, left = day_value(left, 0.0, demand[day], price, e)
        total += r
    return total - fee * left


def test_clearance_on_hand_computed_covers() -> None:
    got = clearance_discount(
        np.array([20.0, 61.0, 70.0, 400.0]), np.array([-2.0, -2.0, -2.0, -2.0])
    )
    # 61 days: lift 61/30 needs d = 1 - (61/30)^(-1/2) = 0.299 -> 0.3; 70 days needs 0.345 -> cap
    assert got.tolist() == [0.0, 0.3, 0.3, 0.3]
    assert clearance_discount(np.array([65.0]), np.array([-3.5]))[0] == pytest.approx(0.2)


def snapshot(stock: np.ndarray, pipeline: np.ndarray, life: np.ndarray) -> SimpleNamespace:
    n = stock.shape[0]
    cat = SimpleNamespace(
        list_price=np.full(n, 2.0),
        unit_cost=np.full(n, 1.2),
        lead_time=np.zeros(n, dtype=int),
        disposal_fee=np.full(n, 0.05),
        shelf_life=life,
        holding_rate=0.002,
    )
    return SimpleNamespace(
        day=5,
        weekday=2,
        catalog=cat,
        price=np.full(n, 2.0),
        markdown=np.zeros(n),
        stock_by_age=stock,
        pipeline=pipeline,
    )


def test_agent_marks_down_what_would_expire_and_clears_ambient_overstock() -> None:
    n = 4
    agent = PromotionAgent(np.full(n, 2.0), np.array(["a"] * n), seed=0)
    agent.model.mean[:, 0] = np.log(4.0)
    agent.model.mean[:, 1] = -2.5
    agent.model.prec[:] = np.eye(2) * 1e8
    stock = np.zeros((n, 180))
    stock[0, 0] = 20  # 20 units on their last day, 4 a day sell: mark down
    stock[1, 0] = 2  # 2 units on their last day: they sell anyway
    stock[2, 179] = 400  # ambient: 100 days of cover
    pipe = np.zeros((n, 3))
    pipe[3, 0] = 25  # one-day goods delivered this morning expire tonight
    life = np.array([4, 4, 180, 1])
    plan = Plan(
        price=np.full(n, 2.0),
        markdown=np.zeros(n),
        order_qty=np.zeros(n, dtype=np.int64),
        markdown_units=np.zeros(n),
    )
    drafts = agent.decide(snapshot(stock, pipe, life), plan, np.zeros(n, dtype=bool))
    assert plan.markdown[0] > 0 and plan.markdown[1] == 0
    assert plan.markdown[2] == pytest.approx(promotion.CLEAR_MAX)
    assert plan.markdown[3] > 0
    kinds = {d.index: d.action_type for d in drafts}
    assert kinds == {0: "markdown_application", 2: "promotion_creation", 3: "markdown_application"}
    assert np.all(plan.markdown_units[[0, 2, 3]] > 0)


def test_locked_markdown_is_left_as_the_operator_set_it() -> None:
    n = 1
    agent = PromotionAgent(np.full(n, 2.0), np.array(["a"]), seed=0)
    stock = np.zeros((n, 5))
    stock[0, 0] = 50
    plan = Plan(
        price=np.full(n, 2.0),
        markdown=np.array([0.15]),
        order_qty=np.zeros(n, dtype=np.int64),
        markdown_units=np.zeros(n),
    )
    assert (
        agent.decide(snapshot(stock, np.zeros((n, 3)), np.array([5])), plan, np.array([True])) == []
    )
    assert plan.markdown[0] == pytest.approx(0.15)
