"""Broadcast frames written straight to uvicorn's transport, or through the plain ASGI send on any
other server: real server, real clients, both paths."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.types import Message
from websockets.asyncio.client import ClientConnection, connect

from backend.api import uvicorn_direct
from tests.api.server import Server
from tests.api.support import fast_env

WS = "/api/dashboard/ws"


def direct_count(server: Server) -> float:
    text = httpx.get(f"{server.http}/metrics", timeout=5).text
    found = re.search(r"^autoops_ws_messages_direct_total (\S+)$", text, re.M)
    assert found, "autoops_ws_messages_direct_total missing from /metrics"
    return float(found.group(1))


async def updates(ws: ClientConnection, n: int) -> list[str]:
    """The raw text of the next `n` metrics updates (greetings and pongs skipped)."""
    out: list[str] = []
    async with asyncio.timeout(20):
        while len(out) < n:
            raw = await ws.recv()
            if json.loads(raw)["type"] == "metrics_update":
                out.append(raw)
    return out


async def three_clients(server: Server, compression: str | None) -> tuple[list[list[str]], str]:
    url = f"{server.ws}{WS}/metrics/real-time"
    async with (
        connect(url, compression=compression) as a,
        connect(url, compression=compression) as b,
        connect(url, compression=compression) as c,
    ):
        got = await asyncio.gather(updates(a, 3), updates(b, 3), updates(c, 3))
        # an ASGI send (the pong) after direct frames on the same connection, in order
        await a.send('{"type": "ping"}')
        async with asyncio.timeout(20):
            while (kind := json.loads(await a.recv())["type"]) == "metrics_update":
                pass
    return list(got), kind


def check_consistent(got: list[list[str]]) -> None:
    by_seq: dict[int, set[str]] = {}
    for texts in got:
        seqs = [json.loads(t)["seq"] for t in texts]
        assert seqs == list(range(seqs[0], seqs[0] + 3))  # no gap, no duplicate, in order
        for text in texts:
            by_seq.setdefault(json.loads(text)["seq"], set()).add(text)
    # every subscriber of a tick got the very same message
    assert all(len(texts) == 1 for texts in by_seq.values())


def served(
    tmp_path: Path, compression: str | None, args: tuple[str, ...] = ()
) -> tuple[list[list[str]], str, float, float]:
    """Three clients on a real server started with `args`: what they got, the reply to a ping,
    and the direct-write count before and after."""
    server = Server(fast_env(tmp_path), tmp_path / "server.log", args=args).start()
    try:
        before = direct_count(server)
        got, reply = asyncio.run(three_clients(server, compression))
        after = direct_count(server)
    finally:
        server.stop()
    check_consistent(got)
    return got, reply, before, after


def test_procfile_server_writes_each_broadcast_as_one_frame_for_all(tmp_path: Path) -> None:
    _, reply, before, after = served(tmp_path, compression=None)
    assert reply == "pong"
    assert after - before >= 9  # the nine updates above, at least, went the direct way


def test_with_per_message_deflate_every_message_goes_through_the_asgi_send(tmp_path: Path) -> None:
    _, reply, _, direct = served(tmp_path, "deflate", ("--ws-per-message-deflate", "true"))
    assert reply == "pong"
    assert direct == 0  # a negotiated extension rules the shared frame out


def test_on_another_websocket_implementation_the_plain_asgi_path_serves_the_same(
    tmp_path: Path,
) -> None:
    # uvicorn's other websockets protocol is not the one the adapter knows: every frame goes
    # through the ASGI send, and the streams behave the same
    _, reply, _, direct = served(tmp_path, None, ("--ws", "websockets"))
    assert reply == "pong"
    assert direct == 0


def test_the_adapter_answers_none_for_any_send_it_does_not_know(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def send(message: Message) -> None:  # a plain ASGI send, as any server has
        pass

    assert uvicorn_direct.writer_for(send) is None

    class Protocol:  # a bound send whose owner is not uvicorn's sans-I/O protocol
        async def send(self, message: Message) -> None:
            pass

    assert uvicorn_direct.writer_for(Protocol().send) is None
    # and with uvicorn's protocol unavailable (another server installed), never a writer
    monkeypatch.setattr(uvicorn_direct, "WebSocketsSansIOProtocol", None)
    assert uvicorn_direct.writer_for(Protocol().send) is None


def test_after_the_handshake_the_adapter_keeps_only_what_is_read_later() -> None:
    # a real uvicorn (the Procfile's protocol) in this process, so that its connection can be
    # looked at: what the handshake left is dropped, the session goes on as before
    import uvicorn

    seen: dict[str, object] = {}

    async def app(scope: dict, receive: Any, send: Any) -> None:
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept"})
        writer = uvicorn_direct.writer_for(send)
        assert writer is not None
        request = writer.proto.request
        writer.release_handshake()
        seen["request_headers"] = len(request.headers)
        seen["keys"] = set(writer.proto.scope)
        seen["request"], seen["response"] = writer.proto.request, writer.proto.response
        writer.write(uvicorn_direct.text_frame("direct"))
        await send({"type": "websocket.send", "text": "through send"})
        seen["last"] = await receive()

    async def run() -> list[str]:
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=0,
            ws="websockets-sansio",
            lifespan="off",
            log_level="warning",
        )
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        async with asyncio.timeout(20):
            while not server.started:
                await asyncio.sleep(0.01)
            port = server.servers[0].sockets[0].getsockname()[1]
            async with connect(f"ws://127.0.0.1:{port}/a/path?since=3", compression=None) as ws:
                got = [str(await ws.recv()), str(await ws.recv())]
            while "last" not in seen:
                await asyncio.sleep(0.01)
            server.should_exit = True
            await task
        return got

    assert asyncio.run(run()) == ["direct", "through send"]
    assert seen["request"] is None and seen["response"] is None
    assert seen["request_headers"] == 0  # emptied: websockets' parser still holds the request
    keys = seen["keys"]
    assert isinstance(keys, set)
    assert not keys & set(uvicorn_direct.RELEASED_SCOPE_KEYS)
    assert {"client", "path", "query_string"} <= keys  # read by uvicorn's log and the hub
    assert seen["last"] == {"type": "websocket.disconnect", "code": 1000, "reason": ""}
