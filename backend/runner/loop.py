"""The Runner: trades one sim day every AUTOOPS_DAY_SECONDS, persists it, publishes its events.

It owns the Operation and composes the units around it: the clock (runner.clock: the day's
deadlines, the database's backoff), the day (runner.day), the writes (runner.persistence), the
interventions (runner.interventions) and the live-updates events (runner.events). Two locks: the
store lock around every call into the Operation, memory only, never across I/O (reads take it
too); and `changes`, from a change of the store to the commit of its record (a day's trade and
capture, an intervention), so that no day is captured between an intervention and its record.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine

from backend.agents.operation import AGENT_IDS, Operation
from backend.bus import Bus
from backend.config import Settings
from backend.db import lease, repo
from backend.db.engine import init_db, wal_checkpoint
from backend.db.lease import Deposed
from backend.errors import AutoOpsError
from backend.runner import day, persistence, wire
from backend.runner.clock import Backoff, Deadlines
from backend.runner.errors import CheckpointIncompatible, NotReady
from backend.runner.events import Events
from backend.runner.interventions import Interventions, apply
from backend.runner.recent import RecentDecisions
from backend.runner.state import Checkpoint, DayResult, View, events_channel, utcnow
from backend.runner.telemetry import Telemetry
from backend.schemas import ACTIONS

__all__ = ["ACTIONS", "Runner", "View", "events_channel", "utcnow"]

log = logging.getLogger(__name__)

T = TypeVar("T")


class _Moved(Exception):
    """Another runner persisted more of the run after this one read it: read it again."""


class Runner:
    """Owns the Operation; every call into it holds the store lock and runs in a worker thread."""

    def __init__(self, settings: Settings, engine: Engine, bus: Bus, telemetry: Telemetry) -> None:
        self.settings = settings
        self.engine = engine
        self.bus = bus
        self.telemetry = telemetry
        self.agent_ids: tuple[str, ...] = tuple(AGENT_IDS)
        self.events_channel = events_channel(settings)
        self._op: Operation | None = None
        self.store_lock = threading.Lock()  # around every call into the Operation; no I/O in it
        self.changes = threading.Lock()  # from a change of the store to its record's commit
        self.applied_seq = 0  # of the last intervention the store took
        self._rows_from = 0  # the first day whose store rows are not in the database yet
        self._view: View | None = None
        self._pending: DayResult | None = None
        self._backoff = Backoff(settings.day_seconds)  # while the database refuses the writes
        self._task: asyncio.Task[None] | None = None
        self._stopping: asyncio.Event | None = None
        self.recent = RecentDecisions()  # newest decisions as persisted, for decisions/recent
        self.started_at: float | None = None
        self.last_error: str | None = None  # the database's last refusal, while it lasts
        self.last_day_at: float | None = None
        self._late_days = 0
        self.last_day: DayResult | None = None  # the last day persisted, with its phase timings
        # The run epoch this runner trades under (runner_lease.epoch, raised by 1 when it starts).
        self.epoch = 0
        self.holder = settings.instance_id
        self.deposed: Deposed | None = None  # set when a write found a newer epoch: stopped
        # With replicas, every write also stores the View and SKU rows for followers to serve.
        self.publish_state = False
        self.on_change: Callable[[View], None] | None = None  # a new View was made
        # The lease as the restore read it, until this runner takes it (then None).
        self._restored_from: dict[str, Any] | None = None
        self.events = Events(bus, self.events_channel, lambda: self.epoch)
        self.interventions = Interventions(self)
        # The store's clock gets its own thread, so a burst of REST reads cannot delay a day.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="runner")
        # The day's KPIs (the price score's optimum under the true model is most of their cost)
        # are computed on a thread of their own while the runner's thread writes the day.
        self._kpi_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kpis")
        # After each day, what the SQLite WAL holds is copied into the database file on that
        # thread too (backend.db.engine.wal_checkpoint): its seconds, None elsewhere.
        self.wal_copy: Future[float | None] | None = None

    @property
    def op(self) -> Operation:
        """The store (once restored); call into it only under the store lock."""
        if self._op is None:
            raise NotReady("the store's state is not loaded yet")
        return self._op

    # ---- lifecycle ------------------------------------------------------------------------

    async def start(self, run_loop: bool = True) -> None:
        """Restore the last checkpoint, then trade on the clock (tests may tick by hand instead).

        With the loop, a database that is away at start does not stop the server: the loop
        keeps trying with backoff and only then trades (a new run must not fork the stored one).
        """
        self._stopping = asyncio.Event()
        self.started_at = time.monotonic()
        try:
            await self._open()
        except CheckpointIncompatible:
            raise
        except Exception as exc:
            if not run_loop:
                raise
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.error("database unavailable at start (%s); retrying with backoff", exc)
        if run_loop:
            self._task = asyncio.create_task(self._loop(), name="runner")

    async def _open(self) -> None:
        await asyncio.to_thread(init_db, self.engine)
        await asyncio.to_thread(self._restore)
        self.last_error = None

    @property
    def restored(self) -> bool:
        return self._view is not None

    async def _wait_for_database(self) -> bool:
        """Retry opening the database with backoff until it answers; False if stopped first."""
        assert self._stopping is not None
        backoff = Backoff(self.settings.day_seconds)
        while not self.restored:
            try:
                await asyncio.wait_for(self._stopping.wait(), timeout=backoff.failed())
                return False
            except TimeoutError:
                pass
            try:
                await self._open()
            except CheckpointIncompatible:
                raise
            except Exception as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.error(
                    "database still unavailable (%s); retrying in up to %.0f s",
                    exc,
                    backoff.following(),
                )
        self.started_at = time.monotonic()
        return True

    async def stop(self, checkpoint: bool = True) -> None:
        """Stop after the current day and checkpoint the last state (`checkpoint=False`, or a
        runner another one replaced: stop writing at once, the stored state stands)."""
        if self._stopping is None:
            return
        self._stopping.set()
        if self._task is not None:
            await asyncio.wait({self._task})
            if not self._task.cancelled() and self._task.exception() is not None:
                log.error("the runner loop had died: %r", self._task.exception())
        self._kpi_executor.shutdown(wait=True)
        if self._op is None or self.deposed is not None or not checkpoint:
            self._executor.shutdown(wait=False)
            return
        if self._pending is not None:
            await self._flush()
        try:
            await self.in_runner_thread(self._checkpoint_now)
        except Exception:
            log.exception("final checkpoint failed; the last day's checkpoint stands")
        finally:
            self._executor.shutdown(wait=False)

    @property
    def view(self) -> View:
        if self._view is None:
            raise NotReady(
                "the database has not answered since the server started, so the "
                f"store's last state is not loaded yet ({self.last_error}); retrying"
            )
        return self._view

    @property
    def persist_failing(self) -> bool:
        """True while a traded day (or the lease) waits for the database to take it."""
        waiting = self._pending is not None or self._restored_from is not None
        return waiting and self._backoff.failing

    def ticking(self) -> tuple[bool, float | None]:
        """Whether days are being traded on schedule, and seconds since the last one."""
        if self._task is None or self._task.done() or self.started_at is None or not self.restored:
            return False, None
        last = self.last_day_at or self.started_at
        age = time.monotonic() - last
        return age < 3 * self.settings.day_seconds + 5.0, (
            None if self.last_day_at is None else age
        )

    # ---- restore and checkpoint -----------------------------------------------------------

    def _restore(self) -> None:
        """Load the state of the day the lease says is persisted, then take the lease under a
        new epoch (a database that takes no writes still serves what it holds)."""
        with self.engine.connect() as conn:
            held = lease.read(conn)
            checkpoint = self._checkpoint_of(conn, held["day"])
            replay = repo.interventions_after(
                conn, checkpoint["last_intervention_seq"] if checkpoint else 0
            )
            open_count = repo.count_open_alerts(conn)
            op = self._load(conn, checkpoint)
            recent = repo.count_decisions(conn, day=op.day - 1) if checkpoint else 0
            newest = repo.recent_decisions(conn, self.recent.size)
        self._restored_from = held
        for record in replay:  # interventions acknowledged after the checkpoint was written
            try:
                apply(op, record["agent_id"], record["action"], record["parameters"])
            except AutoOpsError as exc:
                log.error("replaying intervention %s failed: %s", record["intervention_id"], exc)
        with self.changes, self.store_lock:
            self._op = op
            self.recent.fill(newest)
            self._view = self._fresh_view(utcnow(), open_count, recent, version=0)
        log.info(
            "runner restored at day %d (%s, %d interventions replayed)",
            op.day,
            "from checkpoint" if checkpoint else "new run",
            len(replay),
        )
        try:
            self._take_lease()
        except Exception as exc:  # retried before the next day (tick) or intervention
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.error("taking the runner lease failed (%s); retrying", exc)

    @staticmethod
    def _checkpoint_of(conn: Connection, day: int | None) -> dict[str, Any] | None:
        if day is None:
            return repo.latest_checkpoint(conn)
        checkpoint = repo.latest_checkpoint(conn, day)
        if checkpoint is None and day > 0:
            log.error("no checkpoint of the persisted day %d; restoring the newest one", day)
            return repo.latest_checkpoint(conn)
        return checkpoint

    def _take_lease(self) -> None:
        """Trade under a new epoch; the lease must still say what the restore read."""
        expected, now = self._restored_from, utcnow()
        assert expected is not None
        with self.engine.begin() as conn:
            held = lease.take(conn, self.holder, now)
            if (held["day"], held["apply_seq"]) != (expected["day"], expected["apply_seq"]):
                raise _Moved(f"the run moved on to day {held['day']} since it was read")
            if held["day"] is None:  # the first run under a lease: its day is the checkpoint's
                lease.set_day(conn, held["epoch"], int(self.op.day), now)
        self.epoch, self.applied_seq = int(held["epoch"]), int(held["apply_seq"])
        self.events.restart()
        self._restored_from = None
        self.last_error = None
        log.info("runner trades under epoch %d", self.epoch)

    def ensure_lease(self) -> None:
        """Take the lease if the restore could not (worker thread); reload if the run moved."""
        if self._restored_from is None:
            return
        try:
            self._take_lease()
        except _Moved:
            self._restore()
            if self._restored_from is not None:
                raise

    def _load(self, conn: Connection, checkpoint: dict[str, Any] | None) -> Operation:
        s = self.settings
        self._rows_from = 0
        if checkpoint is None:
            return Operation(
                n_skus=s.skus,
                seed=s.seed,
                window_days=s.window_days,
                stockout_window_days=s.stockout_window_days,
            )
        try:
            data = checkpoint["data"]
            apart = Operation.rows_kept_apart(data)
            rows = (
                [Operation.decode_rows(b) for b in repo.ledger_row_batches(conn, 0)]
                if apart
                else None
            )
            op = Operation.from_bytes(data, rows)
        except Exception as exc:
            raise CheckpointIncompatible(checkpoint["day"], exc) from exc
        # An older checkpoint carried its rows inside: they go to the database with the next write.
        self._rows_from = int(op.day) if apart else 0
        return op

    def _capture(self, now: datetime) -> Checkpoint:
        """Copies of the store's state and its unstored day rows. Caller holds the store lock."""
        return persistence.capture(self.op, now, self.applied_seq, self._rows_from)

    def _checkpoint_now(self) -> None:
        with self.changes, self.store_lock:
            checkpoint = self._capture(utcnow())
        persistence.write_checkpoint(self.engine, checkpoint, self.settings, self.epoch)
        self._rows_from = checkpoint.day
        log.info("checkpoint written at day %d", checkpoint.day)

    def _fresh_view(self, now: datetime, open_count: int, recent: int, version: int) -> View:
        # Caller holds the store lock.
        op = self.op
        traded = int(op.day)
        return View(
            day=traded,
            timestamp=now,
            metrics=wire.metrics(op.kpis(), traded),
            agents=[wire.agent_status(a) for a in op.agent_stats()],
            active_alerts_count=open_count,
            recent_decisions_count=recent,
            version=version,
        )

    # ---- the day loop ---------------------------------------------------------------------

    async def _loop(self) -> None:
        assert self._stopping is not None
        if not self.restored and not await self._wait_for_database():
            return
        deadlines = Deadlines(self.settings.day_seconds)
        while not self._stopping.is_set():
            delay = deadlines.next()
            if delay > 0:
                try:
                    await asyncio.wait_for(self._stopping.wait(), timeout=delay)
                    break
                except TimeoutError:
                    pass
            try:
                await self.tick()
            except Exception:  # tick handles its own failures; this is the last line of defence
                log.exception("runner tick failed; the loop goes on")
            behind = deadlines.skip_missed()
            if behind:
                # Said once loudly: a store slower than its clock stays slower.
                log.log(
                    logging.DEBUG if self._late_days else logging.WARNING,
                    "a sim day took longer than AUTOOPS_DAY_SECONDS=%g; skipping %d deadline(s)",
                    deadlines.interval,
                    behind,
                )
                self._late_days += behind

    async def in_runner_thread(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def tick(self) -> None:
        """Trade and persist one day now; the loop calls this on schedule."""
        if self._pending is not None:
            if self._backoff.waiting or not await self._flush():
                return  # the database is away: hold the store until its last day is persisted
        if self._restored_from is not None:
            if self._backoff.waiting or not await self._lease_taken():
                return  # no epoch yet: nothing may be written
        try:
            result = await self.in_runner_thread(self._trade, utcnow())
        except Exception as exc:
            self.telemetry.day_failures.inc()
            log.exception("trading day %s failed; the loop goes on", self.op.day)
            await self.events.system("runner_error", "error", f"trading a day failed: {exc!r}")
            return
        self._pending = result
        await self._flush()

    def _trade(self, now: datetime) -> DayResult:
        with self.changes:
            return day.trade(
                self.op,
                self.store_lock,
                now,
                self._kpi_executor,
                self._capture,
                self.publish_state,
            )

    async def _lease_taken(self) -> bool:
        try:
            await self.in_runner_thread(self.ensure_lease)
        except Exception as exc:
            self._failed("taking the runner lease", exc)
            return False
        self._backoff.succeeded()
        return True

    def _failed(self, what: str, exc: Exception) -> None:
        self.telemetry.persist_failures.inc()
        self.last_error = f"{type(exc).__name__}: {exc}"
        delay = self._backoff.failed()
        log.error("%s failed (%s); retrying in %.1f s", what, exc, delay)

    async def _flush(self) -> bool:
        result = self._pending
        assert result is not None
        # with replicas, the state the day leaves is stored for followers as the next version
        publish = self.view.version + 1 if result.skus is not None else None
        try:
            t0 = time.perf_counter()
            await self.in_runner_thread(
                persistence.write_day, self.engine, result, self.settings, self.epoch, publish
            )
            result.phases["persist"] = time.perf_counter() - t0
            result.join_metrics()  # joined by the write, unless this epoch had written the day
        except Deposed as exc:
            self.step_down(exc)
            return False
        except Exception as exc:
            self._failed(f"persisting day {result.traded_day}", exc)
            return False
        self._pending, self.last_error = None, None
        self._backoff.succeeded()
        self._rows_from = result.day
        self.recent.add_day(
            result.decisions, result.outcomes, result.day - self.settings.retention_days
        )
        self.last_day_at = time.monotonic()
        # An intervention applied after this day was traded already refreshed the agents.
        agents = result.agents if result.intervention_seq == self.applied_seq else self.view.agents
        self._view = View(
            day=result.day,
            timestamp=result.timestamp,
            metrics=result.metrics,
            agents=agents,
            active_alerts_count=result.open_alerts,
            recent_decisions_count=len(result.decisions),
            version=self.view.version + 1,
        )
        self._changed()
        self._count(result)
        t0 = time.perf_counter()
        await self.events.day(result)
        result.phases["publish"] = time.perf_counter() - t0
        self.last_day = result
        day.settle_garbage(result.day)
        if self._stopping is None or not self._stopping.is_set():
            # the WAL the day left is copied into the database file after it, on the KPI
            # thread: in the clock's idle time, not in the day (a stop leaves it to the next run)
            self.wal_copy = self._kpi_executor.submit(self._copy_wal)
        return True

    def _copy_wal(self) -> float | None:
        try:
            return wal_checkpoint(self.engine)
        except Exception as exc:  # what is left stays in the WAL, for the next day's copy
            log.warning("copying the WAL into the database file failed: %s", exc)
            return None

    def step_down(self, exc: Deposed) -> None:
        """Another runner holds the lease: stop trading now; nothing of this one is written."""
        if self.deposed is None:
            log.error("%s", exc)
        self.deposed, self._pending, self.last_error = exc, None, str(exc)
        if self._stopping is not None:
            self._stopping.set()

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change(self.view)

    def _count(self, r: DayResult) -> None:
        t = self.telemetry
        t.days.inc()
        t.day_seconds.observe(r.seconds)
        t.sim_day.set(r.day)
        t.alerts_open.set(r.open_alerts)
        t.record_kpis(r.metrics)
        for d in r.decisions:
            t.decisions.labels(agent_id=d["agent_id"]).inc()

    # ---- what changes the View between days -----------------------------------------------

    def after_intervention(self, agents: list[dict[str, Any]]) -> None:
        self._view = replace(self.view, agents=agents, version=self.view.version + 1)
        self._changed()

    def set_open_alerts(self, count: int) -> None:
        self._view = replace(self.view, active_alerts_count=count)
        self._changed()

    def read(self, fn: Any, *args: Any) -> Any:
        """fn(operation, *args) under the store lock: a consistent view between two days.

        For reads only (what fn changes is not persisted); call it from a worker thread.
        """
        with self.store_lock:
            return fn(self.op, *args)
