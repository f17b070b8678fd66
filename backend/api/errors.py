"""The one place that maps the error tree to HTTP statuses and WebSocket close codes."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError

from backend import errors as core
from backend.api import access, limits
from backend.runner import errors as runner

log = logging.getLogger(__name__)

HTTP_STATUS: dict[type[core.AutoOpsError], int] = {
    core.UnknownAgent: 404,
    runner.UnknownAlert: 404,
    core.UnknownAction: 400,
    core.UnknownSku: 400,
    core.InvalidOverride: 400,
    runner.AgentMismatch: 400,
    runner.AlertConflict: 409,
    core.NotAuthenticated: 401,
    core.Forbidden: 403,
    runner.NotReady: 503,
    runner.CheckpointIncompatible: 503,
}

CLOSE_CODE: dict[type[core.AutoOpsError], int] = {
    core.UnknownAgent: 4004,          # the contract's "invalid agent ID"
    limits.TooManyConnections: 1008,  # policy violation
    limits.RateLimited: 1008,
    core.NotAuthenticated: 1008,
    core.Forbidden: 1008,
    limits.FrameTooLarge: 1009,       # message too big
    limits.SlowConsumer: 1013,        # try again later
    limits.ShuttingDown: 1001,        # going away
    runner.NotReady: 1013,            # try again later
}


def status_for(exc: core.AutoOpsError) -> int:
    for cls in type(exc).__mro__:
        if cls in HTTP_STATUS:
            return HTTP_STATUS[cls]
    return 400


def close_code_for(exc: core.AutoOpsError) -> int:
    for cls in type(exc).__mro__:
        if cls in CLOSE_CODE:
            return CLOSE_CODE[cls]
    return 1011


def close_reason(exc: core.AutoOpsError) -> str:
    # A close frame's reason is at most 123 bytes.
    return str(exc).encode()[:123].decode(errors="ignore")


def _body(error: str, detail: str) -> dict[str, str]:
    return {"error": error, "detail": detail}


def install(app: FastAPI) -> None:
    @app.exception_handler(core.AutoOpsError)
    async def _domain(_: Request, exc: core.AutoOpsError) -> JSONResponse:
        headers = access.www_authenticate(exc) if isinstance(exc, core.NotAuthenticated) else None
        return JSONResponse(_body(type(exc).__name__, str(exc)), status_code=status_for(exc),
                            headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()))
            problems.append(f"{where}: {err.get('msg')}, got {err.get('input')!r:.80}")
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")}
                  for e in exc.errors()]
        return JSONResponse({"error": "ValidationError", "detail": "; ".join(problems),
                               "errors": errors}, status_code=422)

    @app.exception_handler(DBAPIError)
    async def _database(_: Request, exc: DBAPIError) -> JSONResponse:
        log.error("database error answering a request: %s", exc)
        return JSONResponse(_body("DatabaseUnavailable",
                                    "expected the database to answer, got an error; retry shortly"),
                              status_code=503)
