"""The database goes away (PostgreSQL behind a proxy that is cut, SQLite read-only or on a full
disk) and comes back."""

from __future__ import annotations

import asyncio
import errno
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.api.server import Server, close_code
from tests.api.support import fast_env, wait_until
from tests.hardening.tcpproxy import TcpProxy

API = "/api/dashboard"


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    p = TcpProxy(("127.0.0.1", 5432)).start()
    yield p
    p.cut()


def pg_env(tmp_path: Path, proxy: TcpProxy, schema: str) -> dict[str, str]:
    return fast_env(
        tmp_path,
        DATABASE_URL=f"postgresql+psycopg://postgres@127.0.0.1:{proxy.port}/test",
        AUTOOPS_DATABASE_SCHEMA=schema,
    )


def get(srv: Server, path: str, **params: object) -> httpx.Response:
    return httpx.get(f"{srv.http}{path}", params=params, timeout=15)


def last_persisted_day(srv: Server) -> int:
    r = get(srv, f"{API}/metrics/history", limit=1)
    return r.json()[-1]["day"] if r.status_code == 200 and r.json() else -1


def test_postgresql_going_away_gives_503s_and_the_backend_recovers_by_itself(
    tmp_path: Path, proxy: TcpProxy, pg_schema: str
) -> None:
    srv = Server(pg_env(tmp_path, proxy, pg_schema), tmp_path / "server.log").start()
    try:
        wait_until(
            lambda: get(srv, "/readyz").status_code == 200 and last_persisted_day(srv) >= 3,
            what="three persisted days",
        )
        proxy.cut()
        down = wait_until(lambda: (r := get(srv, "/readyz")).status_code == 503 and r, what="503")
        current = get(srv, f"{API}/metrics/current")  # last known state
        decisions = get(srv, f"{API}/decisions/recent")  # needs the database
        refused = httpx.post(
            f"{srv.http}{API}/agents/pricing_agent/intervention",
            json={"action": "pause", "reason": "while the database is away"},
        )
        day_at_cut = current.json()["day"]
        time.sleep(1.0)  # the runner keeps failing
        alive = srv.proc is not None and srv.proc.poll() is None
        proxy.restore()
        wait_until(
            lambda: get(srv, "/readyz").status_code == 200, timeout=45, what="readiness back"
        )
        wait_until(
            lambda: last_persisted_day(srv) > day_at_cut, timeout=30, what="days persisted again"
        )
        audit = get(srv, f"{API}/interventions").json()
        log = srv.tail(200_000)
    finally:
        srv.stop()
    assert down.json()["database"] is False and "database" in down.json()["detail"]
    assert current.status_code == 200
    assert decisions.status_code == 503 and decisions.json()["error"] == "DatabaseUnavailable"
    assert refused.status_code == 503
    assert all(a["reason"] != "while the database is away" for a in audit)  # refused: not applied
    assert alive
    assert "retrying" in log and "Traceback" not in log


def test_the_backend_starts_with_postgresql_down_and_trades_once_it_answers(
    tmp_path: Path, proxy: TcpProxy, pg_schema: str
) -> None:
    proxy.cut()
    srv = Server(pg_env(tmp_path, proxy, pg_schema), tmp_path / "server.log").start()

    async def stream_close() -> tuple[int | None, str]:
        async with connect(f"{srv.ws}{API}/ws/live-updates") as ws:
            return await close_code(ws)

    try:
        ready = get(srv, "/readyz")
        current = get(srv, f"{API}/metrics/current")
        code, reason = asyncio.run(stream_close())
        proxy.restore()
        wait_until(lambda: get(srv, "/readyz").status_code == 200, timeout=45, what="readiness")
        wait_until(lambda: last_persisted_day(srv) >= 2, what="days traded after the database came")
    finally:
        srv.stop()
    assert ready.status_code == 503 and "store state not loaded" in ready.json()["detail"]
    assert ready.json()["day"] is None
    assert current.status_code == 503 and current.json()["error"] == "NotReady"
    assert code == 1013 and "not ready" in reason


def test_a_read_only_sqlite_file_gives_503s_and_serves_what_it_can_read(tmp_path: Path) -> None:
    path = tmp_path / "autoops.db"
    first = Server(fast_env(tmp_path), tmp_path / "first.log").start()
    try:
        wait_until(lambda: last_persisted_day(first) >= 3, what="three persisted days")
    finally:
        first.stop()
    # Tests run as root, for whom chmod does not bind; the file is opened read-only instead.
    env = fast_env(tmp_path, DATABASE_URL=f"sqlite:///file:{path}?mode=ro&uri=true")
    srv = Server(env, tmp_path / "second.log").start()
    try:
        ready = wait_until(lambda: (r := get(srv, "/readyz")).status_code == 503 and r, what="503")
        current = get(srv, f"{API}/metrics/current")
        decisions = get(srv, f"{API}/decisions/recent")
        refused = httpx.post(
            f"{srv.http}{API}/agents/pricing_agent/intervention",
            json={"action": "pause", "reason": "on a read-only file"},
        )
        alive = srv.proc is not None and srv.proc.poll() is None
    finally:
        srv.stop()
    assert "refusing the day's writes" in ready.json()["detail"]
    assert "readonly" in ready.json()["detail"]
    assert current.status_code == 200 and current.json()["day"] >= 3
    assert decisions.status_code == 200 and decisions.json()
    assert refused.status_code == 503 and refused.json()["error"] == "DatabaseUnavailable"
    assert alive


