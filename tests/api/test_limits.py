"""The per-connection token bucket behind the 10 messages a second limit."""

from __future__ import annotations

from backend.api.limits import TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_of_ten_passes_and_the_eleventh_is_refused() -> None:
    clock = Clock()
    bucket = TokenBucket(10, clock=clock)
    assert [bucket.take() for _ in range(11)] == [True] * 10 + [False]


def test_tokens_come_back_at_the_configured_rate() -> None:
    clock = Clock()
    bucket = TokenBucket(10, clock=clock)
    for _ in range(10):
        bucket.take()
    clock.now += 0.25
    assert [bucket.take() for _ in range(3)] == [True, True, False]  # 2.5 tokens back
    clock.now += 60
    assert sum(bucket.take() for _ in range(20)) == 10  # never above the burst
