"""REST routes: thin adapters from HTTP to the service (the streams are served by the hub, see
`backend.api.dispatch`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from backend import schemas
from backend.api import access, bodies
from backend.auth import Principal, Role, require
from backend.runner import Service
from backend.sim.catalog import CATEGORIES

# An OpenAPI `responses` entry per status, as FastAPI takes it.
Responses = dict[int | str, dict[str, Any]]

AUTH: Responses = {
    401: {"model": schemas.ErrorBody, "description": "no valid bearer token (AUTOOPS_AUTH=jwt)"},
    403: {"model": schemas.ErrorBody, "description": "the token's role may not do this"},
}
READ = [Depends(access.needs(Role.VIEWER, "reading the dashboard"))]
OPERATE = access.needs(Role.OPERATOR, "an intervention or alert change")

# Every dashboard route needs a token when auth is on; ops (health, readiness, metrics) never do.
dashboard = APIRouter(prefix="/api/dashboard", tags=["dashboard"], responses=AUTH)
ops = APIRouter(tags=["operations"])

NOT_FOUND: Responses = {404: {"model": schemas.ErrorBody, "description": "unknown agent or alert"}}
BAD_REQUEST: Responses = {
    400: {"model": schemas.ErrorBody, "description": "the request cannot be applied"}
}
INVALID: Responses = {
    422: {"model": schemas.ValidationErrorBody, "description": "the body or query is malformed"}
}
UNAVAILABLE: Responses = {
    503: {
        "model": schemas.ErrorBody,
        "description": "the store's state is not loaded yet or the database is unavailable",
    }
}

RECENT_DECISIONS = 20  # decisions/recent without a `limit`
AgentFilter = Annotated[str | None, Query(description="only this agent's records; 404 if unknown")]


def service(request: Request) -> Service:
    return request.app.state.service


@dashboard.get(
    "/agents/status",
    dependencies=READ,
    response_model=list[schemas.AgentStatus],
    responses=UNAVAILABLE,
)
async def agents_status(request: Request) -> list[dict]:
    """The three agents' status: state, current activity, decisions, success rate."""
    return service(request).agent_statuses()


@dashboard.get(
    "/metrics/current",
    dependencies=READ,
    response_model=schemas.DashboardMetrics,
    responses=UNAVAILABLE,
)
async def metrics_current(request: Request) -> Response:
    """The dashboard: the ten KPIs, the agents' status, open alerts and the last day's decisions
    (the same `data` as a live-updates `metrics_update`)."""
    # encoded once per change of the store's view, the same bytes the response_model path makes
    return Response(bodies.of(service(request)).metrics_current(), media_type="application/json")


@dashboard.get(
    "/decisions/recent",
    dependencies=READ,
    response_model=list[schemas.Decision],
    responses={**NOT_FOUND, **INVALID, **UNAVAILABLE},
)
async def decisions_recent(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=schemas.MAX_LIMIT)] = RECENT_DECISIONS,
    agent_id: AgentFilter = None,
) -> list[dict] | Response:
    """The newest decisions first, optionally of one agent; `outcome` is null until known."""
    body = bodies.of(service(request)).decisions_recent(limit, agent_id)
    if body is not None:  # from memory, the same bytes the response_model path would make
        return Response(body, media_type="application/json")
    return await service(request).recent_decisions(limit, agent_id)


@dashboard.get(
    "/alerts/active", dependencies=READ, response_model=list[schemas.Alert], responses=UNAVAILABLE
)
async def alerts_active(request: Request) -> list[dict]:
    """Active and acknowledged alerts, newest first (resolved ones leave this list)."""
    return await service(request).active_alerts()


@dashboard.post(
    "/agents/{agent_id}/intervention",
    response_model=schemas.InterventionResponse,
    responses={**NOT_FOUND, **BAD_REQUEST, **INVALID, **UNAVAILABLE},
)
async def agent_intervention(
    request: Request,
    agent_id: str,
    body: Annotated[schemas.InterventionRequest, Body()],
    caller: Annotated[Principal, Depends(OPERATE)],
) -> dict:
    """Pause, resume, reset (admin) or override an agent. The intervention is recorded, applied
    and broadcast as `agent_intervention` on live-updates before this answers."""
    if body.action == "reset":  # reset throws away what an agent learned: admins only
        require(caller, Role.ADMIN, "resetting an agent")
    client = access.client_address(request, request.app.state.settings.trusted_proxies)
    return await service(request).intervene(
        agent_id, body.action, body.parameters, body.reason, body.agent_id, client, caller.sub
    )


