"""Repository functions: plain dicts in and out, one Connection (one transaction) per call site."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

import zstandard
from sqlalchemy import Connection, bindparam, delete, func, insert, select, update

from backend.db.tables import (
    agent_states,
    alerts,
    checkpoints,
    decisions,
    interventions,
    ledger_rows,
    metric_snapshots,
)

# Level 1 for speed; long-distance matching finds arrays repeated far apart in one state (the
# agents' demand models learn the same sales), about halving a 10,000-SKU checkpoint.
ZSTD_PARAMS = zstandard.ZstdCompressionParameters.from_level(1, window_log=27, enable_ldm=True)

DECISION_FIELDS = (
    "id",
    "agent_id",
    "timestamp",
    "day",
    "action_type",
    "sku",
    "parameters",
    "rationale",
    "confidence_score",
    "expected_outcome",
    "outcome",
)
ALERT_FIELDS = (
    "id",
    "timestamp",
    "severity",
    "title",
    "message",
    "agent_id",
    "sku",
    "status",
    "auto_dismiss",
    "resolved_at",
)


# ---- decisions ------------------------------------------------------------------------------


def _executemany(
    conn: Connection, stmt: Any, rows: list[dict[str, Any]], keys: Sequence[str]
) -> Any:
    """One executemany through the driver, each value through its column type's own bind
    processor: the statement's SQL is compiled once, not once a row (thousands of rows a day)."""
    schema_map = conn.get_execution_options().get("schema_translate_map")
    options = {"schema_translate_map": schema_map, "render_schema_translate": True}
    compiled = stmt.compile(
        dialect=conn.dialect, column_keys=list(keys), **(options if schema_map else {})
    )
    binds = compiled.binds
    order = list(compiled.positiontup or []) if compiled.positional else list(keys)
    dialect = conn.dialect
    # the dialect's own form of each type, as a single-row statement binds it
    columns = [
        _bound([r[k] for r in rows], binds[k].type.dialect_impl(dialect).bind_processor(dialect))
        for k in order
    ]
    params: list[Any] = list(zip(*columns, strict=True))
    if not compiled.positional:
        params = [dict(zip(order, values, strict=True)) for values in params]
    return conn.exec_driver_sql(str(compiled), params)


def _bound(values: list[Any], process: Callable[[Any], Any] | None) -> list[Any]:
    """A column's values through its bind processor, once for a run of the same value: the very
    same object (an unset outcome is the one None), or an equal datetime (a day's rows share
    their instant, and every datetime column is stored as UTC)."""
    if process is None:
        return values
    out: list[Any] = []
    last: Any = _bound
    done: Any = None
    for value in values:
        if value is not last and not (isinstance(value, datetime) and value == last):
            last, done = value, process(value)
        out.append(done)
    return out


