"""Who is calling: the client address (trusted proxies only) and the JWT principal and its role."""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from fastapi import Request
from starlette.datastructures import Headers, QueryParams
from starlette.requests import HTTPConnection
from starlette.types import Scope

from backend.auth import ANONYMOUS, Principal, Role, require, verify
from backend.config import Network, Settings
from backend.errors import NotAuthenticated

BEARER = "bearer"  # the WebSocket subprotocol that carries a token as the next offered protocol


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def _trusted(address: str, proxies: Sequence[Network]) -> bool:
    ip = _ip(address)
    return ip is not None and any(ip in net for net in proxies)


def client_address(conn: HTTPConnection, proxies: Sequence[Network]) -> str:
    """The socket peer; X-Forwarded-For only when that peer is a configured trusted proxy.

    The chain is read from the right: the first address not itself a trusted proxy is the
    client (the ones further left were written by the client and prove nothing).
    """
    peer = conn.client.host if conn.client else "unknown"
    if not proxies or not _trusted(peer, proxies):
        return peer
    hops = [
        h.strip() for value in conn.headers.getlist("x-forwarded-for") for h in value.split(",")
    ]
    hops = [h for h in hops if h]
    for hop in reversed(hops):
        if _ip(hop) is None:
            return peer  # a malformed chain: believe only the socket
        if not _trusted(hop, proxies):
            return str(_ip(hop))
    return str(_ip(hops[0])) if hops else peer


# ---- authentication ---------------------------------------------------------------------------


def bearer_token(headers: Headers) -> str | None:
    """The token of an `Authorization: Bearer <jwt>` header; NotAuthenticated for another scheme."""
    value = headers.get("authorization")
    if value is None:
        return None
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated(f"expected 'Authorization: Bearer <jwt>', got a {scheme!r} header")
    return token.strip()


def authenticate(settings: Settings, token: str | None) -> Principal:
    """Everyone is ANONYMOUS (an admin) when auth is off; else the token's principal."""
    if settings.auth != "jwt":
        return ANONYMOUS
    return verify(token, settings.jwt_key, [settings.jwt_algorithm])


def principal(request: Request) -> Principal:
    """Dependency: the caller of a REST request."""
    settings: Settings = request.app.state.settings
    if settings.auth != "jwt":
        return ANONYMOUS
    return authenticate(settings, bearer_token(request.headers))


def needs(role: Role, what: str) -> Callable[[Request], Awaitable[Principal]]:
    """Dependency factory: the caller, who must hold at least `role`.

    The check is a coroutine (it does no I/O): a plain `def` would make FastAPI hand every
    request to the thread pool and back just to run it.
    """

    async def check(request: Request) -> Principal:
        caller = principal(request)
        require(caller, role, what)
        return caller

    check.__name__ = f"needs_{role.name.lower()}"
    return check


def ws_credentials(scope: Scope) -> tuple[str | None, str | None]:
    """(subprotocol to accept, token) from the `bearer` subprotocol pair or a `token` query."""
    offered: list[str] = list(scope.get("subprotocols") or [])
    if BEARER in offered:
        at = offered.index(BEARER)
        token = offered[at + 1] if at + 1 < len(offered) else None
        return BEARER, token
    return None, QueryParams(scope.get("query_string", b"")).get("token") or None


def www_authenticate(exc: NotAuthenticated) -> dict[str, Any]:
    """RFC 6750's challenge for a 401."""
    if not exc.token_given:  # no credentials at all: RFC 6750 says no error code
        return {"WWW-Authenticate": 'Bearer realm="autoops"'}
    detail = str(exc).replace('"', "'").encode("latin-1", "replace").decode("latin-1")
    return {
        "WWW-Authenticate": f'Bearer realm="autoops", error="invalid_token", '
        f'error_description="{detail}"'
    }
