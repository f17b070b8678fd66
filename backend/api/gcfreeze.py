"""Keep long-lived connection objects out of the cyclic collector's full passes.

Every subscriber holds a few hundred tracked objects (uvicorn's protocol and its parser, the
ASGI task, the hub's client) for as long as it stays connected. A full (generation 2) collection
walks all of them; with thousands of subscribers that is a long pause in which no tick goes
out, and the subscribers' worst delays are made of it.

`gc.freeze()` moves every object tracked at that moment into the permanent generation, which
collections skip; objects that die by reference count are still freed at once. What a frozen
object cannot get is the collector's help with a reference cycle, so when enough connections
have closed since the last full pass (`collect_share` of those open, the same 25% rule CPython
applies to its own full collections), the hub unfreezes, collects once and freezes again.
"""

from __future__ import annotations

import gc
import logging
import time

log = logging.getLogger(__name__)


class FrozenConnections:
    """Counts connections opened and closed since the last freeze and the last full collection."""

    def __init__(self, collect_share: float) -> None:
        self.collect_share = collect_share
        self.opened = 0  # since the last freeze
        self.closed = 0  # since the last full collection
        self.freezes = 0
        self.collections = 0

    def freeze(self, open_now: int) -> None:
        gc.freeze()
        self.freezes += 1
        self.opened = 0
        log.debug("gc: froze %d objects (%d connections open)", gc.get_freeze_count(), open_now)

    def maintain(self, open_now: int) -> None:
        """Called every few seconds: collect once if enough closed, freeze if anything opened."""
        if self.closed and self.closed >= self.collect_share * max(open_now, 1):
            started = time.perf_counter()
            gc.unfreeze()
            found = gc.collect()
            self.collections += 1
            log.info(
                "gc: full collection after %d closes (%d open): %d unreachable, %.0f ms",
                self.closed,
                open_now,
                found,
                (time.perf_counter() - started) * 1000,
            )
            self.closed = 0
            self.freeze(open_now)
        elif self.opened:
            self.freeze(open_now)
