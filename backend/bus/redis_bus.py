"""Redis pub/sub bus for several processes; messages travel as JSON."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson
import redis.asyncio as aioredis

from backend.bus.base import Message, Subscription

log = logging.getLogger(__name__)


class RedisBus:
    def __init__(self, url: str, queue_size: int = 1000) -> None:
        self.url = url
        self.queue_size = queue_size
        self._client: aioredis.Redis | None = None
        self._readers: dict[Subscription, tuple[Any, asyncio.Task[None]]] = {}

    async def connect(self) -> None:
        self._client = aioredis.Redis.from_url(self.url)
        await self._client.ping()

    def _require(self) -> aioredis.Redis:
        if self._client is None:
            raise RuntimeError("RedisBus: expected connect() before use, got an unconnected bus")
        return self._client

    async def publish(self, channel: str, message: Message) -> None:
        await self._require().publish(channel, orjson.dumps(message))

    async def subscribe(self, channel: str) -> Subscription:
        pubsub = self._require().pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(channel)
        subscription = Subscription(channel, self.queue_size, self._forget)
        task = asyncio.create_task(self._read(pubsub, subscription), name=f"redis-bus:{channel}")
        self._readers[subscription] = (pubsub, task)
        return subscription

    async def _read(self, pubsub: Any, subscription: Subscription) -> None:
        while True:
            try:
                raw = await pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a dropped connection: log, back off, let redis-py reconnect
                log.warning("redis bus read on %r failed: %s", subscription.channel, exc)
                await asyncio.sleep(1.0)
                continue
            if raw is not None and raw.get("type") == "message":
                subscription.deliver(orjson.loads(raw["data"]))

    async def _forget(self, subscription: Subscription) -> None:
        entry = self._readers.pop(subscription, None)
        if entry is None:
            return
        pubsub, task = entry
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        await pubsub.aclose()

    async def disconnect(self) -> None:
        for subscription in list(self._readers):
            await subscription.close()
        if self._client is not None:
            await self._client.aclose()
            self._client = None
