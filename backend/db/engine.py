"""Engines for any DATABASE_URL: SQLite in WAL mode by default, PostgreSQL with the same code."""

from __future__ import annotations

import hashlib
import logging
import time
from pathlib import Path
from typing import Any

import orjson
from alembic import command
from alembic.config import Config
from sqlalchemy import (
    Connection,
    Engine,
    create_engine,
    event,
    func,
    inspect,
    make_url,
    select,
    text,
)
from sqlalchemy.schema import CreateSchema

MIGRATIONS = Path(__file__).with_name("migrations")

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


# Pages the WAL may hold before a committing connection copies them into the database file
# itself (SQLite's default is 1,000). A 10,000-SKU day's state alone fills more, so at the default
# every day's commit also ran the copy and its fsync; the runner instead calls wal_checkpoint
# after each day, off the day's path, and this is only the backstop for other writers.
WAL_AUTOCHECKPOINT_PAGES = 16_384


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the API read while the runner writes; NORMAL stays durable across a process kill.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
    cursor.close()


def wal_checkpoint(engine: Engine) -> float | None:
    """Copy what the SQLite WAL holds into the database file without blocking readers or the
    writer (PASSIVE: what a reader still needs waits for the next call); the seconds it took,
    or None on other databases."""
    if engine.dialect.name != "sqlite":
        return None
    t0 = time.perf_counter()
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
    return time.perf_counter() - t0


def init_db(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to the newest migration (or `revision`), once: on PostgreSQL, replicas
    starting together queue on an advisory lock and all but the first find nothing left to do."""
    schema = _schema(engine)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(select(func.pg_advisory_xact_lock(lock_key("migrate", schema))))
            if schema:
                conn.execute(CreateSchema(schema, if_not_exists=True))
                # Raw SQL in a migration then finds the tables of this schema too.
                quoted = conn.dialect.identifier_preparer.quote_schema(schema)
                conn.execute(text(f"SET LOCAL search_path TO {quoted}"))
        config = _alembic_config(conn, schema)
        _stamp_unversioned(conn, config, schema)
        command.upgrade(config, revision)
    log.info("database ready: %s", engine.url.render_as_string(hide_password=True))


def _schema(engine: Engine) -> str | None:
    if engine.dialect.name != "postgresql":
        return None
    return (engine.get_execution_options().get("schema_translate_map") or {}).get(None)


def lock_key(purpose: str, schema: str | None) -> int:
    """A signed 64-bit advisory lock key, the same in every process for one purpose and schema."""
    digest = hashlib.blake2b(f"autoops:{purpose}:{schema or ''}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _alembic_config(conn: Connection, schema: str | None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    config.attributes["schema"] = schema
    return config


def _stamp_unversioned(conn: Connection, config: Config, schema: str | None) -> None:
    """A database made before migrations existed is marked with the revision its shape matches."""
    inspector = inspect(conn)
    if inspector.has_table("alembic_version", schema=schema) or not inspector.has_table(
        "interventions", schema=schema
    ):
        return
    columns = {c["name"] for c in inspector.get_columns("interventions", schema=schema)}
    if "sub" not in columns:
        revision = "0001"
    elif not inspector.has_table("ledger_rows", schema=schema):
        revision = "0002"
    elif "preview" not in columns:
        revision = "0003"
    else:
        revision = "0004"
    command.stamp(config, revision)
    log.warning("database made before migrations: marked as revision %s", revision)


def ping(engine: Engine) -> bool:
    """True when the database answers a trivial query."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception as exc:  # any driver error means "not reachable" to the caller
        log.warning("database ping failed: %s", exc)
        return False
