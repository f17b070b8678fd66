"""REST benchmark: the app's dashboard reads against a bare Starlette endpoint of the same bytes.

`python -m bench.rest` loads /api/dashboard/metrics/current and /api/dashboard/decisions/recent
with 64 keep-alive connections (wrk if installed, else bench.loadgen) against three servers under
the same uvicorn options, one at a time: the app; `create_reference_app`, bare Starlette routes
sending the very bytes captured from the app (the app encodes these reads once per change of the
store, so the reference does no more and no less); and `create_validated_app`, the app with every
read through FastAPI's route, validation and encoding. Reports requests/s, p50/p99 latency and
the ratios to the reference.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench.harness import (
    ServerProcess,
    app_env,
    app_facts,
    app_server,
    cpu_seconds,
    free_port,
    machine_facts,
    paused,
    ratio,
    running,
    uvicorn_argv,
    uvicorn_options,
    versions,
    write_json,
)
from bench.loadgen import run_load

log = logging.getLogger(__name__)

ENDPOINTS = {
    "metrics_current": "/api/dashboard/metrics/current",
    "decisions_recent": "/api/dashboard/decisions/recent",
}
PAYLOADS_ENV = "BENCH_REST_PAYLOADS"
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def create_reference_app() -> Any:
    """The reference: bare Starlette routes at the same paths sending the app's captured bytes,
    as the app does (its reads are encoded once per change of the store, not per request)."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    path = os.environ.get(PAYLOADS_ENV)
    if not path:
        raise RuntimeError(
            f"{PAYLOADS_ENV}: expected the path of the captured payloads, got nothing"
        )
    payloads: dict[str, str] = json.loads(Path(path).read_text())

    def endpoint(body: bytes) -> Any:
        async def handler(request: Request) -> Response:
            return Response(body, media_type="application/json")

        return handler

    return Starlette(routes=[Route(p, endpoint(b.encode())) for p, b in payloads.items()])


def create_validated_app() -> Any:
    """The app with every read through FastAPI's routing, validation and encoding (the path
    that errors and unusual queries take), for comparison beside the app's own."""
    from backend.api.app import create_app

    app = create_app()
    app.fast_reads = False  # type: ignore[attr-defined]
    return app


def fetch(port: int, path: str, timeout: float = 5.0) -> bytes:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as response:
        return response.read()


def capture(port: int, wait: float = 60.0) -> dict[str, Any]:
    """The app's bodies, once the store has traded long enough to have made decisions."""
    deadline = time.monotonic() + wait
    while True:
        with contextlib.suppress(OSError, ValueError):
            bodies = {p: fetch(port, p).decode() for p in ENDPOINTS.values()}
            if json.loads(bodies[ENDPOINTS["decisions_recent"]]):
                return bodies
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"{ENDPOINTS['decisions_recent']}: expected decisions within {wait:.0f} s "
                "of the app starting, got none"
            )
        time.sleep(0.5)


def to_ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not m:
        raise ValueError(f"wrk latency: expected a number with us/ms/s/m, got {text!r}")
    return float(m.group(1)) * UNITS[m.group(2)]


def parse_wrk(output: str) -> dict[str, Any]:
    """requests/s, p50/p99 (ms), requests and errors from `wrk --latency` output."""

    def grab(pattern: str) -> re.Match[str]:
        m = re.search(pattern, output)
        if m is None:
            raise ValueError(f"wrk output: expected a line matching {pattern!r}, got:\n{output}")
        return m

    errors = 0
    if m := re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    ):
        errors = sum(int(x) for x in m.groups())
    non_2xx = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", output)) else 0
    total = grab(r"(\d+) requests in ([\d.]+\w+)")
    return {
        "rps": float(grab(r"Requests/sec:\s+([\d.]+)").group(1)),
        "p50_ms": round(to_ms(grab(r"\n\s+50%\s+(\S+)").group(1)), 3),
        "p99_ms": round(to_ms(grab(r"\n\s+99%\s+(\S+)").group(1)), 3),
        "requests": int(total.group(1)),
        "errors": errors,
        "non_2xx": non_2xx,
    }


def run_wrk(
    url: str, connections: int, seconds: float, threads: int, origin: str | None = None
) -> dict[str, Any]:
    argv = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--latency",
        *(["-H", f"Origin: {origin}"] if origin else []),
        url,
    ]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    if done.returncode != 0:
        raise RuntimeError(f"wrk exited with {done.returncode}: {done.stderr.strip()}")
    return parse_wrk(done.stdout)


