"""Fan-out benchmark: how many WebSocket subscribers one app process holds, against a bare reference.

`python -m bench.fanout --clients N --seconds S --json PATH` runs one step; without --clients it
climbs a staircase (1k, 2k, 5k, 10k, 15k) within a time budget. Each step runs the app and the
reference server (bench.wsref, pushing the app's own payloads at the app's cadences) against the
same swarm, one after the other, in the same run. Loopback only; every server is stopped on exit.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from websockets.asyncio.client import connect

from bench.fanstats import capacity, capacity_estimate, compare, summarize
from bench.harness import (
    ServerProcess,
    app_facts,
    app_server,
    cpu_seconds,
    free_port,
    loopback_address,
    machine_facts,
    raise_nofile,
    rounded,
    rss_kib,
    running,
    uvicorn_option,
    uvicorn_options,
    versions,
    write_json,
)
from bench.swarm import ConnSpec, WorkerSpec, stamp_of, worker_main

log = logging.getLogger(__name__)

PATHS = {
    "metrics": "/api/dashboard/ws/metrics/real-time",
    "live": "/api/dashboard/ws/live-updates",
    "agent": "/api/dashboard/ws/agents/{agent_id}/status",
}
AGENT_IDS = ("pricing_agent", "inventory_agent", "promotion_agent")
STAIRCASE = (1000, 2000, 5000, 10000, 15000)
PER_ADDRESS = 50  # connections per source address; the app closes the 101st with 1008
PER_WORKER = 2500  # connections per client process, well under its file limit
SETTLE_S = 2.0  # between the last handshake and the window, so the ramp has drained


@dataclass(frozen=True)
class Target:
    """What the swarm connects to (`port`) and the processes whose CPU, memory and descriptors
    count as the server's (`pids`, by name); `python` names the ones py-spy can profile."""

    port: int
    pids: dict[str, int]
    python: tuple[str, ...] = ()


