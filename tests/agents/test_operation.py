"""The Operation facade on the real store: levers, isolation, KPIs, checkpoint."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from backend.agents.operation import AGENT_IDS, AgentStatus, Operation
from backend.errors import InvalidOverride, UnknownAgent, UnknownSku
from backend.schemas import METRIC_FIELDS
from backend.sim.baseline import baseline_actions

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
KPI_FIELDS = set(METRIC_FIELDS)


def run(op: Operation, days: int) -> list:
    return [op.run_day(NOW) for _ in range(days)]


def test_agents_make_decisions_with_rationale_and_numbers() -> None:
    op = Operation(n_skus=20, seed=1)
    reports = run(op, 15)
    decisions = [d for r in reports for d in r.decisions]
    assert {d.agent_id for d in decisions} == set(AGENT_IDS)
    assert len({d.id for d in decisions}) == len(decisions)
    for d in decisions:
        assert d.parameters and any(ch.isdigit() for ch in d.rationale)
        assert 0.0 <= d.confidence_score <= 1.0 and d.outcome is None
    assert any(r.outcomes for r in reports)


def test_paused_pricing_agent_decides_nothing_and_prices_follow_the_standing_rule() -> None:
    op = Operation(n_skus=20, seed=2)
    run(op, 10)
    assert op.pause("pricing_agent").startswith("Pricing Agent paused")
    reports = run(op, 5)
    assert not [d for r in reports for d in r.decisions if d.agent_id == "pricing_agent"]
    assert np.allclose(op.live.ledger.last().price, op.public.list_price)
    assert op.agent_stats()[0].status is AgentStatus.PAUSED
    assert any(c.key == "agent_paused:pricing_agent" for c in op.conditions())
    op.resume("pricing_agent")
    assert op.agent_stats()[0].status is AgentStatus.ACTIVE


def test_paused_inventory_agent_orders_exactly_the_competent_baseline() -> None:
    op = Operation(n_skus=20, seed=3)
    run(op, 5)
    op.pause("inventory_agent")
    for _ in range(4):
        expected = baseline_actions(op.live, op.baseline_z, op.baseline_clearance).order_qty
        report = op.run_day(NOW)
        assert not [d for d in report.decisions if d.agent_id == "inventory_agent"]
        assert np.array_equal(op.live.ledger.last().ordered, expected)


def test_price_override_is_charged_held_and_left_alone_by_the_agent() -> None:
    op = Operation(n_skus=20, seed=4)
    run(op, 3)
    sku = op.sku_rows()[5]["sku"]
    i = op.sku_index[sku]
    price = round(float(op.public.list_price[i]) * 1.37, 2)
    op.override("pricing_agent", {"sku": sku, "price": price, "hold_days": 3})
    row = op.sku_rows()[5]
    assert row["price"] == price and row["override_until"] == op.day + 2
    for _ in range(3):
        report = op.run_day(NOW)
        assert op.live.ledger.last().price[i] == pytest.approx(price)
        assert not [d for d in report.decisions if d.agent_id == "pricing_agent" and d.sku == sku]
    assert op.sku_rows()[5]["override_until"] is None


def test_inventory_and_promotion_overrides_take_effect_at_once() -> None:
    op = Operation(n_skus=20, seed=5)
    run(op, 3)
    sku = op.sku_rows()[2]["sku"]
    i = op.sku_index[sku]
    before = op.sku_rows()[2]["on_order"]
    op.override("inventory_agent", {"sku": sku, "quantity": 777})
    assert op.sku_rows()[2]["on_order"] == before + 777
    op.override("promotion_agent", {"sku": sku, "discount": 0.25, "days": 2})
    assert op.sku_rows()[2]["markdown_price"] == pytest.approx(
        round(op.sku_rows()[2]["price"] * 0.75, 2)
    )
    op.run_day(NOW)
    last = op.live.ledger.last()
    assert last.ordered[i] == 777 and last.markdown[i] == pytest.approx(0.25)


BAD_OVERRIDES = [  # (agent, parameters given the SKU id and its list price, field named)
    ("pricing_agent", lambda s, p: {"price": p, "hold_days": 1}, "sku"),
    ("pricing_agent", lambda s, p: {"sku": s, "price": -1.0, "hold_days": 1}, "price"),
    ("pricing_agent", lambda s, p: {"sku": s, "price": float("nan"), "hold_days": 1}, "price"),
    ("pricing_agent", lambda s, p: {"sku": s, "price": 5.1 * p, "hold_days": 1}, "price"),
    ("pricing_agent", lambda s, p: {"sku": s, "price": "cheap", "hold_days": 1}, "price"),
    ("pricing_agent", lambda s, p: {"sku": s, "price": p, "hold_days": 0}, "hold_days"),
    ("pricing_agent", lambda s, p: {"sku": s, "price": p, "hold_days": 91}, "hold_days"),
    ("pricing_agent", lambda s, p: {"sku": s, "price": p, "hold_days": True}, "hold_days"),
    ("inventory_agent", lambda s, p: {"sku": s, "quantity": 100001}, "quantity"),
    ("inventory_agent", lambda s, p: {"sku": s, "quantity": 2.5}, "quantity"),
    ("promotion_agent", lambda s, p: {"sku": s, "discount": 0.9, "days": 2}, "discount"),
    ("promotion_agent", lambda s, p: {"sku": s, "discount": 0.0, "days": 2}, "discount"),
    ("promotion_agent", lambda s, p: {"sku": s, "discount": 0.2, "days": 0}, "days"),
    ("promotion_agent", lambda s, p: {"sku": s, "discount": 0.2, "days": 2, "extra": 1}, "extra"),
]


@pytest.mark.parametrize("agent, make, field", BAD_OVERRIDES)
def test_bad_override_values_raise_errors_naming_the_field(agent: str, make, field: str) -> None:
    op = Operation(n_skus=10, seed=6)
    params = make(op.sku_rows()[0]["sku"], round(float(op.public.list_price[0]), 2))
    with pytest.raises(InvalidOverride) as err:
        op.override(agent, params)
    assert str(err.value).startswith(f"parameters.{field}: expected ")
    assert op.sku_rows()[0]["override_until"] is None


def test_override_of_an_unknown_sku_raises_unknown_sku() -> None:
    op = Operation(n_skus=10, seed=6)
    with pytest.raises(UnknownSku, match="parameters.sku"):
        op.override("pricing_agent", {"sku": "SKU000000", "price": 1.0, "hold_days": 1})


def test_unknown_agent_is_refused_by_every_lever() -> None:
    op = Operation(n_skus=10, seed=6)
    for lever in (op.pause, op.resume, op.reset):
        with pytest.raises(UnknownAgent):
            lever("pricing")
    with pytest.raises(UnknownAgent):
        op.override("nobody", {})


def test_reset_forgets_learning_and_restarts_counters() -> None:
    op = Operation(n_skus=20, seed=7)
    run(op, 20)
    before = op.agent_stats()[0]
    assert before.decisions_count > 0 and before.success_rate is not None
    assert op.agents["pricing_agent"].model.n_obs.sum() > 0
    op.pause("pricing_agent")
    op.reset("pricing_agent")
    stats = op.agent_stats()[0]
    assert stats.status is AgentStatus.ACTIVE and stats.decisions_count == 0
    assert stats.success_rate is None
    assert op.agents["pricing_agent"].model.n_obs.sum() == 0
    assert op.kpis()["decision_count"] >= before.decisions_count  # the system total never falls
    op.run_day(NOW)
    assert op.agents["pricing_agent"].model.n_obs.sum() == 0  # learns from the next day on
    op.run_day(NOW)
    assert op.agents["pricing_agent"].model.n_obs.sum() > 0


def test_failing_agent_is_isolated_and_its_lever_falls_back() -> None:
    op = Operation(n_skus=20, seed=8)
    run(op, 5)

    def boom(*args: object, **kwargs: object) -> list:
        raise RuntimeError("solver exploded")

    op.agents["pricing_agent"].decide = boom
    report = op.run_day(NOW)
    assert op.status["pricing_agent"] is AgentStatus.ERROR
    assert [e.kind for e in report.events if e.agent_id == "pricing_agent"] == ["agent_error"]
    assert np.allclose(op.live.ledger.last().price, op.public.list_price)
    assert any(d.agent_id == "inventory_agent" for d in report.decisions)
    assert any(
        c.key == "agent_error:pricing_agent" and c.severity == "error" for c in op.conditions()
    )
    report = op.run_day(NOW)  # stays out until resumed, store keeps trading
    assert not [e for e in report.events if e.kind == "agent_error"]
    del op.agents["pricing_agent"].decide
    op.resume("pricing_agent")
    op.run_day(NOW)
    assert op.status["pricing_agent"] is AgentStatus.ACTIVE
    assert not any(c.key.startswith("agent_error") for c in op.conditions())


def test_checkpoint_round_trip_continues_identically() -> None:
    op = Operation(n_skus=20, seed=9)
    run(op, 12)
    op.override("promotion_agent", {"sku": op.sku_rows()[1]["sku"], "discount": 0.3, "days": 4})
    copy = Operation.from_bytes(op.to_bytes())
    assert copy.day == op.day and copy.sku_rows() == op.sku_rows()
    for _ in range(6):
        a, b = op.run_day(NOW), copy.run_day(NOW)
        assert [(d.id, d.rationale, d.parameters) for d in a.decisions] == [
            (d.id, d.rationale, d.parameters) for d in b.decisions
        ]
        assert [(u.decision_id, u.hit) for u in a.outcomes] == [
            (u.decision_id, u.hit) for u in b.outcomes
        ]
    assert op.live.ledger.summary() == copy.live.ledger.summary()
    assert op.baseline.ledger.summary() == copy.baseline.ledger.summary()


def test_foreign_checkpoint_bytes_are_rejected() -> None:
    with pytest.raises(ValueError, match="checkpoint: expected bytes starting with"):
        Operation.from_bytes(b"\x80\x04not ours")
    good = Operation(n_skus=5, seed=0).to_bytes()
    with pytest.raises(ValueError, match="checkpoint: expected version"):
        Operation.from_bytes(good[:17] + bytes([99]) + good[18:])


def test_kpis_are_the_ten_contract_fields_computed_from_the_store() -> None:
    op = Operation(n_skus=20, seed=10)
    assert set(op.kpis()) == KPI_FIELDS
    reports = run(op, 30)
    k = op.kpis()
    assert set(k) == KPI_FIELDS
    led = op.live.ledger
    assert k["total_revenue"] == pytest.approx(led.totals["revenue"], abs=0.01)
    assert k["total_profit"] == pytest.approx(led.profit, abs=0.01)
    assert k["stockout_incidents"] == int(led.window("stocked_out", 7).sum())
    base = op.baseline.ledger.totals["units_expired"]
    assert k["waste_reduction_percentage"] == pytest.approx(
        100 * (1 - led.totals["units_expired"] / base), abs=0.01
    )
    assert k["decision_count"] == sum(len(r.decisions) for r in reports)
    for f in ("price_optimization_score", "promotion_effectiveness", "agent_collaboration_score"):
        assert 0.0 <= k[f] <= 1.0
    assert k["response_time_avg"] > 0.0
    stats = op.agent_stats()
    assert [s.agent_id for s in stats] == list(AGENT_IDS)
    assert all(s.success_rate is None or 0 <= s.success_rate <= 100 for s in stats)


def test_sku_rows_describe_the_shelf() -> None:
    op = Operation(n_skus=20, seed=11)
    run(op, 4)
    rows = op.sku_rows()
    assert len(rows) == 20
    for r, stock in zip(rows, op.live.stock_by_age.sum(axis=1)):
        assert r["stock"] == stock == sum(r["stock_by_age"].values())
        assert r["days_to_expiry"] == (min(r["stock_by_age"]) if stock else None)
        assert r["cost"] < r["price"] * 5


def test_records_are_json_ready() -> None:
    import json

    op = Operation(n_skus=20, seed=12)
    reports = run(op, 12)
    for r in reports:
        for d in r.decisions:
            json.dumps(
                {
                    "parameters": d.parameters,
                    "expected": d.expected_outcome,
                    "confidence": d.confidence_score,
                    "rationale": d.rationale,
                }
            )
        for u in r.outcomes:
            json.dumps({"outcome": u.outcome, "hit": u.hit})
        for e in r.events:
            json.dumps(e.data)
    json.dumps(op.kpis())
    json.dumps(op.sku_rows())


def test_paused_from_the_first_day_the_live_store_trades_like_its_baseline_twin() -> None:
    op = Operation(n_skus=15, seed=13)
    for a in AGENT_IDS:
        op.pause(a)
    reports = run(op, 40)
    assert not [d for r in reports for d in r.decisions]
    assert op.live.ledger.summary() == op.baseline.ledger.summary()
    assert op.baseline.ledger.totals["units_expired"] > 0  # so the next line can fail
    assert op.kpis()["waste_reduction_percentage"] == 0.0


def test_extreme_operator_orders_are_traded_through() -> None:
    op = Operation(n_skus=20, seed=14)
    run(op, 5)
    cats = op.public.category
    fresh = str(op.public.sku[list(cats).index("produce")])
    dry = str(op.public.sku[list(cats).index("ambient")])
    op.override("inventory_agent", {"sku": fresh, "quantity": 100000})
    op.override("inventory_agent", {"sku": dry, "quantity": 100000})
    reports, keys = [], set()
    for _ in range(8):
        reports.append(op.run_day(NOW))
        keys |= {c.key for c in op.conditions()}
    promos = {
        d.sku: d.action_type
        for r in reports
        for d in r.decisions
        if d.agent_id == "promotion_agent"
    }
    assert promos.get(fresh) == "markdown_application"
    assert promos.get(dry) == "promotion_creation"
    assert "waste_spike" in keys
    assert f"expiring:{fresh}" in keys or "expiring:many" in keys
