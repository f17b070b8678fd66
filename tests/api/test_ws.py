"""The three streams on the real app through TestClient: greetings, cadences, replies, broadcasts."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from backend.config import Settings
from backend.schemas import METRIC_FIELDS
from tests.api.support import receive_until

WS = "/api/dashboard/ws"


def periodic(ws, kind: str, n: int) -> list[dict]:
    return [receive_until(ws, kind) for _ in range(n)]


def test_live_updates_greet_then_stream_the_dashboard_metrics(
    client: TestClient, settings: Settings
) -> None:
    with client.websocket_connect(f"{WS}/live-updates") as ws:
        hello = ws.receive_json()
        assert hello["type"] == "connection_established"
        assert hello["message"] == "Connected to live updates stream" and hello["timestamp"]
        updates = periodic(ws, "metrics_update", 3)
    data = updates[-1]["data"]
    assert set(data) >= {
        "timestamp",
        "system_metrics",
        "agent_statuses",
        "active_alerts_count",
        "recent_decisions_count",
    }
    assert list(data["system_metrics"]) == list(METRIC_FIELDS)
    assert [a["agent_id"] for a in data["agent_statuses"]] == [
        "pricing_agent",
        "inventory_agent",
        "promotion_agent",
    ]
    seqs = [u["seq"] for u in updates]
    assert seqs == list(range(seqs[0], seqs[0] + 3))  # one per scheduled tick
    gaps = [b["tick"] - a["tick"] for a, b in zip(updates, updates[1:])]
    assert gaps == pytest.approx([settings.live_interval] * 2)  # absolute deadlines


def test_agent_stream_sends_its_status_then_periodic_updates(
    client: TestClient, settings: Settings
) -> None:
    with client.websocket_connect(f"{WS}/agents/inventory_agent/status") as ws:
        first = ws.receive_json()
        updates = periodic(ws, "agent_status_update", 2)
    assert first["type"] == "agent_status" and first["agent_id"] == "inventory_agent"
    assert (
        first["data"]["agent_id"] == "inventory_agent"
        and first["data"]["name"] == "Inventory Agent"
    )
    assert all(u["agent_id"] == "inventory_agent" == u["data"]["agent_id"] for u in updates)
    assert updates[1]["seq"] == updates[0]["seq"] + 1
    assert updates[1]["tick"] - updates[0]["tick"] == pytest.approx(settings.agent_interval)


def test_metrics_stream_sends_the_ten_kpis_then_updates(
    client: TestClient, settings: Settings
) -> None:
    with client.websocket_connect(f"{WS}/metrics/real-time") as ws:
        first = ws.receive_json()
        updates = periodic(ws, "metrics_update", 2)
    assert first["type"] == "metrics_stream"
    assert list(first["data"]) == list(METRIC_FIELDS)
    assert all(list(u["data"]) == list(METRIC_FIELDS) for u in updates)
    assert updates[1]["tick"] - updates[0]["tick"] == pytest.approx(settings.metrics_interval)


def test_ping_gets_pong_and_bad_input_gets_an_error_without_closing(client: TestClient) -> None:
    with client.websocket_connect(f"{WS}/metrics/real-time") as ws:
        ws.send_json({"type": "ping"})
        assert receive_until(ws, "pong")["timestamp"]
        ws.send_text("{not json")
        assert "malformed JSON" in receive_until(ws, "error")["message"]
        ws.send_json({"type": "subscribe", "channel": "x"})
        assert "'subscribe'" in receive_until(ws, "error")["message"]
        ws.send_json([1, 2, 3])
        assert "expected a message of type" in receive_until(ws, "error")["message"]
        assert receive_until(ws, "metrics_update")["data"]  # the stream goes on


def test_an_intervention_is_broadcast_on_live_updates(client: TestClient) -> None:
    with client.websocket_connect(f"{WS}/live-updates") as ws:
        ws.receive_json()
        r = client.post(
            "/api/dashboard/agents/promotion_agent/intervention",
            json={"action": "pause", "reason": "broadcast test", "parameters": {}},
        )
        message = receive_until(ws, "agent_intervention")
    assert {
        k: message[k] for k in ("agent_id", "action", "reason", "parameters", "intervention_id")
    } == {
        "agent_id": "promotion_agent",
        "action": "pause",
        "reason": "broadcast test",
        "parameters": {},
        "intervention_id": r.json()["intervention_id"],
    }
    assert message["timestamp"]


def test_store_events_reach_live_updates_as_system_events(client: TestClient) -> None:
    with client.websocket_connect(f"{WS}/live-updates") as ws:
        client.post(
            "/api/dashboard/agents/pricing_agent/intervention",
            json={"action": "pause", "reason": "make an alert"},
        )
        event = receive_until(ws, "system_event", limit=500)
    assert event["event"] in {"alert_raised", "alert_resolved", "promotion_started", "agent_error"}
    assert event["message"] and event["severity"] in {"info", "warning", "error", "critical"}


def test_an_unknown_agent_stream_is_accepted_then_closed_with_4004(client: TestClient) -> None:
    with pytest.raises(WebSocketDisconnect) as closed:
        with client.websocket_connect(f"{WS}/agents/cashier_agent/status") as ws:
            ws.receive_json()
    assert closed.value.code == 4004
    assert "cashier_agent" in closed.value.reason


def test_events_travel_through_redis_when_the_bus_url_says_so(tmp_path) -> None:
    from backend.api.app import create_app
    from tests.api.support import fast_settings
    from tests.bus.test_bus import redis_unreachable

    reason = redis_unreachable()
    if reason:
        pytest.skip(reason)
    settings = fast_settings(
        tmp_path,
        bus_url="redis://127.0.0.1:6379/0",
        bus_namespace=f"autoops-test-{uuid.uuid4().hex}",
    )
    with TestClient(create_app(settings)) as client:
        with client.websocket_connect(f"{WS}/live-updates") as ws:
            ws.receive_json()
            r = client.post(
                "/api/dashboard/agents/pricing_agent/intervention",
                json={"action": "pause", "reason": "via redis"},
            )
            message = receive_until(ws, "agent_intervention")
    assert message["intervention_id"] == r.json()["intervention_id"]
    assert type(client.app.state.hub.bus).__name__ == "RedisBus"
