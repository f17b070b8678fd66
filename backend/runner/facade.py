"""What the API calls: one coroutine per endpoint, each returning plain dicts shaped as the schemas."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime
from typing import Any

from backend.db import repo
from backend.db.engine import ping
from backend.db.lease import Deposed
from backend.errors import UnknownAction, UnknownAgent
from backend.runner import alerts, persistence
from backend.runner.errors import (
    AgentMismatch,
    InterventionRejected,
    InterventionTimedOut,
    NotReady,
)
from backend.runner.insight import Insight
from backend.runner.leadership import Leadership, commands_channel
from backend.runner.loop import ACTIONS, Runner, View, utcnow
from backend.runner.recent import RecentDecisions
from backend.runner.replica import Replica

log = logging.getLogger(__name__)


class Service:
    """Reads from the store's current state (the Runner when this process leads or runs alone,
    the leader's published state when it follows) and changes go to whoever runs the store."""

    def __init__(self, runner: Runner | None = None, leadership: Leadership | None = None) -> None:
        if leadership is None:
            assert runner is not None
            leadership = Leadership(runner.settings, runner.engine, runner.bus, runner.telemetry)
            leadership.runner = runner
        self.leadership = leadership
        self.settings = leadership.settings
        self.engine = leadership.engine
        self.bus = leadership.bus
        self.telemetry = leadership.telemetry
        self.insight = Insight(lambda: self.runner)  # the console's reads beyond the live view
        # Set when the readiness probe found the database away: reads that need it then ask it
        # (and answer 503) rather than serve the in-memory copy as if it were still the record.
        self._database_away = False

    @property
    def runner(self) -> Runner | Replica:
        return self.leadership.current

    @property
    def ready(self) -> bool:
        """The store's state is loaded (the database answered at least once since start)."""
        return self.runner.restored

    @property
    def agent_ids(self) -> tuple[str, ...]:
        return self.runner.agent_ids

    @property
    def epoch(self) -> int:
        return self.runner.epoch

    def check_agent(self, agent_id: str) -> None:
        if agent_id not in self.agent_ids:
            raise UnknownAgent(agent_id, self.agent_ids)

    # ---- state the runner holds -----------------------------------------------------------

    def view(self) -> View:
        return self.runner.view

    def agent_statuses(self) -> list[dict[str, Any]]:
        return self.runner.view.agents

    def agent_status(self, agent_id: str) -> dict[str, Any]:
        self.check_agent(agent_id)
        return next(a for a in self.runner.view.agents if a["agent_id"] == agent_id)

    def dashboard_metrics(self, view: View | None = None) -> dict[str, Any]:
        """The body of metrics/current, of `view` (by default the current one)."""
        v = self.runner.view if view is None else view
        return {
            "timestamp": v.timestamp,
            "day": v.day,
            "system_metrics": v.metrics,
            "agent_statuses": v.agents,
            "active_alerts_count": v.active_alerts_count,
            "recent_decisions_count": v.recent_decisions_count,
        }

    # ---- stored history -------------------------------------------------------------------

    async def recent_decisions(self, limit: int, agent_id: str | None) -> list[dict[str, Any]]:
        ring = self.decisions_ring(agent_id)  # filled from the database by the restore
        if ring is not None and (held := ring.newest(limit, agent_id)) is not None:
            return held
        try:
            rows = await asyncio.to_thread(self._read, repo.recent_decisions, limit, agent_id)
        except Exception:
            self._database_away = True
            raise
        self._database_away = False
        return rows

    def decisions_ring(self, agent_id: str | None) -> RecentDecisions | None:
        """The newest decisions held in memory, when they may answer decisions/recent (the
        store is loaded and nothing says the database is away); None: ask the database."""
        if agent_id is not None:
            self.check_agent(agent_id)
        return self.runner.recent if self._database_trusted() else None

    def _database_trusted(self) -> bool:
        """The store is loaded and nothing says the database (the record) is away."""
        r = self.runner
        return (
            r.restored
            and not self._database_away
            and not r.persist_failing
            and r.last_error is None
        )

    async def metrics_history(self, since: datetime | None, limit: int) -> list[dict[str, Any]]:
        return await asyncio.to_thread(self._read, repo.snapshots, since, limit)

    async def interventions(self, limit: int, agent_id: str | None) -> list[dict[str, Any]]:
        if agent_id is not None:
            self.check_agent(agent_id)
        rows = await asyncio.to_thread(self._read, repo.list_interventions, limit, agent_id)
        return await self.insight.with_realised(rows)

    async def active_alerts(self) -> list[dict[str, Any]]:
        return await asyncio.to_thread(self._read, repo.open_alerts)

    def _read(self, fn: Any, *args: Any) -> Any:
        with self.engine.connect() as conn:
            return fn(conn, *args)

    # ---- changes --------------------------------------------------------------------------

    async def intervene(
        self,
        agent_id: str,
        action: str,
        parameters: dict[str, Any],
        reason: str,
        body_agent_id: str | None,
        client: str | None,
        sub: str = "anonymous",
    ) -> dict[str, Any]:
        """Checks in the order docs/api.md gives; persisted, then in effect, then broadcast, then
        answered."""
        self.check_agent(agent_id)
        self.view()  # NotReady (503) before the store's state is loaded
        if action not in ACTIONS:
            raise UnknownAction(action, ACTIONS)
        if body_agent_id is not None and body_agent_id != agent_id:
            raise AgentMismatch(agent_id, body_agent_id)
        runner = self.runner
        if isinstance(runner, Runner):
            try:
                record = await asyncio.to_thread(
                    runner.interventions.record, agent_id, action, parameters, reason, client, sub
                )
            except Deposed as exc:
                runner.step_down(exc)
                raise NotReady("this replica stopped running the store; retry") from exc
            runner.after_intervention(record.pop("agents"))
            self.telemetry.interventions.labels(action=action).inc()
            log.info(
                "intervention %s: %s %s (%s)",
                record["intervention_id"],
                action,
                agent_id,
                record["message"],
            )
            await runner.events.intervention(record)
        else:
            record = await self._intervene_through_leader(
                agent_id, action, parameters, reason, client, sub
            )
        return {
            "success": True,
            "agent_id": agent_id,
            "action": action,
            "timestamp": record["timestamp"],
            "message": record["message"],
            "intervention_id": record["intervention_id"],
        }

    async def _intervene_through_leader(
        self,
        agent_id: str,
        action: str,
        parameters: dict[str, Any],
        reason: str,
        client: str | None,
        sub: str,
    ) -> dict[str, Any]:
        """A follower records the intervention as pending and waits for the leader to apply it.

        On timeout it expires the row by a conditional update: then the leader can never apply
        it, and the caller gets 503; if the leader got there first, the caller gets its result.
        """
        record = {
            **persistence.new_intervention(agent_id, action, parameters, reason, client, sub),
            "day": self.runner.view.day,
            "status": "pending",
        }
        seq = await asyncio.to_thread(self._write, repo.insert_intervention, record)
        try:
            await self.bus.publish(commands_channel(self.settings), {"intervention": seq})
        except Exception as exc:  # the leader also polls for pending rows
            log.warning("signalling intervention %s failed: %s", record["intervention_id"], exc)
        deadline = time.monotonic() + self.settings.intervention_timeout
        while True:
            row = await asyncio.to_thread(self._read, repo.get_intervention, seq)
            if row["status"] != "pending":
                break
            if time.monotonic() >= deadline:
                expired = await asyncio.to_thread(
                    self._write, repo.settle_intervention, seq, "expired"
                )
                if expired:
                    raise InterventionTimedOut(
                        record["intervention_id"], self.settings.intervention_timeout
                    )
                continue  # the leader applied it meanwhile: answer with its result
            await asyncio.sleep(0.05)
        if row["status"] == "rejected":
            raise InterventionRejected(row["message"])
        if row["status"] != "applied":
            raise InterventionTimedOut(
                record["intervention_id"], self.settings.intervention_timeout
            )
        return row

    def _write(self, fn: Any, *args: Any) -> Any:
        with self.engine.begin() as conn:
            return fn(conn, *args)

    async def acknowledge_alert(self, alert_id: str) -> dict[str, Any]:
        return await self._alert_change(alerts.acknowledge, alert_id)

    async def resolve_alert(self, alert_id: str) -> dict[str, Any]:
        day = self.runner.view.day
        return await self._alert_change(
            lambda conn, aid, now: alerts.resolve(conn, aid, now, day), alert_id
        )

    async def _alert_change(self, fn: Any, alert_id: str) -> dict[str, Any]:
        def change() -> tuple[dict[str, Any], int]:
            with self.engine.begin() as conn:
                return fn(conn, alert_id, utcnow()), repo.count_open_alerts(conn)

        alert, open_count = await asyncio.to_thread(change)
        self.runner.set_open_alerts(open_count)
        return alert

    # ---- health ---------------------------------------------------------------------------

    async def readiness(self) -> dict[str, Any]:
        database = await asyncio.to_thread(ping, self.engine)
        self._database_away = not database
        if isinstance(self.runner, Replica):
            return self._follower_readiness(database)
        ticking, age = self.runner.ticking()
        refusal = f" ({self.runner.last_error})" if self.runner.last_error else ""
        problems = [
            p
            for p, ok in (
                ("database unreachable", database),
                (
                    f"store state not loaded yet: the database has not answered since start{refusal}",
                    self.runner.restored,
                ),
                (
                    f"database refusing the day's writes{refusal}; retrying with backoff",
                    not self.runner.persist_failing,
                ),
                ("runner not trading days on schedule", ticking),
            )
            if not ok
        ]
        return {
            "status": "not ready" if problems else "ready",
            "database": database and not self.runner.persist_failing,
            "runner_ticking": ticking,
            "day": self.runner.view.day if self.runner.restored else None,
            "seconds_since_last_tick": age,
            "detail": "; ".join(problems) or "database reachable and runner trading",
            **self.cluster(),
        }

    def _follower_readiness(self, database: bool) -> dict[str, Any]:
        """A follower can serve while the database answers, the bus is connected and the
        leader's state keeps moving on."""
        replica = self.runner
        assert isinstance(replica, Replica)
        fresh, age = replica.ticking()
        problems = [
            p
            for p, ok in (
                ("database unreachable", database),
                (
                    "bus disconnected: the leader's frames cannot reach this replica",
                    self.bus.connected,
                ),
                ("no state from the leader yet", replica.restored),
                ("the leader's state stopped moving on (no leader trading)", fresh),
            )
            if not ok
        ]
        return {
            "status": "not ready" if problems else "ready",
            "database": database,
            "runner_ticking": fresh,
            "day": replica.view.day if replica.restored else None,
            "seconds_since_last_tick": age,
            "detail": "; ".join(problems) or "following the leader's state",
            **self.cluster(),
        }

    def cluster(self) -> dict[str, Any]:
        """This process's part in the run with replicas (role, leader, epoch); alone, nothing."""
        if self.leadership.role == "single":
            return {}
        return {
            "role": self.leadership.role,
            "instance": self.settings.instance_id,
            "leader": self.leadership.leader_id,
            "epoch": self.epoch if self.ready else None,
        }
