"""Bodies served from memory: decisions/recent byte for byte what the database path gives;
metrics/current once per view, what the response model makes, new with every sim day."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from backend import schemas
from tests.api.support import wait_until

API = "/api/dashboard"


def test_the_in_memory_body_is_the_database_paths_body(traded: TestClient) -> None:
    service = traded.app.state.service  # type: ignore[attr-defined]

    def same_day_pair() -> tuple[bytes, bytes] | None:
        params = {"limit": 7, "agent_id": "pricing_agent"}
        before = traded.get(f"{API}/decisions/recent", params=params)
        service._database_away = True  # what the readiness probe sets: ask the database
        stored = traded.get(f"{API}/decisions/recent", params=params)
        service._database_away = False
        after = traded.get(f"{API}/decisions/recent", params=params)
        assert before.status_code == stored.status_code == after.status_code == 200
        assert before.headers["content-type"] == stored.headers["content-type"]
        return (before.content, stored.content) if before.content == after.content else None

    memory, stored = wait_until(same_day_pair, what="two reads within one sim day")
    assert memory == stored and len(memory) > 2


def test_metrics_current_is_encoded_once_per_view_and_follows_the_store(traded: TestClient) -> None:
    service = traded.app.state.service  # type: ignore[attr-defined]

    def two_reads_of_one_view() -> tuple[bytes, bytes, dict] | None:
        view = service.view()
        first = traded.get(f"{API}/metrics/current")
        second = traded.get(f"{API}/metrics/current")
        expected = schemas.DashboardMetrics.model_validate(service.dashboard_metrics())
        if service.view() is not view:
            return None
        assert first.status_code == second.status_code == 200
        assert first.headers["content-type"] == "application/json"
        return first.content, second.content, json.loads(expected.model_dump_json(by_alias=True))

    first, second, expected = wait_until(two_reads_of_one_view, what="two reads of one view")
    assert first == second and json.loads(first) == expected
    day = expected["day"]
    later = wait_until(
        lambda: (b := traded.get(f"{API}/metrics/current").json())["day"] > day and b,
        what="the next sim day in metrics/current",
    )
    assert later["timestamp"] != expected["timestamp"]
