"""Build the OpenAPI and AsyncAPI documents from the app and from `backend.schemas`."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any, get_args

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from backend import schemas

CONTRACT_DIR = Path(__file__).resolve().parents[2] / "contract"
WS_PATH = "/api/dashboard/ws"
TITLE = "AutoOps Retail API"
VERSION = "1.0.0"

# Each stream's messages, as its discriminated union in `backend.schemas` lists them.
STREAMS: dict[str, tuple[str, str, Any]] = {
    "liveUpdates": ("/live-updates", "LiveUpdatesMessage", schemas.LiveUpdatesMessage),
    "agentStatus": ("/agents/{agent_id}/status", "AgentStreamMessage", schemas.AgentStreamMessage),
    "realtimeMetrics": (
        "/metrics/real-time",
        "RealtimeMetricsMessage",
        schemas.RealtimeMetricsMessage,
    ),
}
CLIENT = ("ClientMessage", schemas.ClientMessage)
STREAM_DOC = {
    "liveUpdates": "The dashboard: `connection_established` on connect, `metrics_update` every "
    "AUTOOPS_LIVE_INTERVAL (5 s), `agent_intervention` and `system_event` as they happen. Events "
    "carry `epoch` and `offset`; reconnect with `?since=<epoch>:<offset>` to get the ones missed "
    "from the server's history (AUTOOPS_WS_HISTORY_SIZE events, default 2000), or "
    "`recovered: false` when it cannot cover the gap (then reload by REST).",
    "agentStatus": "One agent: `agent_status` on connect, `agent_status_update` every "
    "AUTOOPS_AGENT_INTERVAL (3 s). An unknown agent id is accepted, then closed 4004.",
    "realtimeMetrics": "The ten KPIs: `metrics_stream` on connect, `metrics_update` every "
    "AUTOOPS_METRICS_INTERVAL (2 s).",
}

# What a client should do on each close code the server sends (the codes are the contract's).
CLOSE_CODES: dict[str, dict[str, str]] = {
    "1000": {"meaning": "normal closure", "retry": "no"},
    "1001": {"meaning": "server shutting down", "retry": "backoff"},
    "1006": {"meaning": "connection lost without a close frame (client side)", "retry": "backoff"},
    "1008": {
        "meaning": "policy: missing, bad or expired token, a role short of viewer, an Origin "
        "not in AUTOOPS_CORS_ORIGINS (auth on), too many connections from one address, or too "
        "many client messages; the reason says which",
        "retry": "refresh-token when the reason names the token, else backoff at the maximum",
    },
    "1009": {"meaning": "a client frame over AUTOOPS_WS_MAX_FRAME_BYTES", "retry": "no"},
    "1011": {"meaning": "keepalive ping timeout or a server error", "retry": "backoff"},
    "1013": {
        "meaning": "try again later: the client fell behind (outbox full) or the store's "
        "state is not loaded yet",
        "retry": "backoff",
    },
    "4004": {"meaning": "unknown agent id on agents/{agent_id}/status", "retry": "no"},
}
RECONNECT = (
    "Reconnect after 1 s, doubling on each failed attempt up to 30 s, reset after a successful "
    "connection; add jitter so that many clients do not return at once."
)


def operation_id(route: APIRoute) -> str:
    """`getAgentsStatus`, `postAgentIntervention`: the method, then the handler's name."""
    method = sorted(route.methods or ())[0].lower()
    return method + "".join(part.capitalize() for part in route.name.split("_"))


# ---- OpenAPI ---------------------------------------------------------------------------------

BEARER = {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "JWT",
    "description": "required when the server runs with AUTOOPS_AUTH=jwt; role claim: viewer "
    "reads, operator intervenes, admin resets",
}


def openapi(app: FastAPI, secured_prefix: str) -> dict[str, Any]:
    """FastAPI's document, plus the bearer scheme on every route under `secured_prefix`."""
    spec = FastAPI.openapi(app)
    spec.setdefault("components", {})["securitySchemes"] = {"bearer": BEARER}
    for name, schema in spec["components"].get("schemas", {}).items():
        # FastAPI drops every null from the document, the examples' nulls included: put back
        # the examples exactly as the models give them
        extra = getattr(getattr(schemas, name, None), "model_config", {}).get("json_schema_extra")
        if isinstance(extra, dict) and "examples" in extra:
            schema["examples"] = extra["examples"]
    for path, methods in spec["paths"].items():
        if path.startswith(secured_prefix):
            for op in methods.values():
                # a token, or none when the server runs with auth off
                op["security"] = [{"bearer": []}, {}]
    return spec


def install(app: FastAPI, secured_prefix: str) -> None:
    """The app's /openapi.json as above, and /asyncapi.json next to it (open, like it)."""

    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = openapi(app, secured_prefix)
        return app.openapi_schema

    app.openapi = document  # type: ignore[method-assign]

    @app.get("/asyncapi.json", include_in_schema=False)
    async def asyncapi_json() -> JSONResponse:
        return JSONResponse(asyncapi())


# ---- the stream messages ---------------------------------------------------------------------


def _members(union: Any) -> list[type[BaseModel]]:
    inner = get_args(union)[0]  # Annotated[A | B | ..., Field(discriminator="type")]
    return list(get_args(inner)) if get_args(inner) else [inner]


