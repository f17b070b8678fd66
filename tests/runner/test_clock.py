"""The runner's clocks: absolute day deadlines that skip what a slow day missed, and the backoff
between attempts at a database that refuses."""

from __future__ import annotations

import pytest

from backend.runner import clock
from backend.runner.clock import MAX_RETRY_DELAY, Backoff, Deadlines


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def time(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    fake = FakeTime()
    monkeypatch.setattr(clock.time, "monotonic", fake.monotonic)
    return fake


def test_deadlines_do_not_drift_and_a_slow_day_skips_the_ones_it_missed(time: FakeTime) -> None:
    deadlines = Deadlines(2.0)
    assert deadlines.next() == 2.0
    time.now += 2.5  # woke late, and the day took a while: the next deadline is still at +4
    assert deadlines.skip_missed() == 0
    assert deadlines.next() == pytest.approx(1.5)
    time.now += 1.5 + 5.0  # a day of 5 s: the deadlines at +6 and +8 passed meanwhile
    assert deadlines.skip_missed() == 2
    assert deadlines.next() == pytest.approx(110.0 - time.now)


def test_the_backoff_doubles_from_a_second_or_a_day_up_to_its_cap(time: FakeTime) -> None:
    fast, slow = Backoff(0.2), Backoff(5.0)
    assert [fast.failed() for _ in range(7)] == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    assert [slow.failed() for _ in range(4)] == [5.0, 10.0, 20.0, MAX_RETRY_DELAY]
    assert fast.failing and fast.waiting
    time.now += 30.0
    assert fast.failing and not fast.waiting  # the wait is over: try again
    fast.succeeded()
    assert not fast.failing and fast.following() == 1.0
