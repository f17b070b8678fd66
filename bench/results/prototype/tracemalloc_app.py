"""Measurement aid: the app plus /debug/snap (tracemalloc snapshot diff); never deployed."""

from __future__ import annotations

import tracemalloc

from starlette.responses import PlainTextResponse

from backend.api.app import create_app as _create_app


def create_app():
    app = _create_app()

    @app.get("/debug/snap")
    async def snap(reset: int = 0):
        global BASE
        s = tracemalloc.take_snapshot()
        if reset:
            BASE = s
            return PlainTextResponse("ok")
        stats = s.compare_to(BASE, "lineno")[:30]
        return PlainTextResponse("\n".join(str(x) for x in stats))

    return app
