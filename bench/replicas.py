"""Fan-out through replicas: subscribers held by one API replica and by two, both behind nginx.

`python -m bench.replicas` climbs a staircase of subscriber counts; at every step it runs the
same swarm (bench.fanout's) against one replica behind nginx (one upstream) and against two
replicas behind nginx (two upstreams, least_conn), one setup after the other, the order
alternating per step so both meet the same machine load. Each setup-run starts afresh: a private
redis-server, a new PostgreSQL schema, the replicas as Procfile.cluster runs them (its uvicorn
options, no log level set, the app's default cadences), nginx with deploy/nginx/nginx.conf; the
first replica to take the lock leads and trades, the other follows and relays the leader's
frames. Capacity = the largest step held at p99 <= 100 ms with no loss and no close.

On a machine with cores to spare, pin the servers and the swarm apart so that the swarm is not
what limits the figure: `--server-cpus 0-3 --swarm-cpus 4-7` (and `--nginx-workers 2` when one
nginx worker saturates). The swarm must run on the servers' host: `tick` is on the leader's
monotonic clock. Loopback only; every process is stopped and the schemas dropped on exit.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import os
import shlex
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from bench.cluster import Nginx, Redis, cluster_env, drop_schema, replica_command
from bench.fanout import SETTLE_S, Bench, Target
from bench.fanstats import P99_TARGET_MS, capacity, capacity_estimate, compare
from bench.harness import (
    ROOT,
    ServerProcess,
    app_factory,
    app_facts,
    free_port,
    machine_facts,
    raise_nofile,
    versions,
    write_json,
)

log = logging.getLogger(__name__)

PG_URL = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
STEPS = (1000, 1500, 2000, 2500, 3000, 4000, 5000)
SETUPS = {"one": 1, "two": 2, "direct": 1}  # replicas; "direct": one replica without nginx
REPLICAS = ("api1", "api2")  # Procfile.cluster's replica processes
READY_TIMEOUT = 60.0
CAPACITY_TARGET = 0.9  # two replicas' capacity against one's, at least


def parse_cpus(text: str) -> set[int]:
    """A CPU list as taskset takes it: 0-3,6 -> {0, 1, 2, 3, 6}."""
    out: set[int] = set()
    for part in filter(None, text.split(",")):
        low, _, high = part.partition("-")
        out.update(range(int(low), int(high or low) + 1))
    return out


def pin(pid: int, cpus: set[int]) -> None:
    """Every thread of a process (and so what it starts later) onto these CPUs."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(OSError):
            os.sched_setaffinity(int(tid), cpus)


def readyz(port: int) -> tuple[int, str | None]:
    """(/readyz status, role from /healthz); (0, None) while the replica does not answer."""
    try:
        status = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=3).status_code
        role = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=3).json().get("role")
    except (httpx.HTTPError, ValueError):
        return 0, None
    return status, role


