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
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)  # naive: UTC
    try:
        value.astimezone(UTC)  # what every comparison with a stored time does
    except OverflowError:
        raise ValueError(
            f"expected a time that falls within years 1 to 9999 in UTC, got {value.isoformat()}"
        ) from None
    return value


IsoTime = Annotated[datetime, BeforeValidator(_iso_text), AfterValidator(_utc)]


class Wire(BaseModel):
    # Outgoing shapes drop internal fields; the one request body forbids unknown ones. What the
    # server always sends is required in the published schemas, defaults included (`type`).
    model_config = ConfigDict(extra="ignore", json_schema_serialization_defaults_required=True)


def example(value: Any) -> ConfigDict:
    """One example body for the published schemas (mocks, Swagger, generated clients)."""
    return ConfigDict(json_schema_extra={"examples": [value]})


def _example_of(model: type[BaseModel]) -> Any:
    return model.model_config["json_schema_extra"]["examples"][0]  # type: ignore[index]


# The largest `limit` a list endpoint takes (recent decisions, interventions, a replayed day).
MAX_LIMIT = 500

AgentId = Literal["pricing_agent", "inventory_agent", "promotion_agent"]
ActionType = Literal[
    "price_adjustment", "inventory_restock", "markdown_application", "promotion_creation"
]
EventName = Literal[
    "alert_raised", "alert_resolved", "promotion_started", "agent_error", "runner_error"
]
ErrorName = Literal[
    "UnknownAgent",
    "UnknownAlert",
    "UnknownAction",
    "UnknownSku",
    "InvalidOverride",
    "NotPreviewable",
    "DayNotHeld",
    "AgentMismatch",
    "AlertConflict",
    "NotAuthenticated",
    "Forbidden",
    "NotReady",
    "CheckpointIncompatible",
    "Deposed",
    "DatabaseUnavailable",
    "ValidationError",
    "BadRequest",
    "NotFound",
    "MethodNotAllowed",
    "HTTPError",
]

T0 = "2026-11-28T10:11:58.048405Z"
METRICS_EXAMPLE = {
    "total_revenue": 6419.95,
    "total_profit": 2249.52,
    "inventory_turnover": 64.95,
    "stockout_incidents": 26,
    "waste_reduction_percentage": 10.53,
    "price_optimization_score": 0.86,
    "promotion_effectiveness": 0.89,
    "agent_collaboration_score": 0.93,
    "decision_count": 219,
    "response_time_avg": 0.0047,
}
AGENT_EXAMPLE = {
    "agent_id": "pricing_agent",
    "name": "Pricing Agent",
    "status": "paused",
    "current_activity": "Paused on day 8; prices follow the standing rule",
    "last_decision_time": "2026-11-28T10:11:57.549084Z",
    "decisions_count": 56,
    "success_rate": 67.86,
    "avg_response_time": 0.0035,
    "interval_coverage": 78.6,
}
DASHBOARD_EXAMPLE = {
    "timestamp": T0,
    "day": 9,
    "system_metrics": METRICS_EXAMPLE,
    "agent_statuses": [AGENT_EXAMPLE],
    "active_alerts_count": 9,
    "recent_decisions_count": 29,
}


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

    model_config = example(METRICS_EXAMPLE)


METRIC_FIELDS: tuple[str, ...] = tuple(SystemMetrics.model_fields)


class AgentState(str, Enum):
    ACTIVE = "active"
    PAUSED = "paused"
    ERROR = "error"


class AgentStatus(Wire):
    agent_id: AgentId
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

    model_config = example(AGENT_EXAMPLE)


class DashboardMetrics(Wire):
    timestamp: datetime
    day: int = Field(description="sim days traded so far")
    system_metrics: SystemMetrics
    agent_statuses: list[AgentStatus]
    active_alerts_count: int
    recent_decisions_count: int = Field(description="decisions made on the last traded day")

    model_config = example(DASHBOARD_EXAMPLE)


