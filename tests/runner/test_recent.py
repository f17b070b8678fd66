"""decisions/recent from the runner's in-memory ring matches the database, across days and restarts."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from backend.bus import MemoryBus
from backend.config import Settings
from backend.db import repo
from backend.db.engine import make_engine
from backend.runner import Runner, Service
from backend.runner.recent import RecentDecisions
from backend.runner.telemetry import Telemetry
from tests.runner.test_runner import make_settings


async def started(settings: Settings) -> Runner:
    runner = Runner(settings, make_engine(settings.database_url), MemoryBus(), Telemetry())
    await runner.start(run_loop=False)
    return runner


def stored(runner: Runner, limit: int, agent_id: str | None = None) -> list[dict[str, Any]]:
    with runner.engine.connect() as conn:
        return repo.recent_decisions(conn, limit, agent_id)


def test_the_ring_serves_what_the_database_holds_outcomes_included(tmp_path: Path) -> None:
    async def scenario() -> None:
        runner = await started(make_settings(tmp_path))
        for _ in range(6):
            await runner.tick()
        service = Service(runner)
        for agent_id in (None, *runner.agent_ids):
            for limit in (1, 20, 500):
                assert await service.recent_decisions(limit, agent_id) == stored(
                    runner, limit, agent_id
                )
        assert any(d["outcome"] is not None for d in await service.recent_decisions(500, None))
        await runner.stop()

    asyncio.run(scenario())


def test_the_ring_is_filled_from_the_database_at_restart(tmp_path: Path) -> None:
    async def scenario() -> None:
        first = await started(make_settings(tmp_path))
        for _ in range(3):
            await first.tick()
        before = await Service(first).recent_decisions(50, None)
        await first.stop()
        second = await started(make_settings(tmp_path))
        assert before and second.recent.newest(50) == before
        await second.tick()
        assert await Service(second).recent_decisions(50, None) == stored(second, 50)
        await second.stop()

    asyncio.run(scenario())


def decision(n: int, agent_id: str = "a", day: int = 0) -> dict[str, Any]:
    return {"id": f"d{n}", "agent_id": agent_id, "day": day, "outcome": None}


def test_a_full_ring_refers_filtered_reads_it_cannot_complete_to_the_database() -> None:
    ring = RecentDecisions(size=4)
    ring.add_day([decision(n, "a" if n % 3 else "b") for n in range(6)], [], oldest_kept_day=0)
    assert [d["id"] for d in ring.newest(3)] == ["d5", "d4", "d3"]
    assert ring.newest(2, "b") is None  # d0 (agent b) was evicted: the ring only knows d3
    assert ring.newest(5) is None


def test_outcomes_and_the_retention_prune_apply_to_the_ring() -> None:
    ring = RecentDecisions(size=10)
    ring.fill([decision(2, day=1), decision(1, day=0)])
    ring.add_day([decision(3, day=2)], [("d2", {"units": 4}, True)], oldest_kept_day=1)
    assert [(d["id"], d["outcome"]) for d in ring.newest(10)] == [
        ("d3", None),
        ("d2", {"units": 4}),
    ]
    assert ring.newest(1, "nobody") == []  # nothing evicted: the ring holds every stored one
