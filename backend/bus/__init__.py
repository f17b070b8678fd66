"""Publish/subscribe behind connect, publish, subscribe, disconnect; the back-end is chosen by URL."""

from __future__ import annotations

from backend.bus.base import Bus, Subscription
from backend.bus.memory import MemoryBus

__all__ = ["Bus", "MemoryBus", "Subscription", "make_bus"]


def make_bus(url: str, queue_size: int = 1000) -> Bus:
    """memory:// (default, one process) or redis://host:port/db (several processes)."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme == "memory":
        return MemoryBus(queue_size)
    if scheme in ("redis", "rediss"):
        from backend.bus.redis_bus import RedisBus  # the redis client is imported only when used

        return RedisBus(url, queue_size)
    raise ValueError(f"bus URL: expected memory:// or redis://host:port/db, got {url!r}")
