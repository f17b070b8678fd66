"""The runner's plain data: what it serves (View), what one traded day produced (DayResult)."""

from __future__ import annotations

import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from backend.config import Settings


def events_channel(settings: Settings) -> str:
    """The bus channel that the live-updates stream fans out."""
    return f"{settings.bus_namespace}:events"


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class View:
    """What the streams and the status endpoints serve; replaced whole, never mutated."""

    day: int
    timestamp: datetime
    metrics: dict[str, int | float | None]
    agents: list[dict[str, Any]]
    active_alerts_count: int
    recent_decisions_count: int
    version: int


@dataclass
class Checkpoint:
    """The store's state after `day` days, copied under the store lock, encoded later."""

    day: int
    timestamp: datetime
    intervention_seq: int
    tree: Any  # Operation.export_state(ring=False)
    arrays: dict[str, Any]
    rows: dict[str, Any] | None  # Operation.ring_rows() of the days not stored yet
    codec: Any  # the Operation class: encode(tree, arrays), encode_rows(rows)
    history_days: int  # days of rows the live store holds: older ones are pruned


@dataclass
class DayResult:
    day: int  # days traded after this one (Operation.day)
    traded_day: int  # the day that was just traded
    timestamp: datetime
    decisions: list[dict[str, Any]]
    outcomes: list[tuple[str, dict[str, Any], bool]]
    events: list[Any]
    # the day's system metrics: a future of (metrics, seconds) until the day's write joins it
    metrics: Any
    agents: list[dict[str, Any]]
    conditions: list[Any]
    checkpoint: Checkpoint
    intervention_seq: int
    skus: list[dict[str, Any]] | None = None  # the SKU rows after the day, when published
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # wall seconds per step of the day

    def join_metrics(self) -> dict[str, int | float | None]:
        """The day's metrics, waiting for them if they are still being computed."""
        if isinstance(self.metrics, Future):
            t0 = time.perf_counter()
            self.metrics, self.phases["kpis"] = self.metrics.result()
            self.phases["kpis_wait"] = time.perf_counter() - t0
        return self.metrics

    alerts_raised: list[dict[str, Any]] = field(default_factory=list)
    alerts_resolved: list[dict[str, Any]] = field(default_factory=list)
    open_alerts: int = 0