def insert_decisions(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        _executemany(conn, insert(decisions), rows, DECISION_FIELDS)


def record_outcomes(conn: Connection, outcomes: Iterable[tuple[str, dict[str, Any], bool]]) -> int:
    """Set each decision's realised outcome; returns how many decisions were still stored."""
    rows = [{"b_id": i, "b_outcome": o, "b_hit": h} for i, o, h in outcomes]
    if not rows:
        return 0
    result = _executemany(
        conn,
        update(decisions)
        .where(decisions.c.id == bindparam("b_id"))
        .values(outcome=bindparam("b_outcome"), hit=bindparam("b_hit")),
        rows,
        ("b_id", "b_outcome", "b_hit"),
    )
    if conn.dialect.supports_sane_multi_rowcount:
        return int(result.rowcount)
    ids = [r["b_id"] for r in rows]
    query = select(func.count()).select_from(decisions).where(decisions.c.id.in_(ids))
    return int(conn.execute(query).scalar_one())


def recent_decisions(
    conn: Connection, limit: int, agent_id: str | None = None
) -> list[dict[str, Any]]:
    query = (
        select(*(decisions.c[f] for f in DECISION_FIELDS))
        .order_by(decisions.c.seq.desc())
        .limit(limit)
    )
    if agent_id is not None:
        query = query.where(decisions.c.agent_id == agent_id)
    return [dict(row._mapping) for row in conn.execute(query)]


def count_decisions(conn: Connection, day: int | None = None, agent_id: str | None = None) -> int:
    query = select(func.count()).select_from(decisions)
    if day is not None:
        query = query.where(decisions.c.day == day)
    if agent_id is not None:
        query = query.where(decisions.c.agent_id == agent_id)
    return int(conn.execute(query).scalar_one())


# ---- metric snapshots and agent states ------------------------------------------------------


def insert_snapshot(
    conn: Connection, day: int, timestamp: datetime, metrics: dict[str, Any]
) -> None:
    conn.execute(insert(metric_snapshots).values(day=day, timestamp=timestamp, metrics=metrics))


def snapshots(conn: Connection, since: datetime | None, limit: int) -> list[dict[str, Any]]:
    """The latest `limit` snapshots after `since`, oldest first (the order charts draw in)."""
    query = select(metric_snapshots.c.day, metric_snapshots.c.timestamp, metric_snapshots.c.metrics)
    if since is not None:
        query = query.where(metric_snapshots.c.timestamp > since)
    rows = conn.execute(query.order_by(metric_snapshots.c.day.desc()).limit(limit)).all()
    return [
        {"day": r.day, "timestamp": r.timestamp, "system_metrics": r.metrics}
        for r in reversed(rows)
    ]


def save_agent_states(
    conn: Connection, day: int, timestamp: datetime, states: list[dict[str, Any]]
) -> None:
    for state in states:
        values = {"status": state["status"], "day": day, "updated_at": timestamp, "state": state}
        result = conn.execute(
            update(agent_states)
            .where(agent_states.c.agent_id == state["agent_id"])
            .values(**values)
        )
        if not result.rowcount:
            conn.execute(insert(agent_states).values(agent_id=state["agent_id"], **values))


def agent_state_rows(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(select(agent_states).order_by(agent_states.c.agent_id))
    return [dict(row._mapping) for row in rows]


# ---- checkpoints ----------------------------------------------------------------------------


def _compress(data: bytes) -> tuple[str, bytes]:
    return "zstd", zstandard.ZstdCompressor(compression_params=ZSTD_PARAMS).compress(data)


def _decompress(codec: str, data: bytes) -> bytes:
    if codec == "zstd":
        return zstandard.ZstdDecompressor().decompress(data)
    if codec == "zlib":
        return zlib.decompress(data)
    return bytes(data)


def insert_checkpoint(
    conn: Connection,
    day: int,
    timestamp: datetime,
    data: bytes,
    last_intervention_seq: int,
    keep: int,
) -> None:
    """Store an encoded Operation compressed; keep the newest `keep`."""
    codec, blob = _compress(data)
    conn.execute(
        insert(checkpoints).values(
            day=day,
            timestamp=timestamp,
            codec=codec,
            data=blob,
            last_intervention_seq=last_intervention_seq,
        )
    )
    newest = select(checkpoints.c.seq).order_by(checkpoints.c.seq.desc()).limit(keep).subquery()
    conn.execute(delete(checkpoints).where(checkpoints.c.seq.not_in(select(newest.c.seq))))


def latest_checkpoint(conn: Connection, day: int | None = None) -> dict[str, Any] | None:
    """The newest checkpoint, of `day` when given (the lease's day: a deposed runner's later
    writes never landed, so the checkpoint of the persisted day is the run's state)."""
    query = select(checkpoints)
    if day is not None:
        query = query.where(checkpoints.c.day == day)
    row = conn.execute(query.order_by(checkpoints.c.seq.desc()).limit(1)).first()
    if row is None:
        return None
    data = dict(row._mapping)
    data["data"] = _decompress(data.pop("codec"), data["data"])
    return data


def insert_ledger_rows(conn: Connection, first_day: int, last_day: int, data: bytes) -> None:
    """Store the encoded rows of days first_day..last_day (inclusive)."""
    codec, blob = _compress(data)
    conn.execute(
        insert(ledger_rows).values(first_day=first_day, last_day=last_day, codec=codec, data=blob)
    )


def ledger_row_batches(conn: Connection, since_day: int) -> list[bytes]:
    """The stored batches holding any day >= since_day, oldest first, decompressed."""
    query = (
        select(ledger_rows.c.codec, ledger_rows.c.data)
        .where(ledger_rows.c.last_day >= since_day)
        .order_by(ledger_rows.c.seq)
    )
    return [_decompress(r.codec, r.data) for r in conn.execute(query)]


def prune_ledger_rows(conn: Connection, before_day: int) -> None:
    """Drop the batches whose days all fell out of the stores' history."""
    conn.execute(delete(ledger_rows).where(ledger_rows.c.last_day < before_day))


# ---- interventions (the audit log) ----------------------------------------------------------


def insert_intervention(conn: Connection, record: dict[str, Any]) -> int:
    """Append one audit record (applied unless `status` says pending); returns its sequence number."""
    values = {
        "id": record["intervention_id"],
        "sub": record.get("sub") or "anonymous",
        "status": record.get("status", "applied"),
        "apply_seq": record.get("apply_seq"),
        "epoch": record.get("epoch"),
        "preview": record.get("preview"),
        **{
            k: record[k]
            for k in (
                "agent_id",
                "action",
                "parameters",
                "reason",
                "message",
                "timestamp",
                "day",
                "client",
            )
        },
    }
    key = conn.execute(insert(interventions).values(**values)).inserted_primary_key
    if key is None:
        raise RuntimeError("the interventions insert returned no primary key")
    return int(key[0])


def set_intervention_message(conn: Connection, seq: int, message: str) -> None:
    conn.execute(update(interventions).where(interventions.c.seq == seq).values(message=message))


def _intervention(row: Any) -> dict[str, Any]:
    data = dict(row._mapping)
    data["intervention_id"] = data.pop("id")
    return data


def list_interventions(
    conn: Connection, limit: int, agent_id: str | None = None
) -> list[dict[str, Any]]:
    query = select(interventions).order_by(interventions.c.seq.desc()).limit(limit)
    if agent_id is not None:
        query = query.where(interventions.c.agent_id == agent_id)
    return [_intervention(row) for row in conn.execute(query)]


def interventions_after(conn: Connection, apply_seq: int) -> list[dict[str, Any]]:
    """Applied interventions after `apply_seq`, in the order they were applied (a row written
    without an apply order was applied as it was inserted)."""
    order = func.coalesce(interventions.c.apply_seq, interventions.c.seq)
    query = (
        select(interventions)
        .where(interventions.c.status == "applied", order > apply_seq)
        .order_by(order)
    )
    return [_intervention(row) for row in conn.execute(query)]


def last_intervention_seq(conn: Connection) -> int:
    return int(conn.execute(select(func.coalesce(func.max(interventions.c.seq), 0))).scalar_one())


def pending_interventions(conn: Connection) -> list[dict[str, Any]]:
    """Interventions recorded by any replica and not yet applied, in the order they came."""
    query = (
        select(interventions)
        .where(interventions.c.status == "pending")
        .order_by(interventions.c.seq)
    )
    return [_intervention(row) for row in conn.execute(query)]


def settle_intervention(conn: Connection, seq: int, status: str, **values: Any) -> bool:
    """Move a pending intervention to `status` (applied, rejected, expired); False if it had
    already left pending (the leader applied it, or its requester expired it)."""
    result = conn.execute(
        update(interventions)
        .where(interventions.c.seq == seq, interventions.c.status == "pending")
        .values(status=status, **values)
    )
    return bool(result.rowcount)


def get_intervention(conn: Connection, seq: int) -> dict[str, Any]:
    return _intervention(
        conn.execute(select(interventions).where(interventions.c.seq == seq)).one()
    )


# ---- alerts ---------------------------------------------------------------------------------


def holding_alerts(conn: Connection) -> dict[str, dict[str, Any]]:
    """Alerts whose condition held at the last check, keyed by condition key."""
    rows = conn.execute(select(alerts).where(alerts.c.holding.is_(True)))
    return {row.key: dict(row._mapping) for row in rows}


def insert_alert(conn: Connection, alert: dict[str, Any]) -> None:
    conn.execute(insert(alerts).values(**alert))


def update_alert(
    conn: Connection, alert_id: str, only_if_status: tuple[str, ...] | None = None, **values: Any
) -> int:
    """Update one alert; with `only_if_status`, atomically and only from those statuses."""
    query = update(alerts).where(alerts.c.id == alert_id)
    if only_if_status is not None:
        query = query.where(alerts.c.status.in_(only_if_status))
    return conn.execute(query.values(**values)).rowcount or 0


def get_alert(conn: Connection, alert_id: str) -> dict[str, Any] | None:
    row = conn.execute(
        select(*(alerts.c[f] for f in ALERT_FIELDS)).where(alerts.c.id == alert_id)
    ).first()
    return dict(row._mapping) if row else None


def open_alerts(conn: Connection) -> list[dict[str, Any]]:
    """Active and acknowledged alerts, newest first."""
    query = (
        select(*(alerts.c[f] for f in ALERT_FIELDS))
        .where(alerts.c.status != "resolved")
        .order_by(alerts.c.timestamp.desc(), alerts.c.id)
    )
    return [dict(row._mapping) for row in conn.execute(query)]


def count_open_alerts(conn: Connection) -> int:
    query = select(func.count()).select_from(alerts).where(alerts.c.status != "resolved")
    return int(conn.execute(query).scalar_one())


# ---- retention ------------------------------------------------------------------------------


def prune(conn: Connection, day: int, retention_days: int, audit_retention_days: int) -> None:
    """Drop what fell out of the retention windows (sim days) so the database stays bounded."""
    cutoff = day - retention_days
    conn.execute(delete(decisions).where(decisions.c.day < cutoff))
    conn.execute(delete(metric_snapshots).where(metric_snapshots.c.day < cutoff))
    conn.execute(
        delete(alerts).where(
            alerts.c.status == "resolved",
            alerts.c.holding.is_(False),
            alerts.c.resolved_day < cutoff,
        )
    )
    conn.execute(delete(interventions).where(interventions.c.day < day - audit_retention_days))
