"""decisions/recent from memory gives byte for byte what the database path gives."""

from __future__ import annotations

from fastapi.testclient import TestClient

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
