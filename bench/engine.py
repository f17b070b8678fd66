"""Engine benchmark: wall milliseconds per simulated day and peak memory, by store size.

    python -m bench.engine [--sizes 50,1000,10000] [--days 20] [--json bench/results/engine.json]

"core" is one store step plus the three agents (snapshot, coordination, apply, step); "operation"
is Operation.run_day, which adds the shadow baseline store, decision records and outcome checks.
The reference, timed in the same run at the same size, is the static store alone (its standing
rule applied, then the step): `ratio` = each timing / the reference's, i.e. what running the
agents costs over simulating the store, a figure that holds on a noisy or different machine.
Each is timed after a warm-up, one size at a time; peak memory is tracemalloc's peak of the
traced allocations (numpy arrays included) over a short separate pass, so tracing does not slow
the timed one.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import tracemalloc
from datetime import UTC, datetime

import numpy as np

from backend.agents.operation import Operation
from backend.agents.policy import coordinate, make_agents
from backend.sim.catalog import make_catalog
from backend.sim.store import Actions, Store

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _core(n: int, seed: int = 0):
    store = Store(make_catalog(n, seed), seed)
    agents = make_agents(store.catalog.public(), seed)

    def day() -> None:
        snap = store.snapshot(history_days=1)
        dp = coordinate(snap, store.standing_actions(), agents, set(agents))
        store.apply(Actions(price=dp.price, markdown=dp.markdown, order_qty=dp.order_qty))
        store.step()

    return day


def _static_store(n: int, seed: int = 0):
    store = Store(make_catalog(n, seed), seed)

    def day() -> None:
        store.apply(store.standing_actions())
        store.step()

    return day


def _operation(n: int, seed: int = 0):
    op = Operation(n_skus=n, seed=seed)
    return lambda: op.run_day(NOW)


def time_days(make, n: int, days: int, warmup: int) -> dict:
    """Wall and CPU milliseconds per day after `warmup` days (CPU time is what one core spends,
    robust to other load on a shared machine; wall time is what a caller waits)."""
    step = make(n)
    for _ in range(warmup):
        step()
    ms, cpu = [], []
    for _ in range(days):
        t0, c0 = time.perf_counter(), time.process_time()
        step()
        ms.append(1000.0 * (time.perf_counter() - t0))
        cpu.append(1000.0 * (time.process_time() - c0))
    return {
        "ms_median": float(np.median(ms)),
        "ms_mean": float(np.mean(ms)),
        "ms_max": float(np.max(ms)),
        "cpu_ms_median": float(np.median(cpu)),
        "cpu_ms_mean": float(np.mean(cpu)),
    }


def peak_memory_mb(make, n: int, days: int = 3) -> float:
    tracemalloc.start()
    try:
        step = make(n)
        for _ in range(days):
            step()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def run(sizes: list[int], days: int, warmup: int) -> dict:
    out = {
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "machine": platform.machine(),
        "load_average": list(os.getloadavg()),
        "days": days,
        "warmup": warmup,
        "sizes": {},
    }
    for n in sizes:
        row = {
            "reference": time_days(_static_store, n, days, warmup),
            "core": time_days(_core, n, days, warmup),
            "operation": time_days(_operation, n, days, warmup),
            "peak_memory_mb_core": peak_memory_mb(_core, n),
            "peak_memory_mb_operation": peak_memory_mb(_operation, n),
        }
        r, c, o = row["reference"], row["core"], row["operation"]
        base = max(r["cpu_ms_median"], 1e-6)  # a clock tick's worth at the very least
        row["ratio"] = {"core": c["cpu_ms_median"] / base, "operation": o["cpu_ms_median"] / base}
        out["sizes"][str(n)] = row
        print(
            f"{n:>6} SKUs  static store {r['ms_median']:6.1f} ms/day"
            f"  core {c['ms_median']:7.1f} wall, {c['cpu_ms_median']:7.1f} cpu"
            f" ({row['ratio']['core']:.1f}x)"
            f"  operation {o['ms_median']:7.1f} wall, {o['cpu_ms_median']:7.1f} cpu"
            f" ({row['ratio']['operation']:.1f}x)"
            f"  peak memory {row['peak_memory_mb_core']:.0f} / {row['peak_memory_mb_operation']:.0f} MB",
            flush=True,
        )
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="50,1000,10000")
    ap.add_argument("--days", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--json", default="bench/results/engine.json")
    a = ap.parse_args(argv)
    try:
        sizes = [int(s) for s in a.sizes.split(",") if s]
    except ValueError:
        ap.error(f"--sizes: expected comma-separated integers, got {a.sizes!r}")
    if not sizes or min(sizes) < 1 or a.days < 1 or a.warmup < 0:
        ap.error("--sizes, --days: expected integers >= 1 (--warmup >= 0)")
    result = run(sizes, a.days, a.warmup)
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(result, fh, indent=2)
        print(f"wrote {a.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
