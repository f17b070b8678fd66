"""Fixtures for the API tests: the real app with its lifespan on a fast clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from backend.api.app import create_app
from backend.config import Settings
from tests.api.support import fast_settings, wait_until
from tests.contract.check import rest_problems


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return fast_settings(tmp_path)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """The app; every response it gives is checked against the published contract/openapi.json
    (after the test, so that checking takes nothing from the timing of its requests)."""
    answered: list[httpx.Response] = []
    with TestClient(create_app(settings)) as c:
        c.event_hooks["response"].append(answered.append)
        yield c
    problems = [
        problem
        for r in answered
        for problem in rest_problems(
            r.request.method,
            r.request.url.path,
            r.status_code,
            r.headers.get("content-type", ""),
            r.read(),
        )
    ]
    assert not problems, "; ".join(problems[:20])


@pytest.fixture
def traded(client: TestClient) -> TestClient:
    """The app after a few sim days, so that every figure has history behind it."""
    wait_until(
        lambda: client.get("/api/dashboard/metrics/current").json()["day"] >= 3,
        what="three sim days",
    )
    return client
