"""Authentication and roles on a real server with AUTOOPS_AUTH=jwt; with auth off, 'anonymous'."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from backend.api.app import create_app
from backend.auth import Role, mint
from tests.api.server import Server, close_code
from tests.api.support import fast_env, fast_settings, wait_until
from tests.contract.check import document

SECRET = "hardening-secret-long-enough-for-hs256-signatures"
API = "/api/dashboard"
WS = f"{API}/ws"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("auth")
    env = fast_env(home, AUTOOPS_AUTH="jwt", AUTOOPS_JWT_SECRET=SECRET)
    srv = Server(env, home / "server.log").start()
    yield srv
    srv.stop()


def token(
    role: Role, sub: str | None = None, key: str = SECRET, ttl: int = 600, now: float | None = None
) -> str:
    return mint(sub or role.name.lower(), role, ttl, key, now=now)


def bearer(role: Role, sub: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, sub)}"}


def post(
    srv: Server, path: str, headers: dict[str, str] | None = None, **body: object
) -> httpx.Response:
    return httpx.post(f"{srv.http}{API}{path}", json=body or None, headers=headers, timeout=10)


def test_rest_without_a_valid_token_is_401_with_a_bearer_challenge(server: Server) -> None:
    missing = httpx.get(f"{server.http}{API}/agents/status")
    wrong_key = httpx.get(
        f"{server.http}{API}/agents/status",
        headers={"Authorization": f"Bearer {token(Role.ADMIN, key='x' * 40)}"},
    )
    expired = httpx.get(
        f"{server.http}{API}/agents/status",
        headers={"Authorization": f"Bearer {token(Role.ADMIN, now=1_000_000)}"},
    )
    basic = httpx.get(f"{server.http}{API}/agents/status", headers={"Authorization": "Basic YTpi"})
    garbage = httpx.post(
        f"{server.http}{API}/agents/pricing_agent/intervention",
        content=b"{oops",
        headers={"Content-Type": "application/json"},
    )  # 401 before any 422
    for r in (missing, wrong_key, expired, basic, garbage):
        assert r.status_code == 401
        assert r.headers["www-authenticate"].startswith('Bearer realm="autoops"')
        assert r.json()["error"] == "NotAuthenticated"
    assert "expected a bearer token" in missing.json()["detail"]
    assert "valid signed JWT" in wrong_key.json()["detail"]
    assert "expired" in expired.json()["detail"]
    assert "expected 'Authorization: Bearer <jwt>', got a 'Basic' header" in basic.json()["detail"]


def test_health_readiness_and_prometheus_stay_open(server: Server) -> None:
    assert httpx.get(f"{server.http}/healthz").status_code == 200
    wait_until(lambda: httpx.get(f"{server.http}/readyz").status_code == 200, what="readiness")
    assert "autoops_days_total" in httpx.get(f"{server.http}/metrics").text


def test_a_viewer_reads_but_may_not_intervene_or_change_alerts(server: Server) -> None:
    viewer = bearer(Role.VIEWER)
    for path in (
        "agents/status",
        "metrics/current",
        "decisions/recent",
        "alerts/active",
        "metrics/history",
        "store/skus",
        "interventions",
    ):
        assert httpx.get(f"{server.http}{API}/{path}", headers=viewer).status_code == 200, path
    r = post(server, "/agents/pricing_agent/intervention", viewer, action="pause", reason="try")
    assert r.status_code == 403 and r.json()["error"] == "Forbidden"
    assert "needs the role 'operator' or higher; this token has 'viewer'" in r.json()["detail"]
    assert post(server, "/alerts/any-id/acknowledge", viewer).status_code == 403
    assert post(server, "/alerts/any-id/resolve", viewer).status_code == 403


def test_an_operator_intervenes_under_its_own_name_but_may_not_reset(server: Server) -> None:
    alice = bearer(Role.OPERATOR, "alice")
    r = post(
        server, "/agents/inventory_agent/intervention", alice, action="pause", reason="alice pauses"
    )
    assert r.status_code == 200
    assert post(server, "/alerts/no-such-alert/acknowledge", alice).status_code == 404  # allowed
    refused = post(
        server, "/agents/inventory_agent/intervention", alice, action="reset", reason="alice resets"
    )
    assert refused.status_code == 403 and "'admin'" in refused.json()["detail"]
    root = bearer(Role.ADMIN, "root")
    assert (
        post(
            server,
            "/agents/inventory_agent/intervention",
            root,
            action="reset",
            reason="root resets",
        ).status_code
        == 200
    )
    audit = httpx.get(f"{server.http}{API}/interventions", headers=bearer(Role.VIEWER)).json()
    by_reason = {a["reason"]: a for a in audit}
    assert by_reason["alice pauses"]["sub"] == "alice"
    assert by_reason["root resets"]["sub"] == "root"
    assert "alice resets" not in by_reason  # refused: never recorded


def test_streams_take_the_bearer_subprotocol_or_a_token_query(server: Server) -> None:
    viewer = token(Role.VIEWER)

    async def scenario() -> tuple[str | None, str, str]:
        async with connect(f"{server.ws}{WS}/live-updates", subprotocols=["bearer", viewer]) as ws:
            chosen, first = ws.subprotocol, json.loads(await ws.recv())["type"]
        async with connect(f"{server.ws}{WS}/metrics/real-time?token={viewer}") as ws:
            second = json.loads(await ws.recv())["type"]
        return chosen, first, second

    chosen, first, second = asyncio.run(scenario())
    assert chosen == "bearer"
    assert (first, second) == ("connection_established", "metrics_stream")


def test_with_auth_on_a_browser_origin_outside_the_cors_list_is_closed_1008(
    server: Server,
) -> None:
    viewer = token(Role.VIEWER)
    url = f"{server.ws}{WS}/live-updates"

    async def scenario() -> tuple[str, str, tuple[int | None, str]]:
        async with connect(
            url, subprotocols=["bearer", viewer], origin="http://localhost:5173"
        ) as ws:
            vite = json.loads(await ws.recv())["type"]
        async with connect(url, subprotocols=["bearer", viewer]) as ws:  # no Origin: not a browser
            plain = json.loads(await ws.recv())["type"]
        async with connect(
            url, subprotocols=["bearer", viewer], origin="http://evil.example"
        ) as ws:
            refused = await close_code(ws)
        return vite, plain, refused

    vite, plain, (code, reason) = asyncio.run(scenario())
    assert vite == plain == "connection_established"
    assert code == 1008 and "origin 'http://evil.example' not allowed" in reason


def test_streams_without_a_valid_token_are_closed_1008(server: Server) -> None:
    bad = token(Role.ADMIN, key="y" * 40)

    async def scenario() -> list[tuple[int | None, str]]:
        out = []
        for url, protocols in (
            (f"{WS}/live-updates", None),
            (f"{WS}/agents/pricing_agent/status", ["bearer", bad]),
            (f"{WS}/metrics/real-time?token=not-a-jwt", None),
        ):
            async with connect(f"{server.ws}{url}", subprotocols=protocols) as ws:
                out.append(await close_code(ws))
        return out

    missing, wrong, garbage = asyncio.run(scenario())
    assert missing[0] == 1008 and "expected a token" in missing[1]
    assert wrong[0] == 1008 and "valid signed JWT" in wrong[1]
    assert garbage[0] == 1008 and "valid signed JWT" in garbage[1]


def test_cors_preflight_needs_no_token_and_admits_only_configured_origins(server: Server) -> None:
    headers = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    ok = httpx.options(
        f"{server.http}{API}/agents/pricing_agent/intervention",
        headers={**headers, "Origin": "http://localhost:3000"},
    )
    bad = httpx.options(
        f"{server.http}{API}/agents/pricing_agent/intervention",
        headers={**headers, "Origin": "http://evil.example"},
    )
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert "access-control-allow-origin" not in bad.headers


def test_the_openapi_document_declares_the_bearer_scheme_when_auth_is_on(server: Server) -> None:
    spec = httpx.get(f"{server.http}/openapi.json").json()
    assert spec == document("openapi.json")  # one published document, whatever the auth mode
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert {"bearer": []} in spec["paths"][f"{API}/agents/status"]["get"]["security"]
    assert "security" not in spec["paths"]["/healthz"]["get"]


def test_with_auth_off_interventions_are_recorded_as_anonymous(tmp_path: Path) -> None:
    with TestClient(create_app(fast_settings(tmp_path))) as client:
        r = client.post(
            f"{API}/agents/pricing_agent/intervention",
            json={"action": "pause", "reason": "no auth here"},
            headers={"Authorization": "Bearer ignored-when-auth-is-off"},
        )
        assert r.status_code == 200
        audit = client.get(f"{API}/interventions").json()
    assert audit[0]["sub"] == "anonymous"


def test_auth_on_without_a_key_refuses_to_start(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="AUTOOPS_JWT_SECRET"):
        fast_settings(tmp_path, auth="jwt")


def test_a_refused_handshake_never_happens_the_socket_is_accepted_first(server: Server) -> None:
    # Browsers only see a close code if the upgrade succeeds: no 403 at the handshake.
    async def scenario() -> int | None:
        try:
            async with connect(f"{server.ws}{WS}/live-updates?token=bad") as ws:
                return (await close_code(ws))[0]
        except InvalidStatus as exc:
            return exc.response.status_code

    assert asyncio.run(scenario()) == 1008


def test_a_stream_is_closed_1008_when_its_token_expires(tmp_path: Path) -> None:
    env = fast_env(
        tmp_path,
        AUTOOPS_AUTH="jwt",
        AUTOOPS_JWT_SECRET=SECRET,
        AUTOOPS_WS_TOKEN_CHECK_INTERVAL="0.5",
    )
    srv = Server(env, tmp_path / "server.log").start()

    async def scenario() -> tuple[float, tuple[int | None, str], int]:
        short = token(Role.VIEWER, ttl=3)
        long = token(Role.VIEWER, ttl=600)
        started = asyncio.get_running_loop().time()
        async with (
            connect(f"{srv.ws}{WS}/metrics/real-time", subprotocols=["bearer", short]) as ws,
            connect(f"{srv.ws}{WS}/metrics/real-time", subprotocols=["bearer", long]) as ok,
        ):
            closed = await close_code(ws)
            lasted = asyncio.get_running_loop().time() - started
            received = 0
            async with asyncio.timeout(5):
                while received < 3:  # the one with a valid token keeps its stream
                    await ok.recv()
                    received += 1
        return lasted, closed, received

    try:
        lasted, (code, reason), received = asyncio.run(scenario())
    finally:
        srv.stop()
    assert code == 1008 and "token expired" in reason
    assert 1.5 < lasted < 8  # not at connect, and soon after the 3 s token ran out
    assert received == 3
