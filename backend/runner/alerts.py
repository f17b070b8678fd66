"""Alert lifecycle over the store's conditions: raised once, stable id, resolved when cleared."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from backend.db import repo
from backend.runner.errors import AlertConflict, UnknownAlert

OPEN = ("active", "acknowledged")


def alert_id(key: str, day: int) -> str:
    """Stable for one holding of a condition: the key and the day it was raised."""
    digest = hashlib.sha1(key.encode()).hexdigest()[:10]
    return f"alert-{day:06d}-{digest}"


def sync(
    conn: Connection, conditions: list[Any], now: datetime, day: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Raise alerts for new conditions and resolve those whose condition cleared; returns both."""
    holding = repo.holding_alerts(conn)
    current = {c.key: c for c in conditions}
    raised: list[dict[str, Any]] = []
    for key, cond in current.items():
        known = holding.get(key)
        text = {"severity": cond.severity, "title": cond.title, "message": cond.message}
        if known is None:
            alert = {
                "id": alert_id(key, day),
                "key": key,
                **text,
                "agent_id": cond.agent_id,
                "sku": cond.sku,
                "status": "active",
                "auto_dismiss": True,
                "holding": True,
                "raised_day": day,
                "timestamp": now,
                "updated_at": now,
            }
            repo.insert_alert(conn, alert)
            raised.append(alert)
        elif any(known[k] != v for k, v in text.items()):
            # Same condition, fresher numbers: the id stays, the text follows the store.
            repo.update_alert(conn, known["id"], updated_at=now, **text)
    resolved: list[dict[str, Any]] = []
    for key, known in holding.items():
        if key in current:
            continue
        repo.update_alert(conn, known["id"], holding=False, updated_at=now)
        # Conditional, so that an operator's concurrent acknowledge or resolve is never lost.
        values = {
            "status": "resolved",
            "resolved_at": now,
            "resolved_day": day,
            "resolved_by": "auto",
        }
        if repo.update_alert(conn, known["id"], only_if_status=OPEN, **values):
            resolved.append({**known, **values})
    return raised, resolved


def acknowledge(conn: Connection, alert_id_: str, now: datetime) -> dict[str, Any]:
    repo.update_alert(
        conn, alert_id_, only_if_status=("active",), status="acknowledged", updated_at=now
    )
    alert = repo.get_alert(conn, alert_id_)
    if alert is None:
        raise UnknownAlert(alert_id_)
    if alert["status"] == "resolved":
        raise AlertConflict(alert_id_, "an active or acknowledged alert", alert["status"])
    return alert


def resolve(conn: Connection, alert_id_: str, now: datetime, day: int) -> dict[str, Any]:
    """Resolve by hand; while its condition still holds the alert is not raised again."""
    repo.update_alert(
        conn,
        alert_id_,
        only_if_status=OPEN,
        status="resolved",
        updated_at=now,
        resolved_at=now,
        resolved_day=day,
        resolved_by="operator",
    )
    alert = repo.get_alert(conn, alert_id_)
    if alert is None:
        raise UnknownAlert(alert_id_)
    return alert
