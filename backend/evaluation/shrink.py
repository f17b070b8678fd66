"""Baseline shrink per category, against the published department ranges (docs/sim.md).

    python -m backend.evaluation.shrink --skus 100 --seeds 6 --seed-base 100 --json out.json

Runs the competent baseline (backend/sim/baseline.py) for a year per seed and reports, per
category and pooled over seeds, units written off as % of units received, their value at list
price as % of sales revenue (how stores report shrink) and the fill rate.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import numpy as np

from backend.evaluation import write_json
from backend.sim.baseline import CompetentBaseline, SkuTotals
from backend.sim.catalog import CATEGORIES, make_catalog
from backend.sim.store import Store

# Published shrink, % of retail sales, low and high store averages (docs/sim.md cites them).
PUBLISHED = {"bakery": (6.5, 10.2), "produce": (4.0, 6.5), "meat": (3.7, 5.8)}


def run(skus: int, seeds: int, seed_base: int, days: int = 364) -> dict[str, Any]:
    acc = {c: np.zeros(5) for c in CATEGORIES}  # expired, received, lost value, revenue, sold
    demanded = {c: 0 for c in CATEGORIES}
    for seed in range(seed_base, seed_base + seeds):
        c = make_catalog(skus, seed)
        policy, store, tot = CompetentBaseline(c, seed), Store(c, seed), SkuTotals(c)
        received = np.zeros(c.n)
        for _ in range(days):
            store.apply(policy.actions(store))
            rec = store.step()
            tot.add(rec)
            received += rec.received
        for k in CATEGORIES:
            m = c.category == k
            acc[k] += [
                tot.expired[m].sum(),
                received[m].sum(),
                (c.list_price * tot.expired)[m].sum(),
                tot.revenue[m].sum(),
                tot.sold[m].sum(),
            ]
            demanded[k] += int(tot.demanded[m].sum())
    out = {}
    for k, a in acc.items():
        out[k] = {
            "waste_pct_of_received_units": float(100 * a[0] / max(a[1], 1)),
            "shrink_pct_of_sales": float(100 * a[2] / max(a[3], 1e-12)),
            "fill_rate": float(100 * a[4] / max(demanded[k], 1)),
            "published_shrink_pct_of_sales": PUBLISHED.get(k),
        }
    return {
        "config": {"skus": skus, "seeds": seeds, "seed_base": seed_base, "days": days},
        "categories": out,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skus", type=int, default=100)
    ap.add_argument("--seeds", type=int, default=6)
    ap.add_argument("--seed-base", type=int, default=100)
    ap.add_argument("--json", default=None)
    a = ap.parse_args(argv)
    for name in ("skus", "seeds"):
        if getattr(a, name) < 1:
            ap.error(f"--{name}: expected an integer >= 1, got {getattr(a, name)}")
    s = run(a.skus, a.seeds, a.seed_base)
    print("| category | waste, % of units received | shrink, % of sales | published | fill, % |")
    print("|---|---|---|---|---|")
    for k, r in s["categories"].items():
        pub = r["published_shrink_pct_of_sales"]
        print(
            f"| {k} | {r['waste_pct_of_received_units']:.1f} | {r['shrink_pct_of_sales']:.1f} | "
            f"{'-' if pub is None else f'{pub[0]}-{pub[1]}'} | {r['fill_rate']:.2f} |"
        )
    write_json(a.json, s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
