"""REST under /api/dashboard on the real app (TestClient with its lifespan, a running store)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from backend import schemas
from backend.runner.wire import RATIOS
from backend.schemas import METRIC_FIELDS
from tests.api.support import wait_until

API = "/api/dashboard"
AGENTS = ["pricing_agent", "inventory_agent", "promotion_agent"]
STATUS_FIELDS = {
    "agent_id",
    "name",
    "status",
    "current_activity",
    "last_decision_time",
    "decisions_count",
    "success_rate",
    "avg_response_time",
    "interval_coverage",
}
DECISION_FIELDS = set(schemas.Decision.model_fields)


def post(client: TestClient, agent: str, body: object) -> tuple[int, dict]:
    r = client.post(f"{API}/agents/{agent}/intervention", json=body)
    return r.status_code, r.json()


def status_of(client: TestClient, agent: str) -> dict:
    return next(a for a in client.get(f"{API}/agents/status").json() if a["agent_id"] == agent)


def test_agent_status_lists_the_three_agents_with_counts_from_the_store(traded: TestClient) -> None:
    statuses = traded.get(f"{API}/agents/status").json()
    assert [s["agent_id"] for s in statuses] == AGENTS
    assert all(set(s) == STATUS_FIELDS for s in statuses)
    assert all(s["status"] == "active" for s in statuses)
    assert sum(s["decisions_count"] for s in statuses) > 0


def test_current_metrics_carry_the_ten_kpis_computed_from_the_running_store(
    traded: TestClient,
) -> None:
    first = traded.get(f"{API}/metrics/current").json()
    assert set(first) >= {
        "timestamp",
        "system_metrics",
        "agent_statuses",
        "active_alerts_count",
        "recent_decisions_count",
    }
    assert list(first["system_metrics"]) == list(METRIC_FIELDS)
    assert first["system_metrics"]["total_revenue"] > 0
    later = wait_until(
        lambda: (m := traded.get(f"{API}/metrics/current").json())["day"] > first["day"] and m,
        what="another sim day",
    )
    assert later["system_metrics"]["total_revenue"] > first["system_metrics"]["total_revenue"]
    assert later["system_metrics"]["decision_count"] >= first["system_metrics"]["decision_count"]


def test_before_the_first_day_ratios_are_null_not_made_up(tmp_path) -> None:
    from backend.api.app import create_app
    from tests.api.support import fast_settings

    with TestClient(create_app(fast_settings(tmp_path, day_seconds=3600))) as client:
        current = client.get(f"{API}/metrics/current").json()
    metrics = current["system_metrics"]
    assert current["day"] == 0
    assert (metrics["total_revenue"], metrics["decision_count"], metrics["stockout_incidents"]) == (
        0,
        0,
        0,
    )
    assert {k for k, v in metrics.items() if v is None} == RATIOS
    assert all(
        a["success_rate"] is None and a["last_decision_time"] is None
        for a in current["agent_statuses"]
    )


def test_recent_decisions_are_newest_first_limited_and_filtered(traded: TestClient) -> None:
    five = traded.get(f"{API}/decisions/recent", params={"limit": 5}).json()
    assert 1 <= len(five) <= 5
    assert all(set(d) == DECISION_FIELDS for d in five)
    assert [d["day"] for d in five] == sorted((d["day"] for d in five), reverse=True)
    assert all(d["parameters"] and d["rationale"] for d in five)
    default = traded.get(f"{API}/decisions/recent").json()
    assert len(default) <= 20
    pricing = traded.get(
        f"{API}/decisions/recent", params={"limit": 500, "agent_id": "pricing_agent"}
    ).json()
    assert pricing and {d["agent_id"] for d in pricing} == {"pricing_agent"}


def test_recent_decisions_reject_a_limit_outside_1_to_500(client: TestClient) -> None:
    for bad in ("0", "501", "-3", "many"):
        r = client.get(f"{API}/decisions/recent", params={"limit": bad})
        assert r.status_code == 422, bad
        assert "limit" in r.json()["detail"]


def test_recent_decisions_for_an_unknown_agent_are_404_naming_the_known_ones(
    client: TestClient,
) -> None:
    r = client.get(f"{API}/decisions/recent", params={"agent_id": "pricing"})
    assert r.status_code == 404
    assert r.json()["error"] == "UnknownAgent"
    assert "pricing_agent, inventory_agent, promotion_agent" in r.json()["detail"]


def test_intervention_checks_run_in_the_documented_order(client: TestClient) -> None:
    r = client.post(
        f"{API}/agents/pricing_agent/intervention",
        content=b"not json",
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 422
    assert post(client, "nobody", {"action": "explode"})[0] == 422  # body first: no reason
    assert post(client, "pricing_agent", {"action": "pause", "reason": "x" * 1001})[0] == 422
    assert post(client, "pricing_agent", {"action": "pause", "reason": ""})[0] == 422
    code, body = post(client, "nobody", {"action": "explode", "reason": "r", "agent_id": "x"})
    assert (code, body["error"]) == (404, "UnknownAgent")  # then the agent
    code, body = post(
        client, "pricing_agent", {"action": "explode", "reason": "r", "agent_id": "x"}
    )
    assert (code, body["error"]) == (400, "UnknownAction")  # then the action
    assert "pause, resume, reset, override" in body["detail"]
    code, body = post(
        client, "pricing_agent", {"action": "pause", "reason": "r", "agent_id": "inventory_agent"}
    )
    assert (code, body["error"]) == (400, "AgentMismatch")  # then the body's agent
    code, body = post(
        client,
        "pricing_agent",
        {"action": "override", "reason": "r", "parameters": {"sku": "SKU000000", "price": 1}},
    )
    assert (code, body["error"]) == (400, "UnknownSku")  # then the parameters
    assert body["detail"].startswith("parameters.sku")
    sku = client.get(f"{API}/store/skus").json()[0]["sku"]
    code, body = post(
        client,
        "promotion_agent",
        {
            "action": "override",
            "reason": "r",
            "parameters": {"sku": sku, "discount": 0.95, "days": 2},
        },
    )
    assert (code, body["error"]) == (400, "InvalidOverride")
    assert body["detail"].startswith("parameters.discount: expected")
    assert client.get(f"{API}/interventions").json() == []  # nothing was applied


def test_pause_stops_an_agents_decisions_while_the_store_keeps_trading(traded: TestClient) -> None:
    code, body = post(
        traded,
        "pricing_agent",
        {
            "agent_id": "pricing_agent",
            "action": "pause",
            "parameters": {},
            "reason": "Manual testing intervention",
        },
    )
    assert code == 200 and body["success"] is True and body["action"] == "pause"
    paused = status_of(traded, "pricing_agent")
    assert paused["status"] == "paused"  # in effect on answer
    before = traded.get(f"{API}/metrics/current").json()
    after = wait_until(
        lambda: (
            (m := traded.get(f"{API}/metrics/current").json())["day"] >= before["day"] + 3 and m
        ),
        what="three more sim days",
    )
    assert status_of(traded, "pricing_agent")["decisions_count"] == paused["decisions_count"]
    assert after["system_metrics"]["total_revenue"] > before["system_metrics"]["total_revenue"]
    paused_on = traded.get(f"{API}/interventions").json()[0]["day"]  # the day it took effect
    newest = traded.get(
        f"{API}/decisions/recent", params={"agent_id": "pricing_agent", "limit": 1}
    ).json()
    assert newest[0]["day"] < paused_on
    assert post(traded, "pricing_agent", {"action": "resume", "reason": "done"})[0] == 200
    assert status_of(traded, "pricing_agent")["status"] == "active"


def test_override_changes_the_price_the_store_serves(traded: TestClient) -> None:
    row = traded.get(f"{API}/store/skus").json()[0]
    new_price = round(row["price"] * 1.37, 2)
    code, body = post(
        traded,
        "pricing_agent",
        {
            "action": "override",
            "reason": "supplier deal",
            "parameters": {"sku": row["sku"], "price": new_price, "hold_days": 5},
        },
    )
    assert code == 200, body
    served = next(r for r in traded.get(f"{API}/store/skus").json() if r["sku"] == row["sku"])
    assert served["price"] == new_price
    assert served["override_until"] is not None and served["override_until"] >= 0
    day = traded.get(f"{API}/metrics/current").json()["day"]
    wait_until(
        lambda: traded.get(f"{API}/metrics/current").json()["day"] >= day + 2, what="two days"
    )
    held = next(r for r in traded.get(f"{API}/store/skus").json() if r["sku"] == row["sku"])
    assert held["price"] == new_price  # the agent left it alone


def test_reset_restarts_the_agents_counter(traded: TestClient) -> None:
    wait_until(
        lambda: status_of(traded, "inventory_agent")["decisions_count"] > 0,
        what="an inventory decision",
    )
    code, _ = post(traded, "inventory_agent", {"action": "reset", "reason": "relearn"})
    assert code == 200
    status = status_of(traded, "inventory_agent")
    assert status["decisions_count"] == 0 and status["status"] == "active"


def test_an_intervention_is_in_the_audit_log_when_answered(client: TestClient) -> None:
    code, body = post(client, "promotion_agent", {"action": "pause", "reason": "audit me"})
    assert code == 200
    log = client.get(f"{API}/interventions").json()
    assert log[0]["intervention_id"] == body["intervention_id"]
    assert (log[0]["agent_id"], log[0]["action"], log[0]["reason"]) == (
        "promotion_agent",
        "pause",
        "audit me",
    )
    only = client.get(f"{API}/interventions", params={"agent_id": "pricing_agent"}).json()
    assert only == []


def test_alerts_can_be_acknowledged_and_resolved_by_hand(client: TestClient) -> None:
    post(client, "pricing_agent", {"action": "pause", "reason": "raise an alert"})
    # The paused-agent alert holds while the agent is paused; a store alert may clear by itself
    # between the read and the acknowledgement.
    alert = wait_until(
        lambda: next(
            (
                a
                for a in client.get(f"{API}/alerts/active").json()
                if a["agent_id"] == "pricing_agent"
            ),
            None,
        ),
        what="the paused-agent alert",
    )
    assert set(alert) >= {
        "id",
        "timestamp",
        "severity",
        "title",
        "message",
        "agent_id",
        "sku",
        "status",
        "auto_dismiss",
    }
    acked = client.post(f"{API}/alerts/{alert['id']}/acknowledge").json()
    assert acked["status"] == "acknowledged" and acked["id"] == alert["id"]
    resolved = client.post(f"{API}/alerts/{alert['id']}/resolve").json()
    assert resolved["status"] == "resolved"
    assert alert["id"] not in [a["id"] for a in client.get(f"{API}/alerts/active").json()]
    r = client.post(f"{API}/alerts/{alert['id']}/acknowledge")
    assert r.status_code == 409 and "resolved" in r.json()["detail"]
    r = client.post(f"{API}/alerts/no-such-alert/resolve")
    assert r.status_code == 404 and r.json()["error"] == "UnknownAlert"


def test_a_paused_agent_raises_one_stable_alert_that_clears_on_resume(client: TestClient) -> None:
    post(client, "promotion_agent", {"action": "pause", "reason": "alert test"})

    def paused_alerts() -> list[dict]:
        return [
            a
            for a in client.get(f"{API}/alerts/active").json()
            if a["agent_id"] == "promotion_agent"
        ]

    first = wait_until(paused_alerts, what="the paused-agent alert")
    day = client.get(f"{API}/metrics/current").json()["day"]
    wait_until(
        lambda: client.get(f"{API}/metrics/current").json()["day"] >= day + 2, what="two days"
    )
    assert [a["id"] for a in paused_alerts()] == [a["id"] for a in first]  # raised once, same id
    post(client, "promotion_agent", {"action": "resume", "reason": "alert test"})
    wait_until(lambda: not paused_alerts(), what="the alert to resolve itself")


def test_metric_history_is_oldest_first_and_honours_since(traded: TestClient) -> None:
    history = traded.get(f"{API}/metrics/history").json()
    assert len(history) >= 3
    days = [h["day"] for h in history]
    assert days == sorted(days)
    assert list(history[0]["system_metrics"]) == list(METRIC_FIELDS)
    since = history[-2]["timestamp"]
    later = traded.get(f"{API}/metrics/history", params={"since": since}).json()
    assert later and all(h["day"] > history[-2]["day"] for h in later)
    assert len(traded.get(f"{API}/metrics/history", params={"limit": 2}).json()) == 2
    assert traded.get(f"{API}/metrics/history", params={"since": "yesterday"}).status_code == 422


def test_store_rows_show_price_stock_by_age_and_pipeline(traded: TestClient) -> None:
    rows = traded.get(f"{API}/store/skus").json()
    assert len(rows) == 20
    assert set(rows[0]) == {
        "sku",
        "name",
        "category",
        "price",
        "markdown_price",
        "cost",
        "stock",
        "stock_by_age",
        "days_to_expiry",
        "on_order",
        "override_until",
    }
    for row in rows:
        assert sum(row["stock_by_age"].values()) == row["stock"]
        assert row["price"] > 0 and row["cost"] > 0


def test_health_readiness_and_prometheus_metrics(traded: TestClient) -> None:
    assert traded.get("/healthz").json() == {"status": "ok"}
    ready = traded.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    text = traded.get("/metrics").text
    assert "autoops_days_total" in text and 'autoops_kpi{name="total_revenue"}' in text


def test_readiness_is_503_when_the_database_is_unreachable(client: TestClient) -> None:
    from backend.db.engine import make_engine

    client.app.state.service.engine = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/none")
    r = client.get("/readyz")
    assert r.status_code == 503
    assert r.json()["database"] is False and "database unreachable" in r.json()["detail"]


def test_every_route_declares_its_response_schema(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            ok = op["responses"].get("200", {})
            content = ok.get("content", {})
            if path == "/metrics":
                assert "text/plain" in content
                continue
            assert content.get("application/json", {}).get("schema"), f"{method} {path}"
    post_op = spec["paths"]["/api/dashboard/agents/{agent_id}/intervention"]["post"]
    assert {"400", "404", "422"} <= set(post_op["responses"])


def test_cors_admits_only_the_configured_origins(client: TestClient) -> None:
    headers = {"Access-Control-Request-Method": "GET"}
    ok = client.options(
        f"{API}/agents/status", headers={**headers, "Origin": "http://localhost:3000"}
    )
    assert ok.headers.get("access-control-allow-origin") == "http://localhost:3000"
    bad = client.options(
        f"{API}/agents/status", headers={**headers, "Origin": "http://evil.example"}
    )
    assert "access-control-allow-origin" not in bad.headers


def test_readiness_is_503_when_the_runner_stops_trading(client: TestClient) -> None:
    runner = client.app.state.service.runner
    client.portal.call(_cancel, runner._task)
    r = client.get("/readyz")
    assert r.status_code == 503
    assert r.json()["runner_ticking"] is False and "runner not trading" in r.json()["detail"]


async def _cancel(task) -> None:
    import asyncio

    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
