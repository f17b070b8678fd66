"""REST routes of the console's reads beyond the live view (per category, previews, replay)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from backend import schemas
from backend.api.routes import AUTH, READ, service

console = APIRouter(prefix="/api/dashboard", tags=["dashboard"], responses=AUTH)
NOT_LOADED = {
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
