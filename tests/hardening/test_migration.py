"""A database made before the audit log recorded `sub` is upgraded in place, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from backend.db import repo
from backend.db.engine import init_db, make_engine


def test_an_audit_log_without_sub_gains_it_and_old_rows_read_anonymous(
    database: tuple[str, str | None],
) -> None:
    url, schema = database
    engine = make_engine(url, schema)
    init_db(engine, "0001")  # the first release's tables
    table = f'"{schema}".interventions' if schema else "interventions"
    version = f'"{schema}".alembic_version' if schema else "alembic_version"
    with engine.begin() as conn:  # as made before migrations existed, one old row in it
        conn.execute(text(f"DROP TABLE {version}"))
        conn.execute(
            text(
                f"INSERT INTO {table} (id, agent_id, action, parameters, reason, message, "
                "timestamp, day, client) VALUES ('iv-old', 'pricing_agent', 'pause', "
                "'{}', 'before auth', 'paused', :ts, 1, '127.0.0.1')"
            ),
            {"ts": datetime(2026, 1, 1, tzinfo=UTC)},
        )
    init_db(engine)
    with engine.begin() as conn:
        repo.insert_intervention(
            conn,
            {
                "intervention_id": "iv-new",
                "agent_id": "pricing_agent",
                "action": "resume",
                "parameters": {},
                "reason": "after auth",
                "message": "resumed",
                "timestamp": datetime(2026, 1, 2, tzinfo=UTC),
                "day": 2,
                "client": None,
                "sub": "alice",
            },
        )
    with engine.connect() as conn:
        rows = {r["intervention_id"]: r["sub"] for r in repo.list_interventions(conn, 10)}
    engine.dispose()
    assert rows == {"iv-old": "anonymous", "iv-new": "alice"}
