"""Engines for any DATABASE_URL: SQLite in WAL mode by default, PostgreSQL with the same code."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.schema import CreateSchema

from backend.db.tables import metadata

log = logging.getLogger(__name__)


def make_engine(url: str, schema: str | None = None) -> Engine:
    """Build the engine; SQLite gets WAL, a busy timeout and its directory created."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    engine = create_engine(parsed, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    if schema:
        engine = engine.execution_options(schema_translate_map={None: schema})
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the API read while the runner writes; NORMAL stays durable across a process kill.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def init_db(engine: Engine) -> None:
    """Create the schema (if one is configured) and every table that is missing."""
    schema = (engine.get_execution_options().get("schema_translate_map") or {}).get(None)
    with engine.begin() as conn:
        if schema and engine.dialect.name == "postgresql":
            conn.execute(CreateSchema(schema, if_not_exists=True))
        metadata.create_all(conn)
    log.info("database ready: %s", engine.url.render_as_string(hide_password=True))


def ping(engine: Engine) -> bool:
    """True when the database answers a trivial query."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception as exc:  # any driver error means "not reachable" to the caller
        log.warning("database ping failed: %s", exc)
        return False
