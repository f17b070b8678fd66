"""The replica benchmark runs end to end at a tiny size against one replica and two behind nginx
(PostgreSQL, a private redis-server) and writes its keys; no timing is asserted. It fails, never
skips, when PostgreSQL, redis-server or nginx is missing, as the cluster tests do."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.harness import ROOT
from bench.replicas import aggregate_step, parse_cpus, summarize_staircase


def test_parse_cpus_reads_taskset_lists() -> None:
    assert parse_cpus("0-3,6") == {0, 1, 2, 3, 6}
    assert parse_cpus("") == set()


def run(setup: str, k: int, p99: float) -> dict:
    return {"setup": setup, "round": k, "p50_ms": p99 / 2, "p99_ms": p99, "max_ms": p99}


def test_a_step_reads_the_better_round_and_keeps_the_stricter_reading_beside_it() -> None:
    steps = []
    for n, rounds in ((1000, ((140.0, 50.0), (50.0, 60.0))), (2000, ((90.0, 120.0), (95.0, 98.0)))):
        one, two = rounds
        runs = [run("one", 0, one[0]), run("two", 0, two[0]), run("two", 1, two[1])]
        runs.append(run("one", 1, one[1]))
        for r in runs:
            r.update(lost=0, held_ok=r["p99_ms"] <= 100)
        step = {"clients": n, "runs": runs}
        aggregate_step(step)
        steps.append(step)
    first = steps[0]
    assert first["one"]["p99_ms"] == 50.0 and first["one"]["round"] == 1
    assert first["one"]["held_ok"] and not first["one"]["held_every_round"]
    assert first["one"]["p99_ms_rounds"] == [140.0, 50.0]
    assert first["one"]["worst_round"]["p99_ms"] == 140.0
    assert first["ratio_two_one"]["p99_ms"] == 1.0  # 50 / 50
    out = {"config": {"setups": {"one": 1, "two": 2}}, "steps": steps}
    summarize_staircase(out, ["one", "two"])
    assert out["one"]["capacity"] == 2000 and out["one"]["capacity_every_round"] == 0
    assert out["two"]["capacity"] == 2000 and out["two"]["capacity_every_round"] == 2000
    assert out["ratio_two_one"]["capacity"] == 1.0 and out["ratio_two_one"]["met"]


def test_replicas_step_runs_one_and_two_replicas_behind_nginx(tmp_path: Path) -> None:
    out_path = tmp_path / "replicas.json"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.replicas",
            "--steps",
            "20",
            "--rounds",
            "1",
            "--seconds",
            "2",
            "--grace",
            "1",
            "--warmup",
            "1",
            "--metrics-interval",
            "0.5",
            "--live-interval",
            "1",
            "--agent-interval",
            "1",
            "--json",
            str(out_path),
        ],
        cwd=ROOT,
        check=True,
        timeout=180,
        capture_output=True,
    )
    result = json.loads(out_path.read_text())
    assert result["command"].startswith("python -m bench.replicas --steps 20")
    assert result["machine"]["loadavg_at_start"] and result["loadavg_at_end"]
    (step,) = result["steps"]
    for setup, replicas in (("one", ["api1"]), ("two", ["api1", "api2"])):
        figures = step[setup]
        assert figures["clients"] == 20 and figures["connections"] == 24
        assert figures["messages"] > 0
        assert figures["messages"] + figures["lost"] == figures["expected_messages"]
        assert sorted(figures["roles"]) == replicas
        assert sorted(figures["roles"].values()) == ["follower", "leader"][2 - len(replicas) :]
        assert {*replicas, "nginx", "redis", "swarm"} <= set(figures["cpu_pct_by_process"])
        assert figures["machine_cpu_busy_pct"] is not None
        assert figures["p99_ms_rounds"] == [figures["p99_ms"]]
        assert set(result[setup]) >= {"capacity", "capacity_every_round", "p99_ms_by_step"}
    assert [r["setup"] for r in step["runs"]] == ["one", "two"]
    assert set(step["ratio_two_one"]) >= {"p50_ms", "p99_ms", "cpu_us_per_msg"}
    assert set(result["ratio_two_one"]) >= {"capacity", "p99_by_step", "target", "met"}
