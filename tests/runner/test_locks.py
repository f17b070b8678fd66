"""The store lock is never held across I/O: every write the runner makes leaves the store
readable while it waits on the database."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any

import pytest

from backend.db import lease, repo
from backend.runner import Runner, Service
from tests.runner.test_runner import make_settings, run, started


def test_the_store_is_read_while_every_kind_of_write_is_in_progress(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read of the store from another thread, made from inside each write's transaction (a
    day, the state followers serve, an intervention, the final checkpoint), is answered."""
    box: dict[str, Runner] = {}
    reads: list[tuple[str, int | None]] = []
    pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="reader")

    def reading_during(name: str, real: Any) -> Any:
        def write(*args: Any, **kwargs: Any) -> Any:
            future = pool.submit(box["runner"].read, lambda op: int(op.day))
            try:
                reads.append((name, future.result(timeout=5)))
            except FutureTimeout:
                reads.append((name, None))  # the store lock was held across this write
            return real(*args, **kwargs)

        return write

    for module, name in (
        (repo, "insert_snapshot"),  # the day's transaction, after its decisions and alerts
        (repo, "set_intervention_message"),  # an intervention's, after the store changed
        (lease, "save_state"),  # the state followers serve, in both of those
        (repo, "insert_checkpoint"),  # the day's and the final checkpoint
    ):
        monkeypatch.setattr(module, name, reading_during(name, getattr(module, name)))

    async def scenario() -> None:
        runner = box["runner"] = await started(make_settings(tmp_path))
        runner.publish_state = True
        await runner.tick()
        await Service(runner).intervene("pricing_agent", "pause", {}, "lock test", None, None)
        await runner.tick()
        await runner.stop()

    try:
        run(scenario)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    seen = {name for name, _ in reads}
    assert seen == {
        "insert_snapshot",
        "set_intervention_message",
        "save_state",
        "insert_checkpoint",
    }
    assert [name for name, day in reads if day is None] == []
    assert box["runner"].view.day == 2
