"""Which process runs the store.

Alone (SQLite, or an in-process bus) the one process always does, as it always has. With
replicas (PostgreSQL and a shared bus) every process is a candidate: the one holding a PostgreSQL
session advisory lock, on a connection of its own, runs the Runner; the others follow, serving
the state it publishes. The lock makes failover fast (a dead holder's session ends and frees it);
the epoch the Runner takes in `runner_lease` keeps it safe (a holder that lost the lock without
noticing, paused or cut off, fails its next fenced write and steps down).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo
from sqlalchemy import Engine, make_url

from backend.bus import Bus
from backend.config import Settings
from backend.db.engine import init_db, lock_key
from backend.runner.loop import Runner
from backend.runner.replica import Replica
from backend.runner.state import View
from backend.runner.telemetry import Telemetry

log = logging.getLogger(__name__)

# The lock connection notices a lost server in about 11 s even without traffic (keepalives), and
# a write stuck on a cut link in 10 s.
KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 3,
    "tcp_user_timeout": 10_000,
    "connect_timeout": 5,
}


def commands_channel(settings: Settings) -> str:
    """Where any replica tells the leader that an intervention is waiting."""
    return f"{settings.bus_namespace}:commands"


class Election:
    """The runner lock: a session advisory lock held on one dedicated, autocommit connection.

    Never through a transaction-pooling PgBouncer: the lock belongs to the server session."""

    def __init__(self, settings: Settings) -> None:
        url = make_url(settings.database_url).set(drivername="postgresql")
        self.dsn = url.render_as_string(hide_password=False)
        self.key = lock_key("runner", settings.database_schema)
        self.name = f"autoops-lock-{settings.instance_id}"[:63]
        self.timeout = max(2.0, settings.lease_poll * 2)
        self._conn: psycopg.AsyncConnection[Any] | None = None

    async def try_acquire(self) -> bool:
        try:
            async with asyncio.timeout(self.timeout):
                if self._conn is None or self._conn.closed:
                    conninfo = make_conninfo(self.dsn, application_name=self.name, **KEEPALIVES)
                    self._conn = await psycopg.AsyncConnection.connect(conninfo, autocommit=True)
                cursor = await self._conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,))
                row = await cursor.fetchone()
        except Exception as exc:  # the database is away: try again on the next poll
            log.debug("runner lock: try failed: %s", exc)
            await self.release()
            return False
        return bool(row and row[0])

    async def held(self) -> bool:
        """The lock's session still answers (it holds the lock as long as it lives)."""
        if self._conn is None or self._conn.closed:
            return False
        try:
            async with asyncio.timeout(self.timeout):
                await self._conn.execute("SELECT 1")
            return True
        except Exception as exc:
            log.error("runner lock session lost: %s", exc)
            return False

    async def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(self.timeout):
                    await conn.close()


class Leadership:
    """Starts the Runner when this process leads and stops it (without writing) when it no longer
    does; `current` is what the API reads from: the Runner, or the follower's Replica."""

    def __init__(self, settings: Settings, engine: Engine, bus: Bus, telemetry: Telemetry) -> None:
        self.settings = settings
        self.engine = engine
        self.bus = bus
        self.telemetry = telemetry
        self.runner: Runner | None = None
        self.replica: Replica | None = None
        self.election = Election(settings) if settings.replicated else None
        # called with True on taking the lead (the Runner started) and False on losing it
        self.on_role: list[Callable[[bool], None]] = []
        self.on_view: list[Callable[[View], None]] = []
        self.followed: str | None = None  # the leader whose frames were last relayed
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def current(self) -> Runner | Replica:
        if self.runner is not None:
            return self.runner
        assert self.replica is not None
        return self.replica

    @property
    def leading(self) -> bool:
        return self.runner is not None

    @property
    def leader_id(self) -> str | None:
        """Who runs the store: this process, or the sender of the last leader frame relayed."""
        if self.leading or self.election is None:
            return self.settings.instance_id
        return self.followed

    @property
    def role(self) -> str:
        if self.election is None:
            return "single"
        return "leader" if self.leading else "follower"

    @property
    def epoch(self) -> int:
        return self.current.epoch

    async def start(self) -> None:
        if self.election is None:
            self.runner = Runner(self.settings, self.engine, self.bus, self.telemetry)
            self.runner.on_change = self._view_changed
            await self.runner.start()
            self.telemetry.epoch.set(self.runner.epoch)
            return
        self.replica = Replica(self.settings, self.engine, self._agent_ids())
        try:
            await asyncio.to_thread(init_db, self.engine)
        except Exception as exc:  # the database is away: the candidate loop keeps trying
            log.error("database unavailable at start (%s); retrying", exc)
        await self.replica.reload()
        commands = await self.bus.subscribe(commands_channel(self.settings))
        self._task = asyncio.create_task(self._run(commands), name="leadership")
        await self._campaign()

    @staticmethod
    def _agent_ids() -> tuple[str, ...]:
        from backend.agents.operation import AGENT_IDS

        return tuple(AGENT_IDS)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self.runner is not None:
            await self.runner.stop()  # the final checkpoint is fenced: a stale one never lands
        if self.election is not None:
            await self.election.release()

    def wake(self) -> None:
        """Something is waiting for the leader (an intervention): do not wait for the poll."""
        self._wake.set()

    async def _run(self, commands: Any) -> None:
        listener = asyncio.create_task(self._listen(commands), name="leadership:commands")
        try:
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.settings.lease_poll)
                self._wake.clear()
                try:
                    await self._step()
                except Exception:
                    log.exception("leadership step failed; trying again")
        finally:
            listener.cancel()
            await commands.close()

    async def _listen(self, commands: Any) -> None:
        async for _ in commands:
            self.wake()

    async def _step(self) -> None:
        runner = self.runner
        if runner is None:
            await self._campaign()
            if self.runner is None and self.replica is not None:
                await self.replica.reload()  # the bus may have lost the leader's notices
            return
        if runner.deposed is not None:
            await self._step_down(str(runner.deposed))
        elif not await self.election.held():  # type: ignore[union-attr]
            await self._step_down("the lock session ended")
        elif runner.restored:
            for record in await runner.interventions.apply_pending():
                self.telemetry.interventions.labels(action=record["action"]).inc()
                await runner.events.intervention(record)

    async def _campaign(self) -> None:
        assert self.election is not None
        if not await self.election.try_acquire():
            return
        runner = Runner(self.settings, self.engine, self.bus, self.telemetry)
        runner.publish_state = True
        runner.on_change = self._view_changed
        try:
            await runner.start()
        except Exception:
            log.exception("taking the lead failed; releasing the lock")
            await runner.stop(checkpoint=False)
            await self.election.release()
            return
        self.runner = runner
        self.telemetry.leader_changes.inc()
        self.telemetry.leader.set(1)
        self.telemetry.epoch.set(runner.epoch)
        log.warning("%s leads the store (epoch %d)", self.settings.instance_id, runner.epoch)
        for callback in self.on_role:
            callback(True)
        self.wake()  # apply what followers recorded while nobody led

    async def _step_down(self, why: str) -> None:
        runner, self.runner = self.runner, None
        self.telemetry.leader.set(0)
        log.error("%s stops leading: %s", self.settings.instance_id, why)
        for callback in self.on_role:
            callback(False)
        if runner is not None:
            await runner.stop(checkpoint=False)
        assert self.election is not None
        await self.election.release()
        if self.replica is not None:
            await self.replica.reload()

    def _view_changed(self, view: View) -> None:
        for callback in self.on_view:
            callback(view)
