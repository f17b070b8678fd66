"""Pricing rule: Lerner price, the closed-form stock-constrained LP, the guardrails."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from backend.agents import pricing
from backend.agents.plan import Plan
from backend.agents.pricing import (
    PricingAgent,
    apply_guardrails,
    constrained_grid_choice,
    lerner_price,
)


def test_lerner_price_on_hand_computed_cases() -> None:
    got = lerner_price(np.array([1.0, 1.0, 0.6, 2.0]), np.array([-2.0, -3.0, -1.5, -1.0]))
    assert got[:3] == pytest.approx([2.0, 1.5, 1.8])
    assert np.isinf(got[3])  # inelastic: no finite optimum


def test_lp_takes_the_unconstrained_argmax_when_stock_allows() -> None:
    profit = np.array([[1.0, 3.0, 2.0]])
    demand = np.array([[9.0, 6.0, 3.0]])
    assert constrained_grid_choice(profit, demand, np.array([np.inf]), np.array([0.5]))[0] == 1
    assert constrained_grid_choice(profit, demand, np.array([6.0]), np.array([0.5]))[0] == 1


def test_lp_mixes_the_two_prices_that_straddle_the_stock() -> None:
    # argmax index 0 sells 9 a day but only 5 are in stock: the LP mixes indices 1 (6/day) and
    # 2 (3/day) with x on index 1 solving 6x + 3(1-x) = 5, x = 2/3
    profit = np.array([[4.0, 3.0, 2.0]] * 2)
    demand = np.array([[9.0, 6.0, 3.0]] * 2)
    cap = np.array([5.0, 5.0])
    got = constrained_grid_choice(profit, demand, cap, np.array([0.6, 0.7]))
    assert got.tolist() == [1, 2]
    # nothing feasible: the highest price
    assert constrained_grid_choice(profit[:1], demand[:1], np.array([1.0]), np.array([0.1]))[0] == 2


def test_guardrails_bound_the_step_keep_cost_and_respect_the_masks() -> None:
    current = np.array([2.00, 2.00, 2.00, 2.00, 2.00, 2.00])
    target = np.array([4.00, 1.00, 1.00, 2.02, 3.00, 3.00])
    cost = np.array([1.00, 1.00, 1.95, 1.00, 1.00, 1.00])
    can = np.array([True, True, True, True, False, True])
    no_rise = np.array([False, False, False, False, False, True])
    new = apply_guardrails(current, target, cost, can, no_rise)
    step = pricing.MAX_STEP
    assert new[0] == pytest.approx(round(2.0 * (1 + step), 2))
    assert new[1] == pytest.approx(round(2.0 * (1 - step), 2))
    assert new[2] >= cost[2]  # never below cost
    assert new[3] == 2.00  # below the minimum change
    assert new[4] == 2.00  # weekly limit reached
    assert new[5] == 2.00  # no rise under a markdown


def snapshot(n: int, day: int, price: np.ndarray, lead: int = 0) -> SimpleNamespace:
    cat = SimpleNamespace(
        list_price=np.full(n, 2.0),
        unit_cost=np.full(n, 1.3),
        lead_time=np.full(n, lead),
        disposal_fee=np.full(n, 0.05),
        shelf_life=np.full(n, 180),
    )
    return SimpleNamespace(
        day=day,
        weekday=day % 7,
        catalog=cat,
        price=price.copy(),
        markdown=np.zeros(n),
        stock_by_age=np.full((n, 3), 50),
        pipeline=np.zeros((n, 3)),
    )


def confident_agent(n: int, elasticity: float) -> PricingAgent:
    agent = PricingAgent(np.full(n, 2.0), np.array(["a"] * n), seed=0)
    agent.model.mean[:, 1] = elasticity
    agent.model.prec[:] = np.eye(2) * 1e8  # a posterior this sure samples its mean
    return agent


def profit(p: np.ndarray, e: float = -2.5, c: float = 1.3) -> np.ndarray:
    return (p - c) * p**e


def test_confident_agent_walks_towards_the_lerner_price_within_the_guardrails() -> None:
    n = 4
    agent = confident_agent(n, -2.5)
    price = np.full(n, 4.0)  # far above the optimum
    lerner = 1.3 * 2.5 / 1.5  # 2.1667
    changes = 0
    for day in range(0, 60):
        plan = Plan(
            price=price.copy(),
            markdown=np.zeros(n),
            order_qty=np.zeros(n, dtype=np.int64),
            markdown_units=np.zeros(n),
        )
        drafts = agent.decide(snapshot(n, day, price), plan, np.zeros(n, dtype=bool))
        changes += len(drafts)
        assert np.all(np.abs(plan.price / price - 1) <= pricing.MAX_STEP + 0.01)
        price = plan.price
    # it stops once a further move gains less than the switching threshold
    assert np.all((price >= lerner - 0.05) & (price < 4.0))
    assert np.all(profit(price) >= profit(np.array(lerner)) * (1 - pricing.SWITCH_GAIN) - 1e-9)
    assert changes <= n * (60 // 7 + 1) * pricing.MAX_CHANGES_PER_WEEK


def test_locked_skus_are_left_alone_and_changes_are_explained() -> None:
    n = 3
    agent = confident_agent(n, -1.6)  # Lerner far above the current price
    price = np.full(n, 2.0)
    locked = np.array([False, True, False])
    plan = Plan(
        price=np.array([2.0, 2.5, 2.0]),
        markdown=np.zeros(n),
        order_qty=np.zeros(n, dtype=np.int64),
        markdown_units=np.zeros(n),
    )
    drafts = agent.decide(snapshot(n, 0, price), plan, locked)
    assert plan.price[1] == 2.5
    assert sorted(d.index for d in drafts) == [0, 2]
    for d in drafts:
        assert d.action_type == "price_adjustment"
        assert d.parameters["new_price"] > d.parameters["old_price"]
        assert "Posterior elasticity -1.6" in d.rationale and "->" in d.rationale
        assert 0.99 <= d.confidence <= 1.0


def test_scarce_stock_raises_the_price_to_ration_it() -> None:
    n = 2
    agent = confident_agent(n, -2.5)
    agent.model.mean[:, 0] = np.log(10.0)  # 10 a day at list price
    price = np.full(n, 2.2)
    snap = snapshot(n, 3, price, lead=2)
    snap.stock_by_age[:] = 0
    snap.stock_by_age[0, 2] = 100  # plenty until the next delivery
    snap.stock_by_age[1, 2] = 6  # 6 units for 2 days of ~9/day
    plan = Plan(
        price=price.copy(),
        markdown=np.zeros(n),
        order_qty=np.zeros(n, dtype=np.int64),
        markdown_units=np.zeros(n),
    )
    agent.decide(snap, plan, np.zeros(n, dtype=bool))
    assert plan.price[1] > plan.price[0]
