"""The runner on the real Operation and a SQLite file, ticked by hand."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import OperationalError

from backend.agents.records import Condition
from backend.bus import MemoryBus
from backend.config import Settings
from backend.db import repo
from backend.db.engine import init_db, make_engine
from backend.db.tables import agent_states, checkpoints, decisions
from backend.runner import Runner, Service, alerts, events_channel
from backend.runner.errors import CheckpointIncompatible
from backend.runner.telemetry import Telemetry

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def make_settings(tmp_path: Path) -> Settings:
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'run.db'}",
        skus=12,
        day_seconds=0.2,
        log_dir=tmp_path / "logs",
    )


def run(scenario: Callable[[], Awaitable[Any]]) -> Any:
    return asyncio.run(scenario())


async def started(settings: Settings, bus: MemoryBus | None = None) -> Runner:
    runner = Runner(settings, make_engine(settings.database_url), bus or MemoryBus(), Telemetry())
    await runner.start(run_loop=False)
    return runner


def count(engine: Engine, table: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_a_day_is_persisted_with_decisions_snapshot_states_and_checkpoint(tmp_path: Path) -> None:
    async def scenario() -> Runner:
        runner = await started(make_settings(tmp_path))
        await runner.tick()
        return runner

    runner = run(scenario)
    assert runner.view.day == 1
    assert count(runner.engine, decisions) == runner.view.recent_decisions_count > 0
    assert count(runner.engine, agent_states) == 3
    with runner.engine.connect() as conn:
        assert [s["day"] for s in repo.snapshots(conn, None, 10)] == [0]
        assert repo.latest_checkpoint(conn)["day"] == 1
    assert runner.view.metrics["total_revenue"] > 0


def test_a_failing_day_is_logged_and_the_loop_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backend.agents.operation import Operation

    real = Operation.run_day
    calls = {"n": 0}

    def flaky(self: Operation, now: datetime) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("demand model diverged")
        return real(self, now)

    monkeypatch.setattr(Operation, "run_day", flaky)

    async def scenario() -> tuple[Runner, dict]:
        bus = MemoryBus()
        settings = make_settings(tmp_path)
        events = await bus.subscribe(events_channel(settings))
        runner = await started(settings, bus)
        await runner.tick()
        event = await asyncio.wait_for(events.get(), 5)
        await runner.tick()
        return runner, event

    runner, event = run(scenario)
    assert event["event"] == "runner_error" and "demand model diverged" in event["message"]
    assert runner.telemetry.day_failures._value.get() == 1
    assert runner.view.day == 1


def test_a_failed_transaction_holds_the_store_until_the_day_is_persisted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = repo.insert_checkpoint
    state = {"fail": True}

    def flaky(*args: Any, **kwargs: Any) -> None:
        if state["fail"]:
            raise OperationalError("INSERT", {}, Exception("disk I/O error"))
        real(*args, **kwargs)

    monkeypatch.setattr(repo, "insert_checkpoint", flaky)

    async def scenario() -> tuple[Runner, int, int, int]:
        runner = await started(make_settings(tmp_path))
        await runner.tick()
        held = (runner.view.day, count(runner.engine, decisions), runner._op.day)
        state["fail"] = False
        await asyncio.sleep(1.1)  # the first retry waits a second
        await runner.tick()
        return runner, *held

    runner, view_day, stored, op_day = run(scenario)
    assert (view_day, stored, op_day) == (0, 0, 1)  # rolled back, store held at day 1
    assert runner.view.day == 2 == runner._op.day  # the retry persisted day 0, then traded day 1
    with runner.engine.connect() as conn:
        assert [s["day"] for s in repo.snapshots(conn, None, 10)] == [0, 1]
        assert repo.latest_checkpoint(conn)["day"] == 2


def test_restore_continues_from_the_checkpoint_and_replays_later_interventions(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path)

    async def scenario() -> tuple[dict, Runner]:
        first = await started(settings)
        await first.tick()
        await first.tick()
        answer = await Service(first).intervene(
            "pricing_agent", "pause", {}, "crash test", None, "t"
        )
        # No stop(): the process dies here; the intervention is after the last checkpoint.
        second = await started(settings)
        return answer, second

    answer, second = run(scenario)
    assert second.view.day == 2
    status = {a["agent_id"]: a["status"] for a in second.view.agents}
    assert status == {
        "pricing_agent": "paused",
        "inventory_agent": "active",
        "promotion_agent": "active",
    }
    assert answer["success"] is True


def test_stop_checkpoints_the_last_state(tmp_path: Path) -> None:
    async def scenario() -> Runner:
        runner = await started(make_settings(tmp_path))
        await runner.tick()
        await Service(runner).intervene("promotion_agent", "pause", {}, "before stop", None, None)
        await runner.stop()
        return runner

    runner = run(scenario)
    with runner.engine.connect() as conn:
        latest = repo.latest_checkpoint(conn)
        assert latest["last_intervention_seq"] == repo.last_intervention_seq(conn) == 1
    assert count(runner.engine, checkpoints) == 2


def test_an_unreadable_checkpoint_stops_startup_with_what_to_do(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    engine = make_engine(settings.database_url)
    init_db(engine)
    with engine.begin() as conn:
        repo.insert_checkpoint(conn, 7, T0, b"not a checkpoint", 0, keep=3)
    with pytest.raises(CheckpointIncompatible, match="fresh database"):
        run(lambda: started(settings))


def condition(key: str, message: str = "m") -> Condition:
    return Condition(
        key=key,
        severity="warning",
        title=key.split(":")[0],
        message=message,
        agent_id=None,
        sku=key.split(":")[-1],
    )


def test_alerts_are_raised_once_keep_their_id_and_resolve_when_cleared(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    init_db(engine)
    with engine.begin() as conn:
        raised, _ = alerts.sync(
            conn, [condition("stockout:SKU1"), condition("expiring:SKU2")], T0, 1
        )
        again, resolved = alerts.sync(conn, [condition("stockout:SKU1", "fresher numbers")], T0, 2)
        open_now = repo.open_alerts(conn)
    assert len(raised) == 2 and again == []
    assert [a["id"] for a in resolved] == [a["id"] for a in raised if a["key"] == "expiring:SKU2"]
    assert [(a["id"], a["message"]) for a in open_now] == [(raised[0]["id"], "fresher numbers")]
    with engine.begin() as conn:
        alerts.resolve(conn, raised[0]["id"], T0, 3)  # by hand, still holding
        assert alerts.sync(conn, [condition("stockout:SKU1")], T0, 3)[0] == []
        alerts.sync(conn, [], T0, 4)  # cleared
        back, _ = alerts.sync(conn, [condition("stockout:SKU1")], T0, 5)  # and back: a new alert
    assert len(back) == 1 and back[0]["id"] != raised[0]["id"]


def test_the_consoles_reads_never_serve_a_previous_runners_store(tmp_path: Path) -> None:
    """A new leader's runner numbers its view versions from 0 again: the by-category body and
    the SKU pages cached for the old runner's store must not answer for the new one's."""
    from backend.runner.insight import Insight

    async def scenario() -> tuple[Any, Any, Any, Any]:
        (tmp_path / "a").mkdir()
        (tmp_path / "b").mkdir()
        old = await started(make_settings(tmp_path / "a"))
        new_settings = make_settings(tmp_path / "b").model_copy(update={"skus": 5})
        new = await started(new_settings)
        assert old.view.version == new.view.version  # the same number, another store
        current = [old]
        insight = Insight(lambda: current[0])
        before = (await insight.by_category(), await insight.sku_page(0, 50, None, None))
        current[0] = new
        after = (await insight.by_category(), await insight.sku_page(0, 50, None, None))
        return before[0], after[0], before[1], after[1]

    cats_old, cats_new, page_old, page_new = run(scenario)
    assert page_old[0] == 12 and page_new[0] == 5
    assert cats_old != cats_new
