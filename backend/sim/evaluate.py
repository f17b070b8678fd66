"""Offline evaluation: the agents against the static baseline and the known-parameter oracle.

    python -m backend.sim.evaluate --skus 20 --days 364 --seeds 20 --seed-base 0 --json out.json

Per seed (catalog and store seeded alike, common random numbers across every run): the three
agents together, every smaller coalition of them (absent agents' levers follow the standing
rule; the empty coalition is the static baseline) and the oracle. Writes the means over seeds
and prints a table. synergy = gain(all three) - sum of gain(each alone), gains measured against
the baseline, in currency and as a percentage of baseline profit.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import math
import os
import sys
import time
from multiprocessing import Pool

import numpy as np
from scipy import stats

from backend.agents.policy import coordinate, make_agents
from backend.agents.records import AGENT_IDS
from backend.sim import oracle
from backend.sim.catalog import make_catalog
from backend.sim.store import Actions, Store

log = logging.getLogger(__name__)

LAST = 182  # the last 26 weeks


def run_policy(n_skus: int, seed: int, days: int, coalition: tuple[str, ...] | str) -> dict:
    """One run: 'oracle', or a coalition of agent ids (() = the static baseline)."""
    catalog = make_catalog(n_skus, seed)
    store = Store(catalog, seed)
    agents = make_agents(catalog.public(), seed) if coalition != "oracle" else {}
    active = set(coalition) if coalition != "oracle" else set()
    policy = oracle.Oracle(catalog) if coalition == "oracle" else None
    for _ in range(days):
        if policy is not None:
            store.apply(policy.actions(store))
        elif active:
            snap = store.snapshot(history_days=1)
            dp = coordinate(snap, store.standing_actions(), agents, active)
            if dp.errors:
                raise RuntimeError(f"agent failed during evaluation: {dp.errors}")
            store.apply(Actions(price=dp.price, markdown=dp.markdown, order_qty=dp.order_qty))
        else:
            store.apply(store.standing_actions())
        store.step()
    led = store.ledger
    tot = led.summary()
    return {
        "profit": float(tot["profit"]),
        "profit_last": float(led.window("profit", min(LAST, days)).sum()),
        "expired": int(tot["units_expired"]),
        "sold": int(tot["units_sold"]),
        "demanded": int(tot["units_demanded"]),
        "stockout_days": int(tot["stockout_sku_days"]),
    }


def evaluate_seed(args: tuple[int, int, int]) -> dict:
    """Every run for one seed, and the seed's figures."""
    n_skus, seed, days = args
    runs: dict[str, dict] = {"oracle": run_policy(n_skus, seed, days, "oracle")}
    for k in range(len(AGENT_IDS) + 1):
        for c in itertools.combinations(AGENT_IDS, k):
            runs["+".join(c) or "baseline"] = run_policy(n_skus, seed, days, c)
    agents, base, orc = runs["+".join(AGENT_IDS)], runs["baseline"], runs["oracle"]
    gain = {a: runs[a]["profit"] - base["profit"] for a in AGENT_IDS}
    fill = lambda r: 100.0 * r["sold"] / max(r["demanded"], 1)  # noqa: E731
    return {
        "seed": seed,
        "profit": agents["profit"],
        "baseline_profit": base["profit"],
        "oracle_profit": orc["profit"],
        "profit_pct_of_oracle": 100.0 * agents["profit"] / orc["profit"],
        "profit_pct_of_oracle_last_26w": 100.0 * agents["profit_last"] / orc["profit_last"],
        "profit_uplift_vs_baseline_pct": 100.0 * (agents["profit"] / base["profit"] - 1.0),
        "waste_pct_of_baseline": 100.0 * agents["expired"] / max(base["expired"], 1),
        "fill_rate": fill(agents),
        "baseline_fill_rate": fill(base),
        "oracle_fill_rate": fill(orc),
        "stockout_days": agents["stockout_days"],
        "baseline_stockout_days": base["stockout_days"],
        "synergy": agents["profit"] - base["profit"] - sum(gain.values()),
        "synergy_pct_of_baseline": 100.0
        * (agents["profit"] - base["profit"] - sum(gain.values()))
        / base["profit"],
        "coalition_profit": {k: v["profit"] for k, v in runs.items()},
    }


