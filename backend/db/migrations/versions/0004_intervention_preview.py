"""An override's what-if preview is kept with its audit row.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("interventions") as batch:
        batch.add_column(sa.Column("preview", sa.JSON, nullable=True))
