"""The wall-clock loop: trades one sim day every AUTOOPS_DAY_SECONDS, persists it, publishes events."""

from __future__ import annotations

import asyncio
import gc
import importlib
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from types import ModuleType
from typing import Any

from sqlalchemy import Connection, Engine

from backend.agents.preview import preview_override
from backend.bus import Bus
from backend.config import Settings
from backend.db import lease, repo
from backend.db.engine import init_db
from backend.db.lease import Deposed
from backend.errors import AutoOpsError
from backend.runner import persistence, wire
from backend.runner.errors import CheckpointIncompatible, NotReady
from backend.runner.events import Events
from backend.runner.recent import RecentDecisions
from backend.runner.state import Checkpoint, DayResult, View, events_channel, utcnow
from backend.runner.telemetry import Telemetry
from backend.schemas import ACTIONS

__all__ = ["ACTIONS", "Runner", "View", "events_channel", "utcnow"]

log = logging.getLogger(__name__)

# Days between full garbage collections of what the days left frozen (see _settle_garbage).
GC_FULL_EVERY_DAYS = 50
# the View's fields that followers are sent (all but its version, which the state row carries)
STATE_FIELDS = (
    "day",
    "timestamp",
    "metrics",
    "agents",
    "active_alerts_count",
    "recent_decisions_count",
)


MAX_RETRY_DELAY = 30.0  # seconds between attempts at the database, at the most


def retry_delay(previous: float, day_seconds: float) -> float:
    """The wait before the next attempt at the database after `previous` (0 at the first
    failure): 1 s, doubling, at least a sim day, at most MAX_RETRY_DELAY."""
    return min(MAX_RETRY_DELAY, max(day_seconds, previous * 2 or 1.0))


class _Moved(Exception):
    """Another runner persisted more of the run after this one read it: read it again."""


