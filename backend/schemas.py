"""Every wire model, REST and WebSocket, in one place (Pydantic v2)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter

_NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")


def _iso_text(value: object) -> object:
    # pydantic reads a bare number as a Unix time; the document promises ISO 8601 only.
    if isinstance(value, (int, float)) or (isinstance(value, str) and _NUMBER.fullmatch(value)):
        raise ValueError(f"expected an ISO 8601 time such as 2026-01-31T12:00:00Z, got {value!r}")
    return value


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value  # naive: UTC


IsoTime = Annotated[datetime, BeforeValidator(_iso_text), AfterValidator(_utc)]


class Wire(BaseModel):
    # Outgoing shapes drop internal fields; the one request body forbids unknown ones.
    model_config = ConfigDict(extra="ignore")


# ---- shared shapes -------------------------------------------------------------------------


class SystemMetrics(Wire):
    """The contract's ten KPIs; null where the store cannot know the figure yet."""

    total_revenue: float | None = Field(description="sum of price x units sold since the start")
    total_profit: float | None = Field(
        description="revenue - cost of goods sold - holding - disposal since the start"
    )
    inventory_turnover: float | None = Field(
        description="annualised COGS / mean inventory at cost, over the window"
    )
    stockout_incidents: int | None = Field(
        description="SKU-days whose shelf was emptied (sales = units available), over 7 days"
    )
    waste_reduction_percentage: float | None = Field(
        description="100 x (1 - expired units / expired units of the shadow baseline store)"
    )
    price_optimization_score: float | None = Field(
        description="expected profit at posted prices / at the true optimal prices; 0..1"
    )
    promotion_effectiveness: float | None = Field(
        description="share of marked-down units sold rather than written off; 0..1"
    )
    agent_collaboration_score: float | None = Field(
        description="1 - conflicting decisions / decisions, over the window; 0..1"
    )
    decision_count: int | None = Field(description="decisions made since the start")
    response_time_avg: float | None = Field(
        description="mean wall seconds an agent's decide() took, over the window"
    )


METRIC_FIELDS: tuple[str, ...] = tuple(SystemMetrics.model_fields)


class AgentState(str, Enum):
    ACTIVE = "active"
    PAUSED = "paused"
    ERROR = "error"


class AgentStatus(Wire):
    agent_id: str
    name: str
    status: AgentState
    current_activity: str
    last_decision_time: datetime | None
    decisions_count: int = Field(description="since the start or the agent's last reset")
    success_rate: float | None = Field(
        description="percent 0..100 of judged decisions whose units sold fell inside or above "
        "their 80% interval"
    )
    avg_response_time: float | None = Field(description="mean wall seconds of decide()")
    interval_coverage: float | None = Field(
        None,
        description="beyond the contract: percent 0..100 of judged predictions whose outcome "
        "fell inside their 80% interval (about 80 when calibrated)",
    )


class DashboardMetrics(Wire):
    timestamp: datetime
    day: int = Field(description="sim days traded so far")
    system_metrics: SystemMetrics
    agent_statuses: list[AgentStatus]
    active_alerts_count: int
    recent_decisions_count: int = Field(description="decisions made on the last traded day")


class Decision(Wire):
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


class Severity(str, Enum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"


class AlertStatus(str, Enum):
    ACTIVE = "active"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class Alert(Wire):
    id: str
    timestamp: datetime = Field(description="when the alert was raised")
    severity: Severity
    title: str
    message: str
    agent_id: str | None
    sku: str | None
    status: AlertStatus
    auto_dismiss: bool = Field(description="resolves by itself once its condition clears")
    resolved_at: datetime | None = None


class InterventionAction(str, Enum):
    PAUSE = "pause"
    RESUME = "resume"
    RESET = "reset"
    OVERRIDE = "override"


class InterventionRequest(Wire):
    agent_id: str | None = Field(None, description="optional; must equal the path's agent id")
    # A plain string on purpose: an unknown action is a 400 naming the known ones, checked after
    # the agent (DESIGN.md's order), not a 422; the enum below documents the values.
    action: str = Field(
        description="pause | resume | reset | override",
        json_schema_extra={"enum": ["pause", "resume", "reset", "override"]},
    )
    parameters: dict[str, Any] = Field(default_factory=dict)
    reason: str = Field(min_length=1, max_length=1000)

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "agent_id": "pricing_agent",
                    "action": "pause",
                    "parameters": {},
                    "reason": "Manual testing intervention",
                }
            ]
        },
    )


