"""In-process bus: fan-out to bounded queues, no serialisation."""

from __future__ import annotations

from backend.bus.base import Message, Subscription


class MemoryBus:
    connected = True  # in process: never away

    def __init__(self, queue_size: int = 1000) -> None:
        self.queue_size = queue_size
        self._subscribers: dict[str, set[Subscription]] = {}

    async def connect(self) -> None:
        return None

    async def publish(self, channel: str, message: Message) -> None:
        self.post(channel, message)

    def post(self, channel: str, message: Message) -> None:
        for subscription in list(self._subscribers.get(channel, ())):
            subscription.deliver(message)

    async def flush(self, timeout: float) -> None:
        return None  # delivered as posted

    async def subscribe(self, channel: str) -> Subscription:
        subscription = Subscription(channel, self.queue_size, self._forget)
        self._subscribers.setdefault(channel, set()).add(subscription)
        return subscription

    def _forget(self, subscription: Subscription) -> None:
        self._subscribers.get(subscription.channel, set()).discard(subscription)

    async def disconnect(self) -> None:
        for subscriptions in list(self._subscribers.values()):
            for subscription in list(subscriptions):
                await subscription.close()
        self._subscribers.clear()
