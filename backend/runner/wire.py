"""Operation results (dataclasses, numpy values) to JSON-able wire dicts."""

from __future__ import annotations

import math
from typing import Any

import orjson

from backend.db.engine import json_bytes
from backend.schemas import METRIC_FIELDS

__all__ = ["jsonable"]

INT_METRICS = frozenset({"stockout_incidents", "decision_count"})
# Ratios over traded days: before the first day there is nothing to divide, whatever the core says.
RATIOS = frozenset(
    {
        "inventory_turnover",
        "waste_reduction_percentage",
        "price_optimization_score",
        "promotion_effectiveness",
        "agent_collaboration_score",
        "response_time_avg",
    }
)


def jsonable(value: Any) -> Any:
    """Plain JSON types for anything the core returns (numpy scalars and arrays included; NaN -> None)."""
    return orjson.loads(json_bytes(value))


def _number(value: Any, integer: bool) -> int | float | None:
    if value is None:
        return None
    number = float(value)
    if not math.isfinite(number):
        return None  # a figure the store cannot know yet is served as null, never as a stand-in
    return int(round(number)) if integer else number


def metrics(kpis: dict[str, Any], days_traded: int) -> dict[str, int | float | None]:
    """Exactly the contract's ten fields; null where the figure is not known (yet)."""
    return {
        f: None if days_traded == 0 and f in RATIOS else _number(kpis.get(f), f in INT_METRICS)
        for f in METRIC_FIELDS
    }


def agent_status(stats: Any) -> dict[str, Any]:
    status = getattr(stats.status, "value", stats.status)
    return {
        "agent_id": stats.agent_id,
        "name": stats.name,
        "status": str(status),
        "current_activity": stats.current_activity,
        "last_decision_time": stats.last_decision_time,
        "decisions_count": int(stats.decisions_count),
        "success_rate": _number(stats.success_rate, False),
        "avg_response_time": _number(stats.avg_response_time, False),
        # additive, beyond the contract's fields: the calibration of success_rate's intervals
        "interval_coverage": _number(getattr(stats, "interval_coverage", None), False),
    }


def decisions(ds: list[Any]) -> list[dict[str, Any]]:
    """A day's decisions as stored rows, their JSON fields converted in one pass."""
    fields = jsonable([[d.parameters, d.expected_outcome, d.outcome] for d in ds])
    return [
        {
            "id": d.id,
            "agent_id": d.agent_id,
            "timestamp": d.timestamp,
            "day": int(d.day),
            "action_type": d.action_type,
            "sku": str(d.sku),
            "parameters": p,
            "rationale": d.rationale,
            "confidence_score": float(d.confidence_score),
            "expected_outcome": e,
            "outcome": o,
        }
        for d, (p, e, o) in zip(ds, fields)
    ]


def outcomes(us: list[Any]) -> list[tuple[str, dict[str, Any], bool]]:
    """A day's outcome updates as (decision id, outcome, hit), converted in one pass."""
    fields = jsonable([u.outcome for u in us])
    return [(u.decision_id, f, bool(u.hit)) for u, f in zip(us, fields)]


def sku_row(row: dict[str, Any]) -> dict[str, Any]:
    data = jsonable(row)
    data["stock_by_age"] = {str(k): int(v) for k, v in (data.get("stock_by_age") or {}).items()}
    return data
