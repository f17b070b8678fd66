"""The schema of the first release: decisions, alerts, the audit log, snapshots, states, checkpoints.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "decisions",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(64), nullable=False, unique=True),
        sa.Column("agent_id", sa.String(32), nullable=False),
        sa.Column("day", sa.Integer, nullable=False),
        sa.Column("timestamp", UTC_TIME, nullable=False),
        sa.Column("action_type", sa.String(64), nullable=False),
        sa.Column("sku", sa.String(32), nullable=False),
        sa.Column("parameters", sa.JSON, nullable=False),
        sa.Column("rationale", sa.Text, nullable=False),
        sa.Column("confidence_score", sa.Float, nullable=False),
        sa.Column("expected_outcome", sa.JSON, nullable=False),
        sa.Column("outcome", sa.JSON, nullable=True),
        sa.Column("hit", sa.Boolean, nullable=True),
    )
    op.create_index("ix_decisions_agent_seq", "decisions", ["agent_id", "seq"])
    op.create_index("ix_decisions_day", "decisions", ["day"])
    op.create_table(
        "alerts",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("agent_id", sa.String(32), nullable=True),
        sa.Column("sku", sa.String(32), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("auto_dismiss", sa.Boolean, nullable=False),
        sa.Column("holding", sa.Boolean, nullable=False),
        sa.Column("raised_day", sa.Integer, nullable=False),
        sa.Column("timestamp", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.Column("resolved_at", UTC_TIME, nullable=True),
        sa.Column("resolved_day", sa.Integer, nullable=True),
        sa.Column("resolved_by", sa.String(16), nullable=True),
    )
    op.create_index("ix_alerts_holding", "alerts", ["holding"])
    op.create_index("ix_alerts_status", "alerts", ["status"])
    op.create_table(
        "interventions",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(64), nullable=False, unique=True),
        sa.Column("agent_id", sa.String(32), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("parameters", sa.JSON, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("timestamp", UTC_TIME, nullable=False),
        sa.Column("day", sa.Integer, nullable=False),
        sa.Column("client", sa.String(64), nullable=True),
    )
    op.create_table(
        "metric_snapshots",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("day", sa.Integer, nullable=False, unique=True),
        sa.Column("timestamp", UTC_TIME, nullable=False),
        sa.Column("metrics", sa.JSON, nullable=False),
    )
    op.create_index("ix_metric_snapshots_timestamp", "metric_snapshots", ["timestamp"])
    op.create_table(
        "agent_states",
        sa.Column("agent_id", sa.String(32), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("day", sa.Integer, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.Column("state", sa.JSON, nullable=False),
    )
    op.create_table(
        "checkpoints",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("day", sa.Integer, nullable=False),
        sa.Column("timestamp", UTC_TIME, nullable=False),
        sa.Column("last_intervention_seq", sa.Integer, nullable=False),
        sa.Column("codec", sa.String(16), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
