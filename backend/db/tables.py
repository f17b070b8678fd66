"""The tables: decisions, alerts, interventions, metric snapshots, agent states, checkpoints, the
ledger rows beside them, and the runner's lease and published state. Migrations
(backend/db/migrations) build them; this module is what the code reads and writes through, and a
test holds the two the same."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out; SQLite keeps no offset, so it is restored on load."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"expected a timezone-aware datetime, got naive {value!r}")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


metadata = MetaData()

decisions = Table(
    "decisions",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(64), nullable=False, unique=True),
    Column("agent_id", String(32), nullable=False),
    Column("day", Integer, nullable=False),
    Column("timestamp", UTCDateTime, nullable=False),
    Column("action_type", String(64), nullable=False),
    Column("sku", String(32), nullable=False),
    Column("parameters", JSON, nullable=False),
    Column("rationale", Text, nullable=False),
    Column("confidence_score", Float, nullable=False),
    Column("expected_outcome", JSON, nullable=False),
    Column("outcome", JSON, nullable=True),
    Column("hit", Boolean, nullable=True),
    Index("ix_decisions_agent_seq", "agent_id", "seq"),
    Index("ix_decisions_day", "day"),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("key", String(200), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("title", String(200), nullable=False),
    Column("message", Text, nullable=False),
    Column("agent_id", String(32), nullable=True),
    Column("sku", String(32), nullable=True),
    Column("status", String(16), nullable=False),
    Column("auto_dismiss", Boolean, nullable=False),
    # True while the store's condition still holds: such an alert is never raised twice.
    Column("holding", Boolean, nullable=False),
    Column("raised_day", Integer, nullable=False),
    Column("timestamp", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("resolved_at", UTCDateTime, nullable=True),
    Column("resolved_day", Integer, nullable=True),
    Column("resolved_by", String(16), nullable=True),
    Index("ix_alerts_holding", "holding"),
    Index("ix_alerts_status", "status"),
)

interventions = Table(
    "interventions",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(64), nullable=False, unique=True),
    Column("agent_id", String(32), nullable=False),
    Column("action", String(16), nullable=False),
    Column("parameters", JSON, nullable=False),
    Column("reason", Text, nullable=False),
    Column("message", Text, nullable=False),
    Column("timestamp", UTCDateTime, nullable=False),
    Column("day", Integer, nullable=False),
    Column("client", String(64), nullable=True),
    # Who made it: the token's `sub`, or "anonymous" with auth off (and for rows made before).
    Column("sub", Text, nullable=False, server_default="anonymous"),
    # An override's what-if preview as computed when it was applied (null for other actions).
    Column("preview", JSON, nullable=True),
    # pending (recorded by any replica), applied (by the leader, in apply_seq order), rejected (the
    # store refused it) or expired (its requester gave up first; it never applies).
    Column("status", String(16), nullable=False, server_default="applied"),
    Column("apply_seq", BigInteger, nullable=True),
    Column("epoch", BigInteger, nullable=True),
    Index("ix_interventions_status_seq", "status", "seq"),
)

metric_snapshots = Table(
    "metric_snapshots",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("day", Integer, nullable=False, unique=True),
    Column("timestamp", UTCDateTime, nullable=False),
    Column("metrics", JSON, nullable=False),
    Index("ix_metric_snapshots_timestamp", "timestamp"),
)

agent_states = Table(
    "agent_states",
    metadata,
    Column("agent_id", String(32), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("day", Integer, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("state", JSON, nullable=False),
)

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("day", Integer, nullable=False),
    Column("timestamp", UTCDateTime, nullable=False),
    # Interventions with a larger apply_seq came after this state and are replayed on restore.
    Column("last_intervention_seq", Integer, nullable=False),
    Column("codec", String(16), nullable=False),  # "zstd", "zlib" (older rows) or "raw"
    Column("data", LargeBinary, nullable=False),
)

# One row (id 1): who trades, under which epoch, how many days are persisted, the apply order.
# Every write of the runner first updates it conditionally on its epoch (the fence).
runner_lease = Table(
    "runner_lease",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("epoch", BigInteger, nullable=False),
    Column("holder", Text, nullable=True),
    Column("day", Integer, nullable=True),
    Column("apply_seq", BigInteger, nullable=False),
    Column("updated_at", UTCDateTime, nullable=True),
)

# One row (id 1): the leader's View and SKU rows as of its last write, for followers to serve.
runner_state = Table(
    "runner_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("epoch", BigInteger, nullable=False),
    Column("version", BigInteger, nullable=False),
    Column("day", Integer, nullable=False),
    Column("view", JSON, nullable=False),
    Column("skus", JSON, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# The stores' per-day rows (their last year of days), stored as each day is traded rather than
# inside every checkpoint; a checkpoint whose ring is kept apart is rebuilt from these.
ledger_rows = Table(
    "ledger_rows",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("first_day", Integer, nullable=False),
    Column("last_day", Integer, nullable=False),
    Column("codec", String(16), nullable=False),
    Column("data", LargeBinary, nullable=False),
    Index("ix_ledger_rows_last_day", "last_day"),
)
