"""What a follower serves: the leader's published state (runner_state), read from the database
when the leader says it changed, when the bus lost messages, and on a slow poll besides."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from backend.config import Settings
from backend.db import lease
from backend.runner.errors import NotReady
from backend.runner.recent import RecentDecisions
from backend.runner.state import View

log = logging.getLogger(__name__)


class Replica:
    """The read side of a follower, with the reads the API makes of a Runner."""

    persist_failing = False

    def __init__(self, settings: Settings, engine: Engine, agent_ids: tuple[str, ...]) -> None:
        self.settings = settings
        self.engine = engine
        self.agent_ids = agent_ids
        self.epoch = 0
        self.recent = RecentDecisions()
        self.recent.complete = False  # holds nothing: decisions/recent asks the database
        self.last_error: str | None = None
        self._view: View | None = None
        self._skus: list[dict[str, Any]] = []
        self._changed_at: float | None = None  # monotonic time the state last moved on
        self._reload: asyncio.Task[None] | None = None

    @property
    def restored(self) -> bool:
        return self._view is not None

    @property
    def view(self) -> View:
        if self._view is None:
            raise NotReady("no state from the leader yet (runner_state is empty or unreadable)")
        return self._view

    def ticking(self) -> tuple[bool, float | None]:
        """Whether the leader's state is fresh, and seconds since it last moved on."""
        if self._changed_at is None:
            return False, None
        age = time.monotonic() - self._changed_at
        return age < 3 * self.settings.day_seconds + 5.0, age

    def cached_sku_rows(self) -> list[dict[str, Any]] | None:
        return self._skus if self.restored else None

    def sku_rows(self) -> list[dict[str, Any]]:
        return self._skus

    def set_open_alerts(self, count: int) -> None:
        self._view = replace(self.view, active_alerts_count=count)

    def notify(self, epoch: int, version: int) -> None:
        """The leader says it wrote state (epoch, version): read it unless already held."""
        if self._view is None or (epoch, version) > (self.epoch, self._view.version):
            self.resync()

    def resync(self) -> None:
        if self._reload is None or self._reload.done():
            self._reload = asyncio.create_task(self.reload(), name="replica:reload")

    async def reload(self) -> None:
        try:
            row = await asyncio.to_thread(self._read)
        except Exception as exc:  # the database is away: keep serving what is held, say so
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.warning("reading the leader's state failed: %s", exc)
            return
        self.last_error = None
        if row is None:
            return
        held = (self.epoch, self._view.version) if self._view is not None else (-1, -1)
        if (row["epoch"], row["version"]) <= held:
            return
        view = row["view"]
        self._view = View(
            day=int(view["day"]),
            timestamp=datetime.fromisoformat(view["timestamp"].replace("Z", "+00:00")),
            metrics=view["metrics"],
            agents=view["agents"],
            active_alerts_count=int(view["active_alerts_count"]),
            recent_decisions_count=int(view["recent_decisions_count"]),
            version=int(row["version"]),
        )
        self.epoch, self._skus = int(row["epoch"]), row["skus"]
        self._changed_at = time.monotonic()

    def _read(self) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            return lease.read_state(conn)
