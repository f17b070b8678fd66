"""One hub for the three streams: frames written once per broadcast, a bounded outbox and writer only
when a client is behind, the connection limits."""

from __future__ import annotations

import asyncio
import gc
import itertools
import logging
import time
from collections import Counter, deque
from collections.abc import Callable
from types import CoroutineType
from typing import Any
from urllib.parse import urlsplit

import orjson
from pydantic import BaseModel, ValidationError
from starlette.datastructures import Headers, QueryParams
from starlette.requests import HTTPConnection
from starlette.types import Receive, Scope, Send

from backend import schemas
from backend.api import access, limits
from backend.api.errors import close_code_for, close_reason
from backend.api.gcfreeze import FrozenConnections
from backend.api.resume import BadCursor, History, parse_cursor
from backend.api.uvicorn_direct import text_frame, writer_for
from backend.auth import Principal
from backend.bus import Bus, Subscription
from backend.bus.counts import SharedCounts
from backend.config import Settings
from backend.errors import AutoOpsError, NotAuthenticated, UnknownAgent
from backend.runner import Service, events_channel
from backend.runner.errors import NotReady
from backend.runner.loop import utcnow
from backend.runner.telemetry import Telemetry

log = logging.getLogger(__name__)

LIVE, AGENT, METRICS = "live-updates", "agent-status", "metrics-real-time"
# At most this long a leader's frame waits for the bus to reach Redis (about a round trip on a
# LAN) before the leader sends it to its own clients; a slow or absent Redis delays no more.
HANDOVER_S = 0.02
STATE = "state"  # a leader frame that tells followers the store's state changed (not for clients)
_ids = itertools.count(1)


def frames_channel(settings: Settings) -> str:
    """The bus channel of the leader's stream frames."""
    return f"{settings.bus_namespace}:frames"


def dump(message: BaseModel | dict[str, Any]) -> str:
    """Serialise once; the same text goes to every client of a broadcast."""
    data = message.model_dump(mode="json") if isinstance(message, BaseModel) else message
    return orjson.dumps(data).decode()


class Client:
    """One subscriber: the raw ASGI `send`, and a `DirectWriter` when frames may be written directly."""

    __slots__ = (
        "send",
        "direct",
        "ip",
        "stream",
        "agent_id",
        "bucket",
        "id",
        "outbox",
        "writer",
        "close_task",
        "task",
        "reading",
        "abandoned",
        "expires",
        "backlog",
    )

    def __init__(
        self, send: Send, ip: str, stream: str, agent_id: str | None, bucket: limits.TokenBucket
    ) -> None:
        self.send = send
        self.direct = writer_for(send)
        self.ip, self.stream, self.agent_id, self.bucket = ip, stream, agent_id, bucket
        self.id = next(_ids)
        # Messages behind a send that had to wait; made on first use (most clients never need it).
        self.outbox: deque[str] | None = None
        # The send in flight that had to wait (transport paused), then drains the outbox; None when
        # caught up, and the next message is sent straight from whoever offers it.
        self.writer: asyncio.Task[None] | None = None
        self.close_task: asyncio.Task[None] | None = None
        self.task: asyncio.Task[Any] | None = None  # the connection's own task (uvicorn's run_asgi)
        self.reading = False  # the connection's task is waiting for the peer in `Hub._read`
        self.abandoned = False  # the hub cancelled that wait after closing the client
        self.expires: float | None = None  # the token's expiry (Unix seconds) when auth is on
        self.backlog = 0  # events replayed at connect: room in the outbox on top of its size

    @property
    def closing(self) -> bool:
        return self.close_task is not None

    @property
    def queued(self) -> int:
        return len(self.outbox) if self.outbox is not None else 0