class Bench:
    """Settings for a run plus the running address offset (every side-run gets fresh addresses)."""

    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.next_address = 0
        self.intervals = {
            "metrics": args.metrics_interval,
            "live": args.live_interval,
            "agent": args.agent_interval,
        }
        self.app_env = {
            "AUTOOPS_METRICS_INTERVAL": str(args.metrics_interval),
            "AUTOOPS_LIVE_INTERVAL": str(args.live_interval),
            "AUTOOPS_AGENT_INTERVAL": str(args.agent_interval),
        }
        for item in args.app_env:
            key, sep, value = item.partition("=")
            if not sep or not key:
                raise SystemExit(f"--app-env: expected KEY=VALUE, got {item!r}")
            self.app_env[key] = value
        self.ref_spec: Path | None = None
        # CPUs the swarm's processes are pinned to (none: wherever the kernel puts them)
        self.swarm_cpus: set[int] = set()

    def plan(self, n_clients: int, stalled_share: float) -> list[ConnSpec]:
        """Every client on metrics; a share also on live-updates and on one agent's stream."""
        paths_of: list[list[str]] = [[PATHS["metrics"]] for _ in range(n_clients)]
        extra = self.args.extra_share
        if extra > 0:
            every = max(1, round(1 / extra))
            for i in range(0, n_clients, every):
                paths_of[i].append(PATHS["live"])
            for k, i in enumerate(range(every // 2, n_clients, every)):
                paths_of[i].append(PATHS["agent"].format(agent_id=AGENT_IDS[k % 3]))
        stalled_every = round(1 / stalled_share) if stalled_share > 0 else 0
        conns: list[ConnSpec] = []
        for i, paths in enumerate(paths_of):
            stalled = bool(stalled_every) and i % stalled_every == stalled_every // 2
            for path in paths:
                address = loopback_address(self.next_address + len(conns) // PER_ADDRESS)
                conns.append(ConnSpec(i, path, address, stalled))
        self.next_address += math.ceil(len(conns) / PER_ADDRESS) + 1
        return conns

    def server(self, side: str) -> ServerProcess:
        if side == "app":
            return app_server(self.workdir, self.app_env)
        if self.ref_spec is None:
            raise RuntimeError("the reference needs the app's payloads: capture them first")
        port = free_port()
        # the app's keepalive and frame cap (uvicorn options of the Procfile) apply to both sides
        argv = [
            sys.executable,
            "-m",
            "bench.wsref",
            "--port",
            str(port),
            "--spec",
            str(self.ref_spec),
            "--ping-interval",
            str(uvicorn_option("--ws-ping-interval", 20.0)),
            "--ping-timeout",
            str(uvicorn_option("--ws-ping-timeout", 20.0)),
            "--max-size",
            str(int(uvicorn_option("--ws-max-size", 2**24))),
        ]
        return ServerProcess(argv, port, name="reference")

    def capture(self) -> dict[str, Any]:
        """Start the app once and keep one initial and one periodic message of each stream."""
        with running(self.server("app")) as app:
            spec = asyncio.run(capture_streams(app.port, self.intervals))
        self.ref_spec = self.workdir / "reference.json"
        self.ref_spec.write_text(json.dumps(spec))
        return spec

    @contextlib.contextmanager
    def serve(self, side: str) -> Iterator[Target]:
        """Start what `side` names and stop it afterwards; the swarm connects to its port."""
        with running(self.server(side)) as srv:
            yield Target(srv.port, {side: srv.pid}, python=(side,))

    def run_side(
        self, side: str, n_clients: int, seconds: float, stalled_share: float
    ) -> dict[str, Any]:
        conns = self.plan(n_clients, stalled_share)
        n_workers = min(
            max(1 if len(conns) < 2 * PER_WORKER // 5 else 2, math.ceil(len(conns) / PER_WORKER)),
            self.args.max_workers,
        )
        connect_deadline = max(30.0, len(conns) / 150)
        ctx = mp.get_context("spawn")
        workers: list[tuple[Any, Any]] = []
        try:
            with self.serve(side) as srv:
                pids = list(srv.pids.values())
                # the app's store trades in the background: its CPU rate with no client is noted
                # over the warm-up so that the per-message figure can be read net of it
                time.sleep(min(1.0, self.args.warmup / 2))
                idle0, idle_t0 = cpu_total(pids), time.monotonic()
                time.sleep(self.args.warmup - min(1.0, self.args.warmup / 2))
                idle_rate = (cpu_total(pids) - idle0) / (time.monotonic() - idle_t0)
                # the app's RSS wanders by a few MiB as its store trades: take medians
                server: dict[str, Any] = {
                    "rss_base": median_rss(pids, 5, 0.2),
                    "idle_cpu_rate": idle_rate,
                }
                started = time.monotonic()
                for k in range(n_workers):
                    parent, child = ctx.Pipe()
                    spec = WorkerSpec(
                        "127.0.0.1",
                        srv.port,
                        conns[k::n_workers],
                        connect_deadline=connect_deadline,
                    )
                    proc = ctx.Process(target=worker_main, args=(spec, child), daemon=True)
                    proc.start()
                    if self.swarm_cpus:
                        with contextlib.suppress(OSError):
                            os.sched_setaffinity(proc.pid, self.swarm_cpus)
                    workers.append((proc, parent))
                for _, pipe in workers:
                    if not pipe.poll(connect_deadline + 60):
                        raise RuntimeError(f"{side}: a swarm process did not report ready")
                    pipe.recv()
                server["connect_s"] = time.monotonic() - started
                t0 = time.monotonic() + SETTLE_S
                t1, t_end = t0 + seconds, t0 + seconds + self.args.grace
                for _, pipe in workers:
                    pipe.send((t0, t1, t_end))
                time.sleep(max(0.0, t0 - time.monotonic()))
                by_process0 = {name: cpu_seconds(pid) for name, pid in srv.pids.items()}
                machine0 = machine_cpu()
                server.update(t0=time.monotonic(), cpu0=cpu_total(pids), fds0=open_fds(pids))
                profilers = self.profile(srv, side, n_clients, seconds)
                samples = [rss_total(pids)]
                while time.monotonic() < t1:
                    time.sleep(min(0.5, max(0.0, t1 - time.monotonic())))
                    samples.append(rss_total(pids))
                server.update(
                    t1=time.monotonic(),
                    cpu1=cpu_total(pids),
                    rss1=samples[-1],
                    rss0=int(statistics.median(samples)),
                    rss_max=max(samples),
                    rss_start=samples[0],
                    fds1=open_fds(pids),
                )
                machine1 = machine_cpu()
                window = server["t1"] - server["t0"]
                by_process = {
                    name: rounded(100 * (cpu_seconds(pid) - by_process0[name]) / window, 1)
                    for name, pid in srv.pids.items()
                }
                for profiler in profilers:
                    profiler.wait(timeout=60)
                results = []
                for _, pipe in workers:
                    if not pipe.poll(max(0.0, t_end - time.monotonic()) + 60):
                        raise RuntimeError(f"{side}: a swarm process did not report its result")
                    results.append(pipe.recv()[1])
        finally:
            for proc, pipe in workers:
                proc.join(timeout=5)
                if proc.is_alive():
                    proc.kill()
                    proc.join(timeout=5)
                pipe.close()
        server["client_cpu"] = sum(r["cpu_seconds"] for r in results)
        summary = summarize(n_clients, [c for r in results for c in r["conns"]], server)
        summary["swarm_processes"] = n_workers
        # where the CPU went over the window, in % of one core: each server process, the swarm
        # (its clients' CPU from the window's start to the end of the grace period), the machine
        by_process["swarm"] = rounded(100 * server["client_cpu"] / (seconds + self.args.grace), 1)
        summary["cpu_pct_by_process"] = by_process
        summary["machine_cpu_busy_pct"] = machine_busy_pct(machine0, machine1)
        log.info(
            "%s %d clients: p50 %s ms p99 %s ms lost %s held %s",
            side,
            n_clients,
            summary["p50_ms"],
            summary["p99_ms"],
            summary["lost"],
            summary["clients_held"],
        )
        return summary

    def profile(
        self, srv: Target, side: str, n_clients: int, seconds: float
    ) -> list[subprocess.Popen[bytes]]:
        """py-spy on each Python server process over the window, as collapsed stacks."""
        if self.args.profile is None:
            return []
        self.args.profile.mkdir(parents=True, exist_ok=True)
        out = []
        for name in srv.python:
            path = self.args.profile / (
                f"{side}-{n_clients}.txt" if name == side else f"{side}-{name}-{n_clients}.txt"
            )
            out.append(
                subprocess.Popen(
                    [
                        "py-spy",
                        "record",
                        "--pid",
                        str(srv.pids[name]),
                        "--duration",
                        str(max(1, int(seconds))),
                        "--rate",
                        "200",
                        "--format",
                        "raw",
                        "--nonblocking",
                        "--output",
                        str(path),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        return out

    def step(
        self, n_clients: int, seconds: float, stalled_share: float = 0.0, app_first: bool = True
    ) -> dict[str, Any]:
        sides = ("app", "reference") if app_first else ("reference", "app")
        out: dict[str, Any] = {"clients": n_clients, "seconds": seconds}
        for side in sides:
            if side in self.args.sides:
                out[side] = self.run_side(side, n_clients, seconds, stalled_share)
        if "app" in out and "reference" in out:
            out["ratio"] = compare(out["app"], out["reference"])
        return out


async def capture_streams(port: int, intervals: dict[str, float]) -> dict[str, Any]:
    """{"streams": {path: {"interval", "initial", "periodic"}}} as the app sends them."""
    streams: dict[str, Any] = {}
    wait = max(intervals.values()) * 2 + 10
    for kind, path in PATHS.items():
        concrete = path.format(agent_id=AGENT_IDS[0])
        async with connect(
            f"ws://127.0.0.1:{port}{concrete}", compression=None, proxy=None, open_timeout=10
        ) as ws:
            initial = orjson.loads(await asyncio.wait_for(ws.recv(), wait))
            deadline = time.monotonic() + wait
            periodic = None
            while periodic is None and time.monotonic() < deadline:
                message = orjson.loads(await asyncio.wait_for(ws.recv(), wait))
                if stamp_of(message)[1] is not None:
                    periodic = message
            if periodic is None:
                raise RuntimeError(
                    f"{concrete}: expected a periodic message with seq and tick "
                    f"within {wait:.0f} s, got none"
                )
        streams[path] = {
            "interval": intervals[kind],
            "initial": initial,
            "periodic": periodic,
            "periodic_bytes": len(orjson.dumps(periodic)),
        }
    return {"streams": streams}


def open_fds(pids: list[int]) -> int:
    """File descriptors the server processes hold (their sockets, mostly), from /proc/PID/fd."""
    return sum(len(os.listdir(f"/proc/{pid}/fd")) for pid in pids)


def cpu_total(pids: list[int]) -> float:
    return sum(cpu_seconds(pid) for pid in pids)


def rss_total(pids: list[int]) -> int:
    return sum(rss_kib(pid) for pid in pids)


def median_rss(pids: list[int], n: int, every: float) -> int:
    samples = []
    for _ in range(n):
        samples.append(rss_total(pids))
        time.sleep(every)
    return int(statistics.median(samples))


def machine_cpu() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs, from the first line of /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields[:8]) - idle, sum(fields[:8])


def machine_busy_pct(before: tuple[int, int], after: tuple[int, int]) -> float | None:
    """How busy all CPUs of the machine were between two machine_cpu() readings, in %."""
    total = after[1] - before[1]
    return rounded(100 * (after[0] - before[0]) / total, 1) if total > 0 else None


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--clients", type=int, help="one step with this many clients (default: staircase)"
    )
    p.add_argument(
        "--steps",
        type=lambda s: [int(x) for x in s.split(",")],
        default=list(STAIRCASE),
        help="staircase client counts, comma-separated",
    )
    p.add_argument("--seconds", type=float, default=20.0, help="measurement window per side-run")
    p.add_argument(
        "--grace",
        type=float,
        default=5.0,
        help="seconds after the window; a message later than this counts as lost",
    )
    p.add_argument(
        "--warmup",
        type=float,
        default=6.0,
        help="seconds between server start and swarm (idle CPU is measured meanwhile)",
    )
    p.add_argument(
        "--extra-share",
        type=float,
        default=0.1,
        help="share of clients also on live-updates, and (another) on an agent stream",
    )
    p.add_argument(
        "--stalled-share", type=float, default=0.0, help="also run with this share stalled"
    )
    p.add_argument(
        "--stalled-clients",
        type=int,
        default=5000,
        help="client count of the stalled variant in a staircase run",
    )
    p.add_argument("--metrics-interval", type=float, default=2.0)
    p.add_argument("--live-interval", type=float, default=5.0)
    p.add_argument("--agent-interval", type=float, default=3.0)
    p.add_argument("--budget", type=float, default=14 * 60, help="seconds a staircase run may take")
    p.add_argument("--max-workers", type=int, default=8, help="client processes at most")
    p.add_argument("--sides", type=lambda s: s.split(","), default=["app", "reference"])
    p.add_argument(
        "--app-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra environment for the app, e.g. AUTOOPS_DAY_SECONDS=3600 to hold the store",
    )
    p.add_argument(
        "--profile", type=Path, help="py-spy each server over the window into this folder"
    )
    p.add_argument("--json", type=Path, help="write the result here (default: stdout)")
    args = p.parse_args(argv)
    for name in ("clients", "seconds"):
        value = getattr(args, name)
        if value is not None and value <= 0:
            p.error(f"--{name}: expected a positive number, got {value}")
    if not 0 <= args.stalled_share < 1 or not 0 <= args.extra_share <= 1:
        p.error("--stalled-share and --extra-share: expected shares in [0, 1)")
    if unknown := set(args.sides) - {"app", "reference"}:
        p.error(f"--sides: expected app and/or reference, got {sorted(unknown)}")
    return args


def side_seconds(n_clients: int, args: argparse.Namespace) -> float:
    """A rough upper estimate of one side-run, to keep a staircase inside its budget."""
    ramp = n_clients * (1 + 2 * args.extra_share) / 250  # handshakes/s seen on the 2-core box
    return 7 + args.warmup + ramp + SETTLE_S + args.seconds + args.grace


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    raise_nofile()
    began = time.monotonic()
    out: dict[str, Any] = {
        "benchmark": "fanout",
        "machine": machine_facts(),
        "versions": versions(),
    }
    with tempfile.TemporaryDirectory(prefix="bench-fanout-") as tmp:
        bench = Bench(args, Path(tmp))
        spec = bench.capture()
        out["config"] = {
            "uvicorn_options": uvicorn_options(),
            "app_env": bench.app_env,
            "app_under_test": app_facts(bench.app_env),
            "seconds": args.seconds,
            "grace_s": args.grace,
            "extra_share": args.extra_share,
            "intervals_s": bench.intervals,
            "per_address": PER_ADDRESS,
            "payload_bytes": {k: v["periodic_bytes"] for k, v in spec["streams"].items()},
        }
        if args.clients is not None:
            step = bench.step(args.clients, args.seconds)
            out.update({k: step[k] for k in ("app", "reference", "ratio") if k in step})
            if args.stalled_share > 0:
                out["stalled"] = stalled_variant(bench, step, args.clients, args.stalled_share)
        else:
            steps = []
            # the stalled variant runs after the staircase: keep its time aside
            reserve = (
                2 * side_seconds(args.stalled_clients, args) if args.stalled_share > 0 else 0.0
            )
            for i, n in enumerate(args.steps):
                need = 2 * side_seconds(n, args) * len(args.sides) / 2
                if time.monotonic() - began + need + reserve > args.budget:
                    log.warning(
                        "skipping %d clients: the %.0f s budget would be exceeded", n, args.budget
                    )
                    steps.append({"clients": n, "skipped": "time budget"})
                    continue
                steps.append(bench.step(n, args.seconds, app_first=i % 2 == 0))
            out["steps"] = steps
            ran = [s for s in steps if "skipped" not in s]
            # every step's app/reference p99, so that no step hides behind the capacity figure
            by_step = {str(s["clients"]): s["ratio"]["p99_ms"] for s in ran if "ratio" in s}
            out["p99_ratio_by_step"] = by_step
            out["p99_ratio_worst"] = max((r for r in by_step.values() if r), default=None)
            for side in args.sides:
                out[side] = {
                    "capacity": capacity(ran, side),
                    "capacity_interpolated": capacity_estimate(ran, side),
                    "steps": {str(s["clients"]): s[side] for s in ran if side in s},
                }
            if "app" in out and "reference" in out:
                ref_cap = out["reference"]["capacity"]
                est = (
                    out["app"]["capacity_interpolated"],
                    out["reference"]["capacity_interpolated"],
                )
                out["ratio"] = {
                    "capacity": round(out["app"]["capacity"] / ref_cap, 3) if ref_cap else None,
                    "capacity_interpolated": round(est[0] / est[1], 3) if all(est) else None,
                }
            if args.stalled_share > 0:
                clean = next((s for s in ran if s["clients"] == args.stalled_clients), None)
                if clean is None:
                    clean = bench.step(args.stalled_clients, args.seconds)
                out["stalled"] = stalled_variant(
                    bench, clean, args.stalled_clients, args.stalled_share
                )
    out["elapsed_s"] = round(time.monotonic() - began, 1)
    write_json(args.json, out)
    return out


def stalled_variant(bench: Bench, clean: dict[str, Any], n: int, share: float) -> dict[str, Any]:
    """The same step with a share of clients that never read; healthy p99 against the clean run."""
    stalled = bench.step(n, bench.args.seconds, stalled_share=share)
    out: dict[str, Any] = {"clients": n, "stalled_share": share}
    for side in ("app", "reference"):
        if side not in stalled:
            continue
        s, c = stalled[side], clean[side]
        out[side] = {
            **s,
            "p99_vs_clean": round(s["p99_ms"] / c["p99_ms"], 3)
            if s["p99_ms"] and c["p99_ms"]
            else None,
            "clean_p99_ms": c["p99_ms"],
            "rss_growth_in_window_kib": s["rss_kib_end"] - s["rss_kib_start"],
        }
    return out


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
