"""A restarted backend continues the same run, on SQLite and on PostgreSQL; kill -9 loses nothing answered."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.api.server import Server
from tests.api.support import fast_env, wait_until

API = "/api/dashboard"


def get(srv: Server, path: str, **params: object) -> object:
    return httpx.get(f"{srv.http}{path}", params=params, timeout=10).json()


def env_for(tmp_path: Path, database: tuple[str, str | None], **extra: str) -> dict[str, str]:
    url, schema = database
    env = fast_env(tmp_path, DATABASE_URL=url, **extra)
    if schema:
        env["AUTOOPS_DATABASE_SCHEMA"] = schema
    return env


def test_a_restarted_backend_continues_the_same_run(
    tmp_path: Path, database: tuple[str, str | None]
) -> None:
    first = Server(env_for(tmp_path, database), tmp_path / "first.log").start()
    try:
        wait_until(lambda: get(first, f"{API}/metrics/current")["day"] >= 4, what="four sim days")
        r = httpx.post(
            f"{first.http}{API}/agents/inventory_agent/intervention",
            json={"action": "pause", "reason": "keep me paused across restarts"},
        )
        assert r.status_code == 200
        wait_until(
            lambda: any(
                a["agent_id"] == "inventory_agent" for a in get(first, f"{API}/alerts/active")
            ),
            what="the paused-agent alert",
        )
        before = get(first, f"{API}/metrics/current")
        decisions = get(first, f"{API}/decisions/recent", agent_id="inventory_agent", limit=500)
        alert_ids = {
            a["id"]
            for a in get(first, f"{API}/alerts/active")
            if a["agent_id"] == "inventory_agent"
        }
    finally:
        first.stop()
    assert decisions and alert_ids

    # A slow clock on the second run: nothing moves while the state is compared.
    second = Server(
        env_for(tmp_path, database, AUTOOPS_DAY_SECONDS="3600"), tmp_path / "second.log"
    ).start()
    try:
        after = get(second, f"{API}/metrics/current")
        history = get(second, f"{API}/metrics/history")
        status = {a["agent_id"]: a for a in after["agent_statuses"]}
        kept = get(second, f"{API}/decisions/recent", agent_id="inventory_agent", limit=500)
        alerts = {
            a["id"]
            for a in get(second, f"{API}/alerts/active")
            if a["agent_id"] == "inventory_agent"
        }
        audit = get(second, f"{API}/interventions")
    finally:
        second.stop()
    assert after["day"] >= before["day"]
    assert after["day"] == history[-1]["day"] + 1  # the last traded day's state
    assert after["system_metrics"] == history[-1]["system_metrics"]  # totals carried over exactly
    assert after["system_metrics"]["total_revenue"] >= before["system_metrics"]["total_revenue"]
    assert status["inventory_agent"]["status"] == "paused"
    assert (
        status["inventory_agent"]["decisions_count"]
        == before["agent_statuses"][1]["decisions_count"]
    )
    assert [d["id"] for d in kept] == [d["id"] for d in decisions]
    assert alerts == alert_ids  # same ids, still active
    assert audit[0]["reason"] == "keep me paused across restarts"


def test_an_answered_intervention_survives_kill_9(tmp_path: Path) -> None:
    first = Server(fast_env(tmp_path), tmp_path / "first.log").start()
    try:
        wait_until(lambda: get(first, f"{API}/metrics/current")["day"] >= 2, what="two sim days")
        r = httpx.post(
            f"{first.http}{API}/agents/promotion_agent/intervention",
            json={"action": "pause", "reason": "answered, then the power went"},
        )
        assert r.status_code == 200
        day_seen = get(first, f"{API}/metrics/current")["day"]
    finally:
        first.kill()
    second = Server(fast_env(tmp_path, AUTOOPS_DAY_SECONDS="3600"), tmp_path / "second.log").start()
    try:
        status = {a["agent_id"]: a for a in get(second, f"{API}/agents/status")}
        audit = get(second, f"{API}/interventions")
        day = get(second, f"{API}/metrics/current")["day"]
    finally:
        second.stop()
    assert status["promotion_agent"]["status"] == "paused"
    assert audit[0]["intervention_id"] == r.json()["intervention_id"]
    assert day >= day_seen  # the view only shows persisted days
