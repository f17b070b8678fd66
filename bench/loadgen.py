"""A small HTTP/1.1 keep-alive load generator (asyncio, several processes) for when wrk is absent."""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import time
from typing import Any
from urllib.parse import urlsplit

from bench.harness import percentile


async def _connection(
    host: str,
    port: int,
    request: bytes,
    quota: list[int],
    deadline: float | None,
    latencies: list[float],
    counts: dict[str, int],
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while (deadline is None or time.monotonic() < deadline) and quota[0] != 0:
            quota[0] -= 1
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = None
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if length is None:
                raise RuntimeError(f"response: expected a Content-Length header, got {head!r}")
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            counts["non_2xx" if not 200 <= status < 300 else "ok"] += 1
    except (OSError, asyncio.IncompleteReadError, ValueError):
        counts["errors"] += 1
    finally:
        writer.close()


async def _process(
    url: str, connections: int, requests: int, seconds: float | None, origin: str | None = None
) -> dict[str, Any]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    extra = f"Origin: {origin}\r\n" if origin else ""
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: application/json\r\n{extra}\r\n"
    ).encode()
    quota = [requests if requests > 0 else -1]  # -1: no request limit, the deadline decides
    latencies: list[float] = []
    counts = {"ok": 0, "non_2xx": 0, "errors": 0}
    started = time.monotonic()
    deadline = started + seconds if seconds else None
    await asyncio.gather(
        *(
            _connection(host, port, request, quota, deadline, latencies, counts)
            for _ in range(connections)
        )
    )
    return {"latencies": latencies, "elapsed": time.monotonic() - started, **counts}


def _worker(args: tuple[str, int, int, float | None, str | None]) -> dict[str, Any]:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(_process(*args))
    return uvloop.run(_process(*args))


def run_load(
    url: str,
    connections: int,
    requests: int,
    seconds: float | None,
    processes: int = 2,
    origin: str | None = None,
) -> dict[str, Any]:
    """Keep `connections` busy until `requests` are done (or `seconds` pass when requests is 0);
    with `origin`, every request carries that Origin header (a browser on another origin)."""
    if requests <= 0 and not seconds:
        raise ValueError("run_load: expected a request count or a duration, got neither")
    processes = max(1, min(processes, connections))
    shares = [connections // processes + (k < connections % processes) for k in range(processes)]
    quotas = (
        [requests // processes + (k < requests % processes) for k in range(processes)]
        if requests > 0
        else [0] * processes
    )
    jobs = [(url, c, q, None if requests > 0 else seconds, origin) for c, q in zip(shares, quotas)]
    with mp.get_context("spawn").Pool(processes) as pool:
        parts = pool.map(_worker, jobs)
    latencies = sorted(x for p in parts for x in p["latencies"])
    elapsed = max(p["elapsed"] for p in parts)
    return {
        "rps": round(len(latencies) / elapsed, 1) if elapsed > 0 else 0.0,
        "p50_ms": round(percentile(latencies, 50) * 1e3, 3) if latencies else None,
        "p99_ms": round(percentile(latencies, 99) * 1e3, 3) if latencies else None,
        "requests": len(latencies),
        "errors": sum(p["errors"] for p in parts),
        "non_2xx": sum(p["non_2xx"] for p in parts),
    }
