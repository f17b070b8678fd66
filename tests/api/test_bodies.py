"""The read model of metrics/current and decisions/recent: a body is made again when what it
shows changes, and never taken from another runner's state."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from backend.api.bodies import Bodies, encode_decisions
from backend.runner import Service
from tests.runner.test_recent import started, stored
from tests.runner.test_runner import make_settings


def test_the_cached_body_is_remade_when_a_day_changes_the_ring(tmp_path: Path) -> None:
    async def scenario() -> None:
        runner = await started(make_settings(tmp_path))
        await runner.tick()
        bodies = Bodies(Service(runner))
        first = bodies.decisions_recent(5, None)
        assert first == encode_decisions(stored(runner, 5))
        await runner.tick()
        assert bodies.decisions_recent(5, None) == encode_decisions(stored(runner, 5)) != first
        await runner.stop()

    asyncio.run(scenario())


def test_a_new_runner_with_as_many_changes_behind_it_gets_its_own_bodies(tmp_path: Path) -> None:
    """A change of leader brings a new runner, whose ring has seen as many changes as the old
    one's may have: the bodies follow the runner the service reads, not a count."""

    async def scenario() -> None:
        (tmp_path / "a").mkdir()
        (tmp_path / "b").mkdir()
        first = await started(make_settings(tmp_path / "a"))
        second = await started(make_settings(tmp_path / "b").model_copy(update={"seed": 7}))
        for runner in (first, second):
            await runner.tick()
        service = Service(first)
        bodies = Bodies(service)
        held = bodies.decisions_recent(5, None)
        metrics = bodies.metrics_current()
        service.leadership.runner = second  # what taking the lead does
        assert bodies.decisions_recent(5, None) == encode_decisions(stored(second, 5)) != held
        assert json.loads(bodies.metrics_current())["system_metrics"] == json.loads(
            json.dumps(second.view.metrics)
        )
        assert bodies.metrics_current() != metrics
        for runner in (first, second):
            await runner.stop()

    asyncio.run(scenario())
