"""Resume without loss on ws/live-updates: the newest events of the run's epoch, kept in memory.

Every event (agent_intervention, system_event) carries the run's `epoch` and its `offset` on the
stream, +1 per event. A client that reconnects with `?since=<epoch>:<offset>` gets every event
after that offset, replayed before live traffic, when the history still holds them; otherwise it
is told `recovered: false` and reloads the state by REST. The periodic messages carry the whole
state each time, so they are never replayed.
"""

from __future__ import annotations

import re
from collections import deque

CURSOR = re.compile(r"^(\d{1,18}):(\d{1,18})$")


class BadCursor(ValueError):
    pass


def parse_cursor(text: str) -> tuple[int, int]:
    match = CURSOR.match(text.strip())
    if match is None:
        raise BadCursor(
            f"expected ?since=<epoch>:<offset> (two integers, e.g. 3:120), got {text[:40]!r}"
        )
    return int(match.group(1)), int(match.group(2))


class History:
    """The last `size` events of one epoch as sent (serialised once), oldest first."""

    def __init__(self, size: int) -> None:
        self.events: deque[tuple[int, str]] = deque(maxlen=size)
        self.epoch: int | None = None
        self.offset = 0  # the offset of the newest event of `epoch`

    def add(self, epoch: int, offset: int, text: str) -> None:
        if epoch != self.epoch:  # a new run: what the old one said cannot be resumed from
            self.events.clear()
            self.epoch = epoch
        self.events.append((offset, text))
        self.offset = offset

    def position(self, epoch: int) -> int:
        """The offset a subscriber connecting now starts after."""
        return self.offset if epoch == self.epoch else 0

    def after(self, epoch: int, since: tuple[int, int]) -> list[str] | None:
        """Every event after `since`, oldest first; None when they are not all here."""
        since_epoch, since_offset = since
        current = self.position(epoch)
        if since_epoch != epoch or since_offset > current:
            return None
        if since_offset == current:
            return []
        if not self.events or self.events[0][0] > since_offset + 1:
            return None  # older than the history keeps
        return [text for offset, text in self.events if offset > since_offset]
