"""REST routes of the console's reads beyond the live view (per category, previews, replay)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Request

from backend import schemas
from backend.api.routes import AUTH, INVALID, READ, UNAVAILABLE, Responses, service

console = APIRouter(prefix="/api/dashboard", tags=["dashboard"], responses=AUTH)
NOT_LOADED: Responses = {
    503: {"model": schemas.ErrorBody, "description": "the store's state is not loaded yet"}
}


@console.get(
    "/metrics/by-category",
    dependencies=READ,
    response_model=schemas.MetricsByCategory,
    operation_id="getMetricsByCategory",
    responses=NOT_LOADED,
)
async def metrics_by_category(request: Request) -> dict:
    """Per category, the live store against its shadow baseline, from the two ledgers."""
    return await service(request).insight.by_category()


@console.post(
    "/agents/{agent_id}/intervention/preview",
    dependencies=READ,
    response_model=schemas.InterventionPreview,
    operation_id="postInterventionPreview",
    responses={
        404: {"model": schemas.ErrorBody, "description": "unknown agent"},
        400: {
            "model": schemas.ErrorBody,
            "description": "not an override, or its parameters cannot be applied",
        },
        422: {"model": schemas.ValidationErrorBody, "description": "the body is malformed"},
        **NOT_LOADED,
    },
)
async def intervention_preview(
    request: Request, agent_id: str, body: Annotated[schemas.InterventionPreviewRequest, Body()]
) -> dict:
    """What the agent's own demand model expects over the override's days with the override
    and without it (mean and 10-50-90% band per day and in total). Takes an intervention's
    body and changes nothing; the same override, applied, keeps this preview in the audit log."""
    return await service(request).insight.preview(
        agent_id, body.action, body.parameters, body.agent_id
    )


@console.get(
    "/replay",
    dependencies=READ,
    response_model=schemas.ReplayRange,
    operation_id="getReplayRange",
    responses=UNAVAILABLE,
)
async def replay_range(request: Request) -> dict:
    """The past traded days the database still holds, and how long it keeps them."""
    return await service(request).insight.replay_range()


@console.get(
    "/replay/{day}",
    dependencies=READ,
    response_model=schemas.ReplayDay,
    operation_id="getReplayDay",
    responses={
        404: {"model": schemas.ErrorBody, "description": "the day is not (or no longer) held"},
        **INVALID,
        **UNAVAILABLE,
    },
)
async def replay_day(
    request: Request,
    day: Annotated[int, Path(ge=0, le=2**31 - 1, description="a traded sim day")],
    limit: Annotated[
        int, Query(ge=1, le=schemas.MAX_LIMIT, description="decisions to return, in order")
    ] = 200,
) -> dict:
    """One past day as it stood after trading: KPIs, decisions, open alerts, interventions."""
    return await service(request).insight.replay_day(day, limit)
