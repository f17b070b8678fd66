"""Every write the runner makes: a traded day, a checkpoint, an intervention.

Each is one function and one transaction, and none runs under the store lock: the state was
copied under it (runner.state.Checkpoint) and is encoded and written here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine

from backend.config import Settings
from backend.db import repo
from backend.runner import alerts, convert
from backend.runner.state import Checkpoint, DayResult


def _store_state(conn: Connection, c: Checkpoint, keep: int) -> None:
    """The checkpoint row and the stores' day rows not stored yet, then prune what fell out."""
    repo.insert_checkpoint(
        conn, c.day, c.timestamp, c.codec.encode(c.tree, c.arrays), c.intervention_seq, keep
    )
    days = c.rows["live/day_index"] if c.rows else ()
    if len(days):
        repo.insert_ledger_rows(conn, int(days[0]), int(days[-1]), c.codec.encode_rows(c.rows))
    repo.prune_ledger_rows(conn, c.day - c.history_days)


def write_day(engine: Engine, r: DayResult, settings: Settings) -> None:
    """One transaction per day: decisions, outcomes, states, alerts, checkpoint, snapshot."""
    with engine.begin() as conn:
        repo.insert_decisions(conn, r.decisions)
        repo.record_outcomes(conn, r.outcomes)
        repo.save_agent_states(conn, r.day, r.timestamp, convert.jsonable(r.agents))
        r.alerts_raised, r.alerts_resolved = alerts.sync(conn, r.conditions, r.timestamp, r.day)
        _store_state(conn, r.checkpoint, settings.checkpoints_kept)
        repo.prune(conn, r.day, settings.retention_days, settings.audit_retention_days)
        r.open_alerts = repo.count_open_alerts(conn)
        # last: the metrics are computed beside the writes above
        repo.insert_snapshot(conn, r.traded_day, r.timestamp, r.join_metrics())


def write_checkpoint(engine: Engine, c: Checkpoint, settings: Settings) -> None:
    with engine.begin() as conn:
        _store_state(conn, c, settings.checkpoints_kept)


def record_intervention(engine: Engine, record: dict[str, Any], apply: Callable[[], str]) -> int:
    """The audit row first, so that a database that is away refuses before anything changes;
    then the change, and its message, in the same transaction. Returns the row's seq."""
    with engine.begin() as conn:
        seq = repo.insert_intervention(conn, record)
        record["message"] = apply()
        repo.set_intervention_message(conn, seq, record["message"])
    return seq
