"""The runner's lease row: the epoch that fences every runner write, and the published state.

Each function takes the Connection of the caller's transaction. A fence is the first statement of
a runner transaction: it writes the lease row only under the runner's own epoch, so a runner that
another one has replaced (a newer epoch) fails there and its transaction changes nothing; and the
row lock it takes orders that transaction against a takeover.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from backend.db.tables import runner_lease, runner_state
from backend.errors import AutoOpsError


class Deposed(AutoOpsError):
    """Another runner holds the lease now (a newer epoch): this one must stop writing."""

    def __init__(self, epoch: int, current: int | None) -> None:
        self.epoch, self.current = epoch, current
        super().__init__(f"runner epoch {epoch} was replaced by epoch {current}: stepping down")


def read(conn: Connection) -> dict[str, Any]:
    return dict(conn.execute(select(runner_lease).where(runner_lease.c.id == 1)).one()._mapping)


def take(conn: Connection, holder: str, now: datetime) -> dict[str, Any]:
    """Start trading under a new epoch (the old one + 1); returns the lease as it now stands."""
    row = conn.execute(
        update(runner_lease)
        .where(runner_lease.c.id == 1)
        .values(epoch=runner_lease.c.epoch + 1, holder=holder, updated_at=now)
        .returning(runner_lease.c.epoch, runner_lease.c.day, runner_lease.c.apply_seq)
    ).one()
    return dict(row._mapping)


def set_day(conn: Connection, epoch: int, day: int, now: datetime) -> None:
    """The day of a run the lease did not know yet (a database older than the lease)."""
    _fenced(conn, epoch, runner_lease.c.day.is_(None), day=day, updated_at=now)


def fence_day(conn: Connection, epoch: int, day: int, now: datetime) -> bool:
    """Fence for persisting day `day` (days traded): requires `day - 1` persisted under `epoch`.

    False when this epoch already persisted `day` (a commit whose acknowledgement was lost): the
    caller then has nothing to write. Deposed when another epoch holds the lease."""
    result = conn.execute(
        update(runner_lease)
        .where(runner_lease.c.id == 1, runner_lease.c.epoch == epoch, runner_lease.c.day == day - 1)
        .values(day=day, updated_at=now)
    )
    if result.rowcount:
        return True
    lease = read(conn)
    if lease["epoch"] == epoch and lease["day"] == day:
        return False
    raise Deposed(epoch, lease["epoch"])


def fence_apply(conn: Connection, epoch: int, now: datetime) -> int:
    """Fence for applying an intervention; returns its place in the apply order."""
    row = conn.execute(
        update(runner_lease)
        .where(runner_lease.c.id == 1, runner_lease.c.epoch == epoch)
        .values(apply_seq=runner_lease.c.apply_seq + 1, updated_at=now)
        .returning(runner_lease.c.apply_seq)
    ).first()
    if row is None:
        raise Deposed(epoch, read(conn)["epoch"])
    return int(row.apply_seq)


def fence(conn: Connection, epoch: int, now: datetime) -> None:
    """Fence for any other runner write (a checkpoint, the published state)."""
    _fenced(conn, epoch, None, updated_at=now)


def _fenced(conn: Connection, epoch: int, extra: Any, **values: Any) -> None:
    query = update(runner_lease).where(runner_lease.c.id == 1, runner_lease.c.epoch == epoch)
    if extra is not None:
        query = query.where(extra)
    if not conn.execute(query.values(**values)).rowcount and extra is None:
        raise Deposed(epoch, read(conn)["epoch"])


# ---- the published state (what followers serve) --------------------------------------------


def save_state(conn: Connection, state: dict[str, Any]) -> None:
    """Replace the one state row: epoch, version, day, view (JSON), skus (JSON), updated_at."""
    if not conn.execute(
        update(runner_state).where(runner_state.c.id == 1).values(**state)
    ).rowcount:
        conn.execute(insert(runner_state).values(id=1, **state))


def read_state(conn: Connection) -> dict[str, Any] | None:
    row = conn.execute(select(runner_state).where(runner_state.c.id == 1)).first()
    return dict(row._mapping) if row is not None else None