class ReplicaBench(Bench):
    """bench.fanout's swarm and figures, served by a cluster started afresh for every run."""

    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        super().__init__(args, workdir)
        self.swarm_cpus = parse_cpus(args.swarm_cpus or "")
        self.server_cpus = parse_cpus(args.server_cpus or "")
        self.procfile_env, self.options = replica_command(REPLICAS[0])
        self.runs = 0
        self.roles: dict[str, str | None] = {}

    def replica_env(self, schema: str, redis: Redis, name: str, logs: Path) -> dict[str, str]:
        """The replica's Procfile.cluster line's environment, the run's cadences, its schema and
        bus; the log level is left to the app's default, as the Procfile leaves it."""
        procfile_env, options = replica_command(name)
        if options != self.options:
            raise RuntimeError(f"Procfile.cluster: {name} runs other uvicorn options than api1")
        env = {**procfile_env, **self.app_env}
        env.update(cluster_env(self.args.database_url, schema, redis.url, name))
        env["AUTOOPS_LOG_DIR"] = str(logs)
        return env

    @contextlib.contextmanager
    def serve(self, side: str) -> Iterator[Target]:
        self.runs += 1
        schema = f"bench_replicas_{os.getpid()}_{self.runs}"
        run_dir = self.workdir / f"{side}-{self.runs}"
        run_dir.mkdir(parents=True)
        redis = Redis(run_dir / "redis.log")
        replicas: dict[str, ServerProcess] = {}
        nginx: Nginx | None = None
        try:
            redis.start()
            for name in REPLICAS[: SETUPS[side]]:
                port = free_port()
                argv = [sys.executable, "-m", "uvicorn", app_factory(), *self.options]
                argv += ["--host", "127.0.0.1", "--port", str(port)]
                env = self.replica_env(schema, redis, name, run_dir / f"logs-{name}")
                replicas[name] = ServerProcess(argv, port, env, name)
                replicas[name].start(READY_TIMEOUT)
            deadline = time.monotonic() + READY_TIMEOUT
            while True:
                state = {n: readyz(r.port) for n, r in replicas.items()}
                if all(status == 200 for status, _ in state.values()):
                    break
                if time.monotonic() > deadline:
                    tails = {n: r.log_tail(800) for n, r in replicas.items()}
                    raise RuntimeError(f"{side}: replicas not ready in time: {state} {tails}")
                time.sleep(0.2)
            self.roles = {n: role for n, (_, role) in state.items()}
            pids = {n: r.pid for n, r in replicas.items()}
            port = next(iter(replicas.values())).port
            if side != "direct":
                nginx = Nginx(
                    run_dir / "nginx",
                    [r.port for r in replicas.values()],
                    workers=self.args.nginx_workers,
                ).start()
                time.sleep(0.2)  # the master has started its workers
                for k, pid in enumerate(nginx.pids()):
                    pids["nginx" if k == 0 else f"nginx-worker-{k}"] = pid
                port = nginx.port
            pids["redis"] = redis.pid
            if self.server_cpus:
                for pid in pids.values():
                    pin(pid, self.server_cpus)
            yield Target(port, pids, python=tuple(replicas))
        finally:
            if nginx is not None:
                nginx.stop()
            for server in replicas.values():
                server.stop()
            redis.stop()
            try:
                drop_schema(self.args.database_url, schema)
            except Exception as exc:  # the run's figures stand; say what was left behind
                log.warning("could not drop schema %s: %s", schema, exc)

    def step(
        self, n_clients: int, seconds: float, stalled_share: float = 0.0, app_first: bool = True
    ) -> dict[str, Any]:
        """Every setup `--rounds` times, in mirrored order (one, two, two, one, ...), so that a
        drift in the machine's load meets both alike (see aggregate_step)."""
        first = list(self.args.setups) if app_first else list(reversed(self.args.setups))
        order = [x for r in range(self.args.rounds) for x in (first if r % 2 == 0 else first[::-1])]
        out: dict[str, Any] = {"clients": n_clients, "seconds": seconds, "order": order}
        runs: dict[str, list[dict[str, Any]]] = {s: [] for s in first}
        for setup in order:
            run = self.run_side(setup, n_clients, seconds, stalled_share)
            run["roles"] = self.roles
            runs[setup].append(run)
        out["runs"] = [
            {"setup": setup, "round": k, **run}
            for setup, rounds in runs.items()
            for k, run in enumerate(rounds)
        ]
        aggregate_step(out)
        return out


def p99_key(run: dict[str, Any]) -> float:
    return math.inf if run["p99_ms"] is None else run["p99_ms"]


def aggregate_step(step: dict[str, Any]) -> None:
    """Each setup's figures at a step, from its rounds (`step["runs"]`), in place.

    The setup's figures are its better round's (lower p99: what it does when the shared machine
    lets it), `held_ok` that round's; `held_every_round` and `worst_round` keep the stricter
    reading, so a round spoilt by a neighbour's burst shows and can be weighed."""
    setups = list(dict.fromkeys(r["setup"] for r in step["runs"]))
    for setup in setups:
        rounds = [r for r in step["runs"] if r["setup"] == setup]
        best, worst = min(rounds, key=p99_key), max(rounds, key=p99_key)
        step[setup] = {
            **{k: v for k, v in best.items() if k not in ("setup", "round")},
            "round": best["round"],
            "held_every_round": all(r["held_ok"] for r in rounds),
            "p99_ms_rounds": [r["p99_ms"] for r in rounds],
            "p50_ms_rounds": [r["p50_ms"] for r in rounds],
            "worst_round": {
                k: worst[k] for k in ("round", "p50_ms", "p99_ms", "max_ms", "lost", "held_ok")
            },
        }
    if "one" in step and "two" in step:
        step["ratio_two_one"] = compare(step["two"], step["one"])
        step["ratio_two_one_worst_rounds"] = compare(
            step["two"]["worst_round"], step["one"]["worst_round"]
        )


