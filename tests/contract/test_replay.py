"""A resuming client behind a paused transport gets its whole replay; the outbox bound still
applies to what comes live after it."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace

from backend.api import limits
from backend.api.hub import LIVE, Client, Hub
from backend.config import Settings
from backend.runner.telemetry import Telemetry
from tests.api.test_hub_eager import FakeSend


def test_a_replay_larger_than_the_outbox_is_queued_whole_then_the_bound_applies() -> None:
    async def scenario() -> None:
        view = SimpleNamespace(active_alerts_count=0)
        service = SimpleNamespace(epoch=5, view=lambda: view)
        hub = Hub(Settings(ws_outbox_size=3), service, bus=None, telemetry=Telemetry())  # type: ignore[arg-type]
        for offset in range(1, 21):
            hub.history.add(5, offset, json.dumps({"offset": offset}))
        ws = FakeSend()
        ws.gate = asyncio.Event()  # the transport is paused from the first send
        client = Client(ws, "127.0.0.1", LIVE, None, limits.TokenBucket(10))
        hub._register(client)
        hub._greet(client, "5:2")
        assert not client.closing and client.queued == 18  # 18 replayed behind the greeting
        for n in range(3):
            hub.broadcast(LIVE, f"live {n}")
        assert not client.closing  # three live ones fit the outbox on top of the replay
        hub.broadcast(LIVE, "one too many")
        assert client.closing
        ws.gate.set()
        await asyncio.gather(client.close_task, return_exceptions=True)

    asyncio.run(scenario())
