"""The fan-out benchmark still runs end to end at a tiny size, and its loss accounting is right."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.fanout import PATHS, PER_ADDRESS, Bench, parse_args
from bench.fanstats import capacity, capacity_estimate, summarize
from bench.harness import ROOT

FIELDS = (
    "p50_ms",
    "p99_ms",
    "max_ms",
    "lost",
    "unexpected_closes",
    "rss_kib_per_conn",
    "cpu_us_per_msg",
    "clients_held",
)


def conn(
    client: int,
    seqs: list[int],
    *,
    path: str = PATHS["metrics"],
    stalled: bool = False,
    closed: bool = False,
) -> dict:
    return {
        "client": client,
        "path": path,
        "stalled": stalled,
        "connected": True,
        "error": "",
        "closed": closed,
        "close_code": 1013 if closed else None,
        "seqs": seqs,
        "delays": [0.001 * s for s in seqs],
        "duplicates": 0,
    }


SERVER = {
    "rss_base": 1000,
    "rss0": 1300,
    "rss1": 1300,
    "rss_max": 1300,
    "t0": 0.0,
    "t1": 10.0,
    "cpu0": 1.0,
    "cpu1": 1.5,
    "connect_s": 1.0,
}


def test_summary_counts_a_message_missed_by_one_client_as_lost_and_ignores_stalled_clients() -> (
    None
):
    conns = [conn(0, [1, 2, 3]), conn(1, [1, 3]), conn(2, [], stalled=True)]
    out = summarize(3, conns, SERVER)
    assert out["lost"] == 1
    assert out["messages"] == 5 and out["expected_messages"] == 6
    assert out["stalled"]["connections"] == 1
    assert out["rss_kib_per_conn"] == 100.0  # 300 KiB over the three held connections
    assert out["cpu_us_per_msg"] == 1e5  # 0.5 s of server CPU over five messages
    assert not out["held_ok"]


def test_summary_counts_a_server_close_as_unexpected_and_the_client_as_not_held() -> None:
    out = summarize(2, [conn(0, [1, 2]), conn(1, [1], closed=True)], SERVER)
    assert out["unexpected_closes"] == 1 and out["close_codes"] == {"1013": 1}
    assert out["clients_held"] == 1 and out["lost"] == 1


def test_plan_keeps_every_source_address_under_the_per_address_cap_and_stalls_the_share() -> None:
    bench = Bench(parse_args([]), Path("/tmp"))
    conns = bench.plan(1000, stalled_share=0.01)
    per_address: dict[str, int] = {}
    for c in conns:
        per_address[c.address] = per_address.get(c.address, 0) + 1
    assert max(per_address.values()) <= PER_ADDRESS
    assert all(a.startswith("127.") and a != "127.0.0.1" for a in per_address)
    assert sum(c.path == PATHS["metrics"] for c in conns) == 1000
    assert len(conns) == 1200
    assert len({c.client for c in conns if c.stalled}) == 10
    assert not set(per_address) & {c.address for c in bench.plan(10, 0.0)}  # fresh addresses


def test_fanout_step_writes_both_sides_with_sane_figures(tmp_path: Path) -> None:
    out_path = tmp_path / "fanout.json"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.fanout",
            "--clients",
            "20",
            "--seconds",
            "2",
            "--grace",
            "1",
            "--warmup",
            "1",
            "--metrics-interval",
            "0.5",
            "--live-interval",
            "1",
            "--agent-interval",
            "1",
            "--json",
            str(out_path),
        ],
        cwd=ROOT,
        check=True,
        timeout=180,
        capture_output=True,
    )
    result = json.loads(out_path.read_text())
    assert result["machine"]["nproc"] >= 1 and result["versions"]["websockets"]
    for side in ("app", "reference"):
        figures = result[side]
        assert set(FIELDS) <= set(figures)
        assert figures["clients"] == 20 and figures["connections"] == 24
        assert 0 <= figures["clients_held"] <= 20
        assert figures["messages"] > 0
        assert figures["messages"] + figures["lost"] == figures["expected_messages"]
        assert 0 <= figures["min_ms"] <= figures["p50_ms"] <= figures["p99_ms"] <= figures["max_ms"]
        assert figures["cpu_us_per_msg"] >= 0 and figures["rss_kib_per_conn"] is not None
        assert set(figures["per_stream"]) == {"metrics", "live", "agent"}
    assert set(result["ratio"]) >= {"p50_ms", "p99_ms", "rss_kib_per_conn", "cpu_us_per_msg"}


def test_capacity_is_the_largest_step_held_and_the_estimate_lies_before_the_first_failure() -> None:
    steps = [
        {"clients": n, "app": {"held_ok": p <= 100, "p99_ms": p}}
        for n, p in ((1000, 50.0), (2000, 90.0), (5000, 190.0))
    ]
    assert capacity(steps, "app") == 2000
    assert capacity_estimate(steps, "app") == 2300  # 10 of the 100 ms between 2k and 5k
