"""The bus: fan-out, bounded queues, back-ends chosen by URL (memory and the local Redis)."""

from __future__ import annotations

import asyncio
import socket

import pytest

from backend.bus import MemoryBus, make_bus


def redis_unreachable() -> str | None:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return None
    except OSError as exc:
        return f"Redis on 127.0.0.1:6379 unreachable: {exc}"


def test_memory_bus_fans_out_to_every_subscriber_of_a_channel() -> None:
    async def scenario() -> tuple[list, list, list]:
        bus = make_bus("memory://")
        await bus.connect()
        a, b = await bus.subscribe("events"), await bus.subscribe("events")
        other = await bus.subscribe("other")
        await bus.publish("events", {"n": 1})
        await bus.publish("events", {"n": 2})
        got_a = [await a.get(), await a.get()]
        got_b = [await b.get(), await b.get()]
        await bus.disconnect()
        return got_a, got_b, [m async for m in other]

    got_a, got_b, got_other = asyncio.run(scenario())
    assert got_a == got_b == [{"n": 1}, {"n": 2}]
    assert got_other == []


def test_a_slow_subscriber_loses_its_oldest_messages_not_the_publisher() -> None:
    async def scenario() -> tuple[list, int]:
        bus = MemoryBus(queue_size=3)
        slow = await bus.subscribe("events")
        for n in range(10):
            await bus.publish("events", {"n": n})
        got = [(await slow.get())["n"] for _ in range(3)]
        return got, slow.dropped

    got, dropped = asyncio.run(scenario())
    assert got == [7, 8, 9]
    assert dropped == 7


def test_a_closed_subscription_receives_nothing_more() -> None:
    async def scenario() -> list:
        bus = MemoryBus()
        sub = await bus.subscribe("events")
        await sub.close()
        await bus.publish("events", {"n": 1})
        return [m async for m in sub]

    assert asyncio.run(scenario()) == []


def test_an_unknown_bus_url_is_rejected_with_what_was_expected() -> None:
    with pytest.raises(ValueError, match="expected memory:// or redis://"):
        make_bus("kafka://localhost")


def test_redis_bus_carries_messages_between_two_connections() -> None:
    reason = redis_unreachable()
    if reason:
        pytest.skip(reason)

    async def scenario() -> dict:
        publisher, subscriber = (
            make_bus("redis://127.0.0.1:6379/0"),
            make_bus("redis://127.0.0.1:6379/0"),
        )
        await publisher.connect()
        await subscriber.connect()
        channel = f"autoops-test-{id(publisher)}"
        sub = await subscriber.subscribe(channel)
        await asyncio.sleep(0.1)  # let the SUBSCRIBE land before publishing
        await publisher.publish(channel, {"type": "system_event", "n": 1})
        got = await asyncio.wait_for(sub.get(), timeout=5)
        await subscriber.disconnect()
        await publisher.disconnect()
        return got

    assert asyncio.run(scenario()) == {"type": "system_event", "n": 1}


def test_redis_bus_flush_returns_once_what_was_posted_reached_redis() -> None:
    """A leader flushes before its own fan-out: the frame is then already at the followers'
    Redis, so a subscriber gets it without this process running another step."""
    reason = redis_unreachable()
    if reason:
        pytest.skip(reason)

    async def scenario() -> tuple[bool, bool, dict]:
        publisher, subscriber = (
            make_bus("redis://127.0.0.1:6379/0"),
            make_bus("redis://127.0.0.1:6379/0"),
        )
        await publisher.connect()
        await subscriber.connect()
        channel = f"autoops-test-flush-{id(publisher)}"
        sub = await subscriber.subscribe(channel)
        await asyncio.sleep(0.1)
        publisher.post(channel, {"n": 1})
        pending = not publisher._sent.is_set()
        await publisher.flush(5.0)
        flushed = publisher._sent.is_set() and publisher._outbox.empty()
        got = await asyncio.wait_for(sub.get(), timeout=5)
        await subscriber.disconnect()
        await publisher.disconnect()
        return pending, flushed, got

    pending, flushed, got = asyncio.run(scenario())
    assert pending and flushed
    assert got == {"n": 1}
