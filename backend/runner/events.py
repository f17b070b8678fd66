"""The runner's live-updates events: built from the wire schemas where they arise (a day's
events and alerts, a failed day, an intervention), numbered under the run's epoch and put on the
bus one at a time.

The bus carries each as its model's JSON dump; the hub validates it again on the way out
(`schemas.LIVE_EVENT`), so the shape is written once, in backend.schemas.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from backend import schemas
from backend.bus import Bus
from backend.runner import wire
from backend.runner.state import DayResult, utcnow

log = logging.getLogger(__name__)

EVENTS_PER_KIND = 20  # alert events published one by one per day; the rest go in one summary


class Events:
    """One runner's events; the offsets start again with each epoch it takes (`restart`)."""

    def __init__(self, bus: Bus, channel: str, epoch: Callable[[], int]) -> None:
        self.bus = bus
        self.channel = channel
        self._epoch = epoch
        self.offset = 0  # of the last event published under the epoch
        self._publishing = asyncio.Lock()

    def restart(self) -> None:
        self.offset = 0

    async def _put(
        self, model: type[schemas.SystemEvent | schemas.AgentIntervention], **fields: Any
    ) -> None:
        """Publish with the epoch and the next offset, one at a time so that subscribers see
        offsets in order; a message the schema refuses takes no offset."""
        async with self._publishing:
            message = model(**fields, epoch=self._epoch(), offset=self.offset + 1)
            self.offset += 1
            await self.bus.publish(self.channel, message.model_dump(mode="json"))

    async def system(
        self,
        kind: str,
        severity: str,
        message: str,
        agent_id: str | None = None,
        sku: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        """A system_event; a bus outage is logged, it must not stop the store."""
        try:
            await self._put(
                schemas.SystemEvent,
                timestamp=utcnow(),
                event=kind,
                severity=severity,
                message=message,
                agent_id=agent_id,
                sku=sku,
                data={} if data is None else data,
            )
        except Exception as exc:
            log.error("publishing %s on the bus failed: %s", kind, exc)

    async def intervention(self, record: dict[str, Any]) -> None:
        """Tell every live-updates subscriber: the store took an intervention."""
        try:
            await self._put(
                schemas.AgentIntervention,
                agent_id=record["agent_id"],
                action=record["action"],
                timestamp=record["timestamp"],
                reason=record["reason"],
                parameters=record["parameters"],
                intervention_id=record["intervention_id"],
                message=record["message"],
            )
        except Exception as exc:  # recorded and in effect already; only the broadcast is lost
            log.error("broadcasting intervention %s failed: %s", record["intervention_id"], exc)

    async def day(self, r: DayResult) -> None:
        """A persisted day's events, then its alerts raised and resolved (a big store's tail of
        them summarised in one event per kind)."""
        for event in r.events:
            severity = "error" if event.kind == "agent_error" else "info"
            await self.system(
                event.kind,
                severity,
                event.message,
                event.agent_id,
                event.sku,
                wire.jsonable(event.data),
            )
        for alert in r.alerts_raised[:EVENTS_PER_KIND]:
            await self.system(
                "alert_raised",
                alert["severity"],
                f"{alert['title']}: {alert['message']}",
                alert["agent_id"],
                alert["sku"],
                {"alert_id": alert["id"]},
            )
        for alert in r.alerts_resolved[:EVENTS_PER_KIND]:
            await self.system(
                "alert_resolved",
                "info",
                f"{alert['title']}: resolved",
                alert["agent_id"],
                alert["sku"],
                {"alert_id": alert["id"]},
            )
        for kind, items in (
            ("alert_raised", r.alerts_raised),
            ("alert_resolved", r.alerts_resolved),
        ):
            rest = items[EVENTS_PER_KIND:]
            if rest:  # a big store can change hundreds of alerts in a day: summarise the tail
                await self.system(
                    kind,
                    "info",
                    f"{len(rest)} more {kind.replace('_', ' ')} on day {r.traded_day} "
                    "(see /api/dashboard/alerts/active)",
                    data={"count": len(rest), "alert_ids": [a["id"] for a in rest[:100]]},
                )
