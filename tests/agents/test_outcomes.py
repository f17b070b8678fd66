"""Decision outcomes judged against 80% predictive intervals, and their calibration."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import numpy as np
import pytest

from backend.agents.intervals import sales_interval
from backend.agents.operation import Operation
from backend.agents.outcomes import Outcomes
from backend.agents.plan import Draft

NOW = datetime(2024, 1, 15, tzinfo=UTC)


def within(i: int, first: int, last: int, lo: float, hi: float) -> Draft:
    return Draft(
        agent_id="inventory_agent",
        action_type="inventory_restock",
        index=i,
        parameters={},
        rationale="",
        confidence=0.5,
        expected={},
        check=("units_within", first, last, lo, hi),
    )


def day(t: int, sales: list[int]) -> SimpleNamespace:
    return SimpleNamespace(day=t, sales=np.array(sales), stocked_out=np.zeros(len(sales), bool))


def test_outcomes_sum_the_days_and_fall_inside_above_or_below() -> None:
    o = Outcomes()
    o.expect("a", "inventory_agent", 0, within(0, 5, 6, 4.0, 9.0))  # 3 + 3 = 6: inside
    o.expect("b", "inventory_agent", 0, within(1, 5, 5, 4.0, 9.0))  # 12: above, a hit
    o.expect("c", "inventory_agent", 0, within(2, 5, 5, 4.0, 9.0))  # 1: below, a miss
    first = o.resolve(day(5, [3, 12, 1]), {})
    assert [(u.decision_id, u.outcome["position"], u.hit) for u in first] == [
        ("b", "above", True),
        ("c", "below", False),
    ]
    second = o.resolve(day(6, [3, 0, 0]), {})
    assert [(u.decision_id, u.outcome["units_sold"], u.outcome["position"]) for u in second] == [
        ("a", 6, "inside")
    ]
    assert second[0].outcome["interval_80"] == [4.0, 9.0]
    assert o.success_rate("inventory_agent") == pytest.approx(200 / 3)
    assert o.coverage("inventory_agent") == pytest.approx(100 / 3)
    assert o.coverage("pricing_agent") is None
    o.reset("inventory_agent")
    assert o.coverage("inventory_agent") is None and o.success_rate("inventory_agent") is None


def test_an_interval_of_gamma_demand_holds_eighty_percent_and_respects_the_shelf() -> None:
    rng = np.random.default_rng(0)
    mean, var = np.full(20000, 6.0), np.full(20000, 15.0)
    lo, hi = sales_interval(mean, var)
    d = rng.gamma(mean * mean / var, var / mean)
    assert 0.78 < np.mean((d >= lo) & (d <= hi)) < 0.82
    lo, hi = sales_interval(np.array([6.0]), np.array([15.0]), np.array([2.0]))
    assert lo[0] <= hi[0] == 2.0


def test_intervals_are_calibrated_on_seeded_store_runs() -> None:
    for seed in (11, 12):
        op = Operation(n_skus=20, seed=seed)
        for _ in range(120):
            op.run_day(NOW)
        for s in op.agent_stats():
            assert op.outcomes.judged[s.agent_id] >= 30, s.agent_id
            assert 65.0 <= s.interval_coverage <= 92.0, (seed, s.agent_id, s.interval_coverage)
            assert s.success_rate >= s.interval_coverage
