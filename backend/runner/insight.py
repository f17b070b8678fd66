"""Reads for the operator console beyond the live view: per-category figures, pages of the
store's SKUs, what-if previews of an override, and past days replayed from the database."""

from __future__ import annotations

import asyncio
from typing import Any

from backend.errors import AutoOpsError
from backend.runner.core import Runner
from backend.sim.categories import by_category


class UnknownCategory(AutoOpsError):
    def __init__(self, category: str, known: list[str]) -> None:
        super().__init__(f"category: expected one of {', '.join(known)}, got {category!r}")


class Insight:
    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        # the by-category body and the view version it was computed on (a day or an intervention)
        self._categories: tuple[int, dict[str, Any] | None] = (-1, None)

    async def by_category(self) -> dict[str, Any]:
        version = self.runner.view.version
        if self._categories[0] != version or self._categories[1] is None:
            body = await asyncio.to_thread(self.runner.read, _by_category)
            self._categories = (version, body)
        return self._categories[1]

    @staticmethod
    def sku_page(
        rows: list[dict[str, Any]], offset: int, limit: int, category: str | None, q: str | None
    ) -> tuple[int, list[dict[str, Any]]]:
        """(rows matching the filters, the page of them from `offset`), in catalog order."""
        if category is not None:
            known = sorted({r["category"] for r in rows})
            if category not in known:
                raise UnknownCategory(category, known)
            rows = [r for r in rows if r["category"] == category]
        if q:
            needle = q.casefold()
            rows = [
                r for r in rows if needle in r["sku"].casefold() or needle in r["name"].casefold()
            ]
        return len(rows), rows[offset : offset + limit]


def _by_category(op: Any) -> dict[str, Any]:
    return by_category(op.live.ledger, op.baseline.ledger, op.public, op.window)
