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


def test_lost_before_arrival_is_the_gamma_loss_function() -> None:
    mean, var, stock = (
        np.array([4.0, 8.0, 3.0]),
        np.array([6.0, 20.0, 3.0]),
        np.array([2.0, 9.0, 0]),
    )
    k, theta = mean**2 / var, var / mean
    x = np.linspace(0.0, 200.0, 400_001)
    want = [
        np.trapezoid(np.maximum(x - s, 0.0) * gamma.pdf(x, ki, scale=ti), x)
        for s, ki, ti in zip(stock, k, theta)
    ]
    assert inventory.lost_before_arrival(mean, var, stock) == pytest.approx(want, abs=1e-4)
    assert inventory.lost_before_arrival(np.array([0.0]), np.array([0.0]), np.array([1.0]))[0] == 0


def test_spillover_reaches_old_stock_only_when_fresh_pickers_outrun_the_deliveries() -> None:
    daily, inv_k, life = np.array([4.0, 4.0]), np.array([0.05, 0.05]), np.array([3, 3])
    # freshest first (share 1), deliveries of 2 a day against demand 4: about 2 a day spill
    lifo = inventory.spillover_demand(daily, inv_k, 1.0, np.array([2.0, 12.0]), life)
    assert lifo[0] == pytest.approx(
        inventory.lost_before_arrival(np.array([8.0]), np.array([8.0 + 0.05 * 64]), 4.0)[0]
    )
    assert lifo[0] > 4.0 - 0.5 and lifo[1] < 0.01
    # the store's cautious share with deliveries that cover demand: nothing spills
    store = inventory.spillover_demand(daily, inv_k, 0.3, np.array([4.0, 4.0]), life)
    assert store.max() < 0.01


def test_spoilage_counts_fresh_pickers_who_find_no_fresh_units() -> None:
    stock = np.array([[5.0, 0.0]])  # 5 units expiring tonight
    dcum, sd = np.array([[4.0, 8.0]]), np.array([[1e-3, 1e-3]])
    # freshest first, nothing arriving: every buyer takes an old unit -> 1 of 5 expires
    none = inventory.expected_spoilage(stock, dcum, sd, 1.0, np.zeros((1, 2)))
    assert none[0] == pytest.approx(1.0, abs=1e-3)
    # freshest first with 4 fresh units arriving: no buyer reaches the old ones
    fresh = inventory.expected_spoilage(stock, dcum, sd, 1.0, np.array([[4.0, 8.0]]))
    assert fresh[0] == pytest.approx(5.0, abs=1e-3)
    # without arrivals given, the share alone decides (the store's usage)
    assert inventory.expected_spoilage(stock, dcum, sd, 1.0)[0] == pytest.approx(5.0, abs=1e-3)


def _agent_order(agent: InventoryAgent, stock: np.ndarray, lead: int, life: int) -> int:
    snap = snapshot(1, stock, np.zeros((1, lead + 1)), lead=lead, life=life)
    plan = Plan(
        price=np.full(1, 2.0),
        markdown=np.zeros(1),
        order_qty=np.zeros(1, dtype=np.int64),
        markdown_units=np.zeros(1),
    )
    agent.decide(snap, plan, np.zeros(1, dtype=bool))
    return int(plan.order_qty[0])


def test_an_empty_sku_orders_at_least_its_expected_demand() -> None:
    # unlearned: the level alone may be 0 under the prior's uncertainty; nothing on the shelf
    # would then never teach the demand
    agent = InventoryAgent(np.full(1, 2.0), np.array(["a"]), seed=0)
    mean = agent.model.mean_demand(np.full((1, 2), 2.0), np.array([3, 4])).sum()
    assert _agent_order(agent, np.zeros((1, 4)), lead=1, life=4) >= np.ceil(mean)


def test_lost_sales_accounting_orders_less_when_the_shelf_runs_short() -> None:
    def agent(lost: bool) -> InventoryAgent:
        a = InventoryAgent(np.full(1, 2.0), np.array(["a"]), seed=0, lost_sales=lost)
        a.model.mean[:, 0] = np.log(8.0)
        a.model.prec[:] = np.eye(2) * 1e8
        return a

    short = np.zeros((1, 20))
    short[0, 15] = 2  # 2 units against a day's demand of about 8
    plenty = np.zeros((1, 20))
    plenty[0, 15] = 30
    gap = _agent_order(agent(False), short, 1, 20) - _agent_order(agent(True), short, 1, 20)
    lost = inventory.lost_before_arrival(np.array([8.0]), np.array([8.0 + 0.2 * 64]), 2.0)[0]
    assert gap == pytest.approx(lost, abs=1.5) and gap >= 4
    # with stock to spare nothing is lost before the delivery: the same order either way
    assert _agent_order(agent(False), plenty, 1, 20) == _agent_order(agent(True), plenty, 1, 20)
