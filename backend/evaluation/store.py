"""Offline evaluation: the agents against the competent baseline, the naive rule and the oracle.

    python -m backend.evaluation --skus 20 --days 364 --seeds 20 --seed-base 0 --json out.json

Per seed (catalog and store seeded alike, common random numbers across every run): the three
agents together, every smaller coalition of them (absent agents' levers follow the competent
baseline; the empty coalition is the competent baseline, backend/sim/baseline.py), the naive
standing rule (Store.standing_actions) and the known-parameter oracle. Writes the means over
seeds and prints a table, with profit, units wasted, fill rate and stock-out SKU-days per
category for agents, baseline, naive and oracle. synergy = gain(all three) - sum of gain(each
alone), gains measured against the baseline, in currency and as a percentage of baseline profit.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import math
import os
import sys
import time
from multiprocessing import Pool
from typing import Any

import numpy as np
from scipy import stats

from backend.agents.demand import LEVEL_DRIFT
from backend.agents.policy import coordinate, make_agents
from backend.agents.records import AGENT_IDS
from backend.evaluation import write_json
from backend.sim import oracle
from backend.sim.baseline import CompetentBaseline, SkuTotals
from backend.sim.catalog import CATEGORIES, make_catalog
from backend.sim.store import Actions
from backend.sim.worlds import WORLDS, make_store, world_catalog

log = logging.getLogger(__name__)

LAST = 182  # the last 26 weeks
POLICIES = ("agents", "baseline", "naive", "oracle")


def run_policy(
    n_skus: int,
    seed: int,
    days: int,
    coalition: tuple[str, ...] | str,
    baseline: CompetentBaseline | None = None,
    per_sku: bool = False,
    world: str | None = None,
    level_drift: float = LEVEL_DRIFT,
) -> dict[str, Any]:
    """One run: 'oracle', 'naive', or a coalition of agent ids (() = the competent baseline).

    `baseline` (tuned for this catalog, seed and world) is built when not given; with per_sku
    the result carries the per-SKU totals under "sku" (a SkuTotals).
    """
    catalog = world_catalog(make_catalog(n_skus, seed), world, seed)
    store = make_store(catalog, seed, world)
    if coalition not in ("oracle", "naive") and baseline is None:
        baseline = CompetentBaseline(catalog, seed)
    agents = (
        make_agents(catalog.public(), seed, level_drift) if not isinstance(coalition, str) else {}
    )
    active = set(coalition) if not isinstance(coalition, str) else set()
    sku = SkuTotals(catalog)
    policy = oracle.Oracle(catalog) if coalition == "oracle" else None
    for _ in range(days):
        if policy is not None:
            store.apply(policy.actions(store))
        elif coalition == "naive" or baseline is None:  # (a baseline is made for the others)
            store.apply(store.standing_actions())
        elif active:
            snap = store.snapshot(history_days=1)
            dp = coordinate(snap, baseline.actions(store), agents, active)
            if dp.errors:
                raise RuntimeError(f"agent failed during evaluation: {dp.errors}")
            store.apply(Actions(price=dp.price, markdown=dp.markdown, order_qty=dp.order_qty))
        else:
            store.apply(baseline.actions(store))
        sku.add(store.step())
    led = store.ledger
    tot = led.summary()
    out: dict[str, Any] = {
        "profit": float(tot["profit"]),
        "profit_last": float(led.window("profit", min(LAST, days)).sum()),
        "expired": int(tot["units_expired"]),
        "sold": int(tot["units_sold"]),
        "demanded": int(tot["units_demanded"]),
        "stockout_days": int(tot["stockout_sku_days"]),
    }
    if per_sku:
        out["sku"] = sku
    return out


def by_category(catalog_category: np.ndarray, sku: SkuTotals) -> dict[str, dict[str, Any]]:
    """Per category: profit, units wasted, units sold and demanded, stock-out SKU-days."""
    out = {}
    for c in CATEGORIES:
        m = catalog_category == c
        if not m.any():
            continue
        out[c] = {
            "profit": float(sku.profit[m].sum()),
            "waste_units": int(sku.expired[m].sum()),
            "sold": int(sku.sold[m].sum()),
            "demanded": int(sku.demanded[m].sum()),
            "stockout_days": int(sku.stockout_days[m].sum()),
        }
    return out


def _fill(r: dict[str, Any]) -> float:
    return 100.0 * float(r["sold"]) / max(int(r["demanded"]), 1)


def evaluate_seed(args: tuple[Any, ...]) -> dict[str, Any]:
    """Every run for one seed, and the seed's figures: args (skus, seed, days[, coalitions
    (default True)[, world (default None)[, level_drift (default LEVEL_DRIFT)]]])."""
    n_skus, seed, days, *rest = args
    coalitions = rest[0] if rest else True
    world = rest[1] if len(rest) > 1 else None
    drift = rest[2] if len(rest) > 2 else LEVEL_DRIFT
    catalog = world_catalog(make_catalog(n_skus, seed), world, seed)
    baseline = CompetentBaseline(catalog, seed)
    runs: dict[str, dict[str, Any]] = {
        p: run_policy(n_skus, seed, days, p, per_sku=True, world=world) for p in ("oracle", "naive")
    }
    sizes = range(len(AGENT_IDS) + 1) if coalitions else (0, len(AGENT_IDS))
    for k in sizes:
        for c in itertools.combinations(AGENT_IDS, k):
            runs["+".join(c) or "baseline"] = run_policy(
                n_skus, seed, days, c, baseline, per_sku=True, world=world, level_drift=drift
            )
    agents, base, orc = runs["+".join(AGENT_IDS)], runs["baseline"], runs["oracle"]
    named = {"agents": agents, "baseline": base, "naive": runs["naive"], "oracle": orc}
    cats = {p: by_category(catalog.category, r["sku"]) for p, r in named.items()}
    gain = {a: runs[a]["profit"] - base["profit"] for a in AGENT_IDS if a in runs}
    synergy = agents["profit"] - base["profit"] - sum(gain.values()) if coalitions else None
    return {
        "seed": seed,
        "profit": agents["profit"],
        "baseline_profit": base["profit"],
        "naive_profit": runs["naive"]["profit"],
        "oracle_profit": orc["profit"],
        "profit_pct_of_oracle": 100.0 * agents["profit"] / orc["profit"],
        "profit_pct_of_oracle_last_26w": 100.0 * agents["profit_last"] / orc["profit_last"],
        "baseline_pct_of_oracle": 100.0 * base["profit"] / orc["profit"],
        "profit_uplift_vs_baseline_pct": 100.0 * (agents["profit"] / base["profit"] - 1.0),
        "profit_uplift_vs_naive_pct": 100.0 * (agents["profit"] / runs["naive"]["profit"] - 1.0),
        "waste_units": agents["expired"],
        "baseline_waste_units": base["expired"],
        "naive_waste_units": runs["naive"]["expired"],
        "oracle_waste_units": orc["expired"],
        "waste_pct_of_baseline": 100.0 * agents["expired"] / max(base["expired"], 1),
        "fill_rate": _fill(agents),
        "baseline_fill_rate": _fill(base),
        "naive_fill_rate": _fill(runs["naive"]),
        "oracle_fill_rate": _fill(orc),
        "stockout_days": agents["stockout_days"],
        "baseline_stockout_days": base["stockout_days"],
        "naive_stockout_days": runs["naive"]["stockout_days"],
        "synergy": synergy,
        "synergy_pct_of_baseline": None if synergy is None else 100.0 * synergy / base["profit"],
        "coalition_profit": {k: v["profit"] for k, v in runs.items()},
        "per_category": cats,
    }


def _ci95(x: np.ndarray) -> list[float]:
    """Paired t interval of the mean over seeds (NaN bounds with one seed)."""
    if len(x) < 2:
        return [float("nan"), float("nan")]
    half = float(stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x)))
    return [float(x.mean() - half), float(x.mean() + half)]


def per_category(per_seed: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """Means over seeds per category and policy; fill rate pooled over seeds (sold / demanded)."""
    out: dict[str, dict[str, Any]] = {}
    for c in CATEGORIES:
        rows = [r["per_category"] for r in per_seed if c in r["per_category"]["agents"]]
        if not rows:
            continue
        out[c] = {}
        for p in POLICIES:
            cell = [r[p][c] for r in rows]
            out[c][p] = {
                "profit": float(np.mean([x["profit"] for x in cell])),
                "waste_units": float(np.mean([x["waste_units"] for x in cell])),
                "fill_rate": 100.0
                * sum(x["sold"] for x in cell)
                / max(sum(x["demanded"] for x in cell), 1),
                "stockout_days": float(np.mean([x["stockout_days"] for x in cell])),
            }
        gap = np.array([r["agents"][c]["profit"] - r["baseline"][c]["profit"] for r in rows])
        out[c]["profit_gap_vs_baseline_ci95"] = _ci95(gap)
    return out


MEANS = (
    "profit",
    "baseline_profit",
    "naive_profit",
    "oracle_profit",
    "profit_pct_of_oracle",
    "profit_pct_of_oracle_last_26w",
    "baseline_pct_of_oracle",
    "profit_uplift_vs_baseline_pct",
    "profit_uplift_vs_naive_pct",
    "waste_units",
    "baseline_waste_units",
    "naive_waste_units",
    "oracle_waste_units",
    "waste_pct_of_baseline",
    "fill_rate",
    "baseline_fill_rate",
    "naive_fill_rate",
    "oracle_fill_rate",
    "stockout_days",
    "baseline_stockout_days",
    "naive_stockout_days",
    "synergy",
    "synergy_pct_of_baseline",
)


def summarise(
    per_seed: list[dict[str, Any]], seconds: float, config: dict[str, Any]
) -> dict[str, Any]:
    """Means over seeds; the uplift's 95% interval is a paired t interval over seeds."""
    out: dict[str, Any] = {}
    for f in MEANS:
        vals = [r[f] for r in per_seed]
        out[f] = None if any(v is None for v in vals) else float(np.mean(vals))
    out["profit_uplift_ci95"] = _ci95(
        np.array([r["profit_uplift_vs_baseline_pct"] for r in per_seed])
    )
    out["per_category"] = per_category(per_seed)
    out["seconds"] = seconds
    out["config"] = config
    out["per_seed"] = [{k: v for k, v in r.items() if k != "per_category"} for r in per_seed]
    return out


