"""The records the Operation hands to the runner: decisions, outcomes, events, conditions, stats."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

AGENT_IDS: tuple[str, ...] = ("pricing_agent", "inventory_agent", "promotion_agent")
AGENT_NAMES: dict[str, str] = {
    "pricing_agent": "Pricing Agent",
    "inventory_agent": "Inventory Agent",
    "promotion_agent": "Promotion Agent",
}


class AgentStatus(str, Enum):
    ACTIVE = "active"
    PAUSED = "paused"
    ERROR = "error"


@dataclass(frozen=True)
class Decision:
    id: str
    agent_id: str
    timestamp: datetime
    day: int
    action_type: str
    sku: str
    parameters: dict[str, Any]
    rationale: str
    confidence_score: float
    expected_outcome: dict[str, Any]
    outcome: dict[str, Any] | None


@dataclass(frozen=True)
class OutcomeUpdate:
    decision_id: str
    outcome: dict[str, Any]
    hit: bool


@dataclass(frozen=True)
class StoreEvent:
    kind: str
    message: str
    agent_id: str | None
    sku: str | None
    data: dict[str, Any]


@dataclass(frozen=True)
class Condition:
    key: str
    severity: str
    title: str
    message: str
    agent_id: str | None
    sku: str | None


@dataclass(frozen=True)
class DayReport:
    day: int
    timestamp: datetime
    decisions: list[Decision]
    outcomes: list[OutcomeUpdate]
    events: list[StoreEvent]


@dataclass(frozen=True)
class AgentStats:
    agent_id: str
    name: str
    status: AgentStatus
    current_activity: str
    last_decision_time: datetime | None
    decisions_count: int
    success_rate: float | None
    avg_response_time: float | None
    # beyond the contract: percent of judged predictions inside their 80% interval (calibration)
    interval_coverage: float | None = None
