"""Fixtures for the API tests: the real app with its lifespan on a fast clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from backend.api.app import create_app
from backend.config import Settings
from tests.api.support import fast_settings, wait_until


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return fast_settings(tmp_path)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture
def traded(client: TestClient) -> TestClient:
    """The app after a few sim days, so that every figure has history behind it."""
    wait_until(
        lambda: client.get("/api/dashboard/metrics/current").json()["day"] >= 3,
        what="three sim days",
    )
    return client
