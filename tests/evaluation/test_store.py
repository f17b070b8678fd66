"""The offline evaluation end to end at a tiny size: every JSON field, the table, the CLI."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from backend.agents.demand import LEVEL_DRIFT
from backend.evaluation import store as evaluate

FIELDS = (
    "profit_pct_of_oracle",
    "profit_pct_of_oracle_last_26w",
    "profit_uplift_vs_baseline_pct",
    "profit_uplift_ci95",
    "waste_pct_of_baseline",
    "fill_rate",
    "baseline_fill_rate",
    "stockout_days",
    "baseline_stockout_days",
    "synergy",
    "seconds",
    "naive_fill_rate",
    "profit_uplift_vs_naive_pct",
    "baseline_pct_of_oracle",
)


def test_tiny_evaluation_writes_every_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.json"
    assert (
        evaluate.main(
            [
                "--skus",
                "6",
                "--days",
                "21",
                "--seeds",
                "2",
                "--seed-base",
                "7",
                "--processes",
                "1",
                "--json",
                str(out),
            ]
        )
        == 0
    )
    s = json.loads(out.read_text())
    for f in FIELDS:
        assert f in s
    for f in FIELDS:
        if f != "profit_uplift_ci95":
            assert isinstance(s[f], (int, float)) and math.isfinite(s[f])
    lo, hi = s["profit_uplift_ci95"]
    assert lo <= s["profit_uplift_vs_baseline_pct"] <= hi
    assert 0 < s["fill_rate"] <= 100 and 0 < s["baseline_fill_rate"] <= 100
    assert s["stockout_days"] >= 0 and s["seconds"] > 0
    seeds = s["per_seed"]
    assert [r["seed"] for r in seeds] == [7, 8]
    for r in seeds:
        profits = r["coalition_profit"]
        assert len(profits) == 10  # 8 coalitions (incl. baseline) + naive + oracle
        assert r["synergy"] == pytest.approx(
            profits["pricing_agent+inventory_agent+promotion_agent"]
            - profits["baseline"]
            - sum(
                profits[a] - profits["baseline"]
                for a in ("pricing_agent", "inventory_agent", "promotion_agent")
            )
        )
    assert s["profit_pct_of_oracle"] == pytest.approx(
        sum(100 * r["profit"] / r["oracle_profit"] for r in seeds) / 2
    )
    cats = s["per_category"]
    assert set(cats) <= {"bakery", "dairy", "produce", "meat", "ambient"} and cats
    for pol in cats.values():
        for p in ("agents", "baseline", "naive", "oracle"):
            assert set(pol[p]) == {"profit", "waste_units", "fill_rate", "stockout_days"}
    # per-category profits add up to the store's (means over the same seeds)
    for p, key in (("agents", "profit"), ("baseline", "baseline_profit")):
        assert sum(pol[p]["profit"] for pol in cats.values()) == pytest.approx(s[key])
    printed = capsys.readouterr().out
    assert "profit, % of oracle (year)" in printed and "[" in printed


def test_common_random_numbers_make_runs_repeatable() -> None:
    a = evaluate.run_policy(5, 3, 10, ("pricing_agent", "inventory_agent", "promotion_agent"))
    b = evaluate.run_policy(5, 3, 10, ("pricing_agent", "inventory_agent", "promotion_agent"))
    assert a == b
    base = evaluate.run_policy(5, 3, 10, ())
    assert base["demanded"] > 0 and base != a
    naive = evaluate.run_policy(5, 3, 10, "naive")
    assert naive != base


def test_module_runs_as_a_program(tmp_path: Path) -> None:
    out = tmp_path / "s.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "backend.evaluation",
            "--skus",
            "5",
            "--days",
            "7",
            "--seeds",
            "1",
            "--processes",
            "1",
            "--no-coalitions",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    s = json.loads(out.read_text())
    assert s["synergy"] is None and s["per_category"]


def test_bad_arguments_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        evaluate.main(["--seeds", "0"])
    assert "--seeds: expected an integer >= 1, got 0" in capsys.readouterr().err


def test_world_evaluation_writes_the_world_keys(tmp_path: Path) -> None:
    out = tmp_path / "w.json"
    args = ["--skus", "5", "--days", "10", "--seeds", "2", "--processes", "1"]
    assert evaluate.main([*args, "--world", "seasonal", "--json", str(out)]) == 0
    s = json.loads(out.read_text())
    assert set(s["worlds"]) == {"seasonal"}
    assert set(evaluate.WORLD_KEYS) <= set(s["worlds"]["seasonal"])


def test_an_unknown_world_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        evaluate.main(["--world", "moon"])
    assert "--world: expected one of level_low" in capsys.readouterr().err


def test_level_drift_reaches_the_agents_and_the_record(tmp_path: Path) -> None:
    out = tmp_path / "d.json"
    args = ["--skus", "5", "--days", "20", "--seeds", "1", "--processes", "1", "--no-coalitions"]
    assert evaluate.main([*args, "--json", str(out)]) == 0
    assert json.loads(out.read_text())["config"]["level_drift"] == LEVEL_DRIFT
    assert evaluate.main([*args, "--level-drift", "0", "--json", str(out)]) == 0
    still = json.loads(out.read_text())
    assert evaluate.main([*args, "--level-drift", "0.2", "--json", str(out)]) == 0
    drifting = json.loads(out.read_text())
    assert still["config"]["level_drift"] == 0.0 and drifting["config"]["level_drift"] == 0.2
    # the same store and draws: only the agents' learning differs
    assert drifting["baseline_profit"] == still["baseline_profit"]
    assert drifting["profit"] != still["profit"]
    with pytest.raises(SystemExit):
        evaluate.main([*args, "--level-drift", "-1"])
