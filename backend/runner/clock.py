"""The runner's two clocks: the day's deadlines, and the backoff between attempts at a database
that refuses."""

from __future__ import annotations

import time

MAX_RETRY_DELAY = 30.0  # seconds between attempts at the database, at the most


class Deadlines:
    """start + k * interval on the monotonic clock: a late day never shifts the ones after it."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.start = time.monotonic()
        self.k = 0

    def next(self) -> float:
        """Seconds until the next deadline (0 or less: it is due)."""
        self.k += 1
        return self.start + self.k * self.interval - time.monotonic()

    def skip_missed(self) -> int:
        """Skip the deadlines that passed while the last one's work ran; how many."""
        behind = int((time.monotonic() - self.start) / self.interval) - self.k
        if behind <= 0:
            return 0
        self.k += behind
        return behind


class Backoff:
    """The wait before the next attempt after a failure: 1 s, doubling, at least `floor` (a sim
    day: no point retrying faster than days come), at most MAX_RETRY_DELAY; none after a success."""

    def __init__(self, floor: float) -> None:
        self.floor = floor
        self.delay = 0.0  # the current wait; 0 while nothing fails
        self.until = 0.0  # monotonic time the current wait ends

    @property
    def failing(self) -> bool:
        return self.delay > 0

    @property
    def waiting(self) -> bool:
        """The current wait is not over: do not try yet."""
        return time.monotonic() < self.until

    def following(self) -> float:
        """The wait that one more failure would start."""
        return min(MAX_RETRY_DELAY, max(self.floor, self.delay * 2 or 1.0))

    def failed(self) -> float:
        """An attempt failed: start the next, longer wait; its length."""
        self.delay = self.following()
        self.until = time.monotonic() + self.delay
        return self.delay

    def succeeded(self) -> None:
        self.delay = 0.0