def measure(srv: ServerProcess, path: str, args: argparse.Namespace) -> dict[str, Any]:
    url = f"http://127.0.0.1:{srv.port}{path}"
    if args.tool == "wrk":
        run_wrk(url, args.connections, args.warmup, args.threads, args.origin)
    else:
        run_load(
            url,
            args.connections,
            max(args.connections, args.requests // 10),
            None,
            args.processes,
            args.origin,
        )
    profiler = None
    if args.profile is not None:  # py-spy over the measured seconds, as collapsed stacks
        args.profile.mkdir(parents=True, exist_ok=True)
        name = path.strip("/").replace("/", "_")
        profiler = subprocess.Popen(
            [
                "py-spy",
                "record",
                "--pid",
                str(srv.pid),
                "--duration",
                str(max(1, int(args.seconds))),
                "--rate",
                "200",
                "--format",
                "raw",
                "--nonblocking",
                "--output",
                str(args.profile / f"rest-{srv.name}-{name}.txt"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    cpu0 = cpu_seconds(srv.pid)
    if args.tool == "wrk":
        out = run_wrk(url, args.connections, args.seconds, args.threads, args.origin)
    else:
        out = run_load(
            url, args.connections, args.requests, args.seconds, args.processes, args.origin
        )
    cpu = cpu_seconds(srv.pid) - cpu0
    if profiler is not None:
        profiler.wait(timeout=60)
    out["server_cpu_us_per_req"] = (
        round(cpu * 1e6 / out["requests"], 1) if out["requests"] else None
    )
    log.info(
        "%s %s: %s req/s p50 %s ms p99 %s ms",
        srv.name,
        path,
        out["rps"],
        out["p50_ms"],
        out["p99_ms"],
    )
    return out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--connections", type=int, default=64)
    p.add_argument(
        "--seconds", type=float, default=10.0, help="measured seconds per endpoint and side"
    )
    p.add_argument("--warmup", type=float, default=2.0, help="seconds of load before measuring")
    p.add_argument(
        "--tool",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="wrk (Debian's package) or the bench.loadgen processes; auto prefers wrk",
    )
    p.add_argument(
        "--threads", type=int, default=1, help="wrk threads (one leaves a core to the server)"
    )
    p.add_argument(
        "--requests",
        type=int,
        default=0,
        help="python tool: stop after this many requests instead of --seconds",
    )
    p.add_argument("--processes", type=int, default=2, help="python tool: load processes")
    p.add_argument(
        "--origin",
        help="send this Origin header with every request (a browser on another origin; the "
        "app's CORS policy allows it by default for http://localhost:3000)",
    )
    p.add_argument(
        "--profile", type=Path, help="py-spy each server while it is measured, into this folder"
    )
    p.add_argument("--json", type=Path, help="write the result here (default: stdout)")
    args = p.parse_args(argv)
    if args.connections < 1 or args.seconds <= 0:
        p.error(
            f"--connections and --seconds: expected positive values, got {args.connections} "
            f"and {args.seconds}"
        )
    if args.tool == "auto":
        args.tool = "wrk" if shutil.which("wrk") else "python"
    if args.tool == "wrk" and args.requests:
        p.error("--requests: expected only with --tool python (wrk runs for --seconds)")
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    began = time.monotonic()
    out: dict[str, Any] = {
        "benchmark": "rest",
        "machine": machine_facts(),
        "versions": versions(),
        "config": {
            "connections": args.connections,
            "seconds": args.seconds,
            "tool": args.tool,
            "requests": args.requests or None,
            "origin": args.origin,
            "uvicorn_options": uvicorn_options(),
            "app_under_test": app_facts(),
            "reference": "bench.rest:create_reference_app (bare Starlette, the app's bytes)",
            "app_fastapi_path": "bench.rest:create_validated_app (fast_reads off)",
        },
    }
    with tempfile.TemporaryDirectory(prefix="bench-rest-") as tmp:
        workdir = Path(tmp)
        results: dict[str, dict[str, Any]] = {"app": {}, "reference": {}, "app_fastapi_path": {}}
        with running(app_server(workdir)) as app:
            bodies = capture(app.port)
            payload_file = workdir / "payloads.json"
            payload_file.write_text(json.dumps(bodies))
            out["config"]["payload_bytes"] = {
                k: len(bodies[p].encode()) for k, p in ENDPOINTS.items()
            }
            ref_port = free_port()
            ref = ServerProcess(
                uvicorn_argv("bench.rest:create_reference_app", ref_port),
                ref_port,
                {PAYLOADS_ENV: str(payload_file)},
                "reference",
            )
            v_port = free_port()
            validated = ServerProcess(
                uvicorn_argv("bench.rest:create_validated_app", v_port),
                v_port,
                app_env(workdir / "validated"),
                "app_fastapi_path",
            )
            with running(ref), running(validated):
                servers = ((app, "app"), (ref, "reference"), (validated, "app_fastapi_path"))
                for i, (name, path) in enumerate(ENDPOINTS.items()):
                    for srv, side in servers if i % 2 == 0 else servers[::-1]:
                        # the other sides' stores keep trading: freeze them meanwhile
                        others = [s for s, _ in servers if s is not srv and s is not ref]
                        with contextlib.ExitStack() as stack:
                            for other in others:
                                stack.enter_context(paused(other))
                            results[side][name] = measure(srv, path, args)
    out.update(results)
    out["ratio"] = {
        name: {
            "rps": ratio(results["app"][name]["rps"], results["reference"][name]["rps"]),
            "p50_ms": ratio(results["app"][name]["p50_ms"], results["reference"][name]["p50_ms"]),
            "p99_ms": ratio(results["app"][name]["p99_ms"], results["reference"][name]["p99_ms"]),
        }
        for name in ENDPOINTS
    }
    out["ratio_fastapi_path"] = {
        name: {
            "rps": ratio(
                results["app_fastapi_path"][name]["rps"], results["reference"][name]["rps"]
            ),
            "p99_ms": ratio(
                results["app_fastapi_path"][name]["p99_ms"], results["reference"][name]["p99_ms"]
            ),
        }
        for name in ENDPOINTS
    }
    out["elapsed_s"] = round(time.monotonic() - began, 1)
    write_json(args.json, out)
    return out


if __name__ == "__main__":
    main()