class InterventionResponse(Wire):
    success: bool
    agent_id: str
    action: InterventionAction
    timestamp: datetime
    message: str
    intervention_id: str


class InterventionRecord(Wire):
    intervention_id: str
    agent_id: str
    action: InterventionAction
    parameters: dict[str, Any]
    reason: str
    message: str
    timestamp: datetime
    day: int = Field(description="the sim day the intervention took effect before")
    client: str | None = Field(
        description="the caller's address (X-Forwarded-For only from a trusted proxy)"
    )
    sub: str = Field(description="who made it: the token's `sub`, or 'anonymous' when auth is off")
    preview: InterventionPreview | None = Field(
        None, description="an override's what-if preview, computed as it was applied"
    )
    realised: RealisedOutcome | None = Field(
        None,
        description="what the SKU did over the preview's days, once they have all traded "
        "(null before, and once they have left the store's ledger)",
    )


class MetricSnapshot(Wire):
    day: int
    timestamp: datetime
    system_metrics: SystemMetrics


class SkuRow(Wire):
    sku: str
    name: str
    category: str
    price: float = Field(description="the regular shelf price")
    markdown_price: float | None
    cost: float
    stock: int
    stock_by_age: dict[str, int] = Field(description="units by days of life left")
    days_to_expiry: int | None = Field(description="days of life left of the oldest unit")
    on_order: int
    override_until: int | None = Field(description="sim day an operator override holds until")


# ---- console reads: per category, what-if previews, replay ---------------------------------


class CategoryFigures(Wire):
    revenue: float
    profit: float = Field(description="revenue - cost of goods - holding - disposal")
    units_sold: int
    units_wasted: int = Field(description="units written off")
    fill_rate: float | None = Field(description="units sold / units demanded; null: no demand")
    stockout_sku_days: int = Field(description="SKU-days whose shelf was emptied")


class CategoryStores(Wire):
    live: CategoryFigures
    baseline: CategoryFigures = Field(description="the shadow store run by the standing rule")


class CategoryRow(Wire):
    category: str
    skus: int
    since_start: CategoryStores = Field(description="over every traded day held")
    window: CategoryStores = Field(description="over the trailing KPI window")


class MetricsByCategory(Wire):
    day: int = Field(description="sim days traded so far")
    window_days: int = Field(description="days in the trailing window (fewer at the start)")
    since_start_days: int = Field(description="days the since_start figures cover")
    covers_since_start: bool = Field(
        description="false once the ledger holds fewer days than were traded"
    )
    categories: list[CategoryRow]


class Band(Wire):
    """A figure over the preview's simulated paths: its mean and 10th, 50th, 90th percentiles."""

    mean: float
    p10: float
    p50: float
    p90: float


class PreviewDay(Wire):
    day: int = Field(description="the sim day")
    units_sold: Band
    revenue: Band
    profit: Band
    units_expired: Band = Field(description="units expected to be written off")
    stockout_probability: float = Field(description="probability the shelf empties that day")


class PreviewTotal(Wire):
    units_sold: Band
    revenue: Band
    profit: Band
    units_expired: Band
    stockout_days: Band = Field(description="days on which the shelf empties")
    stockout_probability: float = Field(description="probability of at least one stock-out day")


class PreviewArm(Wire):
    regular_price: float
    markdown: float = Field(description="discount fraction on the regular price")
    order_today: int | None = Field(
        description="units ordered on the first day; null: the agent's own order-up-to rule"
    )
    daily: list[PreviewDay]
    total: PreviewTotal = Field(description="over the whole horizon")


class InterventionPreview(Wire):
    agent_id: str
    sku: str
    parameters: dict[str, Any] = Field(description="the override's values as the store reads them")
    first_day: int
    last_day: int
    horizon_days: int = Field(
        description="the hold; for an order, its lead time plus the SKU's shelf life"
    )
    paths: int = Field(description="simulated paths behind each band")
    with_override: PreviewArm
    without_override: PreviewArm


class InterventionPreviewRequest(InterventionRequest):
    """The body of an intervention; the reason is optional, as nothing is recorded."""

    reason: str | None = Field(None, max_length=1000)  # type: ignore[assignment]


