"""Every write the runner makes: a traded day, a checkpoint, an intervention, and with replicas
the state followers serve.

Each is one function and one transaction, and none runs under the store lock: the state was
copied under it (`capture`, `Published`; an intervention's change takes the lock itself, for the
change only) and is encoded and written here. Each transaction starts with the runner's fence
(backend.db.lease): under a newer epoch it raises Deposed and writes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine

from backend.agents.operation import Operation
from backend.config import Settings
from backend.db import lease, repo
from backend.runner import alerts, wire
from backend.runner.state import Checkpoint, DayResult, View, utcnow

# the View's fields that followers are sent (all but its version, which the state row carries)
STATE_FIELDS = (
    "day",
    "timestamp",
    "metrics",
    "agents",
    "active_alerts_count",
    "recent_decisions_count",
)


def capture(op: Operation, now: datetime, applied_seq: int, rows_from: int) -> Checkpoint:
    """Copies of the store's state and its day rows from `rows_from` on (not stored yet).
    Caller holds the store lock."""
    tree, arrays = op.export_state(ring=False)
    return Checkpoint(
        day=int(op.day),
        timestamp=now,
        intervention_seq=applied_seq,
        tree=tree,
        arrays=arrays,
        rows=op.ring_rows(rows_from),
        codec=type(op),
        history_days=int(op.live.ledger.history_days),
    )


@dataclass
class Published:
    """The state followers serve after a change, as the leader's View `version`."""

    version: int
    view: dict[str, Any]  # the View's STATE_FIELDS
    skus: list[dict[str, Any]]

    @classmethod
    def after_intervention(
        cls, view: View, agents: list[dict[str, Any]], skus: list[dict[str, Any]]
    ) -> Published:
        fields = {k: getattr(view, k) for k in STATE_FIELDS} | {"agents": agents}
        return cls(view.version + 1, fields, skus)


def save_state(conn: Connection, epoch: int, state: Published) -> None:
    lease.save_state(
        conn,
        {
            "epoch": epoch,
            "version": state.version,
            "day": state.view["day"],
            "view": wire.jsonable(state.view),
            "skus": wire.jsonable(state.skus),
            "updated_at": utcnow(),
        },
    )


def _store_state(conn: Connection, c: Checkpoint, keep: int) -> None:
    """The checkpoint row and the stores' day rows not stored yet, then prune what fell out."""
    repo.insert_checkpoint(
        conn, c.day, c.timestamp, c.codec.encode(c.tree, c.arrays), c.intervention_seq, keep
    )
    days = c.rows["live/day_index"] if c.rows else None
    if days is not None and len(days):
        repo.insert_ledger_rows(conn, int(days[0]), int(days[-1]), c.codec.encode_rows(c.rows))
    repo.prune_ledger_rows(conn, c.day - c.history_days)


def write_day(
    engine: Engine,
    r: DayResult,
    settings: Settings,
    epoch: int,
    publish: int | None = None,
) -> None:
    """One transaction per day: decisions, outcomes, states, alerts, checkpoint, snapshot (and
    with `publish`, the state followers serve, as that View version)."""
    with engine.begin() as conn:
        if not lease.fence_day(conn, epoch, r.day, r.timestamp):
            return  # this epoch's earlier commit of the day landed; only its answer was lost
        repo.insert_decisions(conn, r.decisions)
        repo.record_outcomes(conn, r.outcomes)
        repo.save_agent_states(conn, r.day, r.timestamp, wire.jsonable(r.agents))
        r.alerts_raised, r.alerts_resolved = alerts.sync(conn, r.conditions, r.timestamp, r.day)
        _store_state(conn, r.checkpoint, settings.checkpoints_kept)
        repo.prune(conn, r.day, settings.retention_days, settings.audit_retention_days)
        r.open_alerts = repo.count_open_alerts(conn)
        # last: the metrics are computed beside the writes above
        repo.insert_snapshot(conn, r.traded_day, r.timestamp, r.join_metrics())
        if publish is not None:
            view = {
                "day": r.day,
                "timestamp": r.timestamp,
                "metrics": r.metrics,
                "agents": r.agents,
                "active_alerts_count": r.open_alerts,
                "recent_decisions_count": len(r.decisions),
            }
            save_state(conn, epoch, Published(publish, view, r.skus or []))


def write_checkpoint(engine: Engine, c: Checkpoint, settings: Settings, epoch: int) -> None:
    with engine.begin() as conn:
        lease.fence(conn, epoch, c.timestamp)
        _store_state(conn, c, settings.checkpoints_kept)


class _Settled(Exception):
    """A pending intervention left pending before the leader got to it."""


def new_intervention(
    agent_id: str,
    action: str,
    parameters: dict[str, Any],
    reason: str,
    client: str | None,
    sub: str,
) -> dict[str, Any]:
    """An intervention's record as it is asked for: its id, what, why, by whom and when."""
    return {
        "intervention_id": f"iv-{uuid.uuid4().hex[:16]}",
        "agent_id": agent_id,
        "action": action,
        "parameters": wire.jsonable(parameters),
        "reason": reason,
        "message": "",
        "timestamp": utcnow(),
        "client": client,
        "sub": sub,
    }


@dataclass
class Applied:
    """What an intervention's change left, copied under the store lock: its message, the agents,
    and with replicas the state followers serve."""

    message: str
    agents: list[dict[str, Any]]
    state: Published | None


Apply = Callable[[], Applied]  # changes the store (taking the store lock for that only)


def _applied(conn: Connection, record: dict[str, Any], seq: int, epoch: int, apply: Apply) -> None:
    applied = apply()
    record["message"], record["agents"] = applied.message, applied.agents
    repo.set_intervention_message(conn, seq, applied.message)
    if applied.state is not None:
        save_state(conn, epoch, applied.state)


def record_intervention(engine: Engine, record: dict[str, Any], epoch: int, apply: Apply) -> int:
    """The audit row first, so that a database that is away refuses before anything changes;
    then the change, and its message, in the same transaction. Returns the row's seq."""
    with engine.begin() as conn:
        record["apply_seq"] = lease.fence_apply(conn, epoch, record["timestamp"])
        record["epoch"] = epoch
        seq = repo.insert_intervention(conn, record)
        _applied(conn, record, seq, epoch, apply)
    return seq


def apply_pending(engine: Engine, row: dict[str, Any], epoch: int, apply: Apply) -> bool:
    """Apply an intervention another replica recorded: take it out of pending (False if its
    requester expired it first: then nothing changes), then change the store."""
    try:
        with engine.begin() as conn:
            row["apply_seq"] = lease.fence_apply(conn, epoch, utcnow())
            if not repo.settle_intervention(
                conn, row["seq"], "applied", apply_seq=row["apply_seq"], epoch=epoch
            ):
                raise _Settled  # rolls the fence's apply_seq back too
            _applied(conn, row, row["seq"], epoch, apply)
    except _Settled:
        return False
    return True


def reject_pending(engine: Engine, row: dict[str, Any], message: str) -> None:
    with engine.begin() as conn:
        repo.settle_intervention(conn, row["seq"], "rejected", message=message)
