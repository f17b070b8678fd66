"""The one place that maps the error tree to HTTP statuses and WebSocket close codes."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from backend import errors as core
from backend.api import access, limits
from backend.db.lease import Deposed
from backend.runner import errors as runner
from backend.runner import insight

log = logging.getLogger(__name__)

HTTP_STATUS: dict[type[core.AutoOpsError], int] = {
    core.UnknownAgent: 404,
    runner.UnknownAlert: 404,
    insight.DayNotHeld: 404,
    core.UnknownAction: 400,
    core.UnknownSku: 400,
    core.InvalidOverride: 400,
    runner.AgentMismatch: 400,
    runner.AlertConflict: 409,
    core.NotAuthenticated: 401,
    core.Forbidden: 403,
    runner.NotReady: 503,
    runner.CheckpointIncompatible: 503,
    Deposed: 503,
}

CLOSE_CODE: dict[type[core.AutoOpsError], int] = {
    core.UnknownAgent: 4004,  # the contract's "invalid agent ID"
    limits.TooManyConnections: 1008,  # policy violation
    limits.RateLimited: 1008,
    core.NotAuthenticated: 1008,
    core.Forbidden: 1008,
    limits.OriginNotAllowed: 1008,
    limits.FrameTooLarge: 1009,  # message too big
    limits.SlowConsumer: 1013,  # try again later
    limits.ShuttingDown: 1001,  # going away
    runner.NotReady: 1013,  # try again later
}


_STATUSES = {s.value for s in HTTPStatus}


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


# What a pydantic error type says was expected, filled from the error's context.
_EXPECTED: dict[str, str] = {
    "missing": "expected this required field",
    "extra_forbidden": "expected no such field",
    "int_type": "expected a valid integer",
    "int_parsing": "expected a valid integer",
    "int_from_float": "expected a valid integer",
    "float_type": "expected a valid number",
    "float_parsing": "expected a valid number",
    "finite_number": "expected a finite number",
    "bool_type": "expected a valid boolean",
    "bool_parsing": "expected a valid boolean",
    "string_type": "expected a valid string",
    "dict_type": "expected a valid dictionary",
    "model_type": "expected a valid dictionary or object",
    "model_attributes_type": "expected a valid dictionary or object",
    "list_type": "expected a valid list",
    "datetime_type": "expected a valid datetime",
    "datetime_parsing": "expected a valid datetime",
    "greater_than": "expected greater than {gt}",
    "greater_than_equal": "expected greater than or equal to {ge}",
    "less_than": "expected less than {lt}",
    "less_than_equal": "expected less than or equal to {le}",
    "literal_error": "expected {expected}",
    "enum": "expected {expected}",
    "string_too_short": "expected a string with at least {min_length} characters",
    "string_too_long": "expected a string with at most {max_length} characters",
    "too_short": "expected a {field_type} with at least {min_length} items",
    "too_long": "expected a {field_type} with at most {max_length} items",
}


def _problem(err: dict[str, Any]) -> str:
    """Pydantic's message turned into what was expected and what came."""
    kind, msg = err.get("type", ""), str(err.get("msg", ""))
    if kind == "json_invalid":
        return (
            f"expected a JSON body, got malformed JSON "
            f"({err.get('ctx', {}).get('error', 'decode error')})"
        )
    if kind == "value_error":  # our own validators already say what was expected and what came
        return str((err.get("ctx") or {}).get("error", msg))
    return f"{_expected(kind, msg, err.get('ctx') or {})}, got {_got(err.get('input'))}"


def _expected(kind: str, msg: str, ctx: dict[str, Any]) -> str:
    template = _EXPECTED.get(kind)
    if template is None:
        return f"expected valid input ({msg})"
    try:
        return template.format(**ctx)
    except (KeyError, IndexError):  # a context without the bound: pydantic's own words
        return f"expected valid input ({msg})"


def _got(value: Any) -> str:
    if isinstance(value, str) and len(value) > 60:
        return f"a string of {len(value)} characters starting {value[:40]!r}"
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."


def _body(error: str, detail: str) -> dict[str, str]:
    return {"error": error, "detail": detail}


def install(app: FastAPI) -> None:
    @app.exception_handler(core.AutoOpsError)
    async def _domain(_: Request, exc: core.AutoOpsError) -> JSONResponse:
        headers = access.www_authenticate(exc) if isinstance(exc, core.NotAuthenticated) else None
        return JSONResponse(
            _body(type(exc).__name__, str(exc)), status_code=status_for(exc), headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI parses a JSON body before the auth dependency runs: a caller without a valid
        # token learns nothing about the body's shape, it gets the 401 first.
        if request.url.path.startswith("/api/dashboard"):
            try:
                access.principal(request)
            except core.NotAuthenticated as refused:
                return await _domain(request, refused)
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()))
            problems.append(f"{where}: {_problem(err)}")
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")}
            for e in exc.errors()
        ]
        return JSONResponse(
            {"error": "ValidationError", "detail": "; ".join(problems), "errors": errors},
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Routing and body-parsing refusals (404 path, 405, undecodable body) in the same shape.
        detail = str(exc.detail)
        if detail == "There was an error parsing the body":
            detail = "expected a JSON object body in UTF-8, got a body that cannot be parsed"
        elif exc.status_code == 404 and detail == "Not Found":
            detail = f"expected a path of this API (see /docs), got {request.url.path!r}"
        elif exc.status_code == 405:
            detail = (
                (
                    f"expected one of {exc.headers.get('allow', 'the documented methods')} "
                    f"on {request.url.path!r}, got {request.method}"
                )
                if exc.headers
                else detail
            )
        name = (
            HTTPStatus(exc.status_code).phrase.replace(" ", "")
            if exc.status_code in _STATUSES
            else "HTTPError"
        )
        return JSONResponse(
            _body(name, detail), status_code=exc.status_code, headers=getattr(exc, "headers", None)
        )

    @app.exception_handler(DBAPIError)
    async def _database(_: Request, exc: DBAPIError) -> JSONResponse:
        log.error("database error answering a request: %s", exc)
        return JSONResponse(
            _body(
                "DatabaseUnavailable",
                "expected the database to answer, got an error; retry shortly",
            ),
            status_code=503,
        )
