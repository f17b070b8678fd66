"""The ten contract metrics: labels, formats and the definitions shown on hover (as in the README)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

NOT_KNOWN = "not yet known"


@dataclass(frozen=True)
class Kpi:
    field: str
    label: str
    kind: str  # money | count | ratio | percent | number | seconds
    definition: str
    lower_is_better: bool = False


KPIS: tuple[Kpi, ...] = (
    Kpi(
        "total_revenue",
        "Revenue",
        "money",
        "Sum of price x units sold, since the start of the store's run.",
    ),
    Kpi(
        "total_profit",
        "Profit",
        "money",
        "Revenue - cost of goods sold - holding - disposal, since the start of the store's run.",
    ),
    Kpi(
        "inventory_turnover",
        "Inventory turnover",
        "number",
        "Annualised cost of goods sold / mean inventory at cost, over the window (28 sim days).",
    ),
    Kpi(
        "stockout_incidents",
        "Stock-outs",
        "count",
        "SKU-days whose shelf was emptied (units sold = units available), over the window "
        "(7 sim days).",
        lower_is_better=True,
    ),
    Kpi(
        "waste_reduction_percentage",
        "Waste reduction",
        "percent",
        "100 x (1 - expired units / expired units of the shadow baseline store on the same "
        "demand draws).",
    ),
    Kpi(
        "price_optimization_score",
        "Price optimisation",
        "ratio",
        "Expected profit at posted prices / expected profit at the true optimal prices (true "
        "model, same stock), over the window; 0..1.",
    ),
    Kpi(
        "promotion_effectiveness",
        "Promotion effectiveness",
        "ratio",
        "Share of marked-down units sold rather than written off (later write-offs of a "
        "marked-down cohort included), over the window; 0..1.",
    ),
    Kpi(
        "agent_collaboration_score",
        "Agent collaboration",
        "ratio",
        "1 - conflicting decisions / decisions, over the window (a decision conflicts when it "
        "and another agent's lever on the same SKU and day work against each other: a regular "
        "price moved under a markdown; an order on a marked-down SKU landing before its oldest "
        "units expire; a markdown on a SKU that sold out the day before); 0..1.",
    ),
    Kpi("decision_count", "Decisions (total)", "count", "Decisions made since the start."),
    Kpi(
        "response_time_avg",
        "Agent response time",
        "seconds",
        "Mean wall seconds an agent's decide() took, over the window.",
        lower_is_better=True,
    ),
)
KPI_BY_FIELD = {k.field: k for k in KPIS}

SUCCESS_RATE_HELP = (
    "Share of the agent's judged decisions whose realised units sold fell inside "
    "or above the 80% predictive interval the decision carried (0-100 %)."
)
RESPONSE_TIME_HELP = "Mean wall seconds the agent's decide() took, over the window."


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# How each kind of figure is written (format spec); seconds go as ms below one second.
NUMBER_FORMATS = {"money": ",.2f", "count": ",.0f", "ratio": ".3f", "percent": ".1f"}


def _number(kind: str, x: float, sign: str = "") -> str:
    if kind == "seconds":
        return f"{x * 1000:{sign}.1f} ms" if abs(x) < 1 else f"{x:{sign}.2f} s"
    return f"{x:{sign}{NUMBER_FORMATS.get(kind, ',.2f')}}"


def format_value(kind: str, value: Any) -> str:
    """A metric value for display; "not yet known" when the backend has none yet."""
    if not is_number(value):
        return NOT_KNOWN
    if kind == "money" and abs(value) >= 1e6:
        return f"{_number(kind, value / 1e6)} M"
    return _number(kind, value) + (" %" if kind == "percent" else "")


def format_delta(kind: str, now: Any, before: Any) -> str | None:
    """The change from `before` to `now` in the metric's unit, or None when either is unknown."""
    if not (is_number(now) and is_number(before)):
        return None
    diff = now - before
    if diff == 0:
        return "no change"
    return _number(kind, diff, "+") + (" pp" if kind == "percent" else "")


def format_percent(value: Any) -> str:
    return f"{value:.1f} %" if is_number(value) else NOT_KNOWN


def format_seconds(value: Any) -> str:
    return format_value("seconds", value)