def summarise(per_seed: list[dict], seconds: float, config: dict) -> dict:
    """Means over seeds; the uplift's 95% interval is a paired t interval over seeds."""
    mean = lambda f: float(np.mean([r[f] for r in per_seed]))  # noqa: E731
    up = np.array([r["profit_uplift_vs_baseline_pct"] for r in per_seed])
    if len(up) > 1:
        half = float(stats.t.ppf(0.975, len(up) - 1) * up.std(ddof=1) / math.sqrt(len(up)))
    else:
        half = float("nan")
    out = {
        f: mean(f)
        for f in (
            "profit_pct_of_oracle",
            "profit_pct_of_oracle_last_26w",
            "profit_uplift_vs_baseline_pct",
            "waste_pct_of_baseline",
            "fill_rate",
            "baseline_fill_rate",
            "oracle_fill_rate",
            "stockout_days",
            "baseline_stockout_days",
            "synergy",
            "synergy_pct_of_baseline",
        )
    }
    out["profit_uplift_ci95"] = [float(up.mean() - half), float(up.mean() + half)]
    out["seconds"] = seconds
    out["config"] = config
    out["per_seed"] = per_seed
    return out


def targets(s: dict) -> dict[str, bool]:
    """The issue's acceptance targets, each met or not."""
    return {
        "profit >= 90% of oracle (year)": s["profit_pct_of_oracle"] >= 90.0,
        "profit >= 95% of oracle (last 26 weeks)": s["profit_pct_of_oracle_last_26w"] >= 95.0,
        "uplift >= +5% with 95% CI above zero": (
            s["profit_uplift_vs_baseline_pct"] >= 5.0 and s["profit_uplift_ci95"][0] > 0.0
        ),
        "waste <= 75% of baseline": s["waste_pct_of_baseline"] <= 75.0,
        "fill rate >= max(95, baseline - 0.5)": s["fill_rate"]
        >= max(95.0, s["baseline_fill_rate"] - 0.5),
        "stock-out days <= baseline": s["stockout_days"] <= s["baseline_stockout_days"],
    }


def table(s: dict) -> str:
    c = s["config"]
    lo, hi = s["profit_uplift_ci95"]
    rows = [
        ("profit, % of oracle (year)", f"{s['profit_pct_of_oracle']:.1f}"),
        ("profit, % of oracle (last 26 weeks)", f"{s['profit_pct_of_oracle_last_26w']:.1f}"),
        (
            "profit uplift vs baseline, %",
            f"{s['profit_uplift_vs_baseline_pct']:+.1f} (95% CI {lo:+.1f}..{hi:+.1f})",
        ),
        ("waste, % of baseline", f"{s['waste_pct_of_baseline']:.1f}"),
        (
            "fill rate, % (baseline, oracle)",
            f"{s['fill_rate']:.2f} ({s['baseline_fill_rate']:.2f}, {s['oracle_fill_rate']:.2f})",
        ),
        (
            "stock-out SKU-days (baseline)",
            f"{s['stockout_days']:.1f} ({s['baseline_stockout_days']:.1f})",
        ),
        (
            "synergy, currency (% of baseline profit)",
            f"{s['synergy']:+.1f} ({s['synergy_pct_of_baseline']:+.2f}%)",
        ),
        ("seconds", f"{s['seconds']:.1f}"),
    ]
    w = max(len(r[0]) for r in rows)
    head = (
        f"AutoOps evaluation: {c['skus']} SKUs x {c['days']} days x {c['seeds']} seeds "
        f"(seeds {c['seed_base']}..{c['seed_base'] + c['seeds'] - 1})"
    )
    lines = [head, "-" * len(head)] + [f"{a.ljust(w)}  {b}" for a, b in rows]
    lines += [""] + [f"[{'x' if ok else ' '}] {name}" for name, ok in targets(s).items()]
    return "\n".join(lines)


def evaluate(skus: int, days: int, seeds: int, seed_base: int = 0, processes: int = 1) -> dict:
    t0 = time.perf_counter()
    work = [(skus, seed_base + i, days) for i in range(seeds)]
    if processes > 1:
        with Pool(processes) as pool:
            per_seed = pool.map(evaluate_seed, work)
    else:
        per_seed = [evaluate_seed(w) for w in work]
    return summarise(
        per_seed,
        time.perf_counter() - t0,
        {"skus": skus, "days": days, "seeds": seeds, "seed_base": seed_base},
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skus", type=int, default=20)
    ap.add_argument("--days", type=int, default=364)
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--seed-base", type=int, default=0)
    ap.add_argument("--processes", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--json", default=None, help="write the summary here")
    a = ap.parse_args(argv)
    for name in ("skus", "days", "seeds"):
        if getattr(a, name) < 1:
            ap.error(f"--{name}: expected an integer >= 1, got {getattr(a, name)}")
    if a.seed_base < 0:
        ap.error(f"--seed-base: expected an integer >= 0, got {a.seed_base}")
    logging.basicConfig(level=logging.WARNING)
    s = evaluate(a.skus, a.days, a.seeds, a.seed_base, a.processes)
    print(table(s))
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(s, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