def summarize_staircase(out: dict[str, Any], setups: list[str]) -> None:
    """Capacity of each setup (better rounds, and every round) and the ratios two / one."""
    ran = [s for s in out["steps"] if "skipped" not in s]
    strict = [
        {
            "clients": s["clients"],
            **{
                x: {"held_ok": s[x]["held_every_round"], "p99_ms": s[x]["worst_round"]["p99_ms"]}
                for x in setups
            },
        }
        for s in ran
    ]
    for setup in setups:
        out[setup] = {
            "capacity": capacity(ran, setup),
            "capacity_interpolated": capacity_estimate(ran, setup),
            "capacity_every_round": capacity(strict, setup),
            "capacity_every_round_interpolated": capacity_estimate(strict, setup),
            "p99_ms_by_step": {str(s["clients"]): s[setup]["p99_ms_rounds"] for s in ran},
            "held_by_step": {str(s["clients"]): s[setup]["held_ok"] for s in ran},
        }
    if "one" in out and "two" in out:
        one, two = out["one"], out["two"]

        def share(key: str) -> float | None:
            return round(two[key] / one[key], 3) if two[key] and one[key] else None

        ratio = share("capacity")
        out["ratio_two_one"] = {
            "capacity": ratio,
            "capacity_interpolated": share("capacity_interpolated"),
            "capacity_every_round": share("capacity_every_round"),
            "capacity_every_round_interpolated": share("capacity_every_round_interpolated"),
            "p99_by_step": {
                str(s["clients"]): s["ratio_two_one"]["p99_ms"] for s in ran if "ratio_two_one" in s
            },
            "target": CAPACITY_TARGET,
            "met": ratio is not None and ratio >= CAPACITY_TARGET,
        }


def resummarize(path: Path) -> dict[str, Any]:
    """Derive every step's and the staircase's figures again from the runs a results file holds
    (after a change to how rounds are read); the measurements themselves are not touched."""
    out = json.loads(path.read_text())
    for step in out["steps"]:
        if "skipped" not in step:
            aggregate_step(step)
    summarize_staircase(out, list(out["config"]["setups"]))
    shown = path.name if path.is_absolute() else path.as_posix()
    out["summarized_by"] = f"python -m bench.replicas --resummarize {shown} (at {git_head()})"
    write_json(path, out)
    return out