class RealisedOutcome(Wire):
    first_day: int
    last_day: int
    units_sold: int
    revenue: float
    profit: float
    units_expired: int
    stockout_days: int


class Cluster(Wire):
    """This process's part in the run (see README, "Running more than one process")."""

    role: Literal["single", "leader", "follower"] = Field(
        "single", description="single: alone; leader: runs the store; follower: relays it"
    )
    instance: str | None = Field(None, description="this process's AUTOOPS_INSTANCE_ID")
    leader: str | None = Field(None, description="the instance that runs the store, when known")
    epoch: int | None = Field(None, description="the run epoch served (null before the state)")


class Health(Cluster):
    status: Literal["ok"]


class Readiness(Cluster):
    status: Literal["ready", "not ready"]
    database: bool
    runner_ticking: bool
    day: int | None
    seconds_since_last_tick: float | None
    detail: str


class ErrorBody(Wire):
    error: str = Field(description="the condition, e.g. UnknownAgent")
    detail: str = Field(description="what was expected and what came")


class ValidationErrorBody(Wire):
    error: Literal["ValidationError"]
    detail: str
    errors: list[dict[str, Any]]


# ---- WebSocket messages ---------------------------------------------------------------------

SEQ = Field(description="per-stream sequence number of the scheduled tick")
TICK = Field(
    description="the tick's scheduled time on the server's time.monotonic() clock, seconds"
)


class ConnectionEstablished(Wire):
    type: Literal["connection_established"] = "connection_established"
    timestamp: datetime
    message: str


class LiveMetricsUpdate(Wire):
    type: Literal["metrics_update"] = "metrics_update"
    timestamp: datetime
    data: DashboardMetrics
    seq: int = SEQ
    tick: float = TICK


class AgentIntervention(Wire):
    type: Literal["agent_intervention"] = "agent_intervention"
    agent_id: str
    action: InterventionAction
    timestamp: datetime
    reason: str
    parameters: dict[str, Any]
    intervention_id: str
    message: str


class SystemEvent(Wire):
    type: Literal["system_event"] = "system_event"
    timestamp: datetime
    event: str = Field(
        description="alert_raised | alert_resolved | promotion_started | agent_error | ..."
    )
    severity: Severity
    message: str
    agent_id: str | None
    sku: str | None
    data: dict[str, Any]


class AgentStatusMessage(Wire):
    type: Literal["agent_status"] = "agent_status"
    agent_id: str
    timestamp: datetime
    data: AgentStatus


class AgentStatusUpdate(Wire):
    type: Literal["agent_status_update"] = "agent_status_update"
    agent_id: str
    timestamp: datetime
    data: AgentStatus
    seq: int = SEQ
    tick: float = TICK


class MetricsStream(Wire):
    type: Literal["metrics_stream"] = "metrics_stream"
    timestamp: datetime
    data: SystemMetrics


class RealtimeMetricsUpdate(Wire):
    type: Literal["metrics_update"] = "metrics_update"
    timestamp: datetime
    data: SystemMetrics
    seq: int = SEQ
    tick: float = TICK


class ErrorMessage(Wire):
    type: Literal["error"] = "error"
    timestamp: datetime
    message: str = Field(description="what was expected and what came")


class Pong(Wire):
    type: Literal["pong"] = "pong"
    timestamp: datetime


class Ping(Wire):
    model_config = ConfigDict(extra="allow")
    type: Literal["ping"]


# One union per stream: `metrics_update` means a different body on live-updates and real-time.
LiveUpdatesMessage = Annotated[
    ConnectionEstablished
    | LiveMetricsUpdate
    | AgentIntervention
    | SystemEvent
    | ErrorMessage
    | Pong,
    Field(discriminator="type"),
]
AgentStreamMessage = Annotated[
    AgentStatusMessage | AgentStatusUpdate | ErrorMessage | Pong, Field(discriminator="type")
]
RealtimeMetricsMessage = Annotated[
    MetricsStream | RealtimeMetricsUpdate | ErrorMessage | Pong, Field(discriminator="type")
]
ClientMessage = Annotated[Ping, Field(discriminator="type")]

LIVE_UPDATES = TypeAdapter(LiveUpdatesMessage)
AGENT_STREAM = TypeAdapter(AgentStreamMessage)
REALTIME_METRICS = TypeAdapter(RealtimeMetricsMessage)
CLIENT_MESSAGE = TypeAdapter(ClientMessage)
