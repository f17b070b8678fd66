"""A backend started as the Procfile starts it trades N consecutive days on its clock, then a
kill -9 and a restart continue the same day and totals.

    python -m bench.procfile_days [--skus 10000] [--days 60] [--json bench/results/procfile-days-10000.json]

The app runs with the Procfile's `api:` uvicorn options and its default log level (none is set
here), on a private SQLite file, AUTOOPS_SKUS=--skus and the default AUTOOPS_DAY_SECONDS. Every
traded day leaves a metric snapshot stamped with the wall time the day was traded; the gaps
between consecutive stamps are the clock as the store kept it: a day that took longer than its
interval shows as a gap of two or more intervals (the runner then skips the missed deadlines).
Once --days consecutive days were traded one interval apart (or at --timeout), the process
group gets SIGKILL; a restart on the same file must come back at
the day after the last persisted one, with that day's totals.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from backend.config import Settings
from bench.harness import (
    APP_FACTORY,
    ServerProcess,
    free_port,
    machine_facts,
    rounded,
    rss_kib,
    uvicorn_argv,
    uvicorn_options,
    versions,
    write_json,
)

API = "/api/dashboard"


def _stamps(db: Path) -> list[tuple[int, float]]:
    """(day, wall time) of every persisted day, from the database's own records."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as conn:
        rows = conn.execute("SELECT day, timestamp FROM metric_snapshots ORDER BY day").fetchall()
    from datetime import UTC, datetime

    return [(d, datetime.fromisoformat(t).replace(tzinfo=UTC).timestamp()) for d, t in rows]


def _longest_on_time(stamps: list[tuple[int, float]], interval: float) -> int:
    """The most consecutive days traded each one interval after the one before (no deadline
    skipped between them)."""
    best = run = 1 if stamps else 0
    for a, b in zip(stamps, stamps[1:]):
        run = run + 1 if round((b[1] - a[1]) / interval) == 1 else 1
        best = max(best, run)
    return best


def _server(workdir: Path, skus: int) -> ServerProcess:
    env = {
        "DATABASE_URL": f"sqlite:///{workdir / 'autoops.db'}",
        "AUTOOPS_LOG_DIR": str(workdir / "logs"),
        "AUTOOPS_SKUS": str(skus),
    }
    port = free_port()
    return ServerProcess(uvicorn_argv(APP_FACTORY, port), port, env, "app")


def run(skus: int, days: int, timeout: float) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="procfile-days-"))
    db = workdir / "autoops.db"
    interval = Settings().day_seconds
    server = _server(workdir, skus)
    server.start(ready_timeout=300)
    rss: list[int] = []
    try:
        deadline = time.monotonic() + timeout
        stamps: list[tuple[int, float]] = []
        while time.monotonic() < deadline:
            time.sleep(interval)
            rss.append(rss_kib(server.pid))
            stamps = _stamps(db) if db.exists() else []
            if _longest_on_time(stamps, interval) >= days:
                break
        os.killpg(server.pid, signal.SIGKILL)
        server.proc.wait(timeout=30)  # type: ignore[union-attr]
        log_tail = server.log_tail(4000)
    finally:
        server.stop()
    stamps = _stamps(db)
    gaps = [b[1] - a[1] for a, b in zip(stamps, stamps[1:])]
    skipped = sum(max(0, round(g / interval) - 1) for g in gaps)
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        row = conn.execute("SELECT metrics FROM metric_snapshots ORDER BY day DESC LIMIT 1")
        persisted = {"system_metrics": json.loads(row.fetchone()[0])}

    again = _server(workdir, skus)
    again.env["AUTOOPS_DAY_SECONDS"] = "3600"  # nothing moves while the state is compared
    t0 = time.monotonic()
    again.start(ready_timeout=600)
    try:
        while True:
            r = httpx.get(f"http://127.0.0.1:{again.port}/readyz", timeout=30)
            if r.status_code == 200:
                break
            time.sleep(0.5)
        restart_seconds = time.monotonic() - t0
        current = httpx.get(f"http://127.0.0.1:{again.port}{API}/metrics/current", timeout=30)
        after = current.json()
    finally:
        again.stop()
    in_db = _stamps(db)[-1][0]
    return {
        "skus": skus,
        "day_seconds": interval,
        "days_persisted": len(stamps),
        "first_day_at": stamps[0][1] if stamps else None,
        "gaps_seconds": {
            "min": rounded(min(gaps), 3) if gaps else None,
            "max": rounded(max(gaps), 3) if gaps else None,
            "all": [rounded(g, 3) for g in gaps],
        },
        "deadlines_skipped": skipped,
        "longest_run_of_days_on_time": _longest_on_time(stamps, interval),
        "consecutive_days_without_a_skip": _longest_on_time(stamps, interval) >= days,
        "rss_mib": {"first": rounded(rss[0] / 1024, 1), "last": rounded(rss[-1] / 1024, 1)},
        "killed_after_day": in_db,
        "restart_seconds_to_ready": rounded(restart_seconds, 1),
        "restart_day": after["day"],
        "restart_day_is_the_next": after["day"] == in_db + 1,
        "restart_totals_equal": after["system_metrics"] == persisted["system_metrics"],
        "totals_before_kill": persisted["system_metrics"],
        "totals_after_restart": after["system_metrics"],
        # what the server said about its clock (the log's own words; no paths)
        "server_warnings": sorted(
            set(re.findall(r'"message": "(a sim day took longer[^"]*)"', log_tail))
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    before = list(os.getloadavg())
    result = run(args.skus, args.days, args.timeout)
    result["loadavg_before"], result["loadavg_after"] = before, list(os.getloadavg())
    write_json(
        args.json,
        {
            "benchmark": "procfile_days",
            "command": "python -m bench.procfile_days " + " ".join(argv or sys.argv[1:]),
            "app_factory": APP_FACTORY,
            "uvicorn_options": uvicorn_options(),
            "log_level": os.environ.get("LOG_LEVEL", "INFO (the default; the Procfile sets none)"),
            "shared_machine": "2 cores shared with other jobs; see loadavg_before/after",
            "machine": machine_facts(),
            "versions": versions(),
            "result": result,
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
