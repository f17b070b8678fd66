"""The repository on SQLite and on the local PostgreSQL (one schema per test)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, Text, func, insert, select, text
from sqlalchemy.exc import IntegrityError

from backend.db import repo
from backend.db.engine import init_db, make_engine, ping
from backend.db.tables import checkpoints, decisions

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
def engine(database: tuple[str, str | None]) -> Engine:
    url, schema = database
    eng = make_engine(url, schema)
    init_db(eng)
    yield eng
    eng.dispose()


def decision(i: int, agent: str = "pricing_agent", day: int = 1) -> dict:
    return {
        "id": f"d{i:06d}",
        "agent_id": agent,
        "timestamp": T0 + timedelta(seconds=i),
        "day": day,
        "action_type": "price_adjustment",
        "sku": "SKU100001",
        "parameters": {"price": 3.29},
        "rationale": "Posterior elasticity -2.4; price 3.49 -> 3.29",
        "confidence_score": 0.8,
        "expected_outcome": {"profit": 4.1},
        "outcome": None,
    }


def test_decisions_come_back_newest_first_and_filtered_by_agent(engine: Engine) -> None:
    with engine.begin() as conn:
        repo.insert_decisions(
            conn, [decision(i, "pricing_agent" if i % 2 else "inventory_agent") for i in range(10)]
        )
    with engine.connect() as conn:
        rows = repo.recent_decisions(conn, limit=3)
        pricing = repo.recent_decisions(conn, limit=100, agent_id="pricing_agent")
    assert [r["id"] for r in rows] == ["d000009", "d000008", "d000007"]
    assert [r["id"] for r in pricing] == ["d000009", "d000007", "d000005", "d000003", "d000001"]
    assert rows[0]["timestamp"] == T0 + timedelta(seconds=9)
    assert rows[0]["timestamp"].tzinfo is not None
    assert rows[0]["parameters"] == {"price": 3.29}


def test_a_batch_stores_each_row_s_own_values_when_rows_share_or_repeat_them(
    engine: Engine,
) -> None:
    # the batch converts a value once for a run of the same one: shared objects, equal
    # instants in other zones, and values that change between rows must all land as given
    shared = {"price": 3.29}
    rows = [decision(i) for i in range(6)]
    for r in rows:
        r["timestamp"], r["parameters"] = T0, shared
    rows[1]["timestamp"] = T0.astimezone(timezone(timedelta(hours=2)))  # the same instant
    rows[2]["timestamp"] = T0 + timedelta(hours=1)
    rows[3]["parameters"] = {"price": 3}  # equal in Python to 3.0, not the same JSON
    rows[4]["parameters"] = {"price": 3.0}
    rows[5]["outcome"] = {"units": 2}
    with engine.begin() as conn:
        repo.insert_decisions(conn, rows)
    with engine.connect() as conn:
        back = {r["id"]: r for r in repo.recent_decisions(conn, limit=10)}
    got = [back[r["id"]] for r in rows]
    assert [g["timestamp"] for g in got] == [T0, T0, T0 + timedelta(hours=1), T0, T0, T0]
    assert all(g["timestamp"].utcoffset() == timedelta(0) for g in got)
    assert [g["parameters"] for g in got][:3] == [shared] * 3
    assert [type(g["parameters"]["price"]) for g in got[3:5]] == [int, float]
    assert [g["outcome"] for g in got] == [None] * 5 + [{"units": 2}]


def test_a_batch_stores_an_instant_as_a_single_row_insert_does(engine: Engine) -> None:
    # the batch converts a run's datetime once, itself, where the driver would convert each
    # row: what lands in the column must be the very same as the plain path's
    single, batched = decision(1), [decision(2), decision(3)]
    for r in batched:
        r["timestamp"] = single["timestamp"]
    with engine.begin() as conn:
        conn.execute(insert(decisions).values(**single))
        repo.insert_decisions(conn, batched)
    with engine.connect() as conn:
        stored = conn.execute(
            select(func.cast(decisions.c.timestamp, Text)).order_by(decisions.c.seq)
        ).scalars()
        assert len(set(stored)) == 1


def test_outcomes_update_the_stored_decision(engine: Engine) -> None:
    with engine.begin() as conn:
        repo.insert_decisions(conn, [decision(1), decision(2)])
        updated = repo.record_outcomes(
            conn, [("d000001", {"profit": 5.0}, True), ("gone", {"profit": 1.0}, False)]
        )
    with engine.connect() as conn:
        rows = {r["id"]: r for r in repo.recent_decisions(conn, limit=10)}
    assert updated == 1
    assert rows["d000001"]["outcome"] == {"profit": 5.0}
    assert rows["d000002"]["outcome"] is None


def test_a_failed_transaction_leaves_nothing_behind(engine: Engine) -> None:
    with pytest.raises(IntegrityError):
        with engine.begin() as conn:
            repo.insert_decisions(conn, [decision(1)])
            repo.insert_decisions(conn, [decision(1)])  # duplicate id violates the unique key
    with engine.connect() as conn:
        assert repo.count_decisions(conn) == 0


def test_checkpoints_keep_only_the_newest(engine: Engine) -> None:
    with engine.begin() as conn:
        for day in range(1, 6):
            repo.insert_checkpoint(conn, day, T0, f"state{day}".encode(), day * 10, keep=2)
    with engine.connect() as conn:
        latest = repo.latest_checkpoint(conn)
        count = conn.execute(select(func.count()).select_from(checkpoints)).scalar_one()
    assert latest is not None and latest["day"] == 5 and latest["data"] == b"state5"
    assert latest["last_intervention_seq"] == 50
    assert count == 2


def test_interventions_are_numbered_and_replayable_after_a_sequence(engine: Engine) -> None:
    records = [
        {
            "intervention_id": f"iv{i}",
            "agent_id": "pricing_agent",
            "action": "pause",
            "parameters": {},
            "reason": "test",
            "message": "paused",
            "timestamp": T0,
            "day": i,
            "client": "127.0.0.1",
        }
        for i in range(3)
    ]
    with engine.begin() as conn:
        seqs = [repo.insert_intervention(conn, r) for r in records]
    with engine.connect() as conn:
        after = repo.interventions_after(conn, seqs[0])
        listed = repo.list_interventions(conn, limit=10)
        last = repo.last_intervention_seq(conn)
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    assert [r["intervention_id"] for r in after] == ["iv1", "iv2"]
    assert [r["intervention_id"] for r in listed] == ["iv2", "iv1", "iv0"]
    assert last == seqs[-1]


def test_snapshots_are_served_oldest_first_after_since(engine: Engine) -> None:
    with engine.begin() as conn:
        for day in range(1, 11):
            repo.insert_snapshot(
                conn, day, T0 + timedelta(minutes=day), {"total_revenue": day * 1.5}
            )
    with engine.connect() as conn:
        last3 = repo.snapshots(conn, since=None, limit=3)
        since = repo.snapshots(conn, since=T0 + timedelta(minutes=8), limit=100)
    assert [s["day"] for s in last3] == [8, 9, 10]
    assert [s["day"] for s in since] == [9, 10]
    assert since[0]["system_metrics"] == {"total_revenue": 13.5}


def test_alerts_open_until_resolved(engine: Engine) -> None:
    alert = {
        "id": "A1",
        "key": "stockout:SKU1",
        "severity": "warning",
        "title": "Stock-out",
        "message": "SKU1 sold out",
        "agent_id": None,
        "sku": "SKU1",
        "status": "active",
        "auto_dismiss": True,
        "holding": True,
        "raised_day": 3,
        "timestamp": T0,
        "updated_at": T0,
    }
    with engine.begin() as conn:
        repo.insert_alert(conn, alert)
    with engine.begin() as conn:
        assert list(repo.holding_alerts(conn)) == ["stockout:SKU1"]
        assert repo.count_open_alerts(conn) == 1
        repo.update_alert(
            conn,
            "A1",
            status="resolved",
            holding=False,
            resolved_at=T0,
            resolved_day=4,
            resolved_by="auto",
        )
    with engine.connect() as conn:
        assert repo.open_alerts(conn) == []
        assert repo.get_alert(conn, "A1")["status"] == "resolved"
        assert repo.get_alert(conn, "nope") is None


def test_prune_bounds_every_growing_table(engine: Engine) -> None:
    with engine.begin() as conn:
        repo.insert_decisions(conn, [decision(i, day=i) for i in range(1, 21)])
        for day in range(1, 21):
            repo.insert_snapshot(conn, day, T0 + timedelta(minutes=day), {})
        repo.prune(conn, day=20, retention_days=5, audit_retention_days=5)
    with engine.connect() as conn:
        assert repo.count_decisions(conn) == 6  # days 15..20
        assert [s["day"] for s in repo.snapshots(conn, None, 100)] == list(range(15, 21))


def test_agent_states_are_upserted(engine: Engine) -> None:
    with engine.begin() as conn:
        repo.save_agent_states(conn, 1, T0, [{"agent_id": "pricing_agent", "status": "active"}])
        repo.save_agent_states(conn, 2, T0, [{"agent_id": "pricing_agent", "status": "paused"}])
    with engine.connect() as conn:
        rows = repo.agent_state_rows(conn)
    assert [(r["agent_id"], r["status"], r["day"]) for r in rows] == [
        ("pricing_agent", "paused", 2)
    ]


def test_ping_reports_an_unreachable_database() -> None:
    assert ping(make_engine("postgresql+psycopg://postgres@127.0.0.1:1/none")) is False


def test_sqlite_runs_in_wal_mode(tmp_path) -> None:
    eng = make_engine(f"sqlite:///{tmp_path / 'sub' / 'x.db'}")
    init_db(eng)
    with eng.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
    assert ping(eng) is True
