"""Replicas on real processes: nginx, two uvicorn replicas, PostgreSQL and a private Redis.

(a) the same frames on every replica, (b) an intervention posted to a follower, (c) the leader
killed, (d) a paused leader fenced off, (e) Redis restarted, (f) PostgreSQL away and back; and the
per-address connection cap holds across replicas."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time

import httpx
import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.api.support import wait_until
from tests.cluster.conftest import Cluster
from tests.cluster.services import CAP, pg_query, ready, role
from tests.hardening.tcpproxy import TcpProxy

API = "/api/dashboard"
METRICS_WS = f"{API}/ws/metrics/real-time"
LIVE_WS = f"{API}/ws/live-updates"


async def collect(url: str, seconds: float) -> list[str]:
    """Every text frame a subscriber gets in `seconds`, greeting first."""
    frames: list[str] = []
    async with connect(url, open_timeout=10) as ws:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                frames.append(str(await asyncio.wait_for(ws.recv(), timeout=left)))
            except TimeoutError:
                break
    return frames


def by_seq(frames: list[str]) -> dict[int, str]:
    return {orjson.loads(f)["seq"]: f for f in frames if '"seq"' in f}


def days(cluster: Cluster) -> list[int]:
    return [d for (d,) in pg_query(cluster.schema, "SELECT day FROM metric_snapshots ORDER BY day")]


def lease(cluster: Cluster) -> tuple[int, str, int]:
    ((epoch, holder, day),) = pg_query(
        cluster.schema, "SELECT epoch, holder, day FROM runner_lease WHERE id = 1"
    )
    return epoch, holder, day


def contiguous(values: list[int]) -> bool:
    return values == list(range(values[0], values[0] + len(values))) if values else True


def test_a_clients_on_different_replicas_see_the_same_frames(cluster: Cluster) -> None:
    a, b = cluster.replicas["a"], cluster.replicas["b"]

    async def both(path: str) -> tuple[list[str], list[str]]:
        got = await asyncio.gather(collect(a.ws + path, 4), collect(b.ws + path, 4))
        return got[0], got[1]

    for path in (METRICS_WS, f"{API}/ws/agents/pricing_agent/status"):
        on_a, on_b = asyncio.run(both(path))
        seqs_a, seqs_b = by_seq(on_a), by_seq(on_b)
        shared = sorted(set(seqs_a) & set(seqs_b))
        assert len(shared) >= 4, (path, sorted(seqs_a), sorted(seqs_b))
        for seq in shared:  # the same bytes: seq, tick, timestamp and payload
            assert seqs_a[seq] == seqs_b[seq]
    current = [httpx.get(f"{s.http}{API}/metrics/current").json()["day"] for s in (a, b)]
    assert abs(current[0] - current[1]) <= 1


def test_b_an_intervention_posted_to_a_follower_is_applied_by_the_leader(cluster: Cluster) -> None:
    _, leader = cluster.leader()
    _, follower = cluster.follower()

    async def scenario() -> tuple[httpx.Response, list[str], list[str]]:
        watch = [asyncio.create_task(collect(s.ws + LIVE_WS, 6)) for s in (leader, follower)]
        await asyncio.sleep(1.0)
        async with httpx.AsyncClient(timeout=15) as client:
            answer = await client.post(
                f"{follower.http}{API}/agents/promotion_agent/intervention",
                json={"action": "pause", "reason": "posted to a follower"},
            )
        on_leader, on_follower = await asyncio.gather(*watch)
        return answer, on_leader, on_follower

    answer, on_leader, on_follower = asyncio.run(scenario())
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["success"] and body["message"]
    iv = body["intervention_id"]
    rows = pg_query(cluster.schema, "SELECT status, epoch FROM interventions WHERE id = %s", iv)
    assert rows == [("applied", lease(cluster)[0])]  # once, by the leader's epoch
    for server in (leader, follower):
        wait_until(
            lambda s=server: (
                httpx.get(f"{s.http}{API}/agents/status").json()
                and next(
                    x
                    for x in httpx.get(f"{s.http}{API}/agents/status").json()
                    if x["agent_id"] == "promotion_agent"
                )["status"]
                == "paused"
            ),
            timeout=10,
            what="promotion_agent paused on both replicas",
        )
    for frames in (on_leader, on_follower):
        carried = [orjson.loads(f) for f in frames if '"agent_intervention"' in f]
        assert [m["intervention_id"] for m in carried] == [iv]


def test_c_the_leader_killed_a_follower_leads_and_the_run_goes_on(cluster: Cluster) -> None:
    name, leader = cluster.leader()
    other = next(n for n in cluster.replicas if n != name)
    survivor = cluster.replicas[other]
    answer = httpx.post(
        f"{cluster.nginx.http}{API}/agents/inventory_agent/intervention",
        json={"action": "pause", "reason": "before the kill"},
        timeout=15,
    )
    assert answer.status_code == 200, answer.text
    epoch_before = lease(cluster)[0]

    async def subscriber(stop_at: float) -> list[int]:
        """A client through nginx that reconnects whenever its stream closes; its seqs."""
        seqs: list[int] = []
        while time.monotonic() < stop_at:
            try:
                async with connect(cluster.nginx.ws + METRICS_WS, open_timeout=5) as ws:
                    while time.monotonic() < stop_at:
                        left = stop_at - time.monotonic()
                        message = orjson.loads(await asyncio.wait_for(ws.recv(), timeout=left))
                        if "seq" in message:
                            seqs.append(message["seq"])
            except (ConnectionClosed, OSError, TimeoutError):
                await asyncio.sleep(0.2)
        return seqs

    async def scenario() -> tuple[float, list[list[int]]]:
        listeners = [asyncio.create_task(subscriber(time.monotonic() + 14)) for _ in range(3)]
        await asyncio.sleep(3)
        days_before = len(days(cluster))
        t0 = time.monotonic()
        leader.kill()
        while not (role(survivor) == "leader" and len(days(cluster)) > days_before):
            await asyncio.sleep(0.05)
            assert time.monotonic() - t0 < 30, "no new leader in 30 s"
        took = time.monotonic() - t0
        return took, list(await asyncio.gather(*listeners))

    took, heard = asyncio.run(scenario())
    print(f"\nfailover: a follower led and persisted a day {took:.2f} s after kill -9")
    assert took < 5.0
    stored = days(cluster)
    assert contiguous(stored) and len(stored) >= 5
    epoch, holder, day = lease(cluster)
    assert (epoch, holder) == (epoch_before + 1, other)
    ((checkpoint_day,),) = pg_query(
        cluster.schema, "SELECT day FROM checkpoints ORDER BY seq DESC LIMIT 1"
    )
    assert checkpoint_day == day
    for seqs in heard:  # every client kept hearing, and its seq only moved forward
        assert len(seqs) >= 10 and seqs == sorted(set(seqs)), seqs
    statuses = httpx.get(f"{cluster.nginx.http}{API}/agents/status", timeout=10).json()
    assert next(s for s in statuses if s["agent_id"] == "inventory_agent")["status"] == "paused"


def test_d_a_paused_leader_that_lost_its_lease_commits_nothing_and_steps_down(
    cluster: Cluster,
) -> None:
    name, leader = cluster.leader()
    other = next(n for n in cluster.replicas if n != name)
    assert leader.proc is not None
    epoch_before = lease(cluster)[0]
    # (generous waits: what is tested is who commits, not how fast, on a machine that may be busy)
    os.kill(leader.proc.pid, signal.SIGSTOP)
    try:
        pg_query(
            cluster.schema,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            f"autoops-lock-{name}",
        )
        wait_until(lambda: role(cluster.replicas[other]) == "leader", timeout=40, what="b to lead")
        time.sleep(2)  # the new leader trades some days while the old one sleeps
    finally:
        os.kill(leader.proc.pid, signal.SIGCONT)
    wait_until(lambda: role(leader) == "follower", timeout=40, what="the old leader to step down")
    time.sleep(2)
    epoch, holder, _ = lease(cluster)
    assert (epoch, holder) == (epoch_before + 1, other)
    assert contiguous(days(cluster))
    wait_until(lambda: ready(leader), timeout=40, what="the old leader ready as a follower")


def test_e_redis_restarted_replicas_resubscribe_and_the_run_goes_on(cluster: Cluster) -> None:
    _, follower = cluster.follower()

    async def scenario() -> list[int]:
        seqs: list[int] = []

        async def listen() -> None:
            async with connect(follower.ws + METRICS_WS, open_timeout=5) as ws:
                deadline = time.monotonic() + 14
                while (left := deadline - time.monotonic()) > 0:
                    try:
                        message = json.loads(await asyncio.wait_for(ws.recv(), timeout=left))
                    except TimeoutError:
                        break
                    if "seq" in message:
                        seqs.append(message["seq"])

        task = asyncio.create_task(listen())
        await asyncio.sleep(2)
        before = len(days(cluster))
        cluster.redis.stop()
        await asyncio.sleep(3)
        during = len(days(cluster))
        cluster.redis.start()
        await task
        assert during > before, "days stopped being persisted while Redis was away"
        return seqs

    seqs = asyncio.run(scenario())
    assert seqs == sorted(set(seqs))  # at most a gap, never backwards
    late = [s for s in seqs if s > seqs[0] + 10]
    assert late, "no frames relayed after Redis came back: the follower did not resubscribe"
    wait_until(lambda: ready(follower), timeout=10, what="the follower ready again")
    metrics = httpx.get(f"{follower.http}/metrics", timeout=10).text
    reconnects = next(
        float(line.split()[-1])
        for line in metrics.splitlines()
        if line.startswith("autoops_bus_gaps_total")
    )
    assert reconnects >= 1  # the reconnect was signalled, and the state re-read


def test_the_connection_cap_per_address_holds_across_replicas(cluster: Cluster) -> None:
    a, b = cluster.replicas["a"], cluster.replicas["b"]

    async def first_or_close(ws: ClientConnection) -> int | str:
        """The close code the server sent, or "open" when it sends a frame instead."""
        try:
            await asyncio.wait_for(ws.recv(), timeout=10)
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else 0
        return "open"

    async def scenario() -> list[int | str]:
        held = [await connect(a.ws + METRICS_WS, open_timeout=10) for _ in range(CAP - 2)]
        await asyncio.sleep(5)  # the counts are shared every few seconds
        on_b = [await connect(b.ws + METRICS_WS, open_timeout=10) for _ in range(3)]
        answers = [await first_or_close(ws) for ws in on_b]
        for ws in held + on_b:
            await ws.close()
        return answers

    assert asyncio.run(scenario()) == ["open", "open", 1008]


def test_f_postgresql_away_and_back_the_run_resumes_without_a_lost_or_repeated_day(
    cluster_behind_proxy: tuple[Cluster, TcpProxy],
) -> None:
    cluster, proxy = cluster_behind_proxy
    wait_until(lambda: len(days(cluster)) >= 3, timeout=20, what="three persisted days")
    epoch_before, _, day_before = lease(cluster)
    proxy.cut()  # every session drops, the runner lock's included, as in a restart
    time.sleep(3)
    proxy.restore()
    wait_until(lambda: lease(cluster)[2] > day_before + 3, timeout=30, what="days persisted again")
    leaders = [n for n, s in cluster.replicas.items() if role(s) == "leader"]
    epoch, holder, _ = lease(cluster)
    assert leaders == [holder]
    assert epoch > epoch_before  # whoever leads now took the lease afresh
    stored = days(cluster)
    assert contiguous(stored)
    for server in cluster.replicas.values():
        wait_until(lambda s=server: ready(s), timeout=20, what="every replica ready again")
