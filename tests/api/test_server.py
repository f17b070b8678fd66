"""A real uvicorn process and real WebSocket clients: handshakes, close codes, cadences, limits."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.api.server import Server, close_code
from tests.api.support import fast_env, wait_until

WS = "/api/dashboard/ws"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("server")
    srv = Server(fast_env(home), home / "server.log").start()
    yield srv
    srv.stop()


async def messages(ws: ClientConnection, kind: str, n: int) -> list[dict]:
    out: list[dict] = []
    async with asyncio.timeout(20):
        while len(out) < n:
            message = json.loads(await ws.recv())
            if message["type"] == kind:
                out.append(message)
    return out


def test_a_real_client_sees_4004_for_an_unknown_agent(server: Server) -> None:
    async def scenario() -> tuple[int | None, str]:
        async with connect(f"{server.ws}{WS}/agents/nobody/status") as ws:
            return await close_code(ws)

    code, reason = asyncio.run(scenario())
    assert code == 4004
    assert "unknown agent 'nobody'" in reason


def test_each_stream_keeps_its_configured_cadence_over_a_real_socket(server: Server) -> None:
    async def scenario() -> dict[str, list[dict]]:
        async with (
            connect(f"{server.ws}{WS}/live-updates") as live,
            connect(f"{server.ws}{WS}/agents/pricing_agent/status") as agent,
            connect(f"{server.ws}{WS}/metrics/real-time") as metrics,
        ):
            firsts = [json.loads(await ws.recv())["type"] for ws in (live, agent, metrics)]
            assert firsts == ["connection_established", "agent_status", "metrics_stream"]
            got = await asyncio.gather(
                messages(live, "metrics_update", 3),
                messages(agent, "agent_status_update", 3),
                messages(metrics, "metrics_update", 3),
            )
        return dict(zip(("live", "agent", "metrics"), got))

    got = asyncio.run(scenario())
    for name, interval in (("live", 0.2), ("agent", 0.15), ("metrics", 0.1)):
        seqs = [m["seq"] for m in got[name]]
        assert seqs == sorted(set(seqs)), name
        # on the schedule start + seq x interval: a tick late by more than an interval on a
        # loaded machine is skipped (seq jumps), never shifted
        gaps = [b["tick"] - a["tick"] for a, b in zip(got[name], got[name][1:])]
        steps = [b - a for a, b in zip(seqs, seqs[1:])]
        assert gaps == pytest.approx([interval * k for k in steps]), name


def test_an_intervention_reaches_every_live_client(server: Server) -> None:
    async def scenario() -> tuple[dict, list[dict]]:
        clients = [await connect(f"{server.ws}{WS}/live-updates") for _ in range(3)]
        for ws in clients:
            await ws.recv()
        async with httpx.AsyncClient(base_url=server.http) as http:
            r = await http.post(
                "/api/dashboard/agents/inventory_agent/intervention",
                json={
                    "agent_id": "inventory_agent",
                    "action": "pause",
                    "parameters": {},
                    "reason": "broadcast to all",
                },
            )
            await http.post(
                "/api/dashboard/agents/inventory_agent/intervention",
                json={"action": "resume", "reason": "undo"},
            )
        got = [(await messages(ws, "agent_intervention", 1))[0] for ws in clients]
        for ws in clients:
            await ws.close()
        return r.json(), got

    answer, got = asyncio.run(scenario())
    assert answer["success"] is True
    assert {m["intervention_id"] for m in got} == {answer["intervention_id"]}
    assert all(m["reason"] == "broadcast to all" and m["action"] == "pause" for m in got)


def test_pause_and_override_change_what_the_served_store_does(server: Server) -> None:
    api = f"{server.http}/api/dashboard"

    def current() -> dict:
        return httpx.get(f"{api}/metrics/current").json()

    def pricing() -> dict:
        return current()["agent_statuses"][0]

    wait_until(lambda: pricing()["decisions_count"] > 0, what="a pricing decision")
    r = httpx.post(
        f"{api}/agents/pricing_agent/intervention",
        json={"action": "pause", "reason": "over a real socket"},
    )
    assert r.status_code == 200 and pricing()["status"] == "paused"
    count, before = pricing()["decisions_count"], current()
    wait_until(lambda: current()["day"] >= before["day"] + 3, what="three more days")
    assert pricing()["decisions_count"] == count  # no pricing decisions
    assert current()["system_metrics"]["total_revenue"] > before["system_metrics"]["total_revenue"]
    row = httpx.get(f"{api}/store/skus").json()[1]
    price = round(row["price"] * 0.8, 2)
    r = httpx.post(
        f"{api}/agents/pricing_agent/intervention",
        json={
            "action": "override",
            "reason": "match a competitor",
            "parameters": {"sku": row["sku"], "price": price, "hold_days": 2},
        },
    )
    assert r.status_code == 200
    served = {x["sku"]: x for x in httpx.get(f"{api}/store/skus").json()}[row["sku"]]
    assert served["price"] == price
    httpx.post(
        f"{api}/agents/pricing_agent/intervention", json={"action": "resume", "reason": "done"}
    )


def test_the_101st_connection_from_one_address_is_closed_1008(server: Server) -> None:
    url = f"{server.ws}{WS}/metrics/real-time"

    async def scenario() -> tuple[tuple[int | None, str], str]:
        first = [await connect(url, local_addr=("127.0.0.3", 0)) for _ in range(100)]
        extra = await connect(url, local_addr=("127.0.0.3", 0))
        refused = await close_code(extra)
        async with connect(url, local_addr=("127.0.0.4", 0)) as other:
            other_first = json.loads(await other.recv())["type"]
        await asyncio.gather(*(ws.close() for ws in first))
        return refused, other_first

    (code, reason), other_first = asyncio.run(scenario())
    assert code == 1008
    assert "too many connections from 127.0.0.3" in reason
    assert other_first == "metrics_stream"  # other addresses unaffected


def test_more_than_ten_messages_a_second_is_closed_1008(server: Server) -> None:
    async def scenario() -> tuple[int | None, str]:
        async with connect(f"{server.ws}{WS}/live-updates") as ws:
            for _ in range(15):
                await ws.send('{"type": "ping"}')
            return await close_code(ws)

    code, reason = asyncio.run(scenario())
    assert code == 1008 and "at most 10 per second" in reason


def test_a_frame_over_64_kib_is_closed_1009(server: Server) -> None:
    async def scenario() -> tuple[tuple[int | None, str], str]:
        async with connect(f"{server.ws}{WS}/live-updates") as ok:
            await ok.recv()
            await ok.send(json.dumps({"type": "ping", "pad": "x" * 60_000}))  # under the limit
            pong = (await messages(ok, "pong", 1))[0]["type"]
        async with connect(f"{server.ws}{WS}/live-updates") as ws:
            await ws.send("x" * (64 * 1024 + 1))
            return await close_code(ws), pong

    (code, reason), pong = asyncio.run(scenario())
    assert pong == "pong"
    assert code == 1009 and "expected at most 65536 bytes, got 65537" in reason


def stalled_socket(port: int) -> socket.socket:
    """A client socket that takes almost nothing off the wire once its reader stops."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
    sock.setsockopt(
        socket.IPPROTO_TCP, socket.TCP_MAXSEG, 536
    )  # keeps the server's send buffer small
    sock.connect(("127.0.0.1", port))
    return sock