def git_head() -> str:
    return str(versions().get("git_commit", "unknown"))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--steps",
        type=lambda s: [int(x) for x in s.split(",")],
        default=list(STEPS),
        help="subscriber counts, comma-separated",
    )
    p.add_argument("--seconds", type=float, default=20.0, help="measurement window per setup-run")
    p.add_argument(
        "--rounds", type=int, default=2, help="runs of every setup per step, in mirrored order"
    )
    p.add_argument("--grace", type=float, default=5.0, help="seconds after the window")
    p.add_argument("--warmup", type=float, default=6.0, help="seconds between ready and swarm")
    p.add_argument("--extra-share", type=float, default=0.1)
    p.add_argument("--metrics-interval", type=float, default=2.0)
    p.add_argument("--live-interval", type=float, default=5.0)
    p.add_argument("--agent-interval", type=float, default=3.0)
    p.add_argument("--budget", type=float, default=14 * 60, help="seconds the staircase may take")
    p.add_argument("--max-workers", type=int, default=8, help="swarm processes at most")
    p.add_argument(
        "--setups",
        type=lambda s: s.split(","),
        default=["one", "two"],
        help="one (one replica behind nginx), two (two behind nginx), direct (one, no nginx)",
    )
    p.add_argument("--database-url", default=PG_URL, help="PostgreSQL (a schema per run)")
    p.add_argument(
        "--nginx-workers", type=int, help="worker_processes (default: the repository's config)"
    )
    p.add_argument("--server-cpus", help="pin replicas, nginx and redis to these CPUs (0-3)")
    p.add_argument("--swarm-cpus", help="pin the swarm's processes to these CPUs (4-7)")
    p.add_argument(
        "--keep-climbing",
        action="store_true",
        help="run every step even after one that no setup held",
    )
    p.add_argument("--app-env", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--profile", type=Path, help="py-spy each replica over the window into DIR")
    p.add_argument("--json", type=Path, help="write the result here (default: stdout)")
    p.add_argument(
        "--resummarize", type=Path, help="derive a results file's figures again from its runs"
    )
    args = p.parse_args(argv)
    if unknown := set(args.setups) - set(SETUPS):
        p.error(f"--setups: expected some of {sorted(SETUPS)}, got {sorted(unknown)}")
    if args.seconds <= 0 or args.rounds < 1 or not args.steps or min(args.steps) <= 0:
        p.error("--seconds, --rounds and --steps: expected positive numbers")
    return args


def setup_seconds(n_clients: int, args: argparse.Namespace) -> float:
    """A rough upper estimate of one setup-run (start, warm-up, ramp, window, grace, stop)."""
    ramp = n_clients * (1 + 2 * args.extra_share) / 200  # handshakes/s through nginx, 2 cores
    return 15 + args.warmup + ramp + SETTLE_S + args.seconds + args.grace


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if args.resummarize is not None:
        return resummarize(args.resummarize)
    raise_nofile()
    began = time.monotonic()
    command = "python -m bench.replicas " + shlex.join(sys.argv[1:] if argv is None else argv)
    out: dict[str, Any] = {
        "benchmark": "replicas",
        "command": command.strip(),
        "machine": machine_facts(),
        "versions": versions(),
    }
    with tempfile.TemporaryDirectory(prefix="bench-replicas-") as tmp:
        bench = ReplicaBench(args, Path(tmp))
        out["config"] = {
            "setups": {s: SETUPS[s] for s in args.setups},
            "procfile": "Procfile.cluster",
            "uvicorn_options": bench.options,
            "procfile_env": {name: replica_command(name)[0] for name in REPLICAS},
            "app_under_test": app_facts({**bench.procfile_env, **bench.app_env}),
            "nginx_conf": "deploy/nginx/nginx.conf",
            "nginx_workers": args.nginx_workers or "as in the config",
            "server_cpus": sorted(bench.server_cpus) or "any",
            "swarm_cpus": sorted(bench.swarm_cpus) or "any",
            "seconds": args.seconds,
            "grace_s": args.grace,
            "extra_share": args.extra_share,
            "intervals_s": bench.intervals,
            "p99_target_ms": P99_TARGET_MS,
        }
        steps: list[dict[str, Any]] = []
        for i, n in enumerate(args.steps):
            need = setup_seconds(n, args) * len(args.setups) * args.rounds
            if time.monotonic() - began + need > args.budget:
                log.warning(
                    "skipping %d clients: the %.0f s budget would be exceeded", n, args.budget
                )
                steps.append({"clients": n, "skipped": "time budget"})
                continue
            ran_before = [s for s in steps if "skipped" not in s]  # better rounds, as capacity
            if (
                ran_before
                and not args.keep_climbing
                and not any(ran_before[-1][s]["held_ok"] for s in args.setups)
            ):
                steps.append({"clients": n, "skipped": "no setup held the step before"})
                continue
            steps.append(bench.step(n, args.seconds, app_first=i % 2 == 0))
        out["steps"] = steps
    summarize_staircase(out, args.setups)
    out["loadavg_at_end"] = list(os.getloadavg())
    out["elapsed_s"] = round(time.monotonic() - began, 1)
    write_json(args.json, out)
    return out


if __name__ == "__main__":
    os.chdir(ROOT)
    with contextlib.suppress(KeyboardInterrupt):
        main()
