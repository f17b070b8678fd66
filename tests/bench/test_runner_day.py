"""The runner-day and Procfile-days benchmarks run end to end at a tiny size with sane figures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.harness import ROOT
from bench.runner_day import PHASES


def run(module: str, *args: str, timeout: float = 300) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        check=True,
        timeout=timeout,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)


def test_runner_day_times_the_whole_day_its_phases_and_the_reference() -> None:
    result = run(
        "bench.runner_day", "--sizes", "40", "--databases", "sqlite", "--days", "3", "--warmup", "1"
    )
    (r,) = result["runs"]
    assert r["skus"] == 40 and r["days_timed"] == 3
    assert set(r["phases"]) == set(PHASES)
    assert 0 < r["reference_run_day"]["p50_ms"] and 0 < r["whole_day"]["p50_ms"]
    assert r["whole_day"]["p50_ms"] >= r["phases"]["trade"]["p50_ms"]
    assert r["ratio_p95"] > 0 and r["state_bytes_per_sku"] > 0 and r["rss_mib_peak"] > 0
    assert len(r["loadavg_before"]) == 3


def test_runner_day_memory_mode_reports_rss_by_day() -> None:
    result = run(
        "bench.runner_day",
        "--memory",
        "--sizes",
        "40",
        "--databases",
        "sqlite",
        "--days",
        "4",
        "--warmup",
        "0",
    )
    (r,) = result["runs"]
    assert len(r["rss_mib_by_day"]) == 4 and "reference_run_day" not in r
    assert r["rss_kib_per_day_second_half"] is not None


def test_procfile_days_trades_then_a_kill_9_restart_continues_the_same_day_and_totals(
    tmp_path: Path,
) -> None:
    result = run("bench.procfile_days", "--skus", "30", "--days", "3", "--timeout", "120")
    r = result["result"]
    assert r["days_persisted"] >= 3
    assert r["restart_day_is_the_next"] and r["restart_totals_equal"]
    assert result["log_level"].startswith("INFO")
