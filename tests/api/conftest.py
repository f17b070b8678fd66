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
    """The app; every response it gives is checked against the published contract/openapi.json."""
    with TestClient(create_app(settings)) as c:
        c.event_hooks["response"].append(_matches_the_contract)
        yield c


def _matches_the_contract(response: httpx.Response) -> None:
    response.read()
    problems = rest_problems(
        response.request.method,
        response.request.url.path,
        response.status_code,
        response.headers.get("content-type", ""),
        response.content,
    )
    assert not problems, "; ".join(problems)


@pytest.fixture
def traded(client: TestClient) -> TestClient:
    """The app after a few sim days, so that every figure has history behind it."""
    wait_until(
        lambda: client.get("/api/dashboard/metrics/current").json()["day"] >= 3,
        what="three sim days",
    )
    return client
