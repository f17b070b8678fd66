"""A small real websockets server speaking the two dashboard streams, for listener tests."""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import UTC, datetime, timedelta

from websockets.asyncio.server import ServerConnection, serve

from bench.harness import free_port


class StreamServer:
    """Serves metrics_stream/metrics_update and connection_established/metrics_update quickly."""

    def __init__(self, port: int | None = None, interval: float = 0.05) -> None:
        self.port = port or free_port()
        self.interval = interval
        self.connections: list[ServerConnection] = []
        self.accepted = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._tick = 0

    async def _handler(self, ws: ServerConnection) -> None:
        self.accepted += 1
        self.connections.append(ws)
        path = ws.request.path if ws.request else ""
        base = datetime(2026, 11, 28, tzinfo=UTC)
        seq = 0  # per connection, as the backend numbers each stream
        try:
            if path.endswith("/ws/live-updates"):
                await ws.send(json.dumps({"type": "connection_established", "message": "hi"}))
            while True:
                self._tick += 1
                seq += 1
                stamp = (base + timedelta(seconds=self._tick)).isoformat()
                data = {"total_revenue": float(self._tick), "response_time_avg": None}
                if path.endswith("/ws/live-updates"):
                    msg = {
                        "type": "metrics_update",
                        "timestamp": stamp,
                        "seq": seq,
                        "data": {
                            "timestamp": stamp,
                            "system_metrics": data,
                            "agent_statuses": [],
                            "active_alerts_count": 0,
                            "recent_decisions_count": 0,
                        },
                    }
                else:
                    msg = {
                        "type": "metrics_update" if self._tick > 1 else "metrics_stream",
                        "timestamp": stamp,
                        "tick": float(self._tick),
                        "seq": seq,
                        "data": data,
                    }
                await ws.send(json.dumps(msg))
                await asyncio.sleep(self.interval)
        except Exception:  # the client went away or we dropped it
            pass
        finally:
            self.connections.remove(ws)

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        async with serve(self._handler, "127.0.0.1", self.port):
            self._ready.set()
            await self._stop.wait()

    def start(self) -> StreamServer:
        self._ready.clear()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_until_complete, args=(self._main(),), daemon=True
        )
        self._thread.start()
        assert self._ready.wait(5), "test server did not start"
        return self

    def drop_clients(self) -> None:
        """Close every client connection abruptly (as a restarting backend would)."""
        assert self._loop is not None
        for ws in list(self.connections):
            self._loop.call_soon_threadsafe(ws.transport.abort)

    def stop(self) -> None:
        if self._loop and self._stop:
            self._loop.call_soon_threadsafe(self._stop.set)
            self.drop_clients()
        if self._thread:
            self._thread.join(5)
