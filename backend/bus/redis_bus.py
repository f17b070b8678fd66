"""Redis pub/sub bus for several processes; messages travel as JSON.

One pub/sub connection per process carries every channel it subscribes to, read by one task.
Every Redis call has connect and socket timeouts, and the pub/sub connection a health check, so
a Redis that is partitioned away fails calls in seconds instead of stalling them. When the
connection drops, redis-py reconnects on the next read and subscribes again to every channel;
the bus then calls its `on_reconnect` callbacks, because what was published meanwhile is lost
(pub/sub delivers at most once) and the subscribers must resync from the database.

Publishing never waits for Redis: messages go to a bounded outbox that one task drains in order;
when Redis is away the oldest are dropped and counted. `flush` waits, at most a given time, until
what was posted has reached Redis: a leader hands a frame to its followers before the long
fan-out to its own clients (backend.api.hub).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import orjson
import redis.asyncio as aioredis

from backend.bus.base import Message, Subscription
from backend.bus.counts import SharedCounts

log = logging.getLogger(__name__)

SOCKET_TIMEOUT = 5.0  # seconds a command may wait on the socket
CONNECT_TIMEOUT = 3.0
HEALTH_CHECK_INTERVAL = 5  # seconds idle before the client pings the server
OUTBOX = 10_000
DISCONNECT_WAIT = 2.0  # seconds disconnect waits for the reader and writer to stop


class RedisBus:
    def __init__(self, url: str, queue_size: int = 1000) -> None:
        self.url = url
        self.queue_size = queue_size
        self.connected = False
        self.reconnects = 0
        self.dropped = 0  # messages the outbox dropped while Redis was away
        self.on_reconnect: list[Callable[[], Any]] = []
        self._client: aioredis.Redis | None = None
        self._pubsub: Any = None
        self._channels: dict[str, set[Subscription]] = {}
        self._outbox: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue(OUTBOX)
        self._tasks: list[asyncio.Task[None]] = []
        self._lost = False  # the pub/sub connection failed since its last (re)subscribe
        self._sent = asyncio.Event()  # set while everything posted has reached Redis
        self._closing = False
        self._sent.set()

    async def connect(self) -> None:
        self._client = aioredis.Redis.from_url(
            self.url,
            socket_timeout=SOCKET_TIMEOUT,
            socket_connect_timeout=CONNECT_TIMEOUT,
            health_check_interval=HEALTH_CHECK_INTERVAL,
        )
        await self._client.ping()
        self._pubsub = self._client.pubsub()
        self.connected = True
        self._tasks = [
            asyncio.create_task(self._read(), name="redis-bus:read"),
            asyncio.create_task(self._write(), name="redis-bus:write"),
        ]

    def shared_counts(self, namespace: str, instance: str) -> SharedCounts:
        assert self._client is not None
        return SharedCounts(self._client, namespace, instance)

    def _require(self) -> Any:
        if self._pubsub is None:
            raise RuntimeError("RedisBus: expected connect() before use, got an unconnected bus")
        return self._pubsub

    async def publish(self, channel: str, message: Message) -> None:
        self.post(channel, message)

    def post(self, channel: str, message: Message) -> None:
        self._require()
        if self._outbox.full():
            self._outbox.get_nowait()
            self.dropped += 1
        self._outbox.put_nowait((channel, orjson.dumps(message)))
        self._sent.clear()

    async def flush(self, timeout: float) -> None:
        if self._sent.is_set() or not self.connected:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._sent.wait(), timeout)

    async def _write(self) -> None:
        assert self._client is not None
        while True:
            channel, data = await self._outbox.get()
            while True:
                try:
                    await self._client.publish(channel, data)
                    break
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # Redis away: keep the message, retry shortly
                    log.warning("redis bus publish on %r failed: %s", channel, exc)
                    await asyncio.sleep(0.5)
            if self._outbox.empty():
                self._sent.set()
            if self._closing:  # a cancellation redis-py swallowed mid-publish still ends the task
                return

    async def subscribe(self, channel: str) -> Subscription:
        pubsub = self._require()
        subscription = Subscription(channel, self.queue_size, self._forget)
        if channel not in self._channels:
            self._channels[channel] = set()
            await pubsub.subscribe(channel)
        self._channels[channel].add(subscription)
        return subscription

    async def _read(self) -> None:
        pubsub = self._pubsub
        while True:
            if not pubsub.subscribed:
                await asyncio.sleep(0.1)
                continue
            try:
                raw = await pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # dropped: the next read reconnects and subscribes again
                if not self._lost:
                    log.warning("redis bus connection lost: %s", exc)
                self._lost, self.connected = True, False
                await asyncio.sleep(0.5)
                continue
            if raw is None:
                continue
            kind = raw.get("type")
            if kind == "message":
                channel = raw["channel"].decode()
                message = orjson.loads(raw["data"])
                for subscription in list(self._channels.get(channel, ())):
                    subscription.deliver(message)
            elif kind == "subscribe" and self._lost:
                self._lost, self.connected = False, True
                self.reconnects += 1
                log.warning("redis bus reconnected and subscribed again")
                for callback in list(self.on_reconnect):
                    callback()

    async def _forget(self, subscription: Subscription) -> None:
        members = self._channels.get(subscription.channel)
        if members is None:
            return
        members.discard(subscription)
        if not members:
            del self._channels[subscription.channel]
            try:
                await asyncio.wait_for(
                    self._require().unsubscribe(subscription.channel), SOCKET_TIMEOUT
                )
            except Exception as exc:  # the connection is gone anyway
                log.debug("redis bus unsubscribe failed: %s", exc)

    async def disconnect(self) -> None:
        # the reader stops first, and the subscriptions close without an UNSUBSCRIBE each: the
        # connection is closed next anyway, and no call on it may wait for a reader that is gone
        self._closing = True
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            _, stuck = await asyncio.wait(self._tasks, timeout=DISCONNECT_WAIT)
            if stuck:
                log.warning("redis bus: %d task(s) did not stop when cancelled", len(stuck))
        self._tasks = []
        channels, self._channels = self._channels, {}
        for members in channels.values():
            for subscription in list(members):
                await subscription.close()
        if self._pubsub is not None:
            await self._pubsub.aclose()
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        self.connected = False
