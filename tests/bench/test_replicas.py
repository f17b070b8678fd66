"""The replica benchmark runs end to end at a tiny size against one replica and two behind nginx
(PostgreSQL, a private redis-server) and writes its keys; no timing is asserted. It fails, never
skips, when PostgreSQL, redis-server or nginx is missing, as the cluster tests do."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.common import ROOT
from bench.replicas import parse_cpus


def test_parse_cpus_reads_taskset_lists() -> None:
    assert parse_cpus("0-3,6") == {0, 1, 2, 3, 6}
    assert parse_cpus("") == set()


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
        assert set(result[setup]) >= {"capacity", "p99_ms_by_step", "held_by_step"}
    assert [r["setup"] for r in step["runs"]] == ["one", "two"]
    assert set(step["ratio_two_one"]) >= {"p50_ms", "p99_ms", "cpu_us_per_msg"}
    assert set(result["ratio_two_one"]) >= {"capacity", "p99_by_step", "target", "met"}
