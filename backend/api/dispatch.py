"""What is answered before FastAPI's middleware and router: the three WebSocket streams, and the
dashboard's two most polled reads, when they can be answered from memory.

A subscriber lives for hours and there may be ten thousand of them, so its session is a raw ASGI
coroutine run by the hub (`Hub.serve`), directly on the server's `receive` and `send`: no
Starlette `WebSocket`, no dependency `AsyncExitStack`s, no middleware frames held open per
connection, and with uvicorn's `send` in hand the hub can write a broadcast's frame once for all
(`backend.api.uvicorn_direct`; on any other server the plain ASGI `send`).

`GET /api/dashboard/metrics/current` and `GET /api/dashboard/decisions/recent` are what every
console and React client polls. When the caller may read the dashboard and the body is in memory
(`backend.api.bodies`: the bytes FastAPI's routes make, encoded once per change of the store),
it is sent as is, through Starlette's
`CORSMiddleware` with the app's CORS settings; the middleware's response messages depend on the
request only through its Origin header, so they are kept for the body and that Origin (or none)
and sent again to the next such request. Anything else on those paths (no or a bad token, a
role short of viewer, a store not loaded yet, a database that is away, a query that is not plainly
valid) is left to FastAPI's route, which validates it and answers what the contract documents.
Every other path, WebSocket or HTTP, goes to FastAPI unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.api import access, bodies
from backend.api.hub import AGENT, LIVE, METRICS
from backend.api.routes import RECENT_DECISIONS
from backend.auth import Role, require
from backend.errors import AutoOpsError
from backend.schemas import MAX_LIMIT

PREFIX = "/api/dashboard/ws"
PATHS = {f"{PREFIX}/live-updates": LIVE, f"{PREFIX}/metrics/real-time": METRICS}
AGENT_PATH = re.compile(rf"^{re.escape(PREFIX)}/agents/([^/]+)/status$")
BODY = "autoops.body"  # scope key: the body the fast read found, for the inner app to send
RESPONSES_HELD = 16  # responses kept by (body, Origin): a few bodies are current, a few origins


def route_path(scope: Scope) -> str:
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def route(scope: Scope) -> tuple[str, str | None] | None:
    """(stream, agent id) for a stream path, else None."""
    path = route_path(scope)
    if (stream := PATHS.get(path)) is not None:
        return stream, None
    if (m := AGENT_PATH.match(path)) is not None:
        return AGENT, m.group(1)  # the server has already percent-decoded the path
    return None


async def send_body(scope: Scope, receive: Receive, send: Send) -> None:
    # the same Response the FastAPI routes return for these bodies
    await Response(scope[BODY], media_type="application/json")(scope, receive, send)


class AutoOpsApp(FastAPI):
    """FastAPI, with the streams and the fast read answered before the middleware stack."""

    fast_reads = True  # False sends every read through FastAPI (tests compare the two paths)
    _fast_read: ASGIApp | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # a body's response messages by the body's identity (held with them, so the identity is
        # not reused meanwhile) and the request's Origin header
        self._responses: dict[tuple[int, bytes | None], tuple[bytes, list[Message]]] = {}

    def allow_cors(self, origins: list[str]) -> None:
        """The app's CORS policy, for FastAPI's routes and for the fast read alike."""
        options: dict[str, Any] = {
            "allow_origins": origins,
            "allow_methods": ["GET", "POST"],
            "allow_headers": ["*"],
        }
        self.add_middleware(CORSMiddleware, **options)
        self._fast_read = CORSMiddleware(send_body, **options)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            hub: Any = getattr(self.state, "hub", None)
            target = route(scope)
            if hub is not None and target is not None:
                await hub.serve(scope, receive, send, *target)
                return
        elif (
            scope["type"] == "http"
            and scope["method"] == "GET"
            and self.fast_reads
            and self._fast_read is not None
            and (read := FAST_READS.get(route_path(scope))) is not None
            and (body := self._read_fast(scope, read)) is not None
        ):
            await self._send_fast(scope, receive, send, body)
            return
        await super().__call__(scope, receive, send)

    async def _send_fast(self, scope: Scope, receive: Receive, send: Send, body: bytes) -> None:
        """The body through the CORS middleware. For a GET the middleware reads nothing of the
        request but its Origin header, so its messages for a body and an Origin (or none) are
        the same for every such request: they are kept and sent again."""
        cors = self._fast_read
        assert cors is not None  # the fast read is taken only once the CORS policy is set
        key = (id(body), _origin(scope))
        held = self._responses.get(key)
        if held is None or held[0] is not body:
            messages: list[Message] = []

            async def keep(message: Message) -> None:
                messages.append(message)

            await cors({**scope, BODY: body}, receive, keep)
            if len(self._responses) >= RESPONSES_HELD:
                self._responses.clear()
            held = self._responses[key] = (body, messages)
        for message in held[1]:
            await send(dict(message))

    def _read_fast(self, scope: Scope, read: Callable[[Any, Scope], bytes | None]) -> bytes | None:
        """The body when the caller may read it and it is in memory; None: ask FastAPI's route."""
        service: Any = getattr(self.state, "service", None)
        settings: Any = getattr(self.state, "settings", None)
        if service is None or settings is None:
            return None
        try:
            if settings.auth == "jwt":
                caller = access.authenticate(settings, access.bearer_token(Headers(scope=scope)))
                require(caller, Role.VIEWER, "reading the dashboard")
            return read(service, scope)
        except AutoOpsError:
            return None


def metrics_current(service: Any, scope: Scope) -> bytes | None:
    return bodies.of(service).metrics_current()


def _origin(scope: Scope) -> bytes | None:
    """The request's Origin header (the first, as Starlette's `Headers` reads it), or None."""
    return next((value for name, value in scope["headers"] if name == b"origin"), None)


LIMIT = re.compile(rf"^[1-9][0-9]{{0,{len(str(MAX_LIMIT)) - 1}}}$")  # no longer than the largest


def decisions_recent(service: Any, scope: Scope) -> bytes | None:
    """Only the plain cases: `limit` a decimal 1..MAX_LIMIT and `agent_id` one of the agents, each at
    most once, nothing else in the query. Anything else is FastAPI's to validate and answer."""
    raw = scope.get("query_string", b"")
    if not raw:  # the plainest case of all, and the commonest poll
        return bodies.of(service).decisions_recent(RECENT_DECISIONS, None)
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
    query = dict(pairs)
    if len(query) != len(pairs) or not set(query) <= {"limit", "agent_id"}:
        return None
    limit = query.get("limit", str(RECENT_DECISIONS))
    agent_id = query.get("agent_id")
    if not LIMIT.match(limit) or int(limit) > MAX_LIMIT:
        return None
    if agent_id is not None and agent_id not in service.agent_ids:
        return None
    return bodies.of(service).decisions_recent(int(limit), agent_id)


FAST_READS: dict[str, Callable[[Any, Scope], bytes | None]] = {
    "/api/dashboard/metrics/current": metrics_current,
    "/api/dashboard/decisions/recent": decisions_recent,
}