class Decision(Wire):
    id: str
    agent_id: AgentId
    timestamp: datetime
    day: int
    action_type: ActionType
    sku: str
    parameters: dict[str, Any] = Field(
        description="the decision's levers, by action_type: price_adjustment {old_price, "
        "new_price, elasticity}; inventory_restock {order_qty, order_up_to, lead_time_days}; "
        "markdown_application and promotion_creation {discount, units_at_risk, days_left, price}"
    )
    rationale: str
    confidence_score: float
    expected_outcome: dict[str, Any] = Field(description="what the agent expects, in its units")
    outcome: dict[str, Any] | None = Field(description="the realised outcome; null until known")

    model_config = example(
        {
            "id": "d000008-promotion-0003",
            "agent_id": "promotion_agent",
            "timestamp": T0,
            "day": 8,
            "action_type": "markdown_application",
            "sku": "SKU432821",
            "parameters": {"discount": 0.2, "units_at_risk": 9, "days_left": 1, "price": 2.9},
            "rationale": "9 units expire in 1 day(s) against expected sales 2.9; 20% off adds "
            "+2.82 expected value",
            "confidence_score": 0.529,
            "expected_outcome": {"old_units_sold_today": 4.96, "value_gain": 2.82},
            "outcome": {"units_sold": 6, "expected_at_least": 2.48, "stocked_out": False, "day": 8},
        }
    )


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
    agent_id: AgentId | None
    sku: str | None
    status: AlertStatus
    auto_dismiss: bool = Field(description="resolves by itself once its condition clears")
    resolved_at: datetime | None = None

    model_config = example(
        {
            "id": "alert-000009-63eb220509",
            "timestamp": T0,
            "severity": "warning",
            "title": "Low stock cover",
            "message": "SKU432821 Family Pack Gala Apples 1kg: 7 units against a forecast of 14.8",
            "agent_id": None,
            "sku": "SKU432821",
            "status": "active",
            "auto_dismiss": True,
            "resolved_at": None,
        }
    )


class InterventionAction(str, Enum):
    PAUSE = "pause"
    RESUME = "resume"
    RESET = "reset"
    OVERRIDE = "override"


ACTIONS: tuple[str, ...] = tuple(a.value for a in InterventionAction)