def _all_models() -> list[type[BaseModel]]:
    seen: dict[str, type[BaseModel]] = {}
    for _, _, union in STREAMS.values():
        for model in _members(union):
            seen.setdefault(model.__name__, model)
    for model in _members(CLIENT[1]):
        seen.setdefault(model.__name__, model)
    return list(seen.values())


def _definitions(ref_template: str) -> dict[str, Any]:
    """Every message schema and what it refers to, plus one `oneOf` per stream."""
    _, top = models_json_schema(
        [(m, "serialization") for m in _all_models()], ref_template=ref_template
    )
    defs: dict[str, Any] = top["$defs"]
    for schema in defs.values():
        # a property's title ("Type", "Epoch") would become a type alias of its own in generated
        # TypeScript; the models' titles stay
        for prop in schema.get("properties", {}).values():
            prop.pop("title", None)
    for _, union_name, union in [*STREAMS.values(), ("", *CLIENT)]:
        defs[union_name] = {
            "title": union_name,
            "oneOf": [{"$ref": ref_template.format(model=m.__name__)} for m in _members(union)],
        }
    return dict(sorted(defs.items()))


@cache
def stream_schemas() -> dict[str, Any]:
    """One JSON Schema (2020-12) with every message in `$defs` and each stream's union."""
    defs = _definitions("#/$defs/{model}")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "autoops-ws-messages.schema.json",
        "title": "AutoOpsStreams",
        "description": "The WebSocket messages of the AutoOps Retail API, per stream.",
        "type": "object",
        "properties": {
            name: {"$ref": f"#/$defs/{union}"}
            for name, (_, union, _) in {**STREAMS, "client": ("", CLIENT[0], None)}.items()
        },
        "$defs": defs,
    }


def _message_key(model: type[BaseModel]) -> str:
    return model.__name__[0].lower() + model.__name__[1:]


def _message(model: type[BaseModel]) -> dict[str, Any]:
    kind = get_args(model.model_fields["type"].annotation)[0]  # Literal["..."]
    doc = (model.__doc__ or "").strip()
    return {
        "name": model.__name__,
        "title": kind,
        "summary": doc or f"a `{kind}` message",
        "payload": {"$ref": f"#/components/schemas/{model.__name__}"},
    }


@cache
def asyncapi() -> dict[str, Any]:
    """The AsyncAPI 3.0 document of the three streams."""
    defs = _definitions("#/components/schemas/{model}")
    query = {
        "type": "object",
        "properties": {
            "token": {"type": "string", "description": "the JWT, when no subprotocol carries it"},
            "since": {
                "type": "string",
                "pattern": r"^\d+:\d+$",
                "description": "live-updates only: `<epoch>:<offset>` of the last event "
                "received; the events after it are replayed before live traffic",
            },
        },
    }
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    client_refs = {_message_key(m): m for m in _members(CLIENT[1])}
    for name, (address, _, union) in STREAMS.items():
        members = {_message_key(m): m for m in _members(union)}
        for key, model in {**members, **client_refs}.items():
            messages[key] = _message(model)
        channel: dict[str, Any] = {
            "address": address,
            "description": STREAM_DOC[name],
            "messages": {
                key: {"$ref": f"#/components/messages/{key}"}
                for key in {**members, **client_refs}
            },
            "bindings": {"ws": {"method": "GET", "query": query, "bindingVersion": "0.1.0"}},
        }
        if "{agent_id}" in address:
            channel["parameters"] = {
                "agent_id": {
                    "enum": list(get_args(schemas.AgentId)),
                    "description": "one of the three agents; any other id is closed 4004",
                }
            }
        channels[name] = channel
        operations[f"send{name[0].upper()}{name[1:]}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{name}"},
            "summary": f"what the server sends on {address}",
            "messages": [{"$ref": f"#/channels/{name}/messages/{key}"} for key in members],
        }
        operations[f"receive{name[0].upper()}{name[1:]}Ping"] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{name}"},
            "summary": "a client's ping, answered by pong; anything else gets an error message",
            "messages": [{"$ref": f"#/channels/{name}/messages/{key}"} for key in client_refs],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": f"{TITLE}: streams",
            "version": VERSION,
            "description": "Three WebSocket streams under /api/dashboard/ws. Every message is a "
            "JSON text frame with a `type` and the run's `epoch`. " + RECONNECT,
            "x-close-codes": CLOSE_CODES,
            "x-reconnect": RECONNECT,
        },
        "defaultContentType": "application/json",
        "servers": {
            "local": {
                "host": "localhost:8000",
                "protocol": "ws",
                "pathname": WS_PATH,
                "description": "the development server (`honcho start`)",
                "security": [{"$ref": "#/components/securitySchemes/bearer"}],
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "schemas": defs,
            "messages": dict(sorted(messages.items())),
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "required when the server runs with AUTOOPS_AUTH=jwt: offer "
                    "the subprotocols ['bearer', '<jwt>'] (the server answers `bearer`), or "
                    "add ?token=<jwt>",
                }
            },
        },
    }


# ---- export ----------------------------------------------------------------------------------


def documents() -> dict[str, dict[str, Any]]:
    from backend.api.app import build_app
    from backend.api.routes import dashboard
    from backend.config import Settings

    app = build_app(Settings(auth="off"))
    return {
        "openapi.json": openapi(app, dashboard.prefix),
        "asyncapi.json": asyncapi(),
        "ws-messages.schema.json": stream_schemas(),
    }


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def render_all() -> dict[str, str]:
    return {name: render(doc) for name, doc in documents().items()}