def test_graceful_shutdown_checkpoints_the_last_state(tmp_path: Path) -> None:
    srv = Server(fast_env(tmp_path), tmp_path / "server.log").start()
    try:
        wait_until(lambda: last_persisted_day(srv) >= 2, what="two persisted days")
        r = httpx.post(
            f"{srv.http}{API}/agents/promotion_agent/intervention",
            json={"action": "pause", "reason": "just before the stop"},
        )
        assert r.status_code == 200
        stopped_at = time.time()
    finally:
        code = srv.stop()
    assert code in (0, -15)  # uvicorn re-raises SIGTERM once done
    with sqlite3.connect(tmp_path / "autoops.db") as db:
        day, seq, stamp = db.execute(
            "SELECT day, last_intervention_seq, timestamp FROM checkpoints "
            "ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        last_snapshot = db.execute("SELECT max(day) FROM metric_snapshots").fetchone()[0]
        last_intervention = db.execute("SELECT max(seq) FROM interventions").fetchone()[0]
    assert day == last_snapshot + 1  # the state after the last traded day
    assert seq == last_intervention  # the pause is inside it, not replayed
    written = datetime.fromisoformat(stamp).replace(tzinfo=UTC).timestamp()
    assert written >= stopped_at - 1  # written at the stop, not a day before


def test_kill_9_in_the_middle_of_day_writes_loses_nothing_answered(tmp_path: Path) -> None:
    answered: list[str] = []
    revenue_seen = 0.0
    for cycle in range(3):
        srv = Server(fast_env(tmp_path), tmp_path / f"run{cycle}.log").start()
        try:
            revenue = (
                get(srv, f"{API}/metrics/current").json()["system_metrics"]["total_revenue"] or 0.0
            )
            assert revenue >= revenue_seen  # totals continue, never reset
            wait_until(
                lambda s=srv, c=cycle: last_persisted_day(s) >= 2 * (c + 1), what="more days"
            )
            r = httpx.post(
                f"{srv.http}{API}/agents/pricing_agent/intervention",
                json={
                    "action": "pause" if cycle % 2 == 0 else "resume",
                    "reason": f"cycle {cycle}",
                },
            )
            assert r.status_code == 200
            answered.append(r.json()["intervention_id"])
            revenue_seen = max(revenue_seen, revenue)
            time.sleep(0.13)  # kill mid-day, days are 50 ms
        finally:
            srv.kill()
    with sqlite3.connect(tmp_path / "autoops.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = {row[0] for row in db.execute("SELECT id FROM interventions")}
    srv = Server(fast_env(tmp_path, AUTOOPS_DAY_SECONDS="3600"), tmp_path / "last.log").start()
    try:
        status = {a["agent_id"]: a["status"] for a in get(srv, f"{API}/agents/status").json()}
    finally:
        srv.stop()
    assert set(answered) <= stored
    assert status["pricing_agent"] == "paused"  # cycle 2 paused it last


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 MiB tmpfs of its own, so that the test can fill it (needs root, as CI runs)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(disk)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (root needed): {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def fill(disk: Path) -> Path:
    """Write a ballast file until the disk is full; returns it."""
    ballast = disk / "ballast"
    with open(ballast, "wb") as out:
        chunk = b"\0" * (1 << 20)
        try:
            while True:
                out.write(chunk)
                out.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc
    return ballast


def test_a_full_sqlite_disk_gives_503s_and_the_backend_recovers_when_space_returns(
    tmp_path: Path, small_disk: Path
) -> None:
    env = fast_env(tmp_path, DATABASE_URL=f"sqlite:///{small_disk / 'autoops.db'}")
    srv = Server(env, tmp_path / "server.log").start()
    try:
        wait_until(
            lambda: get(srv, "/readyz").status_code == 200 and last_persisted_day(srv) >= 3,
            what="three persisted days",
        )
        ballast = fill(small_disk)
        down = wait_until(
            lambda: (r := get(srv, "/readyz")).status_code == 503 and r, what="503 on a full disk"
        )
        current = get(srv, f"{API}/metrics/current")
        refused = httpx.post(
            f"{srv.http}{API}/agents/pricing_agent/intervention",
            json={"action": "pause", "reason": "on a full disk"},
            timeout=15,
        )
        day_when_full = last_persisted_day(srv)
        time.sleep(1.0)  # the runner keeps failing and retrying meanwhile
        alive = srv.proc is not None and srv.proc.poll() is None
        ballast.unlink()
        wait_until(
            lambda: get(srv, "/readyz").status_code == 200, timeout=45, what="readiness back"
        )
        wait_until(
            lambda: last_persisted_day(srv) > day_when_full, timeout=30, what="days persisted again"
        )
        answered = httpx.post(
            f"{srv.http}{API}/agents/pricing_agent/intervention",
            json={"action": "pause", "reason": "after the disk came back"},
            timeout=15,
        )
        audit = get(srv, f"{API}/interventions").json()
        log = srv.tail(200_000)
    finally:
        srv.stop()
    assert "full" in down.json()["detail"]
    assert current.status_code == 200 and current.json()["day"] >= 3
    assert alive
    assert answered.status_code == 200
    reasons = [a["reason"] for a in audit]
    assert "after the disk came back" in reasons
    # A write on the full disk is refused, clearly and without a trace, unless SQLite still had
    # the room: the WAL, once copied into the database file, is written again from its start,
    # and a small commit fits in the space it already holds. Acknowledged, it must be kept.
    if refused.status_code == 503:
        assert refused.json()["error"] == "DatabaseUnavailable"
        assert "on a full disk" not in reasons
    else:
        assert refused.status_code == 200 and "on a full disk" in reasons
    assert "retrying" in log and "Traceback" not in log
