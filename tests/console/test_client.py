"""The REST client: requests as the API expects them, failures as sentences."""

from __future__ import annotations

import json

import httpx
import pytest

from bench.harness import free_port
from console.client import ApiClient, ApiError, api_url_from_env


def client_with(handler) -> ApiClient:  # type: ignore[no-untyped-def]
    return ApiClient("http://backend:8000/", transport=httpx.MockTransport(handler))


def test_api_url_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUTOOPS_API_URL", raising=False)
    assert api_url_from_env() == "http://localhost:8000"
    monkeypatch.setenv("AUTOOPS_API_URL", "http://10.0.0.5:9000/")
    assert api_url_from_env() == "http://10.0.0.5:9000"


def test_intervention_posts_the_contract_body() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"success": True, "intervention_id": "i1"})

    result = client_with(handler).intervene(
        "promotion_agent", "override", "clearance", {"sku": "SKU1", "discount": 0.3, "days": 2}
    )
    assert result["intervention_id"] == "i1"
    assert seen[0].url.path == "/api/dashboard/agents/promotion_agent/intervention"
    assert json.loads(seen[0].content) == {
        "agent_id": "promotion_agent",
        "action": "override",
        "parameters": {"sku": "SKU1", "discount": 0.3, "days": 2},
        "reason": "clearance",
    }


def test_recent_decisions_sends_limit_and_agent() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=[{"id": "d1"}])

    assert client_with(handler).recent_decisions(50, "pricing_agent") == [{"id": "d1"}]
    assert dict(seen[0].url.params) == {"limit": "50", "agent_id": "pricing_agent"}


def test_a_refusal_carries_the_backends_message_and_status() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            400, json={"detail": "parameters.discount: expected 0 < d < 0.9, got 0.95"}
        )

    with pytest.raises(ApiError) as err:
        client_with(handler).intervene("promotion_agent", "override", "x", {"discount": 0.95})
    assert err.value.status == 400 and not err.value.unreachable
    assert "HTTP 400" in str(err.value)
    assert "parameters.discount: expected 0 < d < 0.9, got 0.95" in str(err.value)


def test_validation_errors_name_each_field() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            422,
            json={
                "detail": [
                    {"loc": ["body", "reason"], "msg": "String should have at least 1 character"}
                ]
            },
        )

    with pytest.raises(ApiError, match="reason: String should have at least 1 character"):
        client_with(handler).intervene("pricing_agent", "pause", "")


def test_server_errors_and_non_json_are_messages() -> None:
    with pytest.raises(
        ApiError, match="failed on GET /api/dashboard/alerts/active \\(HTTP 503\\): down"
    ):
        client_with(lambda r: httpx.Response(503, text="down")).active_alerts()
    with pytest.raises(ApiError, match="something other than JSON"):
        client_with(lambda r: httpx.Response(200, text="<html>")).store_skus()


def test_a_down_backend_is_unreachable_not_a_traceback() -> None:
    client = ApiClient(f"http://127.0.0.1:{free_port()}", timeout=2)
    with pytest.raises(ApiError) as err:
        client.agent_statuses()
    assert err.value.unreachable
    assert "is unreachable" in str(err.value) and "Is it running?" in str(err.value)


def test_a_slow_backend_times_out_with_a_message() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(ApiError, match="did not answer GET /api/dashboard/store/skus in time"):
        client_with(handler).store_skus()


def test_envelope_lists_are_unwrapped_and_other_shapes_refused() -> None:
    envelope = client_with(lambda r: httpx.Response(200, json={"alerts": [{"id": 1}]}))
    assert envelope.active_alerts() == [{"id": 1}]
    with pytest.raises(ApiError, match="Expected a list of skus"):
        client_with(lambda r: httpx.Response(200, json="x")).store_skus()
