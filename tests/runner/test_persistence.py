"""The day's writes: the state without its day rows, the rows a day at a time, restore from both."""

from __future__ import annotations

import asyncio
import pickle
from pathlib import Path

from sqlalchemy import func, select

from backend.agents.operation import MAGIC, Operation
from backend.bus import MemoryBus
from backend.config import Settings
from backend.db import repo
from backend.db.engine import WAL_AUTOCHECKPOINT_PAGES, init_db, make_engine
from backend.db.tables import checkpoints, ledger_rows
from backend.runner import Runner
from backend.runner.telemetry import Telemetry
from tests.runner.test_runner import T0


def settings(tmp_path: Path) -> Settings:
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'run.db'}", skus=12, log_dir=tmp_path / "logs"
    )


async def started(s: Settings) -> Runner:
    runner = Runner(s, make_engine(s.database_url), MemoryBus(), Telemetry())
    await runner.start(run_loop=False)
    return runner


def stored(runner: Runner) -> list[tuple[int, int]]:
    with runner.engine.connect() as conn:
        query = select(ledger_rows.c.first_day, ledger_rows.c.last_day).order_by(ledger_rows.c.seq)
        return [tuple(r) for r in conn.execute(query)]


def test_each_day_stores_its_rows_and_a_restart_rebuilds_the_same_store(tmp_path: Path) -> None:
    async def scenario() -> tuple[Runner, Runner]:
        first = await started(settings(tmp_path))
        for _ in range(4):
            await first.tick()
        second = await started(settings(tmp_path))  # no stop: as after a kill
        return first, second

    first, second = asyncio.run(scenario())
    assert stored(first) == [(0, 0), (1, 1), (2, 2), (3, 3)]
    with first.engine.connect() as conn:
        assert Operation.rows_kept_apart(repo.latest_checkpoint(conn)["data"])
    assert second.view.day == 4 and second.view.metrics == first.view.metrics
    for f in ("sales", "price", "expired"):
        assert (first._op.live.ledger.window(f) == second._op.live.ledger.window(f)).all()


def test_a_checkpoint_of_the_previous_format_has_its_rows_stored_on_the_next_day(
    tmp_path: Path,
) -> None:
    s = settings(tmp_path)
    op = Operation(n_skus=12, seed=s.seed)
    for _ in range(3):
        op.run_day(T0)
    saved = dict(op.__dict__)
    del saved["last_markdown"]
    saved["live"], saved["baseline"] = op.live.state(), op.baseline.state()
    engine = make_engine(s.database_url)
    init_db(engine)
    with engine.begin() as conn:
        repo.insert_checkpoint(conn, 3, T0, MAGIC + bytes([1]) + pickle.dumps(saved), 0, keep=3)

    async def scenario() -> tuple[Runner, Runner]:
        first = await started(s)
        await first.tick()
        return first, await started(s)

    first, second = asyncio.run(scenario())
    assert stored(first) == [(0, 3)]  # the three days the pickle held, and the new one
    assert second.view.day == 4
    assert (first._op.live.ledger.window("sales") == second._op.live.ledger.window("sales")).all()
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(checkpoints)).scalar_one() == 2


def test_the_wal_is_copied_into_the_database_after_each_day_not_left_to_grow(
    tmp_path: Path,
) -> None:
    # The committing connection no longer copies the WAL at SQLite's 1,000 pages; the runner
    # does, after each day. Without it the WAL would hold every day written so far.
    s = settings(tmp_path)
    wal = tmp_path / "run.db-wal"

    async def scenario() -> tuple[Runner, list[int], list[float | None]]:
        runner = await started(s)
        sizes, copies = [], []
        for _ in range(8):
            await runner.tick()
            assert runner.wal_copy is not None
            copies.append(runner.wal_copy.result())
            sizes.append(wal.stat().st_size)
        await runner.stop()
        return runner, sizes, copies

    runner, sizes, copies = asyncio.run(scenario())
    with runner.engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one()
        assert pages == WAL_AUTOCHECKPOINT_PAGES
        # everything committed so far now fits before that backstop: the copies keep up
        busy, log, copied = conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
    assert busy == 0 and log == copied
    # the file is reused from its start once copied: it stays at about one day's pages
    assert sizes[-1] <= 1.5 * max(sizes[:3]), sizes
    assert all(c is not None and c >= 0.0 for c in copies), copies
