"""One sim day of the store: traded under the store lock, its KPIs beside it, the rest converted
to wire dicts outside the lock (a DayResult, which persistence then writes)."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor
from datetime import datetime

from backend.agents.operation import Operation
from backend.runner import wire
from backend.runner.state import Checkpoint, DayResult

# Days between full garbage collections of what the days left frozen (see settle_garbage).
GC_FULL_EVERY_DAYS = 50


def trade(
    op: Operation,
    lock: threading.Lock,
    now: datetime,
    kpi_executor: Executor,
    capture: Callable[[datetime], Checkpoint],
    with_skus: bool,
) -> DayResult:
    """Trade a day; under the lock only what reads or changes the store (no I/O). The KPIs are
    computed beside the rest of the day (day_kpis) and joined before the snapshot. `capture`
    copies the store's state (caller's lock held); `with_skus`: the SKU rows too, for followers."""
    clock = time.perf_counter
    t0 = clock()
    with lock:
        report = op.run_day(now)
        t1 = clock()
        day = int(op.day)
        kpis = kpi_executor.submit(day_kpis, op, day)
        conditions = list(op.conditions())
        t2 = clock()
        stats = op.agent_stats()
        checkpoint = capture(now)
        skus = [wire.sku_row(r) for r in op.sku_rows()] if with_skus else None
    t3 = clock()
    result = DayResult(
        day=day,
        traded_day=int(report.day),
        timestamp=now,
        decisions=wire.decisions(report.decisions),
        outcomes=wire.outcomes(report.outcomes),
        events=list(report.events),
        metrics=kpis,
        agents=[wire.agent_status(a) for a in stats],
        conditions=conditions,
        checkpoint=checkpoint,
        intervention_seq=checkpoint.intervention_seq,
        skus=skus,
    )
    t4 = clock()
    result.phases = {
        "trade": t1 - t0,
        "conditions": t2 - t1,
        "capture": t3 - t2,
        "convert": t4 - t3,
    }
    result.seconds = t4 - t0
    return result


def day_kpis(op: Operation, day: int) -> tuple[dict[str, int | float | None], float]:
    """The day's system metrics and the seconds they took. Reads only what the day wrote
    (ledgers, books), which nothing changes until the day is persisted and the next one
    traded; the ring rows captured meanwhile may lack the day's price score, which a
    restore recomputes, identically, from the same row."""
    t0 = time.perf_counter()
    return wire.metrics(op.kpis(), day), time.perf_counter() - t0


def settle_garbage(day: int) -> None:
    """What a day leaves alive joins the collector's permanent generation.

    A big store keeps a few hundred thousand long-lived objects (pending predictions, recent
    decisions); a full collection walks them all and, triggered by a day's own allocations,
    landed inside the day. Frozen, they are skipped; objects still die by reference count, and
    every GC_FULL_EVERY_DAYS days, between days, one full pass frees any cycles among them.
    """
    if day % GC_FULL_EVERY_DAYS == 0:
        gc.unfreeze()
        gc.collect()
    gc.freeze()
