"""Background subscriber to the two dashboard streams, filling bounded lock-guarded buffers.

Runs in plain threads with websocket-client and never touches Streamlit: the pages read a
consistent copy through `view()`.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import websocket

from console.kpis import KPIS

log = logging.getLogger(__name__)

METRIC_FIELDS = tuple(k.field for k in KPIS)
STREAM_PATHS = {
    "metrics": "/api/dashboard/ws/metrics/real-time",
    "live": "/api/dashboard/ws/live-updates",
}
UNREACHABLE_AFTER = 3  # consecutive failed connects before the badge says "unreachable"


class Backoff:
    """The contract's reconnect schedule: 1 s, doubling on each failure, at most 30 s."""

    def __init__(self, initial: float = 1.0, factor: float = 2.0, maximum: float = 30.0) -> None:
        self.initial, self.factor, self.maximum = initial, factor, maximum
        self._next = initial

    def next(self) -> float:
        """The delay before the next attempt; the one after it is doubled."""
        delay = self._next
        self._next = min(self._next * self.factor, self.maximum)
        return delay

    def reset(self) -> None:
        self._next = self.initial


class LinkState(str, Enum):
    CONNECTING = "connecting"
    LIVE = "live"
    RECONNECTING = "reconnecting"
    UNREACHABLE = "unreachable"
    STOPPED = "stopped"


@dataclass(frozen=True)
class StreamStatus:
    name: str
    state: LinkState = LinkState.CONNECTING
    last_message_at: float | None = None  # wall clock (time.time())
    next_retry_at: float | None = None
    failures: int = 0  # consecutive failed connects
    connects: int = 0  # successful connects since start
    messages: int = 0
    last_error: str = ""


@dataclass(frozen=True)
class MetricPoint:
    timestamp: datetime
    values: dict[str, float | None]
    extra: dict[str, Any] = field(default_factory=dict)  # any other numeric fields (history)
    day: int | None = None  # sim day, when the source says it


@dataclass(frozen=True)
class Badge:
    kind: str  # live | reconnecting | unreachable | connecting
    title: str  # "Live", "Reconnecting in 4 s", "Backend unreachable"
    detail: str  # the age of the last message, and the next retry when down

    @property
    def text(self) -> str:
        return f"{self.title} · {self.detail}"


@dataclass(frozen=True)
class ListenerView:
    """A consistent copy of what the listener holds, for one page render."""

    points: list[MetricPoint]
    live: dict | None  # the latest live-updates metrics_update `data`
    events: list[dict]  # agent_intervention and system_event messages, oldest first
    streams: dict[str, StreamStatus]
    history_fills: int = 0

    def latest(self) -> MetricPoint | None:
        return self.points[-1] if self.points else None

    def last_message_at(self) -> float | None:
        stamps = [s.last_message_at for s in self.streams.values() if s.last_message_at]
        return max(stamps) if stamps else None

    def badge(self, now: float | None = None) -> Badge:
        """Live / reconnecting in N s / backend unreachable, with the age of the last message."""
        now = time.time() if now is None else now
        last = self.last_message_at()
        age = f"last message {format_age(now - last)} ago" if last else "no message yet"
        states = [s.state for s in self.streams.values()]
        if states and all(s is LinkState.LIVE for s in states):
            return Badge("live", "Live", age)
        retry = [
            s.next_retry_at
            for s in self.streams.values()
            if s.state in (LinkState.RECONNECTING, LinkState.UNREACHABLE) and s.next_retry_at
        ]
        wait = f"{max(0, round(min(retry) - now))} s" if retry else "a moment"
        if LinkState.UNREACHABLE in states:
            return Badge("unreachable", "Backend unreachable", f"retrying in {wait} · {age}")
        if LinkState.RECONNECTING in states:
            return Badge("reconnecting", f"Reconnecting in {wait}", age)
        return Badge("connecting", "Connecting", age)


