"""The read model of the dashboard's two most polled reads: the bodies of `metrics/current` and
`decisions/recent`, encoded once per change of the state they show.

The service hands out data and what it belongs to (the store's View, the recent-decisions ring
and its version); the bytes, and the encoders that make them, are the API's. The encoders do what
FastAPI's `response_model` does to these bodies (validate, then dump), so a body from here is byte
for byte what the route's model path would send; FastAPI's route and the fast read
(`backend.api.dispatch`) both serve from here.
"""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from pydantic import TypeAdapter

from backend import schemas
from backend.runner import Service, View

DECISIONS = TypeAdapter(list[schemas.Decision])
METRICS = TypeAdapter(schemas.DashboardMetrics)


def encode_metrics(body: dict[str, Any]) -> bytes:
    return METRICS.dump_json(METRICS.validate_python(body), by_alias=True)


def encode_decisions(rows: list[dict[str, Any]]) -> bytes:
    return DECISIONS.dump_json(DECISIONS.validate_python(rows), by_alias=True)


class Bodies:
    """The two bodies of one service, each held for the state it was made from."""

    def __init__(self, service: Service) -> None:
        self.service = service
        # The metrics body and the View it shows: the store makes a new View on every change (a
        # day, an intervention, an alert count), so the View itself is the key; its `version`
        # is not, an alert count replaces the View under the same version.
        self._metrics: tuple[View | None, bytes] = (None, b"")
        # decisions bodies by (limit, agent), for the ring version they were made from
        self._decisions: tuple[int, dict[tuple[int, str | None], bytes]] = (-1, {})

    def metrics_current(self) -> bytes:
        view = self.service.view()
        if self._metrics[0] is not view:
            self._metrics = (view, encode_metrics(self.service.dashboard_metrics(view)))
        return self._metrics[1]

    def decisions_recent(self, limit: int, agent_id: str | None) -> bytes | None:
        """From memory, encoded once per change of the ring; None: ask the database."""
        ring = self.service.decisions_ring(agent_id)
        if ring is None:
            return None
        if self._decisions[0] != ring.version:
            self._decisions = (ring.version, {})
        bodies = self._decisions[1]
        body = bodies.get((limit, agent_id))
        if body is None:
            held = ring.newest(limit, agent_id)
            if held is None:
                return None
            body = bodies[(limit, agent_id)] = encode_decisions(held)
        return body


_BODIES: WeakKeyDictionary[Service, Bodies] = WeakKeyDictionary()


def of(service: Service) -> Bodies:
    """The service's read model, made at its first read; it goes with the service."""
    bodies = _BODIES.get(service)
    if bodies is None:
        bodies = _BODIES[service] = Bodies(service)
    return bodies
