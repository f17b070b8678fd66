"""Shared fixtures: databases (SQLite file per test, PostgreSQL schema per test)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_unreachable() -> str | None:
    """None when the local PostgreSQL answers, else the reason it does not."""
    try:
        import psycopg

        with psycopg.connect(
            "host=127.0.0.1 port=5432 dbname=test user=postgres", connect_timeout=3
        ):
            return None
    except Exception as exc:  # any failure means the variant cannot run here
        return f"PostgreSQL on 127.0.0.1:5432/test unreachable: {exc}"


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """A fresh PostgreSQL schema for one test, dropped afterwards."""
    reason = postgres_unreachable()
    if reason:
        pytest.skip(reason)
    import psycopg

    name = f"autoops_test_{uuid.uuid4().hex[:12]}"
    yield name
    with psycopg.connect(
        "host=127.0.0.1 port=5432 dbname=test user=postgres", autocommit=True
    ) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path) -> tuple[str, str | None]:
    """(DATABASE_URL, schema) for a SQLite file and for a PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'autoops.db'}", None
    return PG_URL, request.getfixturevalue("pg_schema")
