"""Reads for the operator console beyond the live view: per-category figures, pages of the
store's SKUs, what-if previews of an override, and past days replayed from the database."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import numpy as np

from backend.agents.preview import preview_override, realised
from backend.db import replay
from backend.errors import AutoOpsError, UnknownAction, UnknownAgent
from backend.runner import wire
from backend.runner.errors import AgentMismatch, NotReady
from backend.runner.loop import ACTIONS, Runner
from backend.runner.state import View
from backend.sim.categories import by_category


class NotPreviewable(AutoOpsError):
    def __init__(self, action: str) -> None:
        super().__init__(
            f"action: expected 'override' (only an override has a preview), got {action!r}"
        )


class DayNotHeld(AutoOpsError):
    def __init__(self, day: int, held: dict[str, int | None]) -> None:
        where = (
            f"a traded day from {held['first_day']} to {held['last_day']}"
            if held["days_held"]
            else "a traded day (none is stored yet)"
        )
        super().__init__(f"day: expected {where}, got {day}")


class Insight:
    def __init__(self, current: Callable[[], Any]) -> None:
        self._current = current  # the Runner, or a follower's Replica (which holds no store)
        # The by-category body and the view it was computed on (a day or an intervention), and
        # the pages of store/skus by (offset, limit, category, q) for the view they show. Keyed
        # on the View object, not its version: a new leader's runner numbers versions from 0.
        self._categories: tuple[View | None, dict[str, Any] | None] = (None, None)
        self._pages: tuple[View | None, dict[tuple, tuple[int, list[dict[str, Any]]]]] = (None, {})

    @property
    def runner(self) -> Any:
        return self._current()

    def _store(self) -> Runner:
        """The store itself, which only the replica that runs it holds."""
        runner = self.runner
        if not isinstance(runner, Runner):
            raise NotReady(
                "this read needs the store itself, which only the replica running it holds; "
                "retry (another replica may answer)"
            )
        return runner

    async def by_category(self) -> dict[str, Any]:
        view = self.runner.view
        held_view, held = self._categories
        if held_view is view and held is not None:
            return held
        body: dict[str, Any] = await asyncio.to_thread(self._store().read, _by_category)
        self._categories = (view, body)
        return body

    async def preview(
        self, agent_id: str, action: str, parameters: dict[str, Any], body_agent_id: str | None
    ) -> dict[str, Any]:
        """An override's what-if, checked in the intervention's order; changes nothing."""
        if agent_id not in self.runner.agent_ids:
            raise UnknownAgent(agent_id, self.runner.agent_ids)
        self.runner.view  # noqa: B018 - NotReady (503) before the store's state is loaded
        if action != "override":
            raise NotPreviewable(action) if action in ACTIONS else UnknownAction(action, ACTIONS)
        if body_agent_id is not None and body_agent_id != agent_id:
            raise AgentMismatch(agent_id, body_agent_id)
        store = self._store()
        return await asyncio.to_thread(store.read, preview_override, agent_id, parameters)

    async def with_realised(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Audit rows with what each previewed override's SKU did once its days have traded."""
        asks = [(k, r["preview"]) for k, r in enumerate(rows) if r.get("preview")]
        runner = self.runner
        if asks and isinstance(runner, Runner) and runner.restored:  # a follower: not known here
            done = await asyncio.to_thread(runner.read, _realised, [p for _, p in asks])
            for (k, _), outcome in zip(asks, done, strict=True):
                rows[k]["realised"] = outcome
        return rows

    async def replay_range(self) -> dict[str, Any]:
        held = await asyncio.to_thread(self._read, replay.held_days)
        s = self.runner.settings
        return {
            **held,
            "retention_days": s.retention_days,
            "audit_retention_days": s.audit_retention_days,
        }

    async def replay_day(self, day: int, limit: int) -> dict[str, Any]:
        def read(conn: Any) -> tuple[dict[str, Any] | None, dict[str, Any]]:
            record = replay.day_record(conn, day, limit)
            return record, (replay.held_days(conn) if record is None else {})

        record, held = await asyncio.to_thread(self._read, read)
        if record is None:
            raise DayNotHeld(day, held)
        return record

    def _read(self, fn: Any) -> Any:
        with self.runner.engine.connect() as conn:
            return fn(conn)

    async def sku_page(
        self, offset: int, limit: int, category: str | None, q: str | None
    ) -> tuple[int, list[dict[str, Any]]]:
        """(SKUs matching the filters, the page of them from `offset`), in catalog order; only
        the page's rows are built, once per change of the store."""
        runner = self.runner
        if not isinstance(runner, Runner):  # a follower serves the leader's published rows
            rows = runner.cached_sku_rows()
            if rows is None:
                rows = await asyncio.to_thread(runner.sku_rows)
            return _filter_rows(rows, offset, limit, category, q)
        view = runner.view
        if self._pages[0] is not view:
            self._pages = (view, {})
        key = (offset, limit, category, q)
        cached = self._pages[1].get(key)
        if cached is not None:
            return cached
        page: tuple[int, list[dict[str, Any]]] = await asyncio.to_thread(
            self._store().read, _sku_page, *key
        )
        if len(self._pages[1]) < 64:  # a few pages per version: the ones being looked at
            self._pages[1][key] = page
        return page


def _filter_rows(
    rows: list[dict[str, Any]], offset: int, limit: int, category: str | None, q: str | None
) -> tuple[int, list[dict[str, Any]]]:
    if category is not None:
        rows = [r for r in rows if r["category"] == category]
    if q:
        needle = q.casefold()
        rows = [r for r in rows if needle in r["sku"].casefold() or needle in r["name"].casefold()]
    return len(rows), rows[offset : offset + limit]


def _sku_page(
    op: Any, offset: int, limit: int, category: str | None, q: str | None
) -> tuple[int, list[dict[str, Any]]]:
    pub = op.public
    keep = np.ones(pub.n, dtype=bool)
    if category is not None:
        keep &= np.asarray(pub.category).astype(str) == category
    if q:
        needle = q.casefold()
        text = np.char.add(np.asarray(pub.sku).astype(str), "\n")
        text = np.char.lower(np.char.add(text, np.asarray(pub.name).astype(str)))
        keep &= np.char.find(text, needle) >= 0
    index = np.flatnonzero(keep)
    page = index[offset : offset + limit].tolist()
    return len(index), [wire.sku_row(r) for r in op.sku_rows(page)]


def _realised(op: Any, previews: list[dict[str, Any]]) -> list[dict[str, Any] | None]:
    return [realised(op, p["sku"], p["first_day"], p["last_day"]) for p in previews]


def _by_category(op: Any) -> dict[str, Any]:
    return by_category(op.live.ledger, op.baseline.ledger, op.public, op.window)
