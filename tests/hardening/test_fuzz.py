"""Schemathesis fuzzes every operation of the served OpenAPI document on a real server, with auth
off and with auth on (as a viewer, whose writes must be refused, and as an admin)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from backend.auth import Role, mint
from tests.api.server import Server
from tests.api.support import fast_env, wait_until

EXAMPLES = 150  # per operation: bounded so the whole document takes well under a minute
AUTH_EXAMPLES = 40  # per operation and role, on the secured server
SECRET = "fuzz-secret-long-enough-for-hs256-signatures"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("fuzz")
    srv = Server(fast_env(home, LOG_LEVEL="WARNING"), home / "server.log").start()

    wait_until(
        lambda: httpx.get(f"{srv.http}/api/dashboard/metrics/current").json()["day"] >= 2,
        what="two sim days",
    )
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def api_schema(served: Server) -> object:
    return schemathesis.openapi.from_url(f"{served.http}/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("fuzz-auth")
    env = fast_env(home, LOG_LEVEL="WARNING", AUTOOPS_AUTH="jwt", AUTOOPS_JWT_SECRET=SECRET)
    srv = Server(env, home / "server.log").start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def secured_schema(secured: Server) -> object:
    api = schemathesis.openapi.from_url(f"{secured.http}/openapi.json")
    # the token is ours to send (a real one per role); schemathesis fuzzes everything else
    api.config.generation.update(with_security_parameters=False)
    return api


secured_api = schemathesis.pytest.from_fixture("secured_schema")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)
def test_every_operation_answers_without_5xx_and_as_declared(case: schemathesis.Case) -> None:
    case.call_and_validate(timeout=15)


@secured_api.parametrize()
@settings(
    max_examples=AUTH_EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)
def test_with_auth_on_every_operation_answers_a_viewer_and_an_admin_as_declared(
    case: schemathesis.Case,
) -> None:
    # no 5xx and only declared responses, whoever calls (viewers' writes are refused as 403,
    # which tests/hardening/test_auth.py pins down; schemathesis also tries without the token)
    for role in (Role.VIEWER, Role.ADMIN):
        token = mint(f"fuzz-{role.name.lower()}", role, 600, SECRET)
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, timeout=15)


HOSTILE = [
    ("not JSON", "pricing_agent", b"{not json", 422),
    ("not UTF-8", "pricing_agent", b"\xff\xfe\x00", 400),
    ("a list", "pricing_agent", [], 422),
    ("action of the wrong type", "pricing_agent", {"action": 7, "reason": "x"}, 422),
    (
        "reason over 1,000 characters",
        "pricing_agent",
        {"action": "pause", "reason": "r" * 5000},
        422,
    ),
    ("empty reason", "pricing_agent", {"action": "pause", "reason": ""}, 422),
    ("unknown field", "pricing_agent", {"action": "pause", "reason": "x", "force": True}, 422),
    (
        "unknown SKU",
        "pricing_agent",
        {
            "action": "override",
            "reason": "x",
            "parameters": {"sku": "SKU000000", "price": 1, "hold_days": 1},
        },
        400,
    ),
    (
        "negative price",
        "pricing_agent",
        {
            "action": "override",
            "reason": "x",
            "parameters": {"sku": "@", "price": -1, "hold_days": 1},
        },
        400,
    ),
    (
        "discount of 95%",
        "promotion_agent",
        {
            "action": "override",
            "reason": "x",
            "parameters": {"sku": "@", "discount": 0.95, "days": 2},
        },
        400,
    ),
    (
        "quantity of a billion",
        "inventory_agent",
        {"action": "override", "reason": "x", "parameters": {"sku": "@", "quantity": 10**9}},
        400,
    ),
    (
        "price as text",
        "pricing_agent",
        {
            "action": "override",
            "reason": "x",
            "parameters": {"sku": "@", "price": "cheap", "hold_days": 1},
        },
        400,
    ),
]


@pytest.mark.parametrize("what,agent,body,status", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_intervention_bodies_get_a_4xx_that_says_what_was_expected(
    served: Server, what: str, agent: str, body: object, status: int
) -> None:

    sku = httpx.get(f"{served.http}/api/dashboard/store/skus").json()[0]["sku"]
    if isinstance(body, dict) and body.get("parameters", {}).get("sku") == "@":
        body = {**body, "parameters": {**body["parameters"], "sku": sku}}
    url = f"{served.http}/api/dashboard/agents/{agent}/intervention"
    if isinstance(body, bytes):
        r = httpx.post(url, content=body, headers={"Content-Type": "application/json"})
    else:
        r = httpx.post(url, json=body)
    assert r.status_code == status, r.text
    assert "expected" in r.json()["detail"], r.text


@pytest.mark.parametrize(
    "path",
    [
        "decisions/recent?limit=1000000",
        "decisions/recent?limit=-1",
        "interventions?limit=99999999999999999999",
        "metrics/history?limit=0",
        "metrics/history?since=yesterday",
    ],
)
def test_absurd_query_values_are_422_naming_the_parameter(served: Server, path: str) -> None:

    r = httpx.get(f"{served.http}/api/dashboard/{path}")
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"][:2] == ["query", path.split("?")[1].split("=")[0]]
