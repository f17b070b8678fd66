"""The runner's whole day as the backend runs it, against Operation.run_day alone in the same run.

    python -m bench.runner_day [--sizes 1000,10000,40000] [--databases sqlite,postgresql]
        [--days 30] [--warmup 3] [--json bench/results/runner-day.json]
    python -m bench.runner_day --memory --sizes 10000 --days 200 [--json ...]

Timing: each (size, database) runs in a fresh child process holding a real Runner (SQLite file
or a private PostgreSQL schema, the in-process bus) and, beside it, a second Operation of the
same size and seed: every day the runner's tick (trade, KPIs, alert conditions, state capture,
decision conversion, the day's transaction with the checkpoint, publish) is timed, then the
reference's run_day on the same day number, so that both meet the same machine load. Reported:
p50/p95 of the whole day and of each phase, the reference's p50/p95 and the ratios, and the
bytes the day wrote for the state (checkpoint row + that day's ledger rows, compressed) per SKU.
On SQLite the runner copies the WAL into the database file after each day is published, on
the KPI thread (backend.db.engine.wal_checkpoint), in what a clocked store has of idle time:
that copy is waited for before the reference's day and reported apart (after_day_wal_copy).

Memory (--memory): the runner alone (no reference) for --days days; VmRSS after every day,
the peak, and the slope of a least-squares line through the second half (KiB per day).
Every record carries the load average before and after, so a run on a busy machine shows it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from bench.harness import machine_facts, percentile, rounded, rss_kib, versions, write_json

PG_URL = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PHASES = ("trade", "kpis", "kpis_wait", "conditions", "capture", "convert", "persist", "publish")


def _stats(values: list[float]) -> dict[str, float | None]:
    s = sorted(values)
    return {
        "p50_ms": rounded(1000 * percentile(s, 50), 1),
        "p95_ms": rounded(1000 * percentile(s, 95), 1),
    }


def _state_bytes(engine: Any) -> int:
    """Compressed bytes of the newest checkpoint row and of the newest ledger-rows batch."""
    from sqlalchemy import func, select

    from backend.db.tables import checkpoints, ledger_rows

    with engine.connect() as conn:
        total = 0
        for table in (checkpoints, ledger_rows):
            q = select(func.length(table.c.data)).order_by(table.c.seq.desc()).limit(1)
            total += int(conn.execute(q).scalar() or 0)
    return total


async def _child(skus: int, database: str, days: int, warmup: int, reference: bool) -> dict:
    from backend.agents.operation import Operation
    from backend.bus import MemoryBus
    from backend.config import Settings
    from backend.db.engine import make_engine
    from backend.runner import Runner
    from backend.runner.telemetry import Telemetry

    tmp = Path(tempfile.mkdtemp(prefix="runner-day-"))
    schema = f"bench_runner_{os.getpid()}" if database == "postgresql" else None
    url = PG_URL if schema else f"sqlite:///{tmp / 'bench.sqlite3'}"
    settings = Settings(database_url=url, database_schema=schema, skus=skus, log_dir=tmp / "logs")
    engine = make_engine(url, schema)
    runner = Runner(settings, engine, MemoryBus(), Telemetry())
    await runner.start(run_loop=False)
    ref = Operation(n_skus=skus, seed=settings.seed) if reference else None
    whole, ref_times, state_bytes, rss = [], [], [], []
    phases: dict[str, list[float]] = {p: [] for p in PHASES}
    wal_copies: list[float] = []
    decisions = []
    now = datetime.now(UTC)
    try:
        for day in range(days + warmup):
            t0 = time.perf_counter()
            await runner.tick()
            elapsed = time.perf_counter() - t0
            last = runner.last_day
            assert last is not None and last.traded_day == day, "a day failed to persist"
            # SQLite: the WAL's copy into the database file runs after the day is published, in
            # the clock's idle time; waited for here, so that the reference meets an idle core
            copy = runner.wal_copy.result() if runner.wal_copy is not None else None
            if ref is not None:
                t1 = time.perf_counter()
                ref.run_day(now)
                ref_elapsed = time.perf_counter() - t1
            rss.append(rss_kib(os.getpid()))
            if day < warmup:
                continue
            whole.append(elapsed)
            for p in PHASES:
                phases[p].append(last.phases.get(p, 0.0))
            if copy is not None:
                wal_copies.append(copy)
            decisions.append(len(last.decisions))
            state_bytes.append(_state_bytes(engine))
            if ref is not None:
                ref_times.append(ref_elapsed)
        await runner.stop()
    finally:
        if schema:
            from sqlalchemy import text

            with make_engine(url).begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    out: dict[str, Any] = {
        "skus": skus,
        "database": database,
        "days_timed": len(whole),
        "warmup_days": warmup,
        "whole_day": _stats(whole),
        "phases": {p: _stats(v) for p, v in phases.items()},
        # SQLite only: after the day is published, on the KPI thread (not in whole_day)
        "after_day_wal_copy": _stats(wal_copies) if wal_copies else None,
        "decisions_per_day_p50": int(np.median(decisions)),
        "state_bytes_per_day_p50": int(np.median(state_bytes)),
        "state_bytes_per_sku": rounded(float(np.median(state_bytes)) / skus, 1),
        "rss_mib_peak": rounded(max(rss) / 1024, 1),
    }
    if ref is not None:
        out["reference_run_day"] = _stats(ref_times)
        out["ratio_p50"] = rounded(
            out["whole_day"]["p50_ms"] / out["reference_run_day"]["p50_ms"], 2
        )
        out["ratio_p95"] = rounded(
            out["whole_day"]["p95_ms"] / out["reference_run_day"]["p95_ms"], 2
        )
        out["rss_note"] = "process RSS with the reference's store beside the runner's"
    else:
        half = np.asarray(rss[len(rss) // 2 :], dtype=float)
        slope = np.polyfit(np.arange(half.size), half, 1)[0] if half.size > 1 else 0.0
        out["rss_mib_by_day"] = [rounded(r / 1024, 1) for r in rss]
        out["rss_kib_per_day_second_half"] = rounded(float(slope), 1)
    return out


def _run_child(skus: int, database: str, days: int, warmup: int, reference: bool) -> dict:
    argv = [sys.executable, "-m", "bench.runner_day", "--child", str(skus), database]
    argv += ["--days", str(days), "--warmup", str(warmup)]
    argv += [] if reference else ["--memory"]
    before = list(os.getloadavg())
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"child {skus} {database} failed:\n{proc.stderr[-4000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["loadavg_before"], result["loadavg_after"] = before, list(os.getloadavg())
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,40000")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--memory", action="store_true", help="the runner alone, RSS by day")
    parser.add_argument("--json", default=None)
    parser.add_argument("--child", nargs=2, metavar=("SKUS", "DATABASE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        skus, database = int(args.child[0]), args.child[1]
        result = asyncio.run(_child(skus, database, args.days, args.warmup, not args.memory))
        print(json.dumps(result))
        return 0
    runs = []
    for skus in (int(s) for s in args.sizes.split(",")):
        for database in args.databases.split(","):
            print(f"runner day: {skus} SKUs on {database} ...", file=sys.stderr, flush=True)
            runs.append(_run_child(skus, database, args.days, args.warmup, not args.memory))
            print(json.dumps(runs[-1])[:400], file=sys.stderr, flush=True)
    write_json(
        args.json,
        {
            "benchmark": "runner_day",
            "mode": "memory" if args.memory else "timing",
            "command": "python -m bench.runner_day " + " ".join(argv or sys.argv[1:]),
            "shared_machine": "2 cores shared with other jobs; see loadavg_before/after per run",
            "machine": machine_facts(),
            "versions": versions(),
            "runs": runs,
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
