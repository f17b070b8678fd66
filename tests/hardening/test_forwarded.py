"""The per-address limit counts the socket peer, or X-Forwarded-For only from a trusted proxy."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.api.server import Server, close_code
from tests.api.support import fast_env

URL = "/api/dashboard/ws/metrics/real-time"
PROXY = "127.0.0.5"  # the trusted proxy
STRANGER = "127.0.0.6"  # a peer that is not a proxy and forges the header


async def open_from(srv: Server, peer: str, forwarded: str | None) -> ClientConnection:
    headers = {"X-Forwarded-For": forwarded} if forwarded else None
    return await connect(f"{srv.ws}{URL}", local_addr=(peer, 0), additional_headers=headers)


async def outcome(ws: ClientConnection) -> tuple[int | None, str]:
    """(None, first message type) if served, else the close code and reason."""
    try:
        first = json.loads(await ws.recv())
    except ConnectionClosed as closed:
        return (closed.rcvd.code, closed.rcvd.reason) if closed.rcvd else (None, "")
    if first.get("type") == "metrics_stream":
        await ws.close()
        return None, first["type"]
    return await close_code(ws)


def audit_client(srv: Server, peer: str, forwarded: str) -> str:
    transport = httpx.HTTPTransport(local_address=peer)
    with httpx.Client(base_url=srv.http, transport=transport, timeout=10) as http:
        r = http.post(
            "/api/dashboard/agents/pricing_agent/intervention",
            json={"action": "resume", "reason": f"from {peer} as {forwarded}"},
            headers={"X-Forwarded-For": forwarded},
        )
        assert r.status_code == 200
        return http.get("/api/dashboard/interventions", params={"limit": 1}).json()[0]["client"]


def test_forwarded_headers_are_ignored_unless_the_peer_is_a_trusted_proxy(tmp_path: Path) -> None:
    env = fast_env(tmp_path, AUTOOPS_WS_MAX_CONNECTIONS_PER_IP="2")  # no trusted proxies
    srv = Server(env, tmp_path / "server.log").start()

    async def scenario() -> tuple[int | None, str]:
        kept = [await open_from(srv, STRANGER, f"10.9.0.{i}") for i in range(2)]
        for ws in kept:
            await ws.recv()
        third = await open_from(srv, STRANGER, "10.9.0.99")  # a fresh forged address each time
        result = await outcome(third)
        await asyncio.gather(*(ws.close() for ws in kept))
        return result

    try:
        code, reason = asyncio.run(scenario())
        client = audit_client(srv, STRANGER, "10.9.9.9")
    finally:
        srv.stop()
    assert code == 1008 and f"too many connections from {STRANGER}" in reason
    assert client == STRANGER


def test_a_trusted_proxy_is_counted_by_the_forwarded_client_address(tmp_path: Path) -> None:
    env = fast_env(
        tmp_path,
        AUTOOPS_WS_MAX_CONNECTIONS_PER_IP="2",
        AUTOOPS_TRUSTED_PROXIES=f"{PROXY},10.255.0.0/16",
    )
    srv = Server(env, tmp_path / "server.log").start()

    async def scenario() -> dict[str, tuple[int | None, str]]:
        # Two clients behind the proxy fill client A's quota; B (behind the same proxy) is fine.
        # A spoofed left-most hop is ignored: the right-most untrusted hop is the client.
        kept = [
            await open_from(srv, PROXY, "10.1.0.1"),
            await open_from(srv, PROXY, "6.6.6.6, 10.1.0.1, 10.255.0.7"),
        ]
        for ws in kept:
            await ws.recv()
        got = {
            "a third from A": await outcome(await open_from(srv, PROXY, "10.1.0.1")),
            "B via the proxy": await outcome(await open_from(srv, PROXY, "10.1.0.2")),
            "forged by a stranger": await outcome(await open_from(srv, STRANGER, "10.1.0.1")),
        }
        await asyncio.gather(*(ws.close() for ws in kept))
        return got

    try:
        got = asyncio.run(scenario())
        client = audit_client(srv, PROXY, "10.1.0.3")
    finally:
        srv.stop()
    assert got["a third from A"][0] == 1008
    assert "too many connections from 10.1.0.1" in got["a third from A"][1]
    assert got["B via the proxy"] == (None, "metrics_stream")
    assert got["forged by a stranger"] == (None, "metrics_stream")  # counted as 127.0.0.6
    assert client == "10.1.0.3"
