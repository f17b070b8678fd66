"""The bus interface and the bounded per-subscriber queue both back-ends share."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

log = logging.getLogger(__name__)

Message = dict[str, Any]


class Subscription:
    """One subscriber's bounded queue; when full the oldest message is dropped, never the publisher."""

    def __init__(self, channel: str, maxsize: int, on_close: Callable[[Subscription], Any]) -> None:
        self.channel = channel
        self.dropped = 0
        self._queue: asyncio.Queue[Message | None] = asyncio.Queue(maxsize)
        self._on_close = on_close
        self._closed = False

    def deliver(self, message: Message) -> None:
        if self._closed:
            return
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
            log.warning(
                "bus subscriber on %r is behind; dropped %d messages so far",
                self.channel,
                self.dropped,
            )
        self._queue.put_nowait(message)

    async def get(self) -> Message:
        message = await self._queue.get()
        if message is None:
            raise StopAsyncIteration
        return message

    def __aiter__(self) -> AsyncIterator[Message]:
        return self

    async def __anext__(self) -> Message:
        return await self.get()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        result = self._on_close(self)
        if asyncio.iscoroutine(result):
            await result
        # Wake a reader blocked in get(); drop a queued message if need be to make room.
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(None)


class Bus(Protocol):
    connected: bool

    async def connect(self) -> None: ...
    async def publish(self, channel: str, message: Message) -> None: ...
    def post(self, channel: str, message: Message) -> None: ...
    async def flush(self, timeout: float) -> None: ...
    async def subscribe(self, channel: str) -> Subscription: ...
    async def disconnect(self) -> None: ...
