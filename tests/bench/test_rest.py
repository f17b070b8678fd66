"""The REST benchmark still runs end to end at a tiny size, and wrk's output is read right."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.harness import ROOT
from bench.rest import ENDPOINTS, parse_wrk, to_ms

WRK_OUTPUT = """Running 10s test @ http://127.0.0.1:8000/api/dashboard/metrics/current
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    15.12ms    3.23ms   1.20s    80.00%
    Req/Sec     4.20k   300.00     5.00k    70.00%
  Latency Distribution
     50%   14.90ms
     75%   16.50ms
     90%   18.50ms
     99%    1.02s
  42000 requests in 10.00s, 50.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 5
Requests/sec:   4199.50
Transfer/sec:      5.00MB
"""


def test_wrk_output_gives_rate_percentiles_in_ms_and_errors() -> None:
    out = parse_wrk(WRK_OUTPUT)
    assert out == {
        "rps": 4199.5,
        "p50_ms": 14.9,
        "p99_ms": 1020.0,
        "requests": 42000,
        "errors": 3,
        "non_2xx": 5,
    }


def test_wrk_latency_without_a_unit_is_refused_with_what_was_expected() -> None:
    assert to_ms("850us") == pytest.approx(0.85)
    with pytest.raises(ValueError, match="expected a number with us/ms/s/m"):
        to_ms("12 parsecs")


def test_rest_benchmark_writes_both_sides_with_sane_figures(tmp_path: Path) -> None:
    out_path = tmp_path / "rest.json"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.rest",
            "--tool",
            "python",
            "--requests",
            "200",
            "--connections",
            "8",
            "--json",
            str(out_path),
        ],
        cwd=ROOT,
        check=True,
        timeout=300,
        capture_output=True,
    )
    result = json.loads(out_path.read_text())
    assert result["config"]["payload_bytes"]["decisions_recent"] > 2  # not an empty list
    assert result["config"]["app_under_test"]["log_level"] == "INFO"  # the Procfile's default
    for side in ("app", "reference", "app_fastapi_path"):
        for name in ENDPOINTS:
            figures = result[side][name]
            assert figures["requests"] == 200
            assert figures["errors"] == 0 and figures["non_2xx"] == 0
            assert figures["rps"] > 0
            assert 0 < figures["p50_ms"] <= figures["p99_ms"]
    for name in ENDPOINTS:
        assert set(result["ratio"][name]) == {"rps", "p50_ms", "p99_ms"}
        assert result["ratio"][name]["rps"] > 0
        assert result["ratio_fastapi_path"][name]["rps"] > 0


def test_the_python_load_generator_sends_the_origin_it_is_given() -> None:
    from bench.loadgen import _process

    heads: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                heads.append(await reader.readuntil(b"\r\n\r\n"))
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
                await writer.drain()

    async def run(origin: str | None) -> dict:
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            return await _process(f"http://127.0.0.1:{port}/x", 2, 6, None, origin)

    out = asyncio.run(run("http://localhost:3000"))
    assert out["ok"] == 6 and len(heads) == 6
    assert all(b"\r\nOrigin: http://localhost:3000\r\n" in h for h in heads)
    heads.clear()
    asyncio.run(run(None))
    assert len(heads) == 6 and not any(b"Origin:" in h for h in heads)
