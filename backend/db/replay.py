"""Reads of one past day from the stored history: its KPIs, decisions, alerts and interventions.

Days are traded days (a snapshot's and a decision's `day`). Alerts and interventions count
days as the store does between two trading days (the number of days traded so far), so the
state after trading day d is their day d + 1.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, or_, select

from backend.db.repo import ALERT_FIELDS, DECISION_FIELDS, _intervention
from backend.db.tables import alerts, decisions, interventions, metric_snapshots


def held_days(conn: Connection) -> dict[str, int | None]:
    """The first and last traded day whose snapshot is still stored, and how many are."""
    day = metric_snapshots.c.day
    first, last, count = conn.execute(select(func.min(day), func.max(day), func.count())).one()
    return {"first_day": first, "last_day": last, "days_held": int(count)}


def day_record(conn: Connection, day: int, limit: int) -> dict[str, Any] | None:
    """Traded day `day` as stored, or None when its snapshot is not (any more) held."""
    snap = conn.execute(
        select(metric_snapshots.c.timestamp, metric_snapshots.c.metrics).where(
            metric_snapshots.c.day == day
        )
    ).first()
    if snap is None:
        return None
    on_day = decisions.c.day == day
    rows = conn.execute(
        select(*(decisions.c[f] for f in DECISION_FIELDS))
        .where(on_day)
        .order_by(decisions.c.seq)
        .limit(limit)
    )
    total = conn.execute(select(func.count()).select_from(decisions).where(on_day)).scalar_one()
    after = day + 1
    open_then = (
        select(*(alerts.c[f] for f in ALERT_FIELDS))
        .where(
            alerts.c.raised_day <= after,
            or_(alerts.c.resolved_day.is_(None), alerts.c.resolved_day > after),
        )
        .order_by(alerts.c.timestamp.desc(), alerts.c.id)
    )
    made = select(interventions).where(interventions.c.day == day).order_by(interventions.c.seq)
    return {
        "day": day,
        "timestamp": snap.timestamp,
        "system_metrics": snap.metrics,
        "decisions": [dict(r._mapping) for r in rows],
        "decisions_total": int(total),
        "alerts": [dict(r._mapping) for r in conn.execute(open_then)],
        "interventions": [_intervention(r) for r in conn.execute(made)],
    }
