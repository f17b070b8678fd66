"""The most recent decisions in memory, so `decisions/recent` need not ask the database each time."""

from __future__ import annotations

from collections import deque
from itertools import count
from typing import Any

from backend.schemas import MAX_LIMIT

# The endpoint's largest `limit`: every unfiltered read is answered from memory.
RING_SIZE = MAX_LIMIT
# Versions are drawn from one counter for every ring in the process: a cache keyed on a version
# cannot take one runner's ring for another's (a change of leader brings a new ring).
_VERSIONS = count(1)


class RecentDecisions:
    """A bounded ring of the newest persisted decisions (outcomes applied); the database stays the record.

    Only touched from the event loop (and once from the restore, before the store is served),
    so it needs no lock.
    """

    def __init__(self, size: int = RING_SIZE) -> None:
        self.size = size
        self._ring: deque[dict[str, Any]] = deque(maxlen=size)  # oldest left, newest right
        self._by_id: dict[str, dict[str, Any]] = {}
        # True while the ring holds every stored decision (nothing evicted): a filtered read
        # that finds fewer than `limit` matches is then the whole answer, not a partial one.
        self.complete = True
        self.version = next(_VERSIONS)  # new on every change: keys caches of what is served

    def fill(self, newest_first: list[dict[str, Any]]) -> None:
        """Load the database's newest decisions at start (its order: newest first)."""
        self._ring.clear()
        self._by_id.clear()
        for row in reversed(newest_first[: self.size]):
            self._push(dict(row))
        self.complete = len(newest_first) < self.size
        self.version = next(_VERSIONS)

    def add_day(
        self,
        decisions: list[dict[str, Any]],
        outcomes: list[tuple[str, dict[str, Any], bool]],
        oldest_kept_day: int,
    ) -> None:
        """Apply one persisted day: its decisions, outcomes to decisions held, then the prune."""
        for decision in decisions:  # the same order as the database: inserts, then outcomes
            self._push(dict(decision))
        for decision_id, outcome, _hit in outcomes:
            held = self._by_id.get(decision_id)
            if held is not None:
                held["outcome"] = outcome
        # The day's prune removed these from the database; the ring must not outlive them.
        while self._ring and self._ring[0]["day"] < oldest_kept_day:
            self._by_id.pop(self._ring.popleft()["id"], None)
        self.version = next(_VERSIONS)

    def _push(self, decision: dict[str, Any]) -> None:
        if len(self._ring) == self.size:
            self._by_id.pop(self._ring[0]["id"], None)
            self.complete = False
        self._ring.append(decision)
        self._by_id[decision["id"]] = decision

    def newest(self, limit: int, agent_id: str | None = None) -> list[dict[str, Any]] | None:
        """The newest `limit` decisions (of one agent), newest first; None if the ring cannot tell."""
        if limit > self.size:
            return None
        found: list[dict[str, Any]] = []
        for decision in reversed(self._ring):
            if agent_id is None or decision["agent_id"] == agent_id:
                found.append(decision)
                if len(found) == limit:
                    return found
        return found if self.complete else None
