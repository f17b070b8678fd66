"""The stream listener: backoff schedule, buffers, reconnect against a real server, no Streamlit."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from bench.harness import free_port
from console.listener import (
    Backoff,
    LinkState,
    ListenerView,
    StreamListener,
    StreamStatus,
    to_point,
)
from tests.api.support import wait_until

from .wsserver import StreamServer

ROOT = Path(__file__).resolve().parents[2]


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    wait_until(condition, timeout, "the listener's condition", interval=0.02)


class RecordingBackoff(Backoff):
    """The contract's schedule scaled down 100x, recording every delay asked for."""

    log: list[float | str] = []

    def __init__(self) -> None:
        super().__init__(initial=0.01, maximum=0.3)

    def next(self) -> float:
        delay = super().next()
        self.log.append(round(delay * 100, 3))
        return delay

    def reset(self) -> None:
        self.log.append("reset")
        super().reset()


def test_backoff_doubles_from_one_second_to_at_most_thirty_and_resets() -> None:
    backoff = Backoff()
    assert [backoff.next() for _ in range(8)] == [1, 2, 4, 8, 16, 30, 30, 30]
    backoff.reset()
    assert backoff.next() == 1


def test_point_buffer_and_event_buffer_are_bounded() -> None:
    listener = StreamListener("http://x:1", max_points=5, max_events=3)
    for i in range(20):
        listener.handle(
            "metrics",
            json.dumps(
                {
                    "type": "metrics_update",
                    "timestamp": f"2026-11-28T10:00:{i:02d}Z",
                    "data": {"total_revenue": i},
                }
            ),
        )
        listener.handle("live", json.dumps({"type": "agent_intervention", "agent_id": "a", "n": i}))
    view = listener.view()
    assert [p.values["total_revenue"] for p in view.points] == [15, 16, 17, 18, 19]
    assert [e["n"] for e in view.events] == [17, 18, 19]


def test_messages_are_filed_by_type_and_garbage_is_ignored() -> None:
    listener = StreamListener("https://backend.example:8443")
    assert (
        listener.urls["metrics"] == "wss://backend.example:8443/api/dashboard/ws/metrics/real-time"
    )
    listener.handle("live", "not json {")
    listener.handle("live", json.dumps([1, 2]))
    listener.handle(
        "live",
        json.dumps(
            {"type": "metrics_update", "seq": 4, "tick": 9, "data": {"active_alerts_count": 2}}
        ),
    )
    listener.handle("live", json.dumps({"type": "system_event", "message": "promotion started"}))
    listener.handle(
        "live",
        json.dumps(
            {
                "type": "metrics_update",
                "seq": 5,
                "tick": 9.5,
                "data": {"day": 7, "active_alerts_count": 2},
            }
        ),
    )
    listener.handle(
        "metrics",
        json.dumps(
            {
                "type": "metrics_stream",
                "timestamp": "2026-11-28T10:00:00Z",
                "tick": 1234.5,
                "seq": 1,
                "data": {"total_profit": 5.5},
            }
        ),
    )
    view = listener.view()
    assert view.live == {"day": 7, "active_alerts_count": 2}
    assert [e["type"] for e in view.events] == ["system_event"]
    # the stream does not say which sim day a point belongs to, so the point does not claim one
    assert view.points[0].values["total_profit"] == 5.5 and view.points[0].day is None
    assert view.points[0].values["response_time_avg"] is None  # absent stays unknown


def test_history_refill_merges_flat_and_nested_rows_without_duplicates() -> None:
    rows = [
        {"timestamp": "2026-11-28T10:00:00Z", "total_revenue": 1.0, "baseline_expired_units": 4},
        {"timestamp": "2026-11-28T10:00:02Z", "system_metrics": {"total_revenue": 2.0}},
        {"no": "timestamp"},
    ]
    listener = StreamListener("http://x:1", history_loader=lambda: rows)
    listener.handle(
        "metrics",
        json.dumps(
            {
                "type": "metrics_update",
                "timestamp": "2026-11-28T10:00:02Z",
                "data": {"total_revenue": 2.0},
            }
        ),
    )
    listener.handle(
        "metrics",
        json.dumps(
            {
                "type": "metrics_update",
                "timestamp": "2026-11-28T10:00:04Z",
                "data": {"total_revenue": 3.0},
            }
        ),
    )
    listener.refill_history()
    view = listener.view()
    assert [p.values["total_revenue"] for p in view.points] == [1.0, 2.0, 3.0]
    assert view.points[0].extra["baseline_expired_units"] == 4
    assert view.history_fills == 1


def test_a_gap_in_the_metric_sequence_asks_for_a_refill() -> None:
    listener = StreamListener("http://x:1")
    for seq in (1, 2):
        listener.handle(
            "metrics",
            json.dumps(
                {
                    "type": "metrics_update",
                    "seq": seq,
                    "timestamp": f"2026-11-28T10:00:0{seq}Z",
                    "data": {},
                }
            ),
        )
    assert not listener._gap
    listener.handle(
        "metrics",
        json.dumps(
            {"type": "metrics_update", "seq": 5, "timestamp": "2026-11-28T10:00:05Z", "data": {}}
        ),
    )
    assert listener._gap