def targets(s: dict[str, Any]) -> dict[str, bool]:
    """The acceptance targets, each met or not."""
    cats = s["per_category"]
    perishable = [c for c in cats if c != "ambient"]
    out = {
        "uplift >= +5% with 95% CI above zero": (
            s["profit_uplift_vs_baseline_pct"] >= 5.0 and s["profit_uplift_ci95"][0] > 0.0
        ),
        "profit >= 92% of oracle (year)": s["profit_pct_of_oracle"] >= 92.0,
        "profit >= 96% of oracle (last 26 weeks)": s["profit_pct_of_oracle_last_26w"] >= 96.0,
        "fill rate >= 97%": s["fill_rate"] >= 97.0,
        "stock-out days <= baseline": s["stockout_days"] <= s["baseline_stockout_days"],
        "waste <= 75% of baseline": s["waste_pct_of_baseline"] <= 75.0,
    }
    for c in cats:
        out[f"{c}: profit >= baseline"] = (
            cats[c]["agents"]["profit"] >= cats[c]["baseline"]["profit"]
        )
    for c in perishable:
        out[f"{c}: waste <= 1.5x oracle"] = (
            cats[c]["agents"]["waste_units"] <= 1.5 * cats[c]["oracle"]["waste_units"]
        )
    return out


