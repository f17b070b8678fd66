"""The reads answered before FastAPI's stack give the same responses FastAPI's routes give."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from backend.api.app import create_app
from backend.auth import Role, mint
from tests.api.support import fast_settings, wait_until

URL = "/api/dashboard/metrics/current"
DECISIONS = "/api/dashboard/decisions/recent"


def both_paths(
    client: TestClient, url: str = URL, **kwargs
) -> tuple[httpx.Response, httpx.Response]:
    """The fast read's answer and FastAPI's for one store view (retried across a sim day)."""
    app = client.app
    service = app.state.service  # type: ignore[attr-defined]

    def pair() -> tuple[httpx.Response, httpx.Response] | None:
        view = service.runner.view
        app.fast_reads = True  # type: ignore[attr-defined]
        fast = client.get(url, **kwargs)
        app.fast_reads = False  # type: ignore[attr-defined]
        try:
            slow = client.get(url, **kwargs)
        finally:
            app.fast_reads = True  # type: ignore[attr-defined]
        return (fast, slow) if service.runner.view is view else None

    return wait_until(pair, what="both reads within one store view")


def same(fast: httpx.Response, slow: httpx.Response) -> None:
    assert fast.status_code == slow.status_code
    assert fast.content == slow.content
    assert sorted(fast.headers.items()) == sorted(slow.headers.items())


def test_the_fast_read_is_fastapis_response_with_and_without_an_origin(traded: TestClient) -> None:
    fast, slow = both_paths(traded)
    same(fast, slow)
    assert fast.status_code == 200 and fast.json()["day"] >= 3
    fast, slow = both_paths(traded, headers={"Origin": "http://localhost:3000"})
    same(fast, slow)
    assert fast.headers["access-control-allow-origin"] == "http://localhost:3000"
    fast, slow = both_paths(traded, headers={"Origin": "http://evil.example"})
    same(fast, slow)
    assert "access-control-allow-origin" not in fast.headers


def test_a_kept_response_goes_with_its_body_and_origin_when_the_store_moves_on(
    traded: TestClient,
) -> None:
    # the fast read sends again what it sent for the same body and Origin: a new day makes a
    # new body and the answer follows it, for both reads, their variants, with and without an
    # Origin (allowed or not), asked alternately so that each kept response is met again
    origins: tuple[dict[str, str], ...] = (
        {},
        {"Origin": "http://localhost:3000"},
        {"Origin": "http://evil.example"},
    )
    for url in (URL, DECISIONS, f"{DECISIONS}?limit=3"):
        firsts = []
        for headers in origins:
            first, slow = both_paths(traded, url, headers=headers)
            same(first, slow)
            firsts.append(first)
        assert len({f.headers.get("access-control-allow-origin") for f in firsts}) == 2
        for headers, first in zip(origins, firsts, strict=True):

            def moved_on(
                url: str = url, headers: dict[str, str] = headers, old: bytes = first.content
            ) -> tuple[httpx.Response, httpx.Response] | None:
                pair = both_paths(traded, url, headers=headers)
                return pair if pair[0].content != old else None

            later = wait_until(moved_on, what="a new body after a sim day")
            same(*later)
            if url == URL:
                assert later[0].json()["day"] > first.json()["day"]


def test_with_auth_on_a_viewer_is_served_fast_and_the_rest_get_fastapis_errors(
    tmp_path: Path,
) -> None:
    settings = fast_settings(tmp_path, auth="jwt", jwt_secret="s" * 32)
    viewer = mint("vera", Role.VIEWER, 3600, settings.jwt_key)
    with TestClient(create_app(settings)) as client:
        fast, slow = both_paths(client, headers={"Authorization": f"Bearer {viewer}"})
        same(fast, slow)
        assert fast.status_code == 200
        for headers in ({}, {"Authorization": "Bearer not-a-jwt"}, {"Authorization": "Basic eA=="}):
            fast, slow = both_paths(client, headers=headers)
            assert fast.status_code == 401 and fast.json() == slow.json()


def test_decisions_recent_fast_or_not_answers_as_fastapi_does_for_every_query(
    traded: TestClient,
) -> None:
    queries = [
        "",
        "?limit=7",
        "?limit=7&agent_id=pricing_agent",
        "?agent_id=inventory_agent",
        "?limit=500",
        "?agent_id=pricing%5Fagent",
        # not plainly valid: left to FastAPI, which must answer the same either way
        "?limit=0",
        "?limit=501",
        "?limit=abc",
        "?limit=",
        "?limit=07",
        "?agent_id=nobody",
        "?limit=5&limit=6",
        "?other=1",
    ]
    statuses = {}
    for query in queries:
        fast, slow = both_paths(traded, DECISIONS + query)
        same(fast, slow)
        statuses[query] = fast.status_code
    assert statuses["?limit=7&agent_id=pricing_agent"] == 200
    assert {statuses[q] for q in ("?limit=0", "?limit=501", "?limit=abc", "?limit=")} == {422}
    assert statuses["?agent_id=nobody"] == 404
    fast, _ = both_paths(traded, DECISIONS + "?limit=7&agent_id=pricing_agent")
    assert len(fast.json()) == 7 and {d["agent_id"] for d in fast.json()} == {"pricing_agent"}