@dashboard.get(
    "/metrics/history",
    dependencies=READ,
    response_model=list[schemas.MetricSnapshot],
    responses={**INVALID, **UNAVAILABLE},
)
async def metrics_history(
    request: Request,
    since: Annotated[
        schemas.IsoTime | None,
        Query(description="only snapshots after this time (ISO 8601 with offset)"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[dict]:
    """Metric snapshots, one per sim day, oldest first: the newest `limit` after `since`."""
    return await service(request).metrics_history(since, limit)


@dashboard.get(
    "/store/skus",
    dependencies=READ,
    response_model=list[schemas.SkuRow],
    operation_id="getStoreSkus",
    responses={
        200: {
            "headers": {
                "X-Total-Count": {
                    "description": "SKUs matching the filters, all pages together",
                    "schema": {"type": "integer"},
                }
            }
        },
        **INVALID,
        **UNAVAILABLE,
    },
)
async def store_skus(
    request: Request,
    response: Response,
    offset: Annotated[int, Query(ge=0, description="rows to skip, in catalog order")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000, description="rows in this page")] = 200,
    category: Annotated[
        Literal[CATEGORIES] | None,  # type: ignore[valid-type]
        Query(description="only this category"),
    ] = None,
    q: Annotated[
        str | None,
        Query(max_length=100, description="only SKUs whose id or name contains this (any case)"),
    ] = None,
) -> list[dict]:
    """Every SKU, a page at a time: price, markdown, cost, stock by age, days to expiry, on
    order, override; X-Total-Count says how many match."""
    total, rows = await service(request).insight.sku_page(offset, limit, category, q)
    response.headers["X-Total-Count"] = str(total)
    return rows


@dashboard.get(
    "/interventions",
    dependencies=READ,
    response_model=list[schemas.InterventionRecord],
    responses={**NOT_FOUND, **INVALID, **UNAVAILABLE},
)
async def interventions(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=schemas.MAX_LIMIT)] = 50,
    agent_id: AgentFilter = None,
) -> list[dict]:
    """The intervention audit log, newest first, optionally of one agent."""
    return await service(request).interventions(limit, agent_id)


@dashboard.post(
    "/alerts/{alert_id}/acknowledge",
    response_model=schemas.Alert,
    responses={
        **NOT_FOUND,
        409: {"model": schemas.ErrorBody, "description": "the alert is resolved already"},
        **INVALID,
        **UNAVAILABLE,
    },
)
async def alert_acknowledge(
    request: Request, alert_id: str, _: Annotated[Principal, Depends(OPERATE)]
) -> dict:
    """Mark an active alert acknowledged."""
    return await service(request).acknowledge_alert(alert_id)


@dashboard.post(
    "/alerts/{alert_id}/resolve",
    response_model=schemas.Alert,
    responses={**NOT_FOUND, **INVALID, **UNAVAILABLE},
)
async def alert_resolve(
    request: Request, alert_id: str, _: Annotated[Principal, Depends(OPERATE)]
) -> dict:
    """Resolve an alert (idempotent)."""
    return await service(request).resolve_alert(alert_id)


@ops.get("/healthz", response_model=schemas.Health, response_model_exclude_unset=True)
async def healthz(request: Request) -> dict:
    """200 while the process serves; with replicas, this process's part in the run."""
    return {"status": "ok", **service(request).cluster()}


@ops.get(
    "/readyz",
    response_model=schemas.Readiness,
    response_model_exclude_unset=True,
    responses={503: {"model": schemas.Readiness, "description": "not ready"}},
)
async def readyz(request: Request, response: Response) -> dict:
    """200 when the database answers and takes writes, the store's state is loaded and the
    runner trades on schedule; else 503 with what is missing."""
    readiness = await service(request).readiness()
    if readiness["status"] != "ready":
        response.status_code = 503
    return readiness


@ops.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}},
)
async def metrics(request: Request) -> Response:
    """Prometheus text: days, failures, decisions, interventions, KPIs, WebSocket traffic."""
    registry = request.app.state.telemetry.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