def table(s: dict[str, Any]) -> str:
    c = s["config"]
    lo, hi = s["profit_uplift_ci95"]
    rows = [
        ("profit, % of oracle (year)", f"{s['profit_pct_of_oracle']:.1f}"),
        ("profit, % of oracle (last 26 weeks)", f"{s['profit_pct_of_oracle_last_26w']:.1f}"),
        (
            "profit uplift vs baseline, %",
            f"{s['profit_uplift_vs_baseline_pct']:+.1f} (95% CI {lo:+.1f}..{hi:+.1f})",
        ),
        ("profit uplift vs naive rule, %", f"{s['profit_uplift_vs_naive_pct']:+.1f}"),
        ("baseline profit, % of oracle", f"{s['baseline_pct_of_oracle']:.1f}"),
        ("waste, % of baseline", f"{s['waste_pct_of_baseline']:.1f}"),
        (
            "units wasted (baseline, naive, oracle)",
            f"{s['waste_units']:.0f} ({s['baseline_waste_units']:.0f}, "
            f"{s['naive_waste_units']:.0f}, {s['oracle_waste_units']:.0f})",
        ),
        (
            "fill rate, % (baseline, naive, oracle)",
            f"{s['fill_rate']:.2f} ({s['baseline_fill_rate']:.2f}, "
            f"{s['naive_fill_rate']:.2f}, {s['oracle_fill_rate']:.2f})",
        ),
        (
            "stock-out SKU-days (baseline, naive)",
            f"{s['stockout_days']:.1f} ({s['baseline_stockout_days']:.1f}, "
            f"{s['naive_stockout_days']:.1f})",
        ),
    ]
    if s["synergy"] is not None:
        rows.append(
            (
                "synergy, currency (% of baseline profit)",
                f"{s['synergy']:+.1f} ({s['synergy_pct_of_baseline']:+.2f}%)",
            )
        )
    rows.append(("seconds", f"{s['seconds']:.1f}"))
    w = max(len(r[0]) for r in rows)
    world = f", world {c['world']}" if c.get("world") else ""
    head = (
        f"AutoOps evaluation: {c['skus']} SKUs x {c['days']} days x {c['seeds']} seeds "
        f"(seeds {c['seed_base']}..{c['seed_base'] + c['seeds'] - 1}{world})"
    )
    lines = [head, "-" * len(head)] + [f"{a.ljust(w)}  {b}" for a, b in rows]
    lines += ["", category_table(s["per_category"])]
    lines += [""] + [f"[{'x' if ok else ' '}] {name}" for name, ok in targets(s).items()]
    return "\n".join(lines)


