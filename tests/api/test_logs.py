"""Logs: LOG_LEVEL sets the level; WebSocket events also land in logs/websocket.log as JSON lines."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

from fastapi.testclient import TestClient

from backend.api.app import create_app
from backend.logs import configure_logging
from tests.api.support import fast_settings


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_at_debug_every_websocket_connect_message_and_disconnect_is_logged(tmp_path: Path) -> None:
    settings = fast_settings(tmp_path, log_level="DEBUG")
    with TestClient(create_app(settings)) as client:
        with client.websocket_connect("/api/dashboard/ws/live-updates") as ws:
            ws.receive_json()
            ws.send_text('{"type": "ping"}')
            while ws.receive_json()["type"] != "pong":
                pass
    messages = [entry["message"] for entry in lines(tmp_path / "logs" / "websocket.log")]
    assert any(m.startswith("ws connect #") and "live-updates" in m for m in messages)
    assert any(m.startswith("ws #") and "received 16 bytes" in m for m in messages)
    assert any(m.startswith("ws disconnect #") for m in messages)


def test_at_info_connections_are_logged_but_not_every_message(tmp_path: Path) -> None:
    settings = fast_settings(tmp_path, log_level="INFO")
    with TestClient(create_app(settings)) as client:
        with client.websocket_connect("/api/dashboard/ws/metrics/real-time") as ws:
            ws.receive_json()
            ws.send_text('{"type": "ping"}')
            while ws.receive_json()["type"] != "pong":
                pass
        try:
            with client.websocket_connect("/api/dashboard/ws/agents/ghost/status") as ws:
                ws.receive_json()
        except Exception:
            pass
    entries = lines(tmp_path / "logs" / "websocket.log")
    messages = [e["message"] for e in entries]
    assert {e["levelname"] for e in entries} == {"INFO"}
    assert messages[0].startswith("ws connect #") and messages[1].startswith("ws disconnect #")
    assert "4004" in messages[2] and "ghost" in messages[2]
    assert not any("received" in m for m in messages)


def test_logging_is_json_off_a_terminal_and_configuring_twice_does_not_duplicate(
    tmp_path: Path,
) -> None:
    out = io.StringIO()
    configure_logging("INFO", tmp_path, stream=out)
    configure_logging("INFO", tmp_path, stream=out)
    logging.getLogger("backend.test").info("one line for %s", "this event")
    written = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [w["message"] for w in written] == ["one line for this event"]
    assert written[0]["levelname"] == "INFO" and written[0]["name"] == "backend.test"
