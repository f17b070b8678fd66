"""Engines for any DATABASE_URL: SQLite in WAL mode by default, PostgreSQL with the same code."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, create_engine, event, inspect, make_url, text
from sqlalchemy.schema import CreateSchema

from backend.db.tables import metadata

# Columns added after the first release: (table, column, DDL type and default) for older files.
ADDED_COLUMNS = (
    ("interventions", "sub", "TEXT NOT NULL DEFAULT 'anonymous'"),
    ("interventions", "preview", "JSON"),
)

log = logging.getLogger(__name__)


def make_engine(url: str, schema: str | None = None) -> Engine:
    """Build the engine; SQLite gets WAL, a busy timeout and its directory created."""
    parsed = make_url(url)
    # JSON columns written through orjson: thousands of decision rows a day at 10,000 SKUs.
    kwargs: dict[str, Any] = {"pool_pre_ping": True, "json_serializer": _json}
    if parsed.get_backend_name() == "sqlite":
        if (
            parsed.database
            and parsed.database != ":memory:"
            and not parsed.database.startswith("file:")
        ):
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    elif parsed.get_backend_name() == "postgresql":
        # A server that is away must fail a request in seconds, not hang it.
        kwargs["connect_args"] = {"connect_timeout": 5}
    engine = create_engine(parsed, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    if schema:
        engine = engine.execution_options(schema_translate_map={None: schema})
    return engine


def json_bytes(value: Any) -> bytes:
    """orjson with numpy values (NaN as null); non-string keys only when present, since
    OPT_NON_STR_KEYS makes orjson many times slower."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY)
    except TypeError:
        return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)


def _json(value: Any) -> str:
    return json_bytes(value).decode()


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
        _add_missing_columns(conn, schema if engine.dialect.name == "postgresql" else None)
    log.info("database ready: %s", engine.url.render_as_string(hide_password=True))


def _add_missing_columns(conn: Connection, schema: str | None) -> None:
    """Bring a database made by an older version up to date (create_all adds no columns)."""
    inspector = inspect(conn)
    for table, column, ddl in ADDED_COLUMNS:
        if column in {c["name"] for c in inspector.get_columns(table, schema=schema)}:
            continue
        name = conn.dialect.identifier_preparer.quote(table)
        if schema:
            name = f"{conn.dialect.identifier_preparer.quote_schema(schema)}.{name}"
        conn.execute(text(f"ALTER TABLE {name} ADD COLUMN {column} {ddl}"))
        log.warning("database upgraded: added %s.%s", table, column)


def ping(engine: Engine) -> bool:
    """True when the database answers a trivial query."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception as exc:  # any driver error means "not reachable" to the caller
        log.warning("database ping failed: %s", exc)
        return False