def category_table(cats: dict[str, Any]) -> str:
    """Markdown table: per category and policy, profit, units wasted, fill rate, stock-out days."""
    lines = [
        "| category | policy | profit | units wasted | fill rate, % | stock-out SKU-days |",
        "|---|---|---|---|---|---|",
    ]
    for c, pol in cats.items():
        for p in POLICIES:
            r = pol[p]
            lines.append(
                f"| {c} | {p} | {r['profit']:.0f} | {r['waste_units']:.1f} | "
                f"{r['fill_rate']:.2f} | {r['stockout_days']:.1f} |"
            )
    return "\n".join(lines)


def evaluate(
    skus: int,
    days: int,
    seeds: int,
    seed_base: int = 0,
    processes: int = 1,
    coalitions: bool = True,
    world: str | None = None,
    level_drift: float = LEVEL_DRIFT,
) -> dict[str, Any]:
    t0 = time.perf_counter()
    work = [(skus, seed_base + i, days, coalitions, world, level_drift) for i in range(seeds)]
    if processes > 1:
        with Pool(processes) as pool:
            per_seed = pool.map(evaluate_seed, work)
    else:
        per_seed = [evaluate_seed(w) for w in work]
    return summarise(
        per_seed,
        time.perf_counter() - t0,
        {
            "skus": skus,
            "days": days,
            "seeds": seeds,
            "seed_base": seed_base,
            "world": world,
            "level_drift": level_drift,
        },
    )


WORLD_KEYS = (
    "profit_uplift_vs_baseline_pct",
    "profit_uplift_ci95",
    "profit_pct_of_oracle",
    "waste_pct_of_baseline",
    "fill_rate",
    "baseline_fill_rate",
)