class InterventionRequest(Wire):
    agent_id: str | None = Field(None, description="optional; must equal the path's agent id")
    # A plain string on purpose: an unknown action is a 400 naming the known ones, checked after
    # the agent (the order in docs/api.md), not a 422; the enum below documents the values.
    action: str = Field(
        description=" | ".join(ACTIONS),
        json_schema_extra={"enum": list(ACTIONS)},
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
    agent_id: AgentId
    action: InterventionAction
    timestamp: datetime
    message: str
    intervention_id: str

    model_config = example(
        {
            "success": True,
            "agent_id": "pricing_agent",
            "action": "pause",
            "timestamp": T0,
            "message": "Pricing Agent paused; its prices follow the standing rule",
            "intervention_id": "iv-0bff95aceffe4f67",
        }
    )


class InterventionRecord(Wire):
    intervention_id: str
    agent_id: AgentId
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

    model_config = example(
        {
            "intervention_id": "iv-0bff95aceffe4f67",
            "agent_id": "pricing_agent",
            "action": "pause",
            "parameters": {},
            "reason": "Manual testing intervention",
            "message": "Pricing Agent paused; its prices follow the standing rule",
            "timestamp": T0,
            "day": 8,
            "client": "127.0.0.1",
            "sub": "anonymous",
        }
    )


class MetricSnapshot(Wire):
    day: int
    timestamp: datetime
    system_metrics: SystemMetrics

    model_config = example({"day": 8, "timestamp": T0, "system_metrics": METRICS_EXAMPLE})


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

    model_config = example(
        {
            "sku": "SKU432821",
            "name": "Family Pack Gala Apples 1kg",
            "category": "produce",
            "price": 3.63,
            "markdown_price": 2.9,
            "cost": 2.1,
            "stock": 7,
            "stock_by_age": {"1": 5, "4": 2},
            "days_to_expiry": 1,
            "on_order": 8,
            "override_until": None,
        }
    )


# ---- console reads: per category, what-if previews, replay ---------------------------------


class CategoryFigures(Wire):
    revenue: float
    profit: float = Field(description="revenue - cost of goods - holding - disposal")
    units_sold: int
    units_wasted: int = Field(description="units written off")
    fill_rate: float | None = Field(description="units sold / units demanded; null: no demand")
    stockout_sku_days: int = Field(description="SKU-days whose shelf was emptied")


CATEGORY_EXAMPLE = {
    "revenue": 1520.4,
    "profit": 512.75,
    "units_sold": 610,
    "units_wasted": 12,
    "fill_rate": 0.97,
    "stockout_sku_days": 3,
}


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
    waste_min_units: int = Field(
        description="units each store must have written off before their waste is compared"
    )
    waste_comparable_from_day: int | None = Field(
        description="the first traded day after which both stores had written off "
        "waste_min_units since the start; null until then"
    )
    categories: list[CategoryRow]

    model_config = example(
        {
            "day": 40,
            "window_days": 28,
            "since_start_days": 40,
            "covers_since_start": True,
            "waste_min_units": 30,
            "waste_comparable_from_day": 12,
            "categories": [
                {
                    "category": "dairy",
                    "skus": 10,
                    "since_start": {"live": CATEGORY_EXAMPLE, "baseline": CATEGORY_EXAMPLE},
                    "window": {"live": CATEGORY_EXAMPLE, "baseline": CATEGORY_EXAMPLE},
                }
            ],
        }
    )


class Band(Wire):
    """A figure over the preview's simulated paths: its mean and 10th, 50th, 90th percentiles."""

    mean: float
    p10: float
    p50: float
    p90: float


def _band(mean: float) -> dict[str, float]:
    return {"mean": mean, "p10": round(mean * 0.6, 2), "p50": mean, "p90": round(mean * 1.4, 2)}


def _preview_arm(price: float) -> dict[str, Any]:
    """An example arm of a one-day preview (the numbers illustrate the shape only)."""
    units = round(40 / price, 1)
    figures = {
        "units_sold": _band(units),
        "revenue": _band(round(units * price, 2)),
        "profit": _band(round(units * (price - 2.1), 2)),
        "units_expired": _band(1.0),
    }
    return {
        "regular_price": 3.63,
        "markdown": 0.0,
        "order_today": None,
        "daily": [{"day": 41, **figures, "stockout_probability": 0.05}],
        "total": {**figures, "stockout_days": _band(0.05), "stockout_probability": 0.05},
    }


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

    model_config = example(
        {
            "agent_id": "pricing_agent",
            "sku": "SKU432821",
            "parameters": {"sku": "SKU432821", "price": 2.99, "hold_days": 1},
            "first_day": 41,
            "last_day": 41,
            "horizon_days": 1,
            "paths": 500,
            "with_override": _preview_arm(2.99),
            "without_override": _preview_arm(3.63),
        }
    )


class InterventionPreviewRequest(InterventionRequest):
    """The body of an intervention; the reason is optional, as nothing is recorded."""

    reason: str | None = Field(None, max_length=1000)  # type: ignore[assignment]


class ReplayRange(Wire):
    first_day: int | None = Field(description="the oldest traded day still held; null: none yet")
    last_day: int | None = Field(description="the newest traded day held")
    days_held: int
    retention_days: int = Field(
        description="sim days of snapshots, decisions and resolved alerts the database keeps"
    )
    audit_retention_days: int = Field(description="sim days of interventions it keeps")

    model_config = example(
        {
            "first_day": 1,
            "last_day": 42,
            "days_held": 42,
            "retention_days": 365,
            "audit_retention_days": 3650,
        }
    )


class ReplayDay(Wire):
    day: int = Field(description="the traded sim day")
    timestamp: datetime = Field(description="when the day was traded")
    system_metrics: SystemMetrics = Field(description="the KPIs as they stood after the day")
    decisions: list[Decision] = Field(description="the day's decisions, in the order made")
    decisions_total: int = Field(description="decisions made that day (the list may be cut)")
    alerts: list[Alert] = Field(
        description="alerts open after the day traded; each with its status as of now"
    )
    interventions: list[InterventionRecord] = Field(
        description="interventions in effect from this day on (made before it traded)"
    )

    model_config = example(
        {
            "day": 8,
            "timestamp": T0,
            "system_metrics": METRICS_EXAMPLE,
            "decisions": [_example_of(Decision)],
            "decisions_total": 23,
            "alerts": [_example_of(Alert)],
            "interventions": [_example_of(InterventionRecord)],
        }
    )


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

    # sent only with replicas (response_model_exclude_unset): optional in the published schema
    model_config = ConfigDict(json_schema_serialization_defaults_required=False)


class Health(Cluster):
    status: Literal["ok"]

    model_config = example({"status": "ok"})


class Readiness(Cluster):
    status: Literal["ready", "not ready"]
    database: bool
    runner_ticking: bool
    day: int | None
    seconds_since_last_tick: float | None
    detail: str

    model_config = example(
        {
            "status": "ready",
            "database": True,
            "runner_ticking": True,
            "day": 9,
            "seconds_since_last_tick": 0.4,
            "detail": "database reachable and runner trading",
        }
    )


class ErrorBody(Wire):
    error: ErrorName = Field(description="the condition, e.g. UnknownAgent")
    detail: str = Field(description="what was expected and what came")

    model_config = example(
        {
            "error": "UnknownAgent",
            "detail": "unknown agent 'cashier_agent': expected one of pricing_agent, "
            "inventory_agent, promotion_agent",
        }
    )


class FieldError(Wire):
    loc: list[str | int] = Field(description="where: body, query or path, then the field")
    msg: str
    type: str = Field(description="pydantic's error type, e.g. less_than_equal")

    model_config = example(
        {
            "loc": ["query", "limit"],
            "msg": "Input should be less than or equal to 500",
            "type": "less_than_equal",
        }
    )


class ValidationErrorBody(Wire):
    error: Literal["ValidationError"]
    detail: str
    errors: list[FieldError]

    model_config = example(
        {
            "error": "ValidationError",
            "detail": "query.limit: expected less than or equal to 500, got '501'",
            "errors": [
                {
                    "loc": ["query", "limit"],
                    "msg": "Input should be less than or equal to 500",
                    "type": "less_than_equal",
                }
            ],
        }
    )


# ---- WebSocket messages ---------------------------------------------------------------------

SEQ = Field(description="per-stream sequence number of the scheduled tick")
TICK = Field(
    description="the tick's scheduled time on the server's time.monotonic() clock, seconds"
)
EPOCH = Field(
    description="the run's epoch: raised by one each time a runner starts trading (a restart, a "
    "change of leader); offsets and seq of different epochs are not comparable; 0 while the "
    "database has not taken the run's epoch (it refuses writes)"
)
OFFSET = Field(
    description="position of this event on its stream within the epoch: +1 per event, so a gap "
    "is a missed event; resume with ?since=<epoch>:<offset>"
)


class ConnectionEstablished(Wire):
    type: Literal["connection_established"] = "connection_established"
    timestamp: datetime
    message: str
    epoch: int = EPOCH
    offset: int = Field(
        description="the offset of the stream's last event at connect (0: none yet this epoch); "
        "the events that follow have higher offsets"
    )
    recovered: bool | None = Field(
        description="the answer to ?since=: true when every event after it follows (replayed "
        "before live traffic), false when the history cannot cover the gap (another epoch, or "
        "older than the history keeps): reload state by REST; null without ?since="
    )
    open_alerts: int = Field(
        description="alerts not yet resolved at connect (the list: GET /api/dashboard/alerts/"
        "active); a new subscriber gets this count, not one event per alert"
    )


class LiveMetricsUpdate(Wire):
    type: Literal["metrics_update"] = "metrics_update"
    timestamp: datetime
    data: DashboardMetrics
    seq: int = SEQ
    tick: float = TICK
    epoch: int = EPOCH


class AgentIntervention(Wire):
    type: Literal["agent_intervention"] = "agent_intervention"
    agent_id: AgentId
    action: InterventionAction
    timestamp: datetime
    reason: str
    parameters: dict[str, Any]
    intervention_id: str
    message: str
    epoch: int = EPOCH
    offset: int = OFFSET


class SystemEvent(Wire):
    type: Literal["system_event"] = "system_event"
    timestamp: datetime
    event: EventName
    severity: Severity
    message: str
    agent_id: AgentId | None
    sku: str | None
    data: dict[str, Any] = Field(
        description="by event: alert_raised and alert_resolved {alert_id}, or for the day's "
        "tail {count, alert_ids}; promotion_started {skus, count}; agent_error {error, day}"
    )
    epoch: int = EPOCH
    offset: int = OFFSET


class AgentStatusMessage(Wire):
    type: Literal["agent_status"] = "agent_status"
    agent_id: AgentId
    timestamp: datetime
    data: AgentStatus
    epoch: int = EPOCH


class AgentStatusUpdate(Wire):
    type: Literal["agent_status_update"] = "agent_status_update"
    agent_id: AgentId
    timestamp: datetime
    data: AgentStatus
    seq: int = SEQ
    tick: float = TICK
    epoch: int = EPOCH


class MetricsStream(Wire):
    type: Literal["metrics_stream"] = "metrics_stream"
    timestamp: datetime
    data: SystemMetrics
    epoch: int = EPOCH


class RealtimeMetricsUpdate(Wire):
    type: Literal["metrics_update"] = "metrics_update"
    timestamp: datetime
    data: SystemMetrics
    seq: int = SEQ
    tick: float = TICK
    epoch: int = EPOCH


class ErrorMessage(Wire):
    type: Literal["error"] = "error"
    timestamp: datetime
    message: str = Field(description="what was expected and what came")
    epoch: int = EPOCH


class Pong(Wire):
    type: Literal["pong"] = "pong"
    timestamp: datetime
    epoch: int = EPOCH


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

# The live-updates events the bus carries between replicas: the ones with an offset.
LiveEvent = Annotated[AgentIntervention | SystemEvent, Field(discriminator="type")]

LIVE_EVENT: TypeAdapter[LiveEvent] = TypeAdapter(LiveEvent)
CLIENT_MESSAGE: TypeAdapter[ClientMessage] = TypeAdapter(ClientMessage)