class Runner:
    """Owns the Operation; every call into it holds one lock and runs in a worker thread."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        bus: Bus,
        telemetry: Telemetry,
        operation_module: ModuleType | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.bus = bus
        self.telemetry = telemetry
        self.module = operation_module or importlib.import_module("backend.agents.operation")
        self.agent_ids: tuple[str, ...] = tuple(self.module.AGENT_IDS)
        self.events_channel = events_channel(settings)
        self._op: Any = None
        self._lock = threading.Lock()
        self._applied_seq = 0
        self._rows_from = 0  # the first day whose store rows are not in the database yet
        self._view: View | None = None
        self._pending: DayResult | None = None
        self._retry_at = 0.0
        self._backoff = 0.0
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
        # The store's clock gets its own thread, so a burst of REST reads cannot delay a day.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="runner")
        # The day's KPIs (the price score's optimum under the true model is most of their cost)
        # are computed on a thread of their own while the runner's thread writes the day.
        self._kpi_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kpis")

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
        backoff = 0.0
        while not self.restored:
            backoff = retry_delay(backoff, self.settings.day_seconds)
            try:
                await asyncio.wait_for(self._stopping.wait(), timeout=backoff)
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
                    retry_delay(backoff, self.settings.day_seconds),
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
            await self._in_runner_thread(self._checkpoint_now)
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
        return waiting and self._backoff > 0

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
                self._apply(op, record["agent_id"], record["action"], record["parameters"])
            except AutoOpsError as exc:
                log.error("replaying intervention %s failed: %s", record["intervention_id"], exc)
        with self._lock:
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
                lease.set_day(conn, held["epoch"], int(self._op.day), now)
        self.epoch, self._applied_seq = int(held["epoch"]), int(held["apply_seq"])
        self.events.restart()
        self._restored_from = None
        self.last_error = None
        log.info("runner trades under epoch %d", self.epoch)

    def _ensure_lease(self) -> None:
        """Take the lease if the restore could not (worker thread); reload if the run moved."""
        if self._restored_from is None:
            return
        try:
            self._take_lease()
        except _Moved:
            self._restore()
            if self._restored_from is not None:
                raise

    def _load(self, conn: Any, checkpoint: dict[str, Any] | None) -> Any:
        s, cls = self.settings, self.module.Operation
        self._rows_from = 0
        if checkpoint is None:
            return cls(
                n_skus=s.skus,
                seed=s.seed,
                window_days=s.window_days,
                stockout_window_days=s.stockout_window_days,
            )
        try:
            data = checkpoint["data"]
            apart = cls.rows_kept_apart(data)
            rows = [cls.decode_rows(b) for b in repo.ledger_row_batches(conn, 0)] if apart else None
            op = cls.from_bytes(data, rows)
        except Exception as exc:
            raise CheckpointIncompatible(checkpoint["day"], exc) from exc
        # An older checkpoint carried its rows inside: they go to the database with the next write.
        self._rows_from = int(op.day) if apart else 0
        return op

    def _capture(self, now: datetime) -> Checkpoint:
        """Copies of the store's state and its unstored day rows. Caller holds the lock."""
        op = self._op
        tree, arrays = op.export_state(ring=False)
        return Checkpoint(
            day=int(op.day),
            timestamp=now,
            intervention_seq=self._applied_seq,
            tree=tree,
            arrays=arrays,
            rows=op.ring_rows(self._rows_from),
            codec=type(op),
            history_days=int(op.live.ledger.history_days),
        )

    def _checkpoint_now(self) -> None:
        with self._lock:
            checkpoint = self._capture(utcnow())
        persistence.write_checkpoint(self.engine, checkpoint, self.settings, self.epoch)
        self._rows_from = checkpoint.day
        log.info("checkpoint written at day %d", checkpoint.day)

    def _fresh_view(self, now: datetime, open_count: int, recent: int, version: int) -> View:
        # Caller holds the lock.
        day = int(self._op.day)
        return View(
            day=day,
            timestamp=now,
            metrics=wire.metrics(self._op.kpis(), day),
            agents=[wire.agent_status(a) for a in self._op.agent_stats()],
            active_alerts_count=open_count,
            recent_decisions_count=recent,
            version=version,
        )

    # ---- the day loop ---------------------------------------------------------------------

    async def _loop(self) -> None:
        assert self._stopping is not None
        if not self.restored and not await self._wait_for_database():
            return
        interval = self.settings.day_seconds
        start, k = time.monotonic(), 0
        while not self._stopping.is_set():
            k += 1
            delay = start + k * interval - time.monotonic()  # absolute deadlines: no drift
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
            behind = int((time.monotonic() - start) / interval) - k
            if behind > 0:
                # Said once loudly: a store slower than its clock stays slower.
                log.log(
                    logging.DEBUG if self._late_days else logging.WARNING,
                    "a sim day took longer than AUTOOPS_DAY_SECONDS=%g; skipping %d deadline(s)",
                    interval,
                    behind,
                )
                self._late_days += behind
                k += behind

    async def _in_runner_thread(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def tick(self) -> None:
        """Trade and persist one day now; the loop calls this on schedule."""
        if self._pending is not None:
            if time.monotonic() < self._retry_at or not await self._flush():
                return  # the database is away: hold the store until its last day is persisted
        if self._restored_from is not None:
            if time.monotonic() < self._retry_at or not await self._lease_taken():
                return  # no epoch yet: nothing may be written
        try:
            result = await self._in_runner_thread(self._trade, utcnow())
        except Exception as exc:
            self.telemetry.day_failures.inc()
            log.exception("trading day %s failed; the loop goes on", self._op.day)
            await self.events.system("runner_error", "error", f"trading a day failed: {exc!r}")
            return
        self._pending = result
        await self._flush()

    def _trade(self, now: datetime) -> DayResult:
        """Trade a day; under the lock only what reads or changes the store (no I/O). The KPIs
        are computed beside the rest of the day (_day_kpis) and joined before the snapshot."""
        clock = time.perf_counter
        t0 = clock()
        with self._lock:
            op = self._op
            report = op.run_day(now)
            t1 = clock()
            day = int(op.day)
            kpis = self._kpi_executor.submit(self._day_kpis, op, day)
            conditions = list(op.conditions())
            t2 = clock()
            stats = op.agent_stats()
            checkpoint = self._capture(now)
            seq = self._applied_seq
            skus = [wire.sku_row(r) for r in op.sku_rows()] if self.publish_state else None
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
            intervention_seq=seq,
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

    def _day_kpis(self, op: Any, day: int) -> tuple[dict[str, int | float | None], float]:
        """The day's system metrics and the seconds they took. Reads only what the day wrote
        (ledgers, books), which nothing changes until the day is persisted and the next one
        traded; the ring rows captured meanwhile may lack the day's price score, which a
        restore recomputes, identically, from the same row."""
        t0 = time.perf_counter()
        return wire.metrics(op.kpis(), day), time.perf_counter() - t0

    async def _lease_taken(self) -> bool:
        try:
            await self._in_runner_thread(self._ensure_lease)
        except Exception as exc:
            self._failed("taking the runner lease", exc)
            return False
        self._backoff = 0.0
        return True

    def _failed(self, what: str, exc: Exception) -> None:
        self.telemetry.persist_failures.inc()
        self.last_error = f"{type(exc).__name__}: {exc}"
        self._backoff = retry_delay(self._backoff, self.settings.day_seconds)
        self._retry_at = time.monotonic() + self._backoff
        log.error("%s failed (%s); retrying in %.1f s", what, exc, self._backoff)

    async def _flush(self) -> bool:
        result = self._pending
        assert result is not None
        publish = self._state_writer(result) if result.skus is not None else None
        try:
            t0 = time.perf_counter()
            await self._in_runner_thread(
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
        self._pending, self._backoff, self.last_error = None, 0.0, None
        self._rows_from = result.day
        self.recent.add_day(
            result.decisions, result.outcomes, result.day - self.settings.retention_days
        )
        self.last_day_at = time.monotonic()
        # An intervention applied after this day was traded already refreshed the agents.
        agents = result.agents if result.intervention_seq == self._applied_seq else self.view.agents
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
        _settle_garbage(result.day)
        return True

    def _state_writer(self, r: DayResult) -> Callable[[Connection], None]:
        """Writes the state the day leaves, for followers, inside the day's transaction."""
        version = self.view.version + 1

        def write(conn: Connection) -> None:
            view = {
                "day": r.day,
                "timestamp": r.timestamp,
                "metrics": r.metrics,
                "agents": r.agents,
                "active_alerts_count": r.open_alerts,
                "recent_decisions_count": len(r.decisions),
            }
            self._save_state(conn, version, view, r.skus or [])

        return write

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

    # ---- interventions --------------------------------------------------------------------

    def _pending_applier(self, row: dict[str, Any]) -> persistence.Apply:
        return lambda: self._apply(self._op, row["agent_id"], row["action"], row["parameters"])

    def _apply(self, op: Any, agent_id: str, action: str, parameters: dict[str, Any]) -> str:
        if action == "override":
            return str(op.override(agent_id, parameters))
        return str(getattr(op, action)(agent_id))

    def intervene_locked(
        self,
        agent_id: str,
        action: str,
        parameters: dict[str, Any],
        reason: str,
        client: str | None,
        sub: str = "anonymous",
    ) -> dict[str, Any]:
        """Record, apply and commit one intervention; runs in a worker thread."""
        record = persistence.new_intervention(agent_id, action, parameters, reason, client, sub)
        self._ensure_lease()
        with self._lock:
            record["day"] = int(self._op.day)
            if action == "override":  # what the agent's model expects, kept with the record
                record["preview"] = wire.jsonable(preview_override(self._op, agent_id, parameters))
            persistence.record_intervention(
                self.engine,
                record,
                self.epoch,
                lambda: self._apply(self._op, agent_id, action, parameters),
                self._after_apply,
            )
            self._applied_seq = record["apply_seq"]
        return record

    def apply_pending_locked(self) -> list[dict[str, Any]]:
        """Apply the interventions other replicas recorded, in the order they came; each in its
        own fenced transaction. Runs in a worker thread; returns the applied records."""
        self._ensure_lease()
        with self.engine.connect() as conn:
            rows = repo.pending_interventions(conn)
        applied = []
        for row in rows:
            with self._lock:
                try:
                    taken = persistence.apply_pending(
                        self.engine,
                        row,
                        self.epoch,
                        self._pending_applier(row),
                        self._after_apply,
                    )
                except Deposed:
                    raise
                except AutoOpsError as exc:  # the store refused it: the requester is told why
                    persistence.reject_pending(self.engine, row, str(exc))
                    continue
                if not taken:
                    continue  # its requester expired it first
                self._applied_seq = row["apply_seq"]
            applied.append(row)
        return applied

    async def apply_pending(self) -> list[dict[str, Any]]:
        """Apply what other replicas recorded (in the runner's thread, between days)."""
        try:
            applied = await self._in_runner_thread(self.apply_pending_locked)
        except Deposed as exc:
            self.step_down(exc)
            return []
        for record in applied:
            self.after_intervention(record.pop("agents"))
            log.info(
                "intervention %s from another replica: %s %s (%s)",
                record["intervention_id"],
                record["action"],
                record["agent_id"],
                record["message"],
            )
        return applied

    async def publish_intervention(self, record: dict[str, Any]) -> None:
        await self.events.intervention(record)

    def _after_apply(self, conn: Connection) -> list[dict[str, Any]]:
        """The agents as the intervention left them, also stored for followers (lock held)."""
        agents = [wire.agent_status(a) for a in self._op.agent_stats()]
        if self.publish_state:
            view = {k: getattr(self.view, k) for k in STATE_FIELDS} | {"agents": agents}
            skus = [wire.sku_row(r) for r in self._op.sku_rows()]
            self._save_state(conn, self.view.version + 1, view, skus)
        return agents

    def _save_state(
        self, conn: Connection, version: int, view: dict[str, Any], skus: list[dict[str, Any]]
    ) -> None:
        lease.save_state(
            conn,
            {
                "epoch": self.epoch,
                "version": version,
                "day": view["day"],
                "view": wire.jsonable(view),
                "skus": wire.jsonable(skus),
                "updated_at": utcnow(),
            },
        )

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
        with self._lock:
            return fn(self._op, *args)


def _settle_garbage(day: int) -> None:
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