def evaluate_worlds(
    names: list[str],
    skus: int,
    days: int,
    seeds: int,
    seed_base: int,
    processes: int,
    level_drift: float = LEVEL_DRIFT,
) -> dict[str, Any]:
    """The evaluation (agents, baseline, naive, oracle; no coalitions) in each named world."""
    t0 = time.perf_counter()
    worlds = {}
    for w in names:
        s = evaluate(skus, days, seeds, seed_base, processes, False, w, level_drift)
        worlds[w] = {k: s[k] for k in WORLD_KEYS} | {
            "baseline_pct_of_oracle": s["baseline_pct_of_oracle"],
            "per_category": s["per_category"],
        }
    return {
        "config": {
            "skus": skus,
            "days": days,
            "seeds": seeds,
            "seed_base": seed_base,
            "level_drift": level_drift,
        },
        "worlds": worlds,
        "seconds": time.perf_counter() - t0,
    }


def worlds_table(s: dict[str, Any]) -> str:
    """Markdown table: one row per world against its competent baseline and oracle."""
    lines = [
        "| world | uplift vs baseline, % (95% CI) | % of oracle | baseline, % of oracle | "
        "waste, % of baseline | fill rate, % (baseline) | targets |",
        "|---|---|---|---|---|---|---|",
    ]
    for w, r in s["worlds"].items():
        lo, hi = r["profit_uplift_ci95"]
        ok = lo > 0 and r["profit_pct_of_oracle"] >= 85.0
        lines.append(
            f"| {w} | {r['profit_uplift_vs_baseline_pct']:+.1f} ({lo:+.1f}..{hi:+.1f}) | "
            f"{r['profit_pct_of_oracle']:.1f} | {r['baseline_pct_of_oracle']:.1f} | "
            f"{r['waste_pct_of_baseline']:.1f} | {r['fill_rate']:.2f} "
            f"({r['baseline_fill_rate']:.2f}) | {'met' if ok else 'missed'} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skus", type=int, default=20)
    ap.add_argument("--days", type=int, default=364)
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--seed-base", type=int, default=0)
    ap.add_argument("--processes", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument(
        "--no-coalitions",
        action="store_true",
        help="run only agents, baseline, naive and oracle (no synergy figures)",
    )
    ap.add_argument(
        "--world",
        default=None,
        help=f"run in a world the agents were not tuned for: one of {', '.join(WORLDS)}, or all",
    )
    ap.add_argument(
        "--level-drift",
        type=float,
        default=LEVEL_DRIFT,
        help="the daily standard deviation of the random walk the agents' demand models allow "
        f"in each SKU's log level (default {LEVEL_DRIFT}, as in the store; 0: a still level)",
    )
    ap.add_argument("--json", default=None, help="write the summary here")
    a = ap.parse_args(argv)
    if a.world is not None and a.world != "all" and a.world not in WORLDS:
        ap.error(f"--world: expected one of {', '.join(WORLDS)} or all, got {a.world!r}")
    for name in ("skus", "days", "seeds"):
        if getattr(a, name) < 1:
            ap.error(f"--{name}: expected an integer >= 1, got {getattr(a, name)}")
    if a.seed_base < 0:
        ap.error(f"--seed-base: expected an integer >= 0, got {a.seed_base}")
    if not 0.0 <= a.level_drift <= 1.0:
        ap.error(f"--level-drift: expected a number from 0 to 1, got {a.level_drift}")
    logging.basicConfig(level=logging.WARNING)
    if a.world is not None:
        names = list(WORLDS) if a.world == "all" else [a.world]
        s = evaluate_worlds(names, a.skus, a.days, a.seeds, a.seed_base, a.processes, a.level_drift)
        print(worlds_table(s))
    else:
        s = evaluate(
            a.skus,
            a.days,
            a.seeds,
            a.seed_base,
            a.processes,
            not a.no_coalitions,
            level_drift=a.level_drift,
        )
        print(table(s))
    write_json(a.json, s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