def test_a_stalled_client_is_closed_1013_while_the_others_get_every_message(tmp_path: Path) -> None:
    env = fast_env(tmp_path, AUTOOPS_LIVE_INTERVAL="0.01", AUTOOPS_WS_OUTBOX_SIZE="64")
    srv = Server(env, tmp_path / "server.log").start()

    async def scenario() -> tuple[tuple[int | None, str], list[list[int]]]:
        url = f"{srv.ws}{WS}/live-updates"
        healthy = [await connect(url) for _ in range(2)]
        seqs: list[list[int]] = [[], []]

        async def keep_reading(ws: ClientConnection, out: list[int]) -> None:
            async for raw in ws:
                message = json.loads(raw)
                if message["type"] == "metrics_update":
                    out.append(message["seq"])

        readers = [asyncio.create_task(keep_reading(ws, out)) for ws, out in zip(healthy, seqs)]
        stalled = await connect(url, sock=stalled_socket(srv.port), max_queue=1)
        while "1013" not in srv.tail():  # the server gave up on it
            await asyncio.sleep(0.1)
        during = len(seqs[0])
        while len(seqs[0]) < during + 30 or len(seqs[1]) < during + 30:  # and after it
            await asyncio.sleep(0.05)
        for reader in readers:
            reader.cancel()
        for ws in healthy:
            await ws.close()
        return await close_code(stalled, timeout=30), seqs

    try:
        (code, reason), (a, b) = asyncio.run(asyncio.wait_for(scenario(), 60))
    finally:
        srv.stop()
    assert code == 1013 and "client too slow" in reason
    common = max(a[0], b[0])
    end = min(a[-1], b[-1])
    # Both healthy clients got every message the server sent while the stalled one backed up.
    assert [s for s in a if common <= s <= end] == [s for s in b if common <= s <= end]
    assert a == sorted(set(a)) and len([s for s in a if common <= s <= end]) >= 30


def test_shutdown_closes_every_client_with_1001(tmp_path: Path) -> None:
    srv = Server(fast_env(tmp_path), tmp_path / "server.log").start()

    async def scenario() -> list[tuple[int | None, str]]:
        paths = ("live-updates", "metrics/real-time", "agents/promotion_agent/status")
        clients = [await connect(f"{srv.ws}{WS}/{p}") for p in paths]
        for ws in clients:
            await ws.recv()
        assert srv.proc is not None
        srv.proc.terminate()
        return list(await asyncio.gather(*(close_code(ws) for ws in clients)))

    try:
        codes = asyncio.run(scenario())
    finally:
        srv.stop()
    assert codes == [(1001, "server shutting down")] * 3
    assert "checkpoint written" in srv.tail()


def test_a_peer_that_stops_answering_pings_is_dropped(tmp_path: Path) -> None:
    env = fast_env(tmp_path, UVICORN_WS_PING_INTERVAL="0.5", UVICORN_WS_PING_TIMEOUT="0.5")
    srv = Server(env, tmp_path / "server.log").start()
    gauge = 'autoops_ws_connections{stream="live-updates"}'

    def open_connections() -> float:
        for line in httpx.get(f"{srv.http}/metrics").text.splitlines():
            if line.startswith(gauge):
                return float(line.split()[-1])
        return 0.0

    try:
        with socket.create_connection(("127.0.0.1", srv.port)) as dead:
            dead.sendall(
                b"GET /api/dashboard/ws/live-updates HTTP/1.1\r\nHost: test\r\n"
                b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            )
            assert dead.recv(4096).startswith(b"HTTP/1.1 101")
            assert open_connections() == 1.0
            # The peer never answers a ping from here on, like a machine that went away.
            wait_until(
                lambda: open_connections() == 0.0, timeout=15, what="the dead peer to be dropped"
            )
    finally:
        srv.stop()
