"""The fan-out reference: a bare `websockets` server broadcasting the app's payloads at its cadence.

Run as `python -m bench.wsref --port P --spec FILE`. FILE is JSON: {"streams": {path: {"interval": s,
"initial": message, "periodic": message}}}; `path` may contain `{agent_id}`. Every periodic
message is re-stamped with this server's `seq` and `tick` (time.monotonic() of the scheduled tick)
where the app's message carries them, serialised once and sent with `broadcast()`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import time
from pathlib import Path
from typing import Any

import orjson
from websockets.asyncio.server import ServerConnection, broadcast, serve

log = logging.getLogger(__name__)

AGENT_IDS = ("pricing_agent", "inventory_agent", "promotion_agent")


def stamp(message: dict[str, Any], seq: int, tick: float) -> dict[str, Any]:
    """A copy of message with seq and tick set where the app puts them (top level or in data)."""
    out = dict(message)
    data = out.get("data")
    if "tick" not in out and isinstance(data, dict) and "tick" in data:
        out["data"] = {**data, "seq": seq, "tick": tick}
    else:
        out["seq"], out["tick"] = seq, tick
    return out


def expand(streams: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """One entry per concrete path (an agent template becomes one stream per agent id)."""
    out: dict[str, dict[str, Any]] = {}
    for path, spec in streams.items():
        if "{agent_id}" in path:
            for agent_id in AGENT_IDS:
                out[path.replace("{agent_id}", agent_id)] = spec
        else:
            out[path] = spec
    return out


class Reference:
    """Subscriber sets per path and one ticker per path; nothing else."""

    def __init__(self, streams: dict[str, dict[str, Any]]) -> None:
        self.streams = streams
        self.subscribers: dict[str, set[ServerConnection]] = {p: set() for p in streams}
        self.initial = {p: orjson.dumps(s["initial"]) for p, s in streams.items()}

    async def handler(self, ws: ServerConnection) -> None:
        path = ws.request.path if ws.request is not None else ""
        if path not in self.subscribers:
            await ws.close(4004, f"unknown path {path!r}")
            return
        await ws.send(self.initial[path], text=True)
        self.subscribers[path].add(ws)
        try:
            async for _ in ws:  # read and drop whatever the client sends
                pass
        finally:
            self.subscribers[path].discard(ws)

    async def ticker(self, path: str) -> None:
        interval = float(self.streams[path]["interval"])
        periodic = self.streams[path]["periodic"]
        start, k = time.monotonic(), 0
        while True:
            k += 1
            tick = start + k * interval
            # the loop may wake a fraction of a millisecond early: never send before the tick
            while (delay := tick - time.monotonic()) > 0:
                await asyncio.sleep(delay)
            broadcast(self.subscribers[path], orjson.dumps(stamp(periodic, k, tick)), text=True)


async def serve_reference(
    port: int,
    spec: dict[str, Any],
    ping_interval: float | None = 20.0,
    ping_timeout: float | None = 20.0,
    max_size: int | None = 2**20,
) -> None:
    reference = Reference(expand(spec["streams"]))
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(
            sig, lambda: stop.done() or stop.set_result(None)
        )
    async with serve(
        reference.handler,
        "127.0.0.1",
        port,
        compression=None,
        backlog=2048,
        ping_interval=ping_interval,
        ping_timeout=ping_timeout,
        max_size=max_size,
    ):
        tickers = [asyncio.create_task(reference.ticker(p)) for p in reference.streams]
        await stop
        for task in tickers:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*tickers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--spec", type=Path, required=True)
    parser.add_argument(
        "--ping-interval", type=float, default=20.0, help="as the app's uvicorn sets it"
    )
    parser.add_argument("--ping-timeout", type=float, default=20.0)
    parser.add_argument("--max-size", type=int, default=2**20, help="largest frame accepted, bytes")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    spec = json.loads(args.spec.read_text())
    try:
        import uvloop  # the loop uvicorn picks for the app, so the comparison is like for like
    except ImportError:
        run = asyncio.run
    else:
        run = uvloop.run
    run(serve_reference(args.port, spec, args.ping_interval, args.ping_timeout, args.max_size))


if __name__ == "__main__":
    main()
