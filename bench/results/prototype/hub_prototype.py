"""Measured proposal for backend/api/hub.py, applied by monkeypatching: a measurement aid, not app code.

PROTO_LEVEL=1: count sends once per broadcast (`labels(stream).inc(n)`) instead of a prometheus
`labels().inc()` per message. PROTO_LEVEL=2: 1 + call the raw ASGI send under Starlette's state
checks. PROTO_LEVEL=3: 1 + eager send: the broadcast runs each client's ASGI send coroutine itself
(uvicorn's send only waits while the transport is paused), and only a send that would wait is
handed to a task, which then drains that client's outbox in order; a full outbox still means 1013.
On Python 3.12 `asyncio.eager_task_factory` gives the same without driving the coroutine by hand.

    PYTHONPATH=bench/results/prototype BENCH_APP_FACTORY=hub_prototype:create_app PROTO_LEVEL=3 \
        python -m bench.fanout --clients 1000 --seconds 30 --sides app --app-env AUTOOPS_DAY_SECONDS=3600
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from backend.api import hub as hubmod
from backend.api import limits
from backend.api.app import create_app

LEVEL = int(os.environ.get("PROTO_LEVEL", "1"))
__all__ = ["create_app"]


def queue_or_close(hub: hubmod.Hub, client: hubmod.Client, text: str) -> None:
    try:
        client.outbox.put_nowait(text)
    except asyncio.QueueFull:
        hub.close(client, limits.SlowConsumer(hub.settings.ws_outbox_size))


def offer_queued(hub: hubmod.Hub, client: hubmod.Client, text: str) -> None:
    if not client.closing:
        queue_or_close(hub, client, text)


async def resume(coro: Any, fut: Any) -> None:
    """Finish a coroutine that yielded `fut`, the way an asyncio Task would."""
    while True:
        try:
            await fut
        except BaseException as exc:
            try:
                fut = coro.throw(exc)
            except StopIteration:
                return
            continue
        try:
            fut = coro.send(None)
        except StopIteration:
            return


async def drain(client: hubmod.Client, coro: Any, fut: Any) -> None:
    try:
        await resume(coro, fut)
        while not client.outbox.empty():
            await client.ws.send_text(client.outbox.get_nowait())
    except Exception:  # the peer left; its reader sees the disconnect
        pass
    finally:
        client.sending = None  # type: ignore[attr-defined]


def offer_eager(hub: hubmod.Hub, client: hubmod.Client, text: str) -> None:
    if client.closing:
        return
    if getattr(client, "sending", None) is not None:  # a send is waiting: keep the order
        queue_or_close(hub, client, text)
        return
    coro = client.ws.send_text(text)
    try:
        fut = coro.send(None)
    except StopIteration:
        return  # sent without waiting: the common case
    except Exception:
        return
    client.sending = asyncio.ensure_future(drain(client, coro, fut))  # type: ignore[attr-defined]


def make_broadcast(offer: Any) -> Any:
    def broadcast(self: hubmod.Hub, stream: str, text: str, agent_id: str | None = None) -> int:
        sent = 0
        for client in list(self.clients):
            if client.stream == stream and (agent_id is None or client.agent_id == agent_id):
                offer(self, client, text)
                sent += 1
        if sent:
            self.telemetry.ws_sent.labels(stream=stream).inc(sent)
        return sent

    return broadcast


async def write_raw(self: hubmod.Hub, client: hubmod.Client) -> None:
    raw = client.ws._send  # the ASGI send under Starlette's state checks
    while True:
        text = await client.outbox.get()
        try:
            await raw({"type": "websocket.send", "text": text})
        except Exception:
            return


async def write_nothing(self: hubmod.Hub, client: hubmod.Client) -> None:
    await asyncio.Event().wait()  # eager sends and drain() do the writing


hubmod.Hub.broadcast = make_broadcast(offer_eager if LEVEL >= 3 else offer_queued)  # type: ignore[method-assign]
if LEVEL == 2:
    hubmod.Hub._write = write_raw  # type: ignore[method-assign]
if LEVEL >= 3:
    hubmod.Hub.offer = offer_eager  # type: ignore[method-assign]  # greetings and pongs too
    hubmod.Hub._write = write_nothing  # type: ignore[method-assign]
