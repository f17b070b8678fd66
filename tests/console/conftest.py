"""Fakes for the console's two seams (REST client, stream listener) fed known messages."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from console import resources
from console.client import AGENT_NAMES, ApiError
from console.listener import LinkState, StreamListener

T0 = datetime(2026, 11, 28, 10, 0, 0, tzinfo=UTC)


def metrics(i: int) -> dict:
    """Ten system_metrics fields that move with i."""
    return {
        "total_revenue": 1000.0 + 100 * i,
        "total_profit": 200.0 + 10 * i,
        "inventory_turnover": 8.5,
        "stockout_incidents": 3 + i % 2,
        "waste_reduction_percentage": 15.2,
        "price_optimization_score": 0.87,
        "promotion_effectiveness": 0.72,
        "agent_collaboration_score": 0.91,
        "decision_count": 240 + i,
        "response_time_avg": 0.0135,
    }


class FakeListener(StreamListener):
    """A real listener whose threads never start; tests feed it messages directly."""

    def __init__(self) -> None:
        super().__init__("http://fake:1")

    def start(self) -> FakeListener:
        return self

    def feed(self, name: str, message: dict) -> None:
        self.handle(name, json.dumps(message))

    def feed_metrics(self, i: int) -> None:
        stamp = (T0 + timedelta(seconds=2 * i)).isoformat()
        self.feed(
            "metrics",
            {
                "type": "metrics_update",
                "timestamp": stamp,
                "tick": 1e4 + 2 * i,
                "seq": i,
                "data": metrics(i),
            },
        )

    def mark(self, state: LinkState) -> None:
        for name in self.urls:
            self._update(name, state=state)


def agent(agent_id: str, status: str = "active", success: float | None = 92.3) -> dict:
    return {
        "agent_id": agent_id,
        "name": AGENT_NAMES[agent_id],
        "status": status,
        "current_activity": f"{AGENT_NAMES[agent_id]} priced 12 SKUs",
        "last_decision_time": T0.isoformat(),
        "decisions_count": 45,
        "success_rate": success,
        "avg_response_time": 0.012,
    }


def category_row(name: str, skus: int, profit: tuple, wasted: tuple) -> dict:
    def figures(k: int) -> dict:
        return {
            "revenue": 3 * profit[k],
            "profit": profit[k],
            "units_sold": 100,
            "units_wasted": wasted[k],
            "fill_rate": 0.97,
            "stockout_sku_days": 2,
        }

    stores = {"live": figures(0), "baseline": figures(1)}
    return {"category": name, "skus": skus, "since_start": stores, "window": stores}


class FakeApi:
    """The REST client's methods over in-memory data; records every write."""

    base_url = "http://fake:1"

    def __init__(self) -> None:
        self.down = False
        self.refuse: str | None = None  # a 400 message for the next intervention
        self.calls: list[tuple[str, Any]] = []  # writes
        self.reads: list[tuple[str, Any]] = []
        self.agents = [
            agent("pricing_agent"),
            agent("inventory_agent", success=None),
            agent("promotion_agent"),
        ]
        self.decisions = [
            {
                "id": f"d{i}",
                "agent_id": a,
                "timestamp": (T0 + timedelta(seconds=i)).isoformat(),
                "action_type": t,
                "sku": f"SKU10000{i}",
                "parameters": {"price": 3.29},
                "rationale": f"Posterior elasticity -2.{i}; price 3.49 -> 3.29",
                "confidence_score": 0.8,
                "expected_outcome": {"profit": 4.1},
                "outcome": None,
            }
            for i, (a, t) in enumerate(
                [
                    ("pricing_agent", "price_adjustment"),
                    ("inventory_agent", "inventory_restock"),
                    ("promotion_agent", "markdown_application"),
                    ("pricing_agent", "price_adjustment"),
                ]
            )
        ]
        self.alerts = [
            {
                "id": "stockout:SKU100001",
                "timestamp": T0.isoformat(),
                "severity": "warning",
                "title": "Stock-out",
                "message": "SKU100001 sold out today",
                "agent_id": None,
                "sku": "SKU100001",
                "status": "active",
                "auto_dismiss": False,
            },
            {
                "id": "agent_error:pricing_agent",
                "timestamp": T0.isoformat(),
                "severity": "critical",
                "title": "Agent error",
                "message": "Pricing agent raised",
                "agent_id": "pricing_agent",
                "sku": None,
                "status": "active",
                "auto_dismiss": False,
            },
        ]
        self.skus = [
            {
                "sku": "SKU100001",
                "name": "Sourdough Loaf 800g",
                "category": "bakery",
                "price": 3.49,
                "markdown_price": 2.79,
                "cost": 2.3,
                "stock": 10,
                "stock_by_age": {"1": 4, "2": 6},
                "days_to_expiry": 1,
                "on_order": 12,
                "override_until": None,
            },
            {
                "sku": "SKU100002",
                "name": "Whole Milk 1L",
                "category": "dairy",
                "price": 1.19,
                "markdown_price": None,
                "cost": 0.8,
                "stock": 30,
                "stock_by_age": {"7": 30},
                "days_to_expiry": 7,
                "on_order": 0,
                "override_until": 14,
            },
        ]
        self.log: list[dict] = []
        self.by_category = {
            "day": 12,
            "window_days": 12,
            "since_start_days": 12,
            "covers_since_start": True,
            "waste_min_units": 30,
            "waste_comparable_from_day": None,
            "categories": [
                category_row("bakery", 1, profit=(120.0, 80.0), wasted=(4, 11)),
                category_row("dairy", 1, profit=(300.0, 310.0), wasted=(9, 7)),
            ],
        }

    def _check(self) -> None:
        if self.down:
            raise ApiError(
                "The backend at http://fake:1 is unreachable (ConnectError). Is it running?"
            )

    def agent_statuses(self) -> list[dict]:
        self._check()
        return copy.deepcopy(self.agents)

    def metrics_current(self) -> dict:
        self._check()
        return {"timestamp": T0.isoformat(), "system_metrics": metrics(0)}

    def recent_decisions(self, limit: int = 100, agent_id: str | None = None) -> list[dict]:
        self._check()
        return [d for d in self.decisions if agent_id in (None, d["agent_id"])][:limit]

    def active_alerts(self) -> list[dict]:
        self._check()
        return copy.deepcopy(self.alerts)

    def metrics_history(self, since: str | None = None, limit: int | None = None) -> list[dict]:
        self._check()
        return []

    def store_skus(
        self, offset: int = 0, limit: int = 200, category: str | None = None, q: str | None = None
    ) -> tuple[int, list[dict]]:
        self._check()
        self.reads.append(("store_skus", (offset, limit, category, q)))
        rows = [
            r
            for r in self.skus
            if category in (None, r["category"])
            and (not q or q.lower() in (r["sku"] + r["name"]).lower())
        ]
        return len(rows), copy.deepcopy(rows[offset : offset + limit])

    def metrics_by_category(self) -> dict:
        self._check()
        return copy.deepcopy(self.by_category)

    def interventions(self, limit: int = 500) -> list[dict]:
        self._check()
        return copy.deepcopy(self.log)

    def intervene(
        self, agent_id: str, action: str, reason: str, parameters: dict | None = None
    ) -> dict:
        self._check()
        self.calls.append(("intervene", (agent_id, action, reason, parameters)))
        if self.refuse:
            raise ApiError(f"The backend refused POST (HTTP 400): {self.refuse}", 400)
        new = {"pause": "paused", "resume": "active", "reset": "active"}.get(action)
        for a in self.agents:
            if a["agent_id"] == agent_id and new:
                a["status"] = new
        entry = {
            "intervention_id": f"i{len(self.log) + 1}",
            "agent_id": agent_id,
            "action": action,
            "reason": reason,
            "parameters": parameters or {},
            "timestamp": T0.isoformat(),
            "message": f"{AGENT_NAMES[agent_id]} {action} applied",
            "day": 12,
            "client": "127.0.0.1",
        }
        self.log.append(entry)
        return {
            "success": True,
            "agent_id": agent_id,
            "action": action,
            "timestamp": T0.isoformat(),
            "message": f"{AGENT_NAMES[agent_id]} {action} applied",
            "intervention_id": entry["intervention_id"],
        }

    def replay_range(self) -> dict:
        self._check()
        return {
            "first_day": 10,
            "last_day": 12,
            "days_held": 3,
            "retention_days": 365,
            "audit_retention_days": 3650,
        }

    def replay_day(self, day: int, limit: int = 200) -> dict:
        self._check()
        self.reads.append(("replay_day", day))
        return {
            "day": day,
            "timestamp": T0.isoformat(),
            "system_metrics": metrics(day),
            "decisions": [d | {"day": day} for d in self.decisions if day == 11],
            "decisions_total": 4 if day == 11 else 0,
            "alerts": copy.deepcopy(self.alerts[:1]),
            "interventions": [],
        }

    def preview(self, agent_id: str, parameters: dict) -> dict:
        """Units sold fall as the price rises: enough to see the dialog follow the value."""
        self._check()
        self.reads.append(("preview", (agent_id, dict(parameters))))
        price = float(parameters.get("price") or 1.0)

        def arm(units: float) -> dict:
            def band(x: float) -> dict:
                return {"mean": x, "p10": 0.8 * x, "p50": x, "p90": 1.2 * x}

            days = [
                {
                    "day": 12 + t,
                    "units_sold": band(units),
                    "revenue": band(units * price),
                    "profit": band(units * (price - 0.8)),
                    "units_expired": band(1.0),
                    "stockout_probability": 0.1,
                }
                for t in range(3)
            ]
            total = {k: band(3 * units) for k in ("units_sold", "units_expired", "stockout_days")}
            total |= {"revenue": band(3 * units * price), "profit": band(3 * units * (price - 0.8))}
            return {
                "regular_price": price,
                "markdown": 0.0,
                "order_today": None,
                "daily": days,
                "total": {**total, "stockout_probability": 0.25},
            }

        return {
            "agent_id": agent_id,
            "sku": parameters["sku"],
            "parameters": parameters,
            "first_day": 12,
            "last_day": 14,
            "horizon_days": 3,
            "paths": 2000,
            "with_override": arm(10.0 / price),
            "without_override": arm(10.0),
        }

    def acknowledge_alert(self, alert_id: str) -> dict:
        self._check()
        self.calls.append(("acknowledge", alert_id))
        return {}

    def resolve_alert(self, alert_id: str) -> dict:
        self._check()
        self.calls.append(("resolve", alert_id))
        return {}


@pytest.fixture
def fake_api(monkeypatch: pytest.MonkeyPatch) -> FakeApi:
    api = FakeApi()
    monkeypatch.setattr(resources, "get_api", lambda: api)
    return api


@pytest.fixture
def fake_listener(monkeypatch: pytest.MonkeyPatch) -> FakeListener:
    listener = FakeListener()
    monkeypatch.setattr(resources, "get_listener", lambda: listener)
    return listener


@pytest.fixture
def live(fake_api: FakeApi, fake_listener: FakeListener) -> tuple[FakeApi, FakeListener]:
    for i in range(40):
        fake_listener.feed_metrics(i)
    fake_listener.mark(LinkState.LIVE)
    return fake_api, fake_listener
