"""The published perishable benchmark at a small size: JSON keys, the optimum as a lower bound."""

from __future__ import annotations

import json

import numpy as np
import pytest

from backend.evaluation import perishable as bench
from backend.sim import perishable as P

KEYS = (
    "name",
    "m",
    "lead_time",
    "issuing",
    "optimal_cost",
    "base_stock_cost",
    "agent_cost",
    "agent_gap_pct",
)


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("perishable") / "out.json"
    argv = ["--instances", "m2_exp2", "--reps", "3", "--days", "430", "--json", str(out)]
    assert bench.main(argv) == 0
    return json.loads(out.read_text())


def test_cli_writes_every_key_per_instance(result: dict) -> None:
    (row,) = result["instances"]
    for k in KEYS:
        assert k in row
    assert (row["name"], row["m"], row["lead_time"], row["issuing"]) == ("m2_exp2", 2, 1, "fifo")
    assert result["config"]["reps"] == 3 and "mean_agent_gap_pct" in result


def test_the_optimum_bounds_the_agent_and_the_base_stock_policy(result: dict) -> None:
    (row,) = result["instances"]
    assert row["optimal_cost"] == pytest.approx(P.solve(P.INSTANCES["m2_exp2"]).average_cost)
    assert np.isfinite(row["agent_cost"]) and np.isfinite(row["agent_store_weights_cost"])
    # three paths of 65 days: the mean daily cost's noise is about 0.3; the optimum is a
    # lower bound on every policy's long-run cost
    assert row["agent_cost"] >= row["optimal_cost"] - 0.5
    assert row["base_stock_cost"] >= row["optimal_cost"] - 0.5
    # the same paths: the optimal policy simulated on them beats the best base-stock level
    assert row["base_stock_cost"] >= row["optimal_sim_cost"] - 0.05
    gap = 100.0 * (row["agent_cost"] / row["optimal_cost"] - 1.0)
    assert row["agent_gap_pct"] == pytest.approx(gap)


def test_the_store_view_shows_the_state_as_the_store_does() -> None:
    # m = 3, L = 2: one order in transit (placed yesterday), stock freshest first
    inst = P.Instance("x", 3, 2, "fifo")
    by_age, pipeline = bench.store_view(inst, np.array([[4, 5, 6, 7]]))
    # the 5 arriving at today's opening sit in pipeline[:, 0]; yesterday's 4 arrive tomorrow;
    # 6 units have 2 days left, 7 units 1 day (they expire tonight)
    assert pipeline.tolist() == [[5, 4, 0]]
    assert by_age.tolist() == [[7, 6, 0]]


def test_mapped_costs_are_the_benchmark_costs_up_to_the_demand_term() -> None:
    inst = P.INSTANCES["m3_exp1"]
    cat = bench.instance_catalog(inst)
    margin = cat.list_price[0] - cat.unit_cost[0]
    assert margin == inst.shortage_cost - inst.order_cost
    assert cat.unit_cost[0] + cat.disposal_fee[0] == inst.order_cost + inst.wastage_cost
    assert cat.holding_rate * cat.unit_cost[0] == pytest.approx(inst.holding_cost)
    # over a run that ends with the stock it started with (none), benchmark cost =
    # shortage cost x demand - store profit
    demand = np.array([[3, 6, 2, 5, 0, 4, 7, 1]])
    orders = iter([4, 6, 3, 5, 2, 4, 0, 0])
    run = P.simulate(inst, lambda s: np.array([next(orders)]), demand)
    sold, expired = run["sold"].sum(), run["expired"].sum()
    profit = margin * sold - (cat.unit_cost[0] + cat.disposal_fee[0]) * expired
    profit -= cat.holding_rate * cat.unit_cost[0] * run["held"].sum()
    held = run["ordered"].sum() - sold - expired  # still on hand or on order at the end
    total = run["cost"].sum() - inst.order_cost * held  # the stock still on hand is not used up
    assert total == pytest.approx(inst.shortage_cost * demand.sum() - profit)


def test_bad_arguments_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        bench.main(["--instances", "m9_exp1"])
    assert "--instances: expected names of" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        bench.main(["--days", "300"])
    assert "--days: expected an integer > 365" in capsys.readouterr().err
