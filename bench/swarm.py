"""One process of the fan-out swarm: asyncio `websockets` clients that time every periodic message.

The parent hands each process a WorkerSpec over a pipe, waits for ("ready", ...), then sends the
measurement window (t0, t1, t_end) on time.monotonic(), which is system-wide on Linux so the
server's `tick` and a client's receive time are on one clock. A message counts when its tick lies
in [t0, t1]; its delay is receive time minus tick. Connections stay open until t_end.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import orjson
from websockets.client import ClientProtocol
from websockets.frames import Opcode
from websockets.http11 import Response
from websockets.uri import parse_uri

from bench.harness import raise_nofile

log = logging.getLogger(__name__)

IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)
OPEN_TIMEOUT = 20.0  # seconds for one TCP connect plus WebSocket handshake
STALLED_RCVBUF = 4096  # bytes; the kernel doubles it, so a stalled reader backs up within a few KiB


@dataclass(frozen=True)
class ConnSpec:
    client: int  # index of the swarm member this connection belongs to
    path: str  # e.g. /api/dashboard/ws/metrics/real-time
    address: str  # source address on 127.0.0.0/8
    stalled: bool  # connects, then never reads


@dataclass(frozen=True)
class WorkerSpec:
    host: str
    port: int
    conns: list[ConnSpec]
    connect_concurrency: int = 64
    connect_deadline: float = 60.0  # seconds from the worker's start to give up on the rest


@dataclass
class ConnRecord:
    spec: ConnSpec
    connected: bool = False
    error: str = ""
    close_code: int | None = None
    closed_at: float | None = None
    seqs: list[int] = field(default_factory=list)
    delays: list[float] = field(default_factory=list)
    duplicates: int = 0


def stamp_of(message: Any) -> tuple[int | None, float | None]:
    """(seq, tick) of a server message, at the top level or inside `data`; None where absent."""
    if not isinstance(message, dict):
        return None, None
    seq, tick = message.get("seq"), message.get("tick")
    if tick is None and isinstance(message.get("data"), dict):
        seq, tick = message["data"].get("seq"), message["data"].get("tick")
    if not isinstance(tick, (int, float)) or not isinstance(seq, int):
        return None, None
    return seq, float(tick)


class WsClient(asyncio.Protocol):
    """A WebSocket client on websockets' sans-I/O ClientProtocol under a bare asyncio Protocol.

    The asyncio connection layer of websockets costs tens of microseconds per message, which on a
    2-core machine would measure the swarm rather than the server; the sans-I/O parser costs about
    4. The receive time is taken when the bytes reach the process, before any parsing.
    """

    def __init__(self, swarm: Swarm, rec: ConnRecord, uri: str) -> None:
        self.swarm, self.rec = swarm, rec
        self.proto = ClientProtocol(parse_uri(uri), max_size=2**22)
        loop = asyncio.get_running_loop()
        self.opened: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()
        self.transport: asyncio.Transport | None = None
        self.fragments: list[bytes] = []
        self.seen: set[int] = set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.proto.send_request(self.proto.connect())
        self.flush()

    def flush(self) -> None:
        assert self.transport is not None
        for chunk in self.proto.data_to_send():
            if chunk:
                self.transport.write(chunk)
            elif self.transport.can_write_eof():
                self.transport.write_eof()

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        self.proto.receive_data(data)
        for event in self.proto.events_received():
            if isinstance(event, Response):
                if self.proto.handshake_exc is not None:
                    self.fail(self.proto.handshake_exc)
                elif not self.opened.done():
                    self.opened.set_result(None)
                    if self.rec.spec.stalled:  # from here on the kernel buffers fill up
                        self.transport.pause_reading()  # type: ignore[union-attr]
            elif event.opcode in (Opcode.TEXT, Opcode.CONT):
                self.fragments.append(event.data)
                if event.fin:
                    self.on_message(now, b"".join(self.fragments))
                    self.fragments.clear()
        self.flush()  # pongs and the closing handshake

    def eof_received(self) -> bool | None:
        self.proto.receive_eof()
        self.flush()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.fail(exc or ConnectionError("closed during the handshake"))
        self.rec.close_code = self.proto.close_code if self.proto.close_code is not None else 1006
        self.rec.closed_at = time.monotonic()
        if not self.closed.done():
            self.closed.set_result(None)

    def fail(self, exc: BaseException) -> None:
        if not self.opened.done():
            self.opened.set_exception(exc)
        if self.transport is not None:
            self.transport.abort()

    def on_message(self, now: float, raw: bytes) -> None:
        window = self.swarm.window
        if window is None or now > window[2]:
            return
        seq, tick = stamp_of(orjson.loads(raw))
        if tick is None or seq is None or not window[0] <= tick <= window[1]:
            return
        if seq in self.seen:
            self.rec.duplicates += 1
            return
        self.seen.add(seq)
        self.rec.seqs.append(seq)
        self.rec.delays.append(now - tick)


class Swarm:
    def __init__(self, spec: WorkerSpec) -> None:
        self.spec = spec
        self.records = [ConnRecord(c) for c in spec.conns]
        self.window: tuple[float, float, float] | None = None
        self.clients: list[WsClient] = []

    async def open_socket(self, conn: ConnSpec) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setblocking(False)
            with contextlib.suppress(OSError):  # lets the kernel pick the port at connect time
                sock.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
            if conn.stalled:  # must precede connect() to shrink the advertised window
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, STALLED_RCVBUF)
            sock.bind((conn.address, 0))
            await asyncio.get_running_loop().sock_connect(sock, (self.spec.host, self.spec.port))
        except BaseException:
            sock.close()
            raise
        return sock

    async def open(self, rec: ConnRecord, gate: asyncio.Semaphore) -> None:
        uri = f"ws://{self.spec.host}:{self.spec.port}{rec.spec.path}"
        loop = asyncio.get_running_loop()
        async with gate:
            try:
                sock = await asyncio.wait_for(self.open_socket(rec.spec), OPEN_TIMEOUT)
                _, client = await loop.create_connection(
                    lambda: WsClient(self, rec, uri), sock=sock
                )
                self.clients.append(client)
                await asyncio.wait_for(asyncio.shield(client.opened), OPEN_TIMEOUT)
            except Exception as exc:  # any failure to open: this connection is not held
                rec.error = f"{type(exc).__name__}: {exc}"[:200]
                return
        rec.connected = True

    async def run(self, pipe: Connection) -> None:
        loop = asyncio.get_running_loop()
        gate = asyncio.Semaphore(self.spec.connect_concurrency)
        tasks = [asyncio.create_task(self.open(r, gate)) for r in self.records]
        deadline = time.monotonic() + self.spec.connect_deadline
        while time.monotonic() < deadline and not all(r.connected or r.error for r in self.records):
            await asyncio.sleep(0.1)
        for rec in self.records:  # the ones still connecting after the deadline were not held
            if not rec.connected and not rec.error:
                rec.error = "connect deadline passed"
        pipe.send(("ready", sum(r.connected for r in self.records), len(self.records)))
        window = await loop.run_in_executor(None, pipe.recv)
        self.window = tuple(window)  # type: ignore[assignment]
        cpu0 = time.process_time()
        await asyncio.sleep(max(0.0, self.window[2] - time.monotonic()))
        cpu = time.process_time() - cpu0
        stalled = [c for c in self.clients if c.rec.spec.stalled and c.transport is not None]
        for client in stalled:  # read again: a close the server sent meanwhile is seen only now
            if not client.transport.is_closing():  # type: ignore[union-attr]
                client.transport.resume_reading()  # type: ignore[union-attr]
        if stalled:
            await asyncio.sleep(1.0)
        pipe.send(("result", self.result(cpu)))
        for client in self.clients:  # drop, not close: the server is stopped right after
            if client.transport is not None:
                client.transport.abort()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def result(self, cpu_seconds: float) -> dict[str, Any]:
        t_end = self.window[2] if self.window else time.monotonic()
        conns = []
        for r in self.records:
            # a stalled reader learns of a close only when it reads again, after t_end
            early_close = (
                r.connected and r.closed_at is not None and (r.closed_at <= t_end or r.spec.stalled)
            )
            conns.append(
                {
                    "client": r.spec.client,
                    "path": r.spec.path,
                    "stalled": r.spec.stalled,
                    "connected": r.connected,
                    "error": r.error,
                    "closed": early_close,
                    "close_code": r.close_code if early_close else None,
                    "seqs": r.seqs,
                    "delays": r.delays,
                    "duplicates": r.duplicates,
                }
            )
        return {"conns": conns, "cpu_seconds": cpu_seconds}


def worker_main(spec: WorkerSpec, pipe: Connection) -> None:
    """Process entry point: run one share of the swarm and report through the pipe."""
    raise_nofile()
    logging.getLogger("websockets").setLevel(logging.CRITICAL)
    try:
        import uvloop
    except ImportError:
        asyncio.run(Swarm(spec).run(pipe))
    else:
        uvloop.run(Swarm(spec).run(pipe))
