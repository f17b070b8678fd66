"""One elected runner: the lease row with its epoch, interventions applied in order by the leader,
and the published state that followers serve.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    lease = op.create_table(
        "runner_lease",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("epoch", sa.BigInteger, nullable=False),
        sa.Column("holder", sa.Text, nullable=True),
        sa.Column("day", sa.Integer, nullable=True),
        sa.Column("apply_seq", sa.BigInteger, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=True),
    )
    with op.batch_alter_table("interventions") as batch:
        batch.add_column(
            sa.Column("status", sa.String(16), nullable=False, server_default="applied")
        )
        batch.add_column(sa.Column("apply_seq", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("epoch", sa.BigInteger, nullable=True))
        batch.create_index("ix_interventions_status_seq", ["status", "seq"])
    # Rows applied before there was an apply order were applied in insertion order.
    op.execute("UPDATE interventions SET apply_seq = seq")
    conn = op.get_bind()
    applied = conn.execute(sa.text("SELECT COALESCE(MAX(seq), 0) FROM interventions")).scalar_one()
    # The day stays unknown until a runner takes the lease and reads it off the last checkpoint.
    op.bulk_insert(
        lease, [{"id": 1, "epoch": 0, "holder": None, "day": None, "apply_seq": applied}]
    )
    op.create_table(
        "runner_state",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("epoch", sa.BigInteger, nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.Column("day", sa.Integer, nullable=False),
        sa.Column("view", sa.JSON, nullable=False),
        sa.Column("skus", sa.JSON, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
    )