def format_age(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def to_point(item: dict, timestamp: Any = None, day: Any = None) -> MetricPoint | None:
    """A metric point from a stream `data` object or a history row (flat or nested)."""
    if not isinstance(item, dict):
        return None
    nested = item.get("system_metrics")
    source: dict[str, Any] = nested if isinstance(nested, dict) else item
    stamp = parse_time(item.get("timestamp")) or parse_time(timestamp)
    if stamp is None:
        return None
    values = {name: source.get(name) for name in METRIC_FIELDS}
    extra = {
        k: v
        for k, v in {**item, **source}.items()
        if k not in METRIC_FIELDS and isinstance(v, (int, float)) and not isinstance(v, bool)
    }
    day_value = item.get("day", day)
    return MetricPoint(
        stamp,
        values,
        extra,
        day_value if isinstance(day_value, int) and not isinstance(day_value, bool) else None,
    )


class StreamListener:
    """One per console process: two threads, one per stream, reconnecting with Backoff."""

    def __init__(
        self,
        base_url: str,
        history_loader: Callable[[], list[dict]] | None = None,
        max_points: int = 2000,
        max_events: int = 200,
        connect: Callable[..., Any] = websocket.create_connection,
        connect_timeout: float = 3.0,
        silence_timeout: float = 20.0,
        backoff_factory: Callable[[], Backoff] = Backoff,
        token: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        ws_base = "ws" + self.base_url[4:] if self.base_url.startswith("http") else self.base_url
        self.urls = {name: ws_base + path for name, path in STREAM_PATHS.items()}
        self._history_loader = history_loader
        self._connect = connect
        self._connect_timeout = connect_timeout
        self._silence_timeout = silence_timeout
        self._backoff_factory = backoff_factory
        self._lock = threading.Lock()
        self._points: deque[MetricPoint] = deque(maxlen=max_points)
        self._events: deque[dict] = deque(maxlen=max_events)
        self._live: dict | None = None
        self._streams = {name: StreamStatus(name) for name in self.urls}
        self._history_fills = 0
        self._last_seq: int | None = None
        self._gap = False
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sockets: dict[str, Any] = {}

    # lifecycle
    def start(self) -> StreamListener:
        if not self._threads:
            for name in self.urls:
                thread = threading.Thread(
                    target=self._run, args=(name,), daemon=True, name=f"autoops-listener-{name}"
                )
                self._threads.append(thread)
                thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        for ws in list(self._sockets.values()):
            try:
                ws.close()
            except Exception:  # closing a dead socket may fail; we are leaving anyway
                pass
        for thread in self._threads:
            thread.join(timeout)
        with self._lock:
            for name, status in self._streams.items():
                self._streams[name] = replace(status, state=LinkState.STOPPED)

    @property
    def running(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    def view(self) -> ListenerView:
        with self._lock:
            return ListenerView(
                list(self._points),
                self._live,
                list(self._events),
                dict(self._streams),
                self._history_fills,
            )

    # the thread
    def _update(self, name: str, **changes: Any) -> None:
        with self._lock:
            self._streams[name] = replace(self._streams[name], **changes)

    def _run(self, name: str) -> None:
        backoff = self._backoff_factory()
        while not self._stop.is_set():
            try:
                # The token travels as the `bearer` subprotocol pair, never in the URL (logs).
                extra = {"subprotocols": ["bearer", self._token]} if self._token else {}
                ws = self._connect(self.urls[name], timeout=self._connect_timeout, **extra)
            except Exception as exc:  # refused, DNS, handshake, timeout: all mean "try later"
                self._wait_retry(name, backoff, f"{type(exc).__name__}: {exc}")
                continue
            backoff.reset()
            with self._lock:
                status = self._streams[name]
                self._streams[name] = replace(
                    status,
                    state=LinkState.LIVE,
                    failures=0,
                    connects=status.connects + 1,
                    next_retry_at=None,
                    last_error="",
                )
            self._sockets[name] = ws
            if name == "metrics":
                with self._lock:
                    self._last_seq = None  # sequence numbers restart with each connection
                self.refill_history()
            error = self._receive(name, ws)
            self._sockets.pop(name, None)
            try:
                ws.close()
            except Exception:  # already closed by the peer
                pass
            if not self._stop.is_set():
                self._wait_retry(name, backoff, error)

    def _wait_retry(self, name: str, backoff: Backoff, error: str) -> None:
        delay = backoff.next()
        with self._lock:
            status = self._streams[name]
            failures = status.failures + 1
            state = (
                LinkState.UNREACHABLE if failures >= UNREACHABLE_AFTER else LinkState.RECONNECTING
            )
            self._streams[name] = replace(
                status,
                state=state,
                failures=failures,
                next_retry_at=time.time() + delay,
                last_error=error,
            )
        log.info("stream %s down (%s); retrying in %.0f s", name, error, delay)
        self._stop.wait(delay)

    def _receive(self, name: str, ws: Any) -> str:
        """Read until the connection ends; return why it ended."""
        ws.settimeout(1.0)  # wake up regularly to notice stop() and silence
        last = time.monotonic()
        while not self._stop.is_set():
            try:
                raw = ws.recv()
            except websocket.WebSocketTimeoutException:
                if time.monotonic() - last > self._silence_timeout:
                    return f"no message for {self._silence_timeout:.0f} s"
                continue
            except Exception as exc:  # closed by the peer, reset, or any socket failure
                return f"{type(exc).__name__}: {exc}"
            if raw is None or raw == "":
                return "connection closed"
            last = time.monotonic()
            self.handle(name, raw)
            if self._gap:
                self._gap = False
                self.refill_history()
        return "stopped"

    def handle(self, name: str, raw: str | bytes) -> None:
        """File one raw message from stream `name` into the buffers."""
        try:
            message = json.loads(raw)
        except ValueError:
            log.warning("stream %s sent something other than JSON: %.80r", name, raw)
            return
        if not isinstance(message, dict):
            return
        kind = message.get("type")
        with self._lock:
            status = self._streams[name]
            self._streams[name] = replace(
                status, last_message_at=time.time(), messages=status.messages + 1
            )
            if name == "metrics" and kind in ("metrics_stream", "metrics_update"):
                point = to_point(message.get("data") or {}, message.get("timestamp"))
                if point is not None:
                    self._add_point(point)
                seq = message.get("seq")
                if isinstance(seq, int):
                    # a jump in the sequence means ticks were skipped or lost: refill
                    self._gap = self._gap or (
                        self._last_seq is not None and seq > self._last_seq + 1
                    )
                    self._last_seq = seq
            elif (
                name == "live"
                and kind == "metrics_update"
                and isinstance(message.get("data"), dict)
            ):
                self._live = message["data"]
            elif kind in ("agent_intervention", "system_event"):
                self._events.append(message)

    def _add_point(self, point: MetricPoint) -> None:
        if self._points and point.timestamp <= self._points[-1].timestamp:
            if point.timestamp == self._points[-1].timestamp:
                self._points[-1] = point
                return
            merged = sorted([*self._points, point], key=lambda p: p.timestamp)
            self._points.clear()
            self._points.extend(merged)
            return
        self._points.append(point)

    def refill_history(self) -> None:
        """Merge metrics/history into the point buffer (after every (re)connect)."""
        if self._history_loader is None:
            return
        try:
            rows = self._history_loader()
        except Exception as exc:  # history is a convenience: the stream still works without it
            log.warning("could not refill metric history: %s", exc)
            return
        points = [p for p in (to_point(r) for r in rows) if p is not None]
        with self._lock:
            # history rows win a tie: they may carry fields the stream does not (baseline waste)
            by_time = {p.timestamp: p for p in self._points}
            by_time.update({p.timestamp: p for p in points})
            merged = sorted(by_time.values(), key=lambda p: p.timestamp)
            self._points.clear()
            self._points.extend(merged[-(self._points.maxlen or len(merged)) :])
            self._history_fills += 1
