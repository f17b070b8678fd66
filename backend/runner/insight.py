"""Reads for the operator console beyond the live view: per-category figures, pages of the
store's SKUs, what-if previews of an override, and past days replayed from the database."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from backend.agents.preview import preview_override, realised
from backend.errors import AutoOpsError, UnknownAction, UnknownAgent
from backend.runner.core import ACTIONS, Runner
from backend.runner.errors import AgentMismatch, NotReady
from backend.sim.categories import by_category


class NotPreviewable(AutoOpsError):
    def __init__(self, action: str) -> None:
        super().__init__(
            f"action: expected 'override' (only an override has a preview), got {action!r}"
        )


class Insight:
    def __init__(self, current: Callable[[], Any]) -> None:
        self._current = current  # the Runner, or a follower's Replica (which holds no store)
        # the by-category body and the view version it was computed on (a day or an intervention)
        self._categories: tuple[int, dict[str, Any] | None] = (-1, None)

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
        version = self.runner.view.version
        if self._categories[0] != version or self._categories[1] is None:
            body = await asyncio.to_thread(self._store().read, _by_category)
            self._categories = (version, body)
        return self._categories[1]

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

    @staticmethod
    def sku_page(
        rows: list[dict[str, Any]], offset: int, limit: int, category: str | None, q: str | None
    ) -> tuple[int, list[dict[str, Any]]]:
        """(rows matching the filters, the page of them from `offset`), in catalog order."""
        if category is not None:
            rows = [r for r in rows if r["category"] == category]
        if q:
            needle = q.casefold()
            rows = [
                r for r in rows if needle in r["sku"].casefold() or needle in r["name"].casefold()
            ]
        return len(rows), rows[offset : offset + limit]


def _realised(op: Any, previews: list[dict[str, Any]]) -> list[dict[str, Any] | None]:
    return [realised(op, p["sku"], p["first_day"], p["last_day"]) for p in previews]


def _by_category(op: Any) -> dict[str, Any]:
    return by_category(op.live.ledger, op.baseline.ledger, op.public, op.window)
