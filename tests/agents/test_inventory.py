"""Inventory rule: newsvendor level, expiry risk, spoilage, and the order it places."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from scipy.stats import gamma

from backend.agents import inventory
from backend.agents.inventory import (
    InventoryAgent,
    critical_ratio,
    expected_spoilage,
    expiry_probability,
    newsvendor_level,
    overage_cost,
    underage_cost,
)
from backend.agents.plan import Plan


def test_newsvendor_level_is_the_critical_ratio_quantile_without_a_penalty() -> None:
    # mean 10, variance 30 (gamma shape 10/3, scale 3); cu/co = 3 -> the 75% quantile
    got = newsvendor_level(
        np.array([10.0, 10.0]), np.array([30.0, 30.0]), np.array([3.0, 1.0]), np.array([1.0, 1.0])
    )
    want = gamma.ppf([0.75, 0.5], 10 / 3, scale=3.0)
    assert got == pytest.approx(want, abs=0.35)  # grid spacing 0.1 sd = 0.55 units


def test_stockout_penalty_raises_the_level_most_for_slow_movers() -> None:
    mean, var = np.array([2.0, 40.0]), np.array([2.5, 440.0])
    cu, co = np.array([1.0, 1.0]), np.array([1.0, 1.0])
    plain = newsvendor_level(mean, var, cu, co)
    penal = newsvendor_level(mean, var, cu, co, np.array([3.0, 3.0]))
    assert penal[0] > plain[0] + 0.5
    assert penal[1] - plain[1] < (penal[0] - plain[0]) * np.sqrt(var[1] / var[0])


def test_cost_sides_and_ratio_on_hand_computed_values() -> None:
    cu = underage_cost(np.array([2.0]), np.array([1.2]))
    assert cu[0] == pytest.approx(0.8 + inventory.GOODWILL * 2.0)
    co = overage_cost(np.array([1.2]), np.array([0.05]), 0.002, np.array([0.5]))
    assert co[0] == pytest.approx(0.0024 + 0.5 * 1.25)
    assert critical_ratio(np.array([3.0]), np.array([1.0]))[0] == pytest.approx(0.75)


def test_one_day_goods_always_risk_expiry_and_long_life_goods_hardly() -> None:
    p = expiry_probability(
        level=np.array([12.0, 12.0, 12.0]),
        mean=np.array([10.0, 10.0, 10.0]),
        daily=np.array([10.0, 10.0, 10.0]),
        inv_k=np.array([0.2, 0.2, 0.2]),
        shelf_life=np.array([1, 3, 180]),
        fresh_share=0.15,
    )
    assert p[0] == 1.0
    assert 0.0 < p[1] < 0.2
    assert p[2] < 1e-6


def test_expected_spoilage_fifo_limits() -> None:
    stock = np.array([[5.0, 3.0], [5.0, 3.0], [5.0, 0.0]])
    none = np.zeros((3, 2))
    tiny = np.full((3, 2), 1e-6)
    # no demand: all of it expires; huge demand: none of it does
    assert expected_spoilage(stock, none, tiny) == pytest.approx([8.0, 8.0, 5.0], abs=1e-3)
    huge = np.array([[100.0, 200.0]] * 3)
    assert expected_spoilage(stock, huge, np.sqrt(huge)) == pytest.approx([0.0, 0.0, 0.0], abs=1e-3)
    # deterministic demand 3 then 6 (cumulative), 85% from the oldest: 5 - 2.55 of the first
    # cohort expire on day 1, then the second cohort (3) is behind what is left
    mid = expected_spoilage(
        stock[2:], np.array([[3.0, 6.0]]), np.array([[1e-6, 1e-6]]), fresh_share=0.15
    )
    assert mid[0] == pytest.approx(5.0 - 0.85 * 3.0, abs=1e-3)


def snapshot(
    n: int, stock: np.ndarray, pipeline: np.ndarray, lead: int, life: int
) -> SimpleNamespace:
    cat = SimpleNamespace(
        list_price=np.full(n, 2.0),
        unit_cost=np.full(n, 1.2),
        lead_time=np.full(n, lead),
        disposal_fee=np.full(n, 0.05),
        shelf_life=np.full(n, life),
        holding_rate=0.002,
    )
    return SimpleNamespace(
        day=10,
        weekday=3,
        catalog=cat,
        price=np.full(n, 2.0),
        markdown=np.zeros(n),
        stock_by_age=stock,
        pipeline=pipeline,
    )


def test_order_fills_the_gap_to_the_level_net_of_stock_and_pipeline() -> None:
    n = 2
    agent = InventoryAgent(np.full(n, 2.0), np.array(["a", "a"]), seed=0)
    agent.model.mean[:, 0] = np.log(8.0)
    agent.model.mean[:, 1] = -2.0
    agent.model.prec[:] = np.eye(2) * 1e8
    stock = np.zeros((n, 20))
    stock[1, 15] = 30  # fresh stock on hand for SKU 1
    snap = snapshot(n, stock, np.zeros((n, 3)), lead=1, life=20)
    plan = Plan(
        price=np.full(n, 2.0),
        markdown=np.zeros(n),
        order_qty=np.zeros(n, dtype=np.int64),
        markdown_units=np.zeros(n),
    )
    drafts = agent.decide(snap, plan, np.zeros(n, dtype=bool))
    assert plan.order_qty[0] > plan.order_qty[1] >= 0
    assert plan.order_qty[0] - plan.order_qty[1] == pytest.approx(30, abs=1)
    assert plan.order_qty[0] >= 16  # two days of about 8, plus safety stock
    # a first level is a decision wherever an order is placed
    assert sorted(d.index for d in drafts) == [i for i in range(n) if plan.order_qty[i] > 0]
    for d in drafts:
        assert d.action_type == "inventory_restock" and "order-up-to" in d.rationale
        assert d.parameters["order_qty"] == plan.order_qty[d.index]
    # the same state the next day is routine: no new decision
    plan2 = Plan(
        price=np.full(n, 2.0),
        markdown=np.zeros(n),
        order_qty=np.zeros(n, dtype=np.int64),
        markdown_units=np.zeros(n),
    )
    assert agent.decide(snap, plan2, np.zeros(n, dtype=bool)) == []
    assert np.array_equal(plan2.order_qty, plan.order_qty)


def test_locked_sku_keeps_the_operator_order() -> None:
    n = 2
    agent = InventoryAgent(np.full(n, 2.0), np.array(["a", "a"]), seed=0)
    snap = snapshot(n, np.zeros((n, 5)), np.zeros((n, 3)), lead=0, life=5)
    plan = Plan(
        price=np.full(n, 2.0),
        markdown=np.zeros(n),
        order_qty=np.array([0, 77]),
        markdown_units=np.zeros(n),
    )
    agent.decide(snap, plan, np.array([False, True]))
    assert plan.order_qty[1] == 77 and plan.order_qty[0] > 0
