"""What the API calls: one coroutine per endpoint, each returning plain dicts shaped as the schemas."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from backend.db import repo
from backend.db.engine import ping
from backend.errors import UnknownAction, UnknownAgent
from backend.runner import alerts
from backend.runner.core import ACTIONS, Runner, View, utcnow
from backend.runner.errors import AgentMismatch
from backend.runner.insight import Insight

log = logging.getLogger(__name__)


class Service:
    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.engine = runner.engine
        self.insight = Insight(runner)  # the console's reads beyond the live view
        # Set when the readiness probe found the database away: reads that need it then ask it
        # (and answer 503) rather than serve the in-memory copy as if it were still the record.
        self._database_away = False
        # decisions/recent bodies by (limit, agent), for the ring version they were made from
        self._recent_json: tuple[int, dict[tuple[int, str | None], bytes]] = (-1, {})
        # the metrics/current body and the view it was made from (a new view on every change)
        self._metrics_json: tuple[View | None, bytes] = (None, b"")

    @property
    def ready(self) -> bool:
        """The store's state is loaded (the database answered at least once since start)."""
        return self.runner.restored

    @property
    def agent_ids(self) -> tuple[str, ...]:
        return self.runner.agent_ids

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

    def dashboard_metrics(self) -> dict[str, Any]:
        v = self.runner.view
        return {
            "timestamp": v.timestamp,
            "day": v.day,
            "system_metrics": v.metrics,
            "agent_statuses": v.agents,
            "active_alerts_count": v.active_alerts_count,
            "recent_decisions_count": v.recent_decisions_count,
        }

    def dashboard_metrics_json(self, encode: Callable[[dict[str, Any]], bytes]) -> bytes:
        """The body of metrics/current, encoded once per view: the runner makes a new view on
        every change (a sim day, an intervention, an alert), so its identity is the version."""
        view = self.runner.view
        if self._metrics_json[0] is not view:
            self._metrics_json = (view, encode(self.dashboard_metrics()))
        return self._metrics_json[1]

    async def sku_rows(self) -> list[dict[str, Any]]:
        cached = self.runner.cached_sku_rows()  # no thread hop while the store is unchanged
        return cached if cached is not None else await asyncio.to_thread(self.runner.sku_rows)

    # ---- stored history -------------------------------------------------------------------

    async def recent_decisions(self, limit: int, agent_id: str | None) -> list[dict[str, Any]]:
        if agent_id is not None:
            self.check_agent(agent_id)
        if self._database_trusted():  # the ring is filled from the database by the restore
            held = self.runner.recent.newest(limit, agent_id)
            if held is not None:
                return held
        try:
            rows = await asyncio.to_thread(self._read, repo.recent_decisions, limit, agent_id)
        except Exception:
            self._database_away = True
            raise
        self._database_away = False
        return rows

    def recent_decisions_json(
        self, limit: int, agent_id: str | None, encode: Callable[[list[dict[str, Any]]], bytes]
    ) -> bytes | None:
        """The body of decisions/recent from memory, encoded once per ring change; None: ask the database."""
        if agent_id is not None:
            self.check_agent(agent_id)
        if not self._database_trusted():
            return None
        version = self.runner.recent.version
        if self._recent_json[0] != version:
            self._recent_json = (version, {})
        bodies = self._recent_json[1]
        body = bodies.get((limit, agent_id))
        if body is None:
            held = self.runner.recent.newest(limit, agent_id)
            if held is None:
                return None
            body = bodies[(limit, agent_id)] = encode(held)
        return body

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
        """Checks in DESIGN.md's order; persisted, then in effect, then broadcast, then answered."""
        self.check_agent(agent_id)
        self.view()  # NotReady (503) before the store's state is loaded
        if action not in ACTIONS:
            raise UnknownAction(action, ACTIONS)
        if body_agent_id is not None and body_agent_id != agent_id:
            raise AgentMismatch(agent_id, body_agent_id)
        record = await asyncio.to_thread(
            self.runner.intervene_locked, agent_id, action, parameters, reason, client, sub
        )
        self.runner.after_intervention(record.pop("agents"))
        self.runner.telemetry.interventions.labels(action=action).inc()
        log.info(
            "intervention %s: %s %s (%s)",
            record["intervention_id"],
            action,
            agent_id,
            record["message"],
        )
        broadcast = {
            "type": "agent_intervention",
            "agent_id": agent_id,
            "action": action,
            "timestamp": record["timestamp"].isoformat().replace("+00:00", "Z"),
            "reason": reason,
            "parameters": record["parameters"],
            "intervention_id": record["intervention_id"],
            "message": record["message"],
        }
        try:
            await self.runner.bus.publish(self.runner.events_channel, broadcast)
        except Exception as exc:  # recorded and in effect already; only the broadcast is lost
            log.error("broadcasting intervention %s failed: %s", record["intervention_id"], exc)
        return {
            "success": True,
            "agent_id": agent_id,
            "action": action,
            "timestamp": record["timestamp"],
            "message": record["message"],
            "intervention_id": record["intervention_id"],
        }

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
        }