class Hub:
    def __init__(
        self, settings: Settings, service: Service, bus: Bus, telemetry: Telemetry
    ) -> None:
        self.settings = settings
        self.service = service
        self.bus = bus
        self.telemetry = telemetry
        self.clients: set[Client] = set()
        # (stream, agent_id or None) -> its subscribers, so a broadcast walks only its own
        self.subscribers: dict[tuple[str, str | None], set[Client]] = {}
        self.per_ip: Counter[str] = Counter()
        self.shutting_down = False
        self.gc = FrozenConnections(settings.gc_collect_share)
        self._tasks: list[asyncio.Task[None]] = []
        self._events: Subscription | None = None
        # With replicas the leader's cadences drive every replica's streams: it publishes each
        # frame on the bus ({ns}:frames) with its epoch and a counter, and followers relay the
        # same text to their own clients. Alone, this process is the leader and publishes nothing.
        self.replicated = settings.replicated
        self.leading = not self.replicated
        self._frames: Subscription | None = None
        # A leader's cadence frames wait here while the bus hands them to the followers, so the
        # followers' clients do not wait behind this process's own fan-out.
        self._outgoing: list[tuple[str, str, str | None]] = []
        self._published = 0  # frames this leader published under its epoch
        self._epoch_seen = 0  # the newest epoch whose frames were relayed (or published)
        self._last_n = 0
        self._ticks: dict[str, int] = {}  # each cadence's tick count since this process started
        self._seq_offset: dict[str, int] = {}  # so a new leader's seq continues the old one's
        self._relayed: dict[str, tuple[int, float]] = {}  # stream -> (last seq, when relayed)
        self._counts: SharedCounts | None = None  # the per-address cap across replicas
        self.history = History(settings.ws_history_size)

    @property
    def epoch(self) -> int:
        return self.service.epoch

    # ---- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        s = self.settings
        self.leading = self.service.leadership.leading or not self.replicated
        self._events = await self.bus.subscribe(events_channel(self.settings))
        self._tasks = [
            asyncio.create_task(self._fan_out_events(self._events), name="hub:events"),
            asyncio.create_task(
                self._cadence(LIVE, s.live_interval, self._emit_live), name="hub:live"
            ),
            asyncio.create_task(
                self._cadence(AGENT, s.agent_interval, self._emit_agents), name="hub:agents"
            ),
            asyncio.create_task(
                self._cadence(METRICS, s.metrics_interval, self._emit_metrics), name="hub:metrics"
            ),
        ]
        if self.replicated:
            self._frames = await self.bus.subscribe(frames_channel(s))
            self._tasks += [
                asyncio.create_task(self._relay(self._frames), name="hub:relay"),
            ]
            callbacks = getattr(self.bus, "on_reconnect", None)
            if callbacks is not None:
                callbacks.append(self._gap)
            shared_counts = getattr(self.bus, "shared_counts", None)
            if shared_counts is not None:
                self._counts = shared_counts(s.bus_namespace, s.instance_id)
                self._tasks.append(
                    asyncio.create_task(self._counts.keep_published(self.per_ip), name="hub:counts")
                )
        if s.auth == "jwt":
            self._tasks.append(
                asyncio.create_task(
                    self._expire_tokens(s.ws_token_check_interval), name="hub:tokens"
                )
            )
        if s.gc_freeze_interval > 0:
            self.gc.freeze(len(self.clients))  # what start-up built lives as long as the process
            self._tasks.append(
                asyncio.create_task(self._keep_frozen(s.gc_freeze_interval), name="hub:gc")
            )

    async def stop(self) -> None:
        await self.close_all()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for subscription in (self._events, self._frames):
            if subscription is not None:
                await subscription.close()
        if self.gc.freezes:
            gc.unfreeze()  # the app is going away: hand what it froze back to the collector

    async def close_all(self) -> None:
        """Every client gets 1001 (going away); new connections are refused the same way."""
        self.shutting_down = True
        for client in list(self.clients):
            self.close(client, limits.ShuttingDown())
        tasks = [c.close_task for c in list(self.clients) if c.close_task is not None]
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _expire_tokens(self, interval: float) -> None:
        """A token is checked at connect and then every `interval` seconds: a stream outliving
        its token is closed 1008, as a connect with that token would be."""
        while True:
            await asyncio.sleep(interval)
            now = time.time()
            for client in [c for c in self.clients if c.expires is not None and c.expires <= now]:
                self.close(client, NotAuthenticated("token expired: reconnect with a fresh token"))

    async def _keep_frozen(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            self.gc.maintain(len(self.clients))

    # ---- one connection -------------------------------------------------------------------

    async def serve(
        self, scope: Scope, receive: Receive, send: Send, stream: str, agent_id: str | None = None
    ) -> None:
        """A raw ASGI WebSocket session: accept, check the token and the limits, then read until
        the peer leaves or the hub closes it. Runs in the connection's own task: no other task
        per subscriber unless a send has to wait."""
        if (await receive())["type"] != "websocket.connect":
            return
        subprotocol, token = access.ws_credentials(scope)
        # A browser fails the handshake unless the offered `bearer` protocol is chosen back.
        # Accepted first, refusals included, so that browsers and other real clients see the code.
        await send({"type": "websocket.accept", "subprotocol": subprotocol})
        ip = access.client_address(HTTPConnection(scope), self.settings.trusted_proxies)
        problem: AutoOpsError | None = None
        if self.shutting_down:
            problem = limits.ShuttingDown()
        elif isinstance(caller := self._authenticate(token), AutoOpsError):
            problem = caller
        elif self.settings.auth == "jwt" and not self._origin_allowed(scope):
            problem = limits.OriginNotAllowed(self._origin(scope), self.settings.cors_origins)
        elif not self.service.ready:
            problem = NotReady("the database has not answered since the server started; retrying")
        elif stream == AGENT and agent_id not in self.service.agent_ids:
            problem = UnknownAgent(str(agent_id), self.service.agent_ids)
        elif await self._connections(ip) >= self.settings.ws_max_connections_per_ip:
            problem = limits.TooManyConnections(ip, self.settings.ws_max_connections_per_ip)
        if problem is not None:
            code = close_code_for(problem)
            log.info("ws refused %s %s from %s: %d %s", stream, agent_id or "", ip, code, problem)
            self.telemetry.ws_closed.labels(code=str(code)).inc()
            await send({"type": "websocket.close", "code": code, "reason": close_reason(problem)})
            return
        client = Client(
            send, ip, stream, agent_id, limits.TokenBucket(self.settings.ws_messages_per_second)
        )
        client.expires = caller.expires if isinstance(caller, Principal) else None
        client.task = asyncio.current_task()
        if client.direct is not None:
            client.direct.release_handshake()
        self._register(client)
        try:
            # No await from here to the read loop: the greeting's offset, the replay and the
            # first live event follow each other without a gap or a repeat.
            self._greet(client, QueryParams(scope.get("query_string", b"")).get("since"))
            client.reading = True
            await self._read(client, receive)
            client.reading = False
            if client.close_task is not None:  # let the close frame go out before the session ends
                await asyncio.wait({client.close_task})
        except asyncio.CancelledError:
            if not client.abandoned:
                raise
            # The hub closed this client and stopped waiting for its peer: a normal end.
            if client.task is not None:
                client.task.uncancel()
        finally:
            if client.writer is not None:
                client.writer.cancel()
            self._unregister(client)

    async def _connections(self, ip: str) -> int:
        """Open connections from `ip`: this replica's, plus the other replicas' when shared."""
        own = self.per_ip[ip]
        if self._counts is None or own >= self.settings.ws_max_connections_per_ip:
            return own
        self.per_ip[ip] += 1  # held while Redis answers, so connects meanwhile count this one
        try:
            return own + await self._counts.others(ip)
        finally:
            self.per_ip[ip] -= 1
            if self.per_ip[ip] <= 0:
                del self.per_ip[ip]

    def _authenticate(self, token: str | None) -> Principal | AutoOpsError:
        if token is None and self.settings.auth == "jwt":
            return NotAuthenticated(
                "expected a token: subprotocols ['bearer', '<jwt>'] or ?token=<jwt>, got none",
                token_given=False,
            )
        try:
            return access.authenticate(self.settings, token)  # every role may subscribe
        except AutoOpsError as exc:
            return exc

    def _register(self, client: Client) -> None:
        self.clients.add(client)
        self.subscribers.setdefault((client.stream, client.agent_id), set()).add(client)
        self.per_ip[client.ip] += 1
        self.gc.opened += 1
        self.telemetry.ws_connections.labels(stream=client.stream).inc()
        log.info(
            "ws connect #%d %s %s from %s (%d open)",
            client.id,
            client.stream,
            client.agent_id or "",
            client.ip,
            len(self.clients),
        )

    def _unregister(self, client: Client) -> None:
        if client not in self.clients:
            return
        self.clients.discard(client)
        self.subscribers.get((client.stream, client.agent_id), set()).discard(client)
        self.per_ip[client.ip] -= 1
        if self.per_ip[client.ip] <= 0:
            del self.per_ip[client.ip]
        self.gc.closed += 1
        self.telemetry.ws_connections.labels(stream=client.stream).dec()
        log.info(
            "ws disconnect #%d %s from %s (%d open)",
            client.id,
            client.stream,
            client.ip,
            len(self.clients),
        )

    @staticmethod
    def _origin(scope: Scope) -> str | None:
        return Headers(scope=scope).get("origin")

    def _origin_allowed(self, scope: Scope) -> bool:
        """A browser names the page's origin; other clients send none (or, like websocket-client,
        the server's own, which is same-origin) and pass."""
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        allowed = self.settings.cors_origins
        if origin is None or "*" in allowed or origin in allowed:
            return True
        return urlsplit(origin).netloc.lower() == headers.get("host", "").lower()

    def _greet(self, client: Client, since: str | None) -> None:
        """The stream's first message; on live-updates, then what `?since=` missed."""
        now, epoch = utcnow(), self.epoch
        if client.stream == AGENT:
            assert client.agent_id is not None
            self._reply(
                client,
                schemas.AgentStatusMessage(
                    agent_id=client.agent_id,
                    timestamp=now,
                    data=self.service.agent_status(client.agent_id),
                    epoch=epoch,
                ),
            )
            return
        if client.stream == METRICS:
            self._reply(
                client,
                schemas.MetricsStream(timestamp=now, data=self.service.view().metrics, epoch=epoch),
            )
            return
        missed: list[str] | None = None
        problem: str | None = None
        if since is not None:
            try:
                missed = self.history.after(epoch, parse_cursor(since))
            except BadCursor as exc:
                problem = str(exc)
        self._reply(
            client,
            schemas.ConnectionEstablished(
                timestamp=now,
                message="Connected to live updates stream",
                epoch=epoch,
                offset=self.history.position(epoch),
                recovered=None if since is None else missed is not None,
                open_alerts=self.service.view().active_alerts_count,
            ),
        )
        client.backlog = len(missed or ())
        for text in missed or ():
            if self.offer(client, text):
                self.telemetry.ws_sent.labels(stream=client.stream).inc()
        if problem is not None:
            self._reply(client, schemas.ErrorMessage(timestamp=now, message=problem, epoch=epoch))

    def _send_eagerly(self, client: Client, text: str) -> None:
        """Run the send right here; only a send that has to wait gets a task (the writer).

        uvicorn's send suspends only while the transport is paused, so nearly every send
        completes in its first step: no task, no queue, no wake-up per subscriber per message.
        """
        coro = client.send({"type": "websocket.send", "text": text})
        if not isinstance(coro, CoroutineType):  # ASGI servers send from an async function
            log.debug("ws send to #%d returned %s, not a coroutine", client.id, type(coro).__name__)
            return
        try:
            waiting_on = coro.send(None)
        except StopIteration:
            return
        except Exception as exc:  # the peer left; the reader sees the disconnect
            log.debug("ws send to #%d failed: %r", client.id, exc)
            return
        client.writer = asyncio.create_task(
            self._write(client, coro, waiting_on), name=f"ws-writer:{client.id}"
        )

    async def _write(self, client: Client, coro: Any, waiting_on: Any) -> None:
        """Finish the send that had to wait, then drain what queued behind it, in order."""
        try:
            await _finish(coro, waiting_on)
            while client.outbox:
                await client.send({"type": "websocket.send", "text": client.outbox.popleft()})
        except Exception as exc:  # the peer left; the reader sees the disconnect
            log.debug("ws send to #%d failed: %r", client.id, exc)
        finally:
            # No await between the last check of the outbox and this: nothing is left behind.
            if client.writer is asyncio.current_task():
                client.writer = None

    async def _read(self, client: Client, receive: Receive) -> None:
        limit = self.settings.ws_max_frame_bytes
        while True:
            try:
                message = await receive()
            except Exception as exc:  # the connection is gone in a way the server did not report
                log.debug("ws #%d receive failed: %r", client.id, exc)
                return
            if message["type"] == "websocket.disconnect":
                log.debug("ws #%d closed: %s", client.id, message.get("code"))
                return
            text = message.get("text")
            raw: str | bytes = text if text is not None else message.get("bytes") or b""
            size = len(raw.encode()) if isinstance(raw, str) else len(raw)
            log.debug("ws #%d received %d bytes", client.id, size)
            if size > limit:
                self.close(client, limits.FrameTooLarge(size, limit))
                return
            if not client.bucket.take():
                self.close(client, limits.RateLimited(self.settings.ws_messages_per_second))
                return
            self._reply(client, self._answer(raw))

    def _answer(self, raw: str | bytes) -> BaseModel:
        now, epoch = utcnow(), self.epoch
        excerpt = raw[:80] if isinstance(raw, str) else f"{len(raw)} bytes of binary data"
        try:
            payload = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return schemas.ErrorMessage(
                timestamp=now,
                message=(
                    f'expected a JSON object such as {{"type": "ping"}}, got malformed JSON {excerpt!r}'
                ),
                epoch=epoch,
            )
        try:
            schemas.CLIENT_MESSAGE.validate_python(payload)
        except ValidationError:
            got = payload.get("type") if isinstance(payload, dict) else type(payload).__name__
            return schemas.ErrorMessage(
                timestamp=now,
                message=(f'expected a message of type "ping" ({{"type": "ping"}}), got {got!r}'),
                epoch=epoch,
            )
        return schemas.Pong(timestamp=now, epoch=epoch)

    # ---- delivery -------------------------------------------------------------------------

    def offer(self, client: Client, text: str) -> bool:
        """Send now if caught up, else queue; a client whose outbox is full is closed, never waited for.

        A resuming client's outbox has room for its replay on top (`Client.backlog`): the texts
        are the history's own, already in memory, and asking what it missed is not falling behind.
        """
        if client.closing:
            return False
        if client.writer is None:  # nothing in flight, so nothing queued: order is kept
            self._send_eagerly(client, text)
            return True
        if client.queued >= self.settings.ws_outbox_size + client.backlog:
            self.close(client, limits.SlowConsumer(self.settings.ws_outbox_size))
            return False
        if client.outbox is None:
            client.outbox = deque()
        client.outbox.append(text)
        return True

    def _reply(self, client: Client, message: BaseModel) -> None:
        if self.offer(client, dump(message)):
            self.telemetry.ws_sent.labels(stream=client.stream).inc()

    def close(self, client: Client, reason: AutoOpsError) -> None:
        if client.closing:
            return
        client.close_task = asyncio.create_task(
            self._close(client, reason), name=f"ws-close:{client.id}"
        )

    async def _close(self, client: Client, reason: AutoOpsError) -> None:
        code = close_code_for(reason)
        level = logging.DEBUG if code == 1001 else logging.WARNING
        log.log(
            level,
            "ws closing #%d %s from %s: %d %s",
            client.id,
            client.stream,
            client.ip,
            code,
            reason,
        )
        self.telemetry.ws_closed.labels(code=str(code)).inc()
        if client.writer is not None:
            writer = client.writer
            writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)
        try:
            # A stalled peer cannot take even the close frame; do not wait for it forever.
            await asyncio.wait_for(
                client.send(
                    {"type": "websocket.close", "code": code, "reason": close_reason(reason)}
                ),
                timeout=self.settings.ws_close_timeout,
            )
        except Exception as exc:
            log.debug("ws close of #%d did not complete: %r", client.id, exc)
        finally:
            # The session is over for the hub: stop reading, whether or not the peer answers.
            task = client.task
            if task is not None and client.reading and not task.done():
                client.abandoned = True
                task.cancel()

    def broadcast(self, stream: str, text: str, agent_id: str | None = None) -> int:
        """Send (or queue) one serialised message to every client of a stream; returns how many took it.

        A caught-up client on uvicorn's sans-I/O protocol gets the frame written straight to its
        transport, framed once for all (`backend.api.uvicorn_direct`); any other client, or one
        whose transport is paused or closing, goes through its ASGI `send` (`offer`), in order.
        """
        members = self.subscribers.get((stream, agent_id))
        if not members:
            return 0
        frame: bytes | None = None
        sent = direct = 0
        for client in list(members):
            writer = client.direct
            if (
                writer is not None
                and client.writer is None
                and not client.closing
                and writer.open()
            ):
                if frame is None:
                    frame = text_frame(text)
                try:
                    writer.write(frame)
                except Exception as exc:  # the transport went away under us: the reader sees it
                    log.debug("ws direct write to #%d failed: %r", client.id, exc)
                    continue
                direct += 1
            else:
                sent += self.offer(client, text)
        if direct:
            self.telemetry.ws_direct.inc(direct)
        sent += direct
        if sent:
            self.telemetry.ws_sent.labels(stream=stream).inc(sent)
        return sent

    def _has(self, stream: str, agent_id: str | None = None) -> bool:
        return bool(self.subscribers.get((stream, agent_id)))

    async def _fan_out_events(self, events: Subscription) -> None:
        async for event in events:
            try:
                message = schemas.LIVE_EVENT.validate_python(event)
            except ValidationError as exc:
                log.error("dropping a bus event that is not a live-updates message: %s", exc)
                continue
            text = dump(message)
            self.history.add(message.epoch, message.offset, text)
            self.broadcast(LIVE, text)

    # ---- cadences -------------------------------------------------------------------------

    async def _cadence(
        self, stream: str, interval: float, emit: Callable[[int, float], None]
    ) -> None:
        """Emit at start + k * interval on the monotonic clock: late ticks never shift later ones.

        The frame's `seq` is k plus the stream's offset, which a new leader sets so that its
        numbers continue those it relayed (`set_leading`)."""
        start, k = time.monotonic(), 0
        while True:
            k += 1
            tick = start + k * interval
            delay = tick - time.monotonic()
            if delay > 0:
                # the loop may wake a fraction of a millisecond early; never emit before the tick
                while delay > 0:
                    await asyncio.sleep(delay)
                    delay = tick - time.monotonic()
            elif -delay > interval:
                k = int((time.monotonic() - start) / interval)
                tick = start + k * interval
            self._ticks[stream] = k
            try:
                emit(k + self._seq_offset.get(stream, 0), tick)
            except Exception:
                log.exception("emitting a periodic message failed; the stream goes on")
            frames, self._outgoing = self._outgoing, []
            if frames:  # a leader's: shared on the bus first, then sent to its own clients
                await self.bus.flush(HANDOVER_S)
                for stream_, text, agent_id in frames:
                    self.broadcast(stream_, text, agent_id)

    def _wanted(self, stream: str, agent_id: str | None = None) -> bool:
        """This process makes the stream's frames: it leads, and someone may read them."""
        if self.replicated:
            return self.leading and self.service.ready
        return self._has(stream, agent_id)

    def _emit(self, stream: str, text: str, seq: int, agent_id: str | None = None) -> None:
        if self.replicated:
            self._share({"s": stream, "a": agent_id, "q": seq, "text": text})
            self._outgoing.append((stream, text, agent_id))
        else:
            self.broadcast(stream, text, agent_id)

    def _emit_live(self, seq: int, tick: float) -> None:
        if self._wanted(LIVE):
            message = schemas.LiveMetricsUpdate(
                timestamp=utcnow(),
                seq=seq,
                tick=tick,
                data=self.service.dashboard_metrics(),
                epoch=self.epoch,
            )
            self._emit(LIVE, dump(message), seq)

    def _emit_agents(self, seq: int, tick: float) -> None:
        for agent in self.service.agent_statuses():
            if self._wanted(AGENT, agent["agent_id"]):
                message = schemas.AgentStatusUpdate(
                    agent_id=agent["agent_id"],
                    timestamp=utcnow(),
                    seq=seq,
                    tick=tick,
                    data=agent,
                    epoch=self.epoch,
                )
                self._emit(AGENT, dump(message), seq, agent["agent_id"])

    def _emit_metrics(self, seq: int, tick: float) -> None:
        if self._wanted(METRICS):
            message = schemas.RealtimeMetricsUpdate(
                timestamp=utcnow(),
                seq=seq,
                tick=tick,
                data=self.service.view().metrics,
                epoch=self.epoch,
            )
            self._emit(METRICS, dump(message), seq)

    # ---- replicas: the leader shares its frames, followers relay them ----------------------

    def set_leading(self, leading: bool) -> None:
        """Leadership changed. A new leader numbers each stream on from the last `seq` it
        relayed plus the ticks that passed since, so no client's `seq` ever goes back."""
        self.leading = leading
        if not leading:
            return
        now = time.monotonic()
        s = self.settings
        for stream, interval in (
            (LIVE, s.live_interval),
            (AGENT, s.agent_interval),
            (METRICS, s.metrics_interval),
        ):
            seq, at = self._relayed.get(stream, (0, now))
            missed = int((now - at) / interval)
            floor = seq + missed - self._ticks.get(stream, 0)
            self._seq_offset[stream] = max(self._seq_offset.get(stream, 0), floor)
        self._epoch_seen, self._published = self.service.epoch, 0

    def view_changed(self, view: Any) -> None:
        """The leader's store changed: followers re-read its published state."""
        if self.replicated and self.leading:
            self._share({"s": STATE, "v": view.version})

    def _share(self, frame: dict[str, Any]) -> None:
        self._published += 1
        frame.update(
            e=self.service.epoch, n=self._published, h=self.settings.instance_id, w=time.time()
        )
        try:
            self.bus.post(frames_channel(self.settings), frame)
        except Exception as exc:  # followers see the gap in `n` and resync
            log.warning("publishing a frame on the bus failed: %s", exc)

    async def _relay(self, frames: Subscription) -> None:
        async for frame in frames:
            try:
                self._relay_one(frame)
            except Exception:
                log.exception("relaying a leader frame failed; the relay goes on")

    def _relay_one(self, frame: dict[str, Any]) -> None:
        epoch, n = frame["e"], frame["n"]
        if frame["h"] == self.settings.instance_id:
            return  # this process's own frame: its clients have it already
        if epoch < self._epoch_seen:
            self.telemetry.stale_frames.inc()  # a deposed leader's: fenced off the streams too
            return
        if self.leading:
            self.service.leadership.wake()  # another leader, newer: check the lease now
            return
        if epoch > self._epoch_seen:
            self._epoch_seen = epoch
        elif n != self._last_n + 1:
            self._gap()
        self._last_n = n
        self.service.leadership.followed = frame["h"]
        self.telemetry.epoch.set(epoch)
        self.telemetry.relay_lag.set(max(0.0, time.time() - frame["w"]))
        if frame["s"] == STATE:
            replica = self.service.leadership.replica
            if replica is not None:
                replica.notify(epoch, frame["v"])
            return
        self._relayed[frame["s"]] = (frame["q"], time.monotonic())
        self.broadcast(frame["s"], frame["text"], frame["a"])
        self.telemetry.relayed.inc()

    def _gap(self) -> None:
        """Frames were lost (a gap in `n`, or the bus reconnected): re-read the state; clients
        see the jump in `seq` and refill."""
        self.telemetry.bus_gaps.inc()
        replica = self.service.leadership.replica
        if replica is not None and not self.leading:
            replica.resync()


async def _finish(coro: Any, waiting_on: Any) -> None:
    """Drive a coroutine that yielded `waiting_on` to its end, the way the Task running it would."""
    while True:
        try:
            if waiting_on is None:  # a bare yield (sleep(0)): just let the loop run once
                await asyncio.sleep(0)
            else:
                await waiting_on
        except BaseException as exc:  # its future failed, or this task was cancelled: pass it in
            try:
                waiting_on = coro.throw(exc)
            except StopIteration:
                return
            continue
        try:
            waiting_on = coro.send(None)
        except StopIteration:
            return
