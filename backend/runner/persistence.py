"""Every write the runner makes: a traded day, a checkpoint, an intervention.

Each is one function and one transaction, and none runs under the store lock: the state was
copied under it (runner.state.Checkpoint) and is encoded and written here. Each transaction
starts with the runner's fence (backend.db.lease): under a newer epoch it raises Deposed and
writes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine

from backend.config import Settings
from backend.db import lease, repo
from backend.runner import alerts, wire
from backend.runner.state import Checkpoint, DayResult, utcnow


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
    publish: Callable[[Connection], None] | None = None,
) -> None:
    """One transaction per day: decisions, outcomes, states, alerts, checkpoint, snapshot (and
    with `publish`, the state followers serve)."""
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
            publish(conn)


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


Apply = Callable[[], str]  # changes the store, returns its message
After = Callable[[Connection], list[dict[str, Any]]]  # the agents after it (stores the state)


def record_intervention(
    engine: Engine, record: dict[str, Any], epoch: int, apply: Apply, after: After
) -> int:
    """The audit row first, so that a database that is away refuses before anything changes;
    then the change, and its message, in the same transaction. Returns the row's seq."""
    with engine.begin() as conn:
        record["apply_seq"] = lease.fence_apply(conn, epoch, record["timestamp"])
        record["epoch"] = epoch
        seq = repo.insert_intervention(conn, record)
        record["message"] = apply()
        repo.set_intervention_message(conn, seq, record["message"])
        record["agents"] = after(conn)
    return seq


def apply_pending(
    engine: Engine, row: dict[str, Any], epoch: int, apply: Apply, after: After
) -> bool:
    """Apply an intervention another replica recorded: take it out of pending (False if its
    requester expired it first: then nothing changes), then change the store."""
    try:
        with engine.begin() as conn:
            row["apply_seq"] = lease.fence_apply(conn, epoch, utcnow())
            if not repo.settle_intervention(
                conn, row["seq"], "applied", apply_seq=row["apply_seq"], epoch=epoch
            ):
                raise _Settled  # rolls the fence's apply_seq back too
            row["message"] = apply()
            repo.set_intervention_message(conn, row["seq"], row["message"])
            row["agents"] = after(conn)
    except _Settled:
        return False
    return True


def reject_pending(engine: Engine, row: dict[str, Any], message: str) -> None:
    with engine.begin() as conn:
        repo.settle_intervention(conn, row["seq"], "rejected", message=message)
