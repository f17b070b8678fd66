"""WebSocket limit conditions and the per-connection token bucket."""

from __future__ import annotations

import time
from collections.abc import Callable

from backend.errors import AutoOpsError


class TooManyConnections(AutoOpsError):
    def __init__(self, ip: str, limit: int) -> None:
        super().__init__(
            f"too many connections from {ip}: expected at most {limit} at once, "
            f"got connection {limit + 1}"
        )


class RateLimited(AutoOpsError):
    def __init__(self, rate: float) -> None:
        super().__init__(f"too many messages: expected at most {rate:g} per second")


class FrameTooLarge(AutoOpsError):
    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"message too big: expected at most {limit} bytes, got {size}")


class SlowConsumer(AutoOpsError):
    def __init__(self, outbox: int) -> None:
        super().__init__(
            f"client too slow: expected it to keep up, its outbox of {outbox} "
            "messages is full; reconnect"
        )


class OriginNotAllowed(AutoOpsError):
    def __init__(self, origin: str | None, allowed: list[str]) -> None:
        super().__init__(
            f"origin {origin!r} not allowed: expected one of {', '.join(allowed)} "
            "(AUTOOPS_CORS_ORIGINS)"
        )


class ShuttingDown(AutoOpsError):
    def __init__(self) -> None:
        super().__init__("server shutting down")


class TokenBucket:
    """`rate` tokens a second, bursts up to `rate`; one token per client message."""

    __slots__ = ("rate", "capacity", "tokens", "_clock", "_last")  # one per subscriber: kept small

    def __init__(self, rate: float, clock: Callable[[], float] | None = None) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate)
        self.tokens = self.capacity
        self._clock = clock or time.monotonic
        self._last = self._clock()

    def take(self) -> bool:
        now = self._clock()
        self.tokens = min(self.capacity, self.tokens + (now - self._last) * self.rate)
        self._last = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False
