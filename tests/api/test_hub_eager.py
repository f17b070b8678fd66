"""The hub sends straight from the broadcast when a client is caught up, queues behind a waiting send."""

from __future__ import annotations

import asyncio
from typing import Any

from backend.api import limits
from backend.api.hub import METRICS, Client, Hub
from backend.config import Settings
from backend.runner.telemetry import Telemetry


class FakeSend:
    """A raw ASGI `send` that records texts; while `gate` is set, each text send waits for it (a
    paused transport). Not uvicorn's, so the hub takes the ASGI path, never the direct write."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.gate: asyncio.Event | None = None
        self.closed_with: int | None = None

    async def __call__(self, message: dict[str, Any]) -> None:
        if message["type"] == "websocket.close":
            self.closed_with = message["code"]
            return
        if self.gate is not None:
            await self.gate.wait()
        self.sent.append(message["text"])


def make(outbox: int = 3) -> tuple[Hub, Client, FakeSend]:
    settings = Settings(ws_outbox_size=outbox)
    hub = Hub(settings, service=None, bus=None, telemetry=Telemetry())  # type: ignore[arg-type]
    ws = FakeSend()
    client = Client(ws, "127.0.0.1", METRICS, None, limits.TokenBucket(10))
    assert client.direct is None
    hub._register(client)
    return hub, client, ws


def test_a_caught_up_client_is_sent_to_without_a_task_or_the_outbox() -> None:
    async def scenario() -> None:
        hub, client, ws = make()
        assert hub.broadcast(METRICS, "a") == 1 and hub.broadcast(METRICS, "b") == 1
        assert ws.sent == ["a", "b"] and client.writer is None and client.queued == 0

    asyncio.run(scenario())


def test_a_send_that_waits_keeps_the_order_and_the_client_catches_up_after() -> None:
    async def scenario() -> None:
        hub, client, ws = make()
        ws.gate = asyncio.Event()
        for text in ("1", "2", "3"):
            hub.broadcast(METRICS, text)
        assert ws.sent == [] and client.writer is not None and client.queued == 2
        ws.gate.set()
        await asyncio.wait_for(client.writer, 1)
        assert ws.sent == ["1", "2", "3"] and client.writer is None
        ws.gate = None
        hub.broadcast(METRICS, "4")
        assert ws.sent[-1] == "4"

    asyncio.run(scenario())


def test_a_client_behind_by_a_full_outbox_is_closed_with_1013() -> None:
    async def scenario() -> None:
        hub, client, ws = make(outbox=2)
        ws.gate = asyncio.Event()
        for text in ("1", "2", "3", "4"):
            hub.broadcast(METRICS, text)
        assert client.close_task is not None
        await asyncio.wait_for(client.close_task, 1)
        assert ws.closed_with == 1013 and client.writer is None
        assert hub.broadcast(METRICS, "5") == 0 and ws.sent == []  # closing: offered nothing

    asyncio.run(scenario())
