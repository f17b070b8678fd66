"""Alembic's entry point: always handed an open connection by backend.db.engine.migrate."""

from __future__ import annotations

from alembic import context

from backend.db.tables import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table_schema=context.config.attributes.get("schema"),
    render_as_batch=True,  # SQLite alters tables by copying them
)
with context.begin_transaction():
    context.run_migrations()
