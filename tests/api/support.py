"""Helpers for the API tests: fast settings, polling, reading a stream until a message type."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from backend.config import Settings

T = TypeVar("T")


def fast_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """A small store on a fast clock, its own SQLite file and log directory."""
    values: dict[str, Any] = {
        "database_url": f"sqlite:///{tmp_path / 'autoops.db'}",
        "day_seconds": 0.05,
        "skus": 20,
        "live_interval": 0.2,
        "agent_interval": 0.15,
        "metrics_interval": 0.1,
        "log_dir": tmp_path / "logs",
        "log_level": "INFO",
    }
    values.update(overrides)
    return Settings(**values)


def fast_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """The same as environment variables, for a uvicorn process."""
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'autoops.db'}",
        "AUTOOPS_DAY_SECONDS": "0.05",
        "AUTOOPS_SKUS": "20",
        "AUTOOPS_LIVE_INTERVAL": "0.2",
        "AUTOOPS_AGENT_INTERVAL": "0.15",
        "AUTOOPS_METRICS_INTERVAL": "0.1",
        "AUTOOPS_LOG_DIR": str(tmp_path / "logs"),
        "LOG_LEVEL": "INFO",
        # uvicorn reads its options from UVICORN_*: keepalive pings find dead peers in 20 s
        "UVICORN_WS_PING_INTERVAL": "10",
        "UVICORN_WS_PING_TIMEOUT": "10",
    }
    env.update(overrides)
    return env


def wait_until(
    probe: Callable[[], T | None],
    timeout: float = 20.0,
    what: str = "condition",
    *,
    interval: float = 0.05,
    sleep: Callable[[float], object] = time.sleep,
    ignore: tuple[type[BaseException], ...] = (),
) -> T:
    """Poll `probe` until it returns something truthy (an exception in `ignore` counts as not
    yet); fail with `what` after `timeout` seconds. `sleep` waits between polls (a browser
    page's own wait, say)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = probe()
        except ignore:
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        sleep(interval)


def receive_until(ws: Any, kind: str, limit: int = 200) -> dict[str, Any]:
    """Read a TestClient WebSocket until a message of type `kind` arrives."""
    for _ in range(limit):
        message = ws.receive_json()
        if message["type"] == kind:
            return message
    raise AssertionError(f"no {kind!r} message in {limit} messages")
