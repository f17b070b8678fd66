"""Alert lifecycle over the store's conditions: raised once, stable id, resolved when cleared."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from backend.db import repo
from backend.runner.errors import AlertConflict, UnknownAlert


def alert_id(key: str, day: int) -> str:
    """Stable for one holding of a condition: the key and the day it was raised."""
    digest = hashlib.sha1(key.encode()).hexdigest()[:10]
    return f"alert-{day:06d}-{digest}"


def sync(conn: Connection, conditions: list[Any], now: datetime, day: int
         ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Raise alerts for new conditions and resolve those whose condition cleared; returns both."""
    holding = repo.holding_alerts(conn)
    current = {c.key: c for c in conditions}
    raised: list[dict[str, Any]] = []
    for key, cond in current.items():
        known = holding.get(key)
        text = {"severity": cond.severity, "title": cond.title, "message": cond.message}
        if known is None:
            alert = {"id": alert_id(key, day), "key": key, **text, "agent_id": cond.agent_id,
                     "sku": cond.sku, "status": "active", "auto_dismiss": True, "holding": True,
                     "raised_day": day, "timestamp": now, "updated_at": now}
            repo.insert_alert(conn, alert)
            raised.append(alert)
        elif any(known[k] != v for k, v in text.items()):
            # Same condition, fresher numbers: the id stays, the text follows the store.
            repo.update_alert(conn, known["id"], updated_at=now, **text)
    resolved: list[dict[str, Any]] = []
    for key, known in holding.items():
        if key in current:
            continue
        values: dict[str, Any] = {"holding": False, "updated_at": now}
        if known["status"] != "resolved":
            values.update(status="resolved", resolved_at=now, resolved_day=day, resolved_by="auto")
            resolved.append({**known, **values})
        repo.update_alert(conn, known["id"], **values)
    return raised, resolved


def acknowledge(conn: Connection, alert_id_: str, now: datetime) -> dict[str, Any]:
    alert = repo.get_alert(conn, alert_id_)
    if alert is None:
        raise UnknownAlert(alert_id_)
    if alert["status"] == "resolved":
        raise AlertConflict(alert_id_, "an active or acknowledged alert", alert["status"])
    if alert["status"] == "active":
        repo.update_alert(conn, alert_id_, status="acknowledged", updated_at=now)
    return repo.get_alert(conn, alert_id_) or alert


def resolve(conn: Connection, alert_id_: str, now: datetime, day: int) -> dict[str, Any]:
    """Resolve by hand; while its condition still holds the alert is not raised again."""
    alert = repo.get_alert(conn, alert_id_)
    if alert is None:
        raise UnknownAlert(alert_id_)
    if alert["status"] != "resolved":
        repo.update_alert(conn, alert_id_, status="resolved", updated_at=now, resolved_at=now,
                          resolved_day=day, resolved_by="operator")
    return repo.get_alert(conn, alert_id_) or alert
