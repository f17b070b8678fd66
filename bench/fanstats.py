"""Fan-out figures from the swarm's raw records: delays, loss, closes, server RSS and CPU."""

from __future__ import annotations

from collections import Counter
from typing import Any

from bench.harness import percentile, ratio, rounded

P99_TARGET_MS = 100.0
COMPARED = (
    "p50_ms",
    "p99_ms",
    "max_ms",
    "rss_kib_per_conn",
    "cpu_us_per_msg",
    "cpu_us_per_msg_net",
)


def stream_kind(path: str) -> str:
    if "metrics" in path:
        return "metrics"
    if "live" in path:
        return "live"
    return "agent"


def summarize(
    n_clients: int, conns: list[dict[str, Any]], server: dict[str, Any]
) -> dict[str, Any]:
    """One side's figures; stalled connections are reported apart and excluded from delay and loss.

    Loss: for each path, the union of sequence numbers that any healthy client received for ticks
    in the window is what every healthy connection on that path should have; each one missing
    (including everything after an unexpected close, or later than the grace period) is lost.
    """
    healthy = [c for c in conns if not c["stalled"]]
    stalled = [c for c in conns if c["stalled"]]
    union: dict[str, set[int]] = {}
    for c in healthy:
        union.setdefault(c["path"], set()).update(c["seqs"])
    delays: list[float] = []
    per_kind: dict[str, list[float]] = {}
    lost = duplicates = expected = 0
    closes: Counter[str] = Counter()
    failed_clients: set[int] = set()
    errors: Counter[str] = Counter()
    for c in conns:
        if not c["connected"]:
            failed_clients.add(c["client"])
            errors[c["error"].split(":")[0]] += 1
        elif c["closed"]:
            failed_clients.add(c["client"])
            if not c["stalled"]:
                closes[str(c["close_code"])] += 1
    for c in healthy:
        if not c["connected"]:
            continue
        delays.extend(c["delays"])
        per_kind.setdefault(stream_kind(c["path"]), []).extend(c["delays"])
        should = union.get(c["path"], set())
        expected += len(should)
        lost += len(should - set(c["seqs"]))
        duplicates += c["duplicates"]
    delays.sort()
    skipped = 0  # sequence numbers in the window that no client received at all
    for seqs in union.values():
        if seqs:
            skipped += (max(seqs) - min(seqs) + 1) - len(seqs)
    held = n_clients - len(failed_clients)
    held_conns = sum(1 for c in conns if c["connected"] and not c["closed"])
    messages = len(delays)
    window = server["t1"] - server["t0"]
    cpu = server["cpu1"] - server["cpu0"]
    idle = server.get("idle_cpu_rate", 0.0)
    out: dict[str, Any] = {
        "clients": n_clients,
        "connections": len(conns),
        "clients_held": held,
        "connections_held": held_conns,
        "p50_ms": rounded(percentile(delays, 50) * 1e3, 2),
        "p99_ms": rounded(percentile(delays, 99) * 1e3, 2),
        "max_ms": rounded(delays[-1] * 1e3 if delays else float("nan"), 2),
        "min_ms": rounded(delays[0] * 1e3 if delays else float("nan"), 3),
        "messages": messages,
        "expected_messages": expected,
        "lost": lost,
        "duplicates": duplicates,
        "server_skipped_seqs": skipped,
        "unexpected_closes": sum(closes.values()),
        "close_codes": dict(closes),
        "connect_errors": dict(errors),
        "rss_kib_base": server["rss_base"],
        "server_fds_start": server.get("fds0"),
        "server_fds_end": server.get("fds1"),
        "rss_kib_start": server.get("rss_start", server["rss0"]),
        "rss_kib_held": server["rss0"],  # median over the window
        "rss_kib_end": server["rss1"],
        "rss_kib_max": server["rss_max"],
        "rss_kib_per_conn": rounded((server["rss0"] - server["rss_base"]) / held_conns, 2)
        if held_conns
        else None,
        "cpu_us_per_msg": rounded(cpu * 1e6 / messages, 2) if messages else None,
        # the same without the server's CPU rate when it had no client (the app's store trading)
        "cpu_us_per_msg_net": rounded((cpu - idle * window) * 1e6 / messages, 2)
        if messages
        else None,
        "idle_cpu_pct": rounded(100 * idle, 1),
        "server_cpu_pct": rounded(100 * cpu / window, 1) if window > 0 else None,
        "client_cpu_s": rounded(server.get("client_cpu", 0.0), 2),
        "connect_s": rounded(server["connect_s"], 2),
        "window_s": rounded(window, 2),
        "per_stream": {
            k: {"messages": len(v), "p99_ms": rounded(percentile(sorted(v), 99) * 1e3, 2)}
            for k, v in sorted(per_kind.items())
        },
    }
    if stalled:
        stalled_closes = Counter(str(c["close_code"]) for c in stalled if c["closed"])
        out["stalled"] = {
            "connections": len(stalled),
            "connected": sum(c["connected"] for c in stalled),
            "closed_by_server": sum(stalled_closes.values()),
            "close_codes": dict(stalled_closes),
        }
    out["held_ok"] = bool(
        held == n_clients
        and lost == 0
        and out["unexpected_closes"] == 0
        and out["p99_ms"] is not None
        and out["p99_ms"] <= P99_TARGET_MS
    )
    return out


def compare(app: dict[str, Any], reference: dict[str, Any]) -> dict[str, Any]:
    """app / reference for each compared figure (above 1 means the app is slower or heavier)."""
    return {k: ratio(app.get(k), reference.get(k)) for k in COMPARED}


def capacity(steps: list[dict[str, Any]], side: str) -> int:
    """The largest client count this side held with p99 <= 100 ms, no loss and no closes."""
    held = [s["clients"] for s in steps if side in s and s[side]["held_ok"]]
    return max(held, default=0)


def capacity_estimate(steps: list[dict[str, Any]], side: str) -> float | None:
    """Where p99 crosses 100 ms, interpolated linearly between the last step held and the next.

    An estimate between the staircase's coarse steps (None when no step was held, or none failed).
    """
    ran = sorted((s for s in steps if side in s), key=lambda s: s["clients"])
    for low, high in zip(ran, ran[1:]):
        if low[side]["held_ok"] and not high[side]["held_ok"]:
            p_low, p_high = low[side]["p99_ms"], high[side]["p99_ms"]
            if p_high is None or p_high <= P99_TARGET_MS or p_high <= p_low:
                return float(low["clients"])  # failed by loss or closes, not by delay
            share = (P99_TARGET_MS - p_low) / (p_high - p_low)
            return round(low["clients"] + share * (high["clients"] - low["clients"]))
    return None
