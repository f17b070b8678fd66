"""The audit log records who made each intervention (the token's `sub`).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("interventions") as batch:
        batch.add_column(sa.Column("sub", sa.Text, nullable=False, server_default="anonymous"))
