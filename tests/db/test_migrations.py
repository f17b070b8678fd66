"""The migrations build exactly the tables the code reads and writes, on SQLite and PostgreSQL,
once even when several processes start together."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text

from backend.db.engine import init_db, make_engine
from backend.db.tables import metadata, runner_lease
from tests.api.server import ROOT


def test_the_migrated_schema_is_the_tables_module(database: tuple[str, str | None]) -> None:
    url, schema = database
    engine = make_engine(url, schema)
    init_db(engine)
    init_db(engine)  # a second start finds nothing to do
    with engine.connect() as conn:
        if schema:
            conn.execute(text(f'SET search_path TO "{schema}"'))
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = [d for d in compare_metadata(context, metadata) if "alembic_version" not in str(d)]
        lease = conn.execute(select(runner_lease)).mappings().all()
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    engine.dispose()
    assert diff == []
    assert [(r["id"], r["epoch"], r["day"], r["apply_seq"]) for r in lease] == [(1, 0, None, 0)]
    assert version == "0005"


def test_replicas_starting_together_migrate_once(pg_schema: str) -> None:
    from tests.conftest import PG_URL

    code = textwrap.dedent(
        f"""
        from backend.db.engine import init_db, make_engine
        init_db(make_engine({PG_URL!r}, {pg_schema!r}))
        """
    )
    procs = [subprocess.Popen([sys.executable, "-c", code], cwd=ROOT) for _ in range(3)]
    assert [p.wait(60) for p in procs] == [0, 0, 0]
    engine = make_engine(PG_URL, pg_schema)
    with engine.connect() as conn:
        tables = set(inspect(conn).get_table_names(schema=pg_schema))
        lease_rows = conn.execute(select(runner_lease)).all()
    engine.dispose()
    assert set(metadata.tables) <= tables
    assert len(lease_rows) == 1