def test_a_failing_history_loader_leaves_the_buffer_alone() -> None:
    def broken() -> list[dict]:
        raise RuntimeError("backend 500")

    listener = StreamListener("http://x:1", history_loader=broken)
    listener.handle(
        "metrics",
        json.dumps(
            {
                "type": "metrics_update",
                "timestamp": "2026-11-28T10:00:00Z",
                "data": {"total_revenue": 1.0},
            }
        ),
    )
    listener.refill_history()
    assert len(listener.view().points) == 1


def test_badge_reads_live_reconnecting_and_unreachable_with_message_age() -> None:
    now = 1_000.0
    live = {
        n: StreamStatus(n, LinkState.LIVE, last_message_at=now - 3) for n in ("metrics", "live")
    }
    assert ListenerView([], None, [], live).badge(now).text == "Live · last message 3 s ago"
    waiting = dict(
        live,
        live=StreamStatus(
            "live", LinkState.RECONNECTING, last_message_at=now - 70, next_retry_at=now + 4
        ),
    )
    badge = ListenerView([], None, [], waiting).badge(now)
    assert (badge.kind, badge.text) == (
        "reconnecting",
        "Reconnecting in 4 s · last message 3 s ago",
    )
    down = {
        n: StreamStatus(n, LinkState.UNREACHABLE, next_retry_at=now + 16)
        for n in ("metrics", "live")
    }
    badge = ListenerView([], None, [], down).badge(now)
    assert (badge.kind, badge.text) == (
        "unreachable",
        "Backend unreachable · retrying in 16 s · no message yet",
    )


def test_to_point_needs_a_timestamp() -> None:
    assert to_point({"total_revenue": 1}) is None
    assert to_point({"total_revenue": 1}, "2026-11-28T10:00:00Z") is not None


def test_listener_follows_the_backoff_schedule_and_reconnects_to_a_real_server() -> None:
    RecordingBackoff.log = []
    fills: list[int] = []
    port = free_port()
    listener = StreamListener(
        f"http://127.0.0.1:{port}",
        connect_timeout=1.0,
        history_loader=lambda: fills.append(1) or [],
        backoff_factory=RecordingBackoff,
    ).start()
    try:
        # no server yet: both streams fail and back off 1, 2, 4, ... (scaled)
        wait_for(lambda: all(s.failures >= 4 for s in listener.view().streams.values()))
        assert listener.view().streams["metrics"].state is LinkState.UNREACHABLE
        failures = [d for d in RecordingBackoff.log if d != "reset"]
        assert sorted(failures)[:8] == [1, 1, 2, 2, 4, 4, 8, 8]

        server = StreamServer(port).start()
        wait_for(lambda: all(s.state is LinkState.LIVE for s in listener.view().streams.values()))
        wait_for(lambda: len(listener.view().points) >= 3 and listener.view().live is not None)
        assert all(s.failures == 0 for s in listener.view().streams.values())
        assert "reset" in RecordingBackoff.log
        assert len(fills) == 1  # history filled on the metric stream's first connect

        RecordingBackoff.log = []
        server.drop_clients()
        wait_for(lambda: all(s.connects == 2 for s in listener.view().streams.values()))
        assert RecordingBackoff.log[0] == 1  # the first retry after a good connection waits 1 s
        wait_for(lambda: len(fills) == 2)  # refilled from history after the reconnect
        count = len(listener.view().points)
        wait_for(lambda: len(listener.view().points) > count)  # and streaming again
        server.stop()
    finally:
        listener.stop()
    assert not listener.running
    assert all(s.state is LinkState.STOPPED for s in listener.view().streams.values())


def test_listener_and_client_modules_never_import_streamlit() -> None:
    for name in ("listener.py", "client.py"):
        tree = ast.parse((ROOT / "console" / name).read_text())
        imported = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        imported += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        assert not [m for m in imported if m.split(".")[0] == "streamlit"], name


def test_listener_threads_run_with_streamlit_unimportable() -> None:
    code = """
import sys, time
sys.modules["streamlit"] = None  # any import of streamlit now raises ImportError
from tests.console.wsserver import StreamServer
from console.listener import StreamListener
server = StreamServer().start()
listener = StreamListener(f"http://127.0.0.1:{server.port}").start()
deadline = time.monotonic() + 10
while len(listener.view().points) < 3 and time.monotonic() < deadline:
    time.sleep(0.05)
listener.stop(); server.stop()
print(len(listener.view().points), sorted(m for m in sys.modules if m.startswith("streamlit")))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    count, modules = out.stdout.split(" ", 1)
    assert int(count) >= 3
    assert modules.strip() == "['streamlit']"  # only our blocking sentinel, nothing imported
