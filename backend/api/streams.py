"""The three WebSocket streams, dispatched before FastAPI's middleware and router.

A subscriber lives for hours and there may be ten thousand of them, so its session is a raw ASGI
coroutine run by the hub (`Hub.serve`), directly on the server's `receive` and `send`: no
Starlette `WebSocket`, no dependency `AsyncExitStack`s, no middleware frames held open per
connection, and with uvicorn's `send` in hand the hub can write a broadcast's frame once for all
(`hub.direct_protocol`). Every other path, WebSocket or HTTP, goes to FastAPI unchanged.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from backend.api.hub import AGENT, LIVE, METRICS

PREFIX = "/api/dashboard/ws"
PATHS = {f"{PREFIX}/live-updates": LIVE, f"{PREFIX}/metrics/real-time": METRICS}
AGENT_PATH = re.compile(rf"^{re.escape(PREFIX)}/agents/([^/]+)/status$")


def route(scope: Scope) -> tuple[str, str | None] | None:
    """(stream, agent id) for a stream path, else None."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root):]
    if (stream := PATHS.get(path)) is not None:
        return stream, None
    if (m := AGENT_PATH.match(path)) is not None:
        return AGENT, m.group(1)  # the server has already percent-decoded the path
    return None


class AutoOpsApp(FastAPI):
    """FastAPI, with the streams answered by the hub before the middleware stack."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            hub: Any = getattr(self.state, "hub", None)
            target = route(scope)
            if hub is not None and target is not None:
                await hub.serve(scope, receive, send, *target)
                return
        await super().__call__(scope, receive, send)
