"""Calibration of the what-if preview: on seeded stores, overrides are previewed, applied and
traded through, and each realised figure is checked against its preview's 10-90% band.

    python -m bench.preview_calibration --seeds 0 8 --json docs/results/preview-calibration.json

Each seed: a store of --skus SKUs trades --warmup days under its agents, then in each of
--rounds rounds --per-round distinct SKUs get an override (the agent cycles pricing,
promotion, inventory; a price 0.8-1.3x the list price held 3-9 days, a discount 0.1-0.4 for 2-5
days, an order of 0-40 units), each previewed just before it is applied; the store then trades
12 days. Calibrated bands hold the realised figure about 80% of the time.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from backend.agents.operation import Operation
from backend.agents.preview import FIGURES, preview_override, realised

AGENTS = ("pricing_agent", "promotion_agent", "inventory_agent")
NOW = datetime(2026, 1, 5, tzinfo=UTC)


def override_for(agent_id: str, op: Operation, i: int, rng: np.random.Generator) -> dict:
    sku, lp = str(op.public.sku[i]), float(op.public.list_price[i])
    if agent_id == "pricing_agent":
        price = round(lp * rng.uniform(0.8, 1.3), 2)
        return {"sku": sku, "price": price, "hold_days": int(rng.integers(3, 10))}
    if agent_id == "promotion_agent":
        discount = round(float(rng.uniform(0.1, 0.4)), 2)
        return {"sku": sku, "discount": discount, "days": int(rng.integers(2, 6))}
    return {"sku": sku, "quantity": int(rng.integers(0, 41))}


def run_seed(
    seed: int,
    skus: int = 40,
    warmup: int = 40,
    rounds: int = 5,
    per_round: int = 9,
    paths: int = 1000,
) -> list[dict]:
    """One seeded store: every previewed override with its realised figures and band checks."""
    op = Operation(n_skus=skus, seed=seed)
    rng = np.random.default_rng([seed, 7])
    for _ in range(warmup):
        op.run_day(NOW)
    previews, out = [], []
    for r in range(rounds):
        for j, i in enumerate(rng.choice(skus, size=per_round, replace=False)):
            agent_id = AGENTS[(r * per_round + j) % len(AGENTS)]
            params = override_for(agent_id, op, int(i), rng)
            previews.append(preview_override(op, agent_id, params, paths=paths))
            op.override(agent_id, params)
        for _ in range(12):
            op.run_day(NOW)
        for p in previews:
            got = realised(op, p["sku"], p["first_day"], p["last_day"])
            band = p["with_override"]["total"]
            inside = {f: band[f]["p10"] <= got[f] <= band[f]["p90"] for f in FIGURES}
            out.append({"seed": seed, "agent_id": p["agent_id"], "realised": got, "inside": inside})
        previews = []
    return out


def coverage(rows: list[dict]) -> dict:
    """Share of previews whose realised figure fell inside the band: overall and per agent."""

    def share(sub: list[dict], f: str) -> float | None:
        return float(np.mean([r["inside"][f] for r in sub])) if sub else None

    slices = {"all": rows, **{a: [r for r in rows if r["agent_id"] == a] for a in AGENTS}}
    return {
        name: {"previews": len(sub), **{f: share(sub, f) for f in FIGURES}}
        for name, sub in slices.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs=2, default=(0, 8), metavar=("FIRST", "END"))
    parser.add_argument("--skus", type=int, default=40)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    t0 = time.perf_counter()
    rows = [r for s in range(*args.seeds) for r in run_seed(s, skus=args.skus)]
    result = {
        "command": "python -m bench.preview_calibration --seeds "
        f"{args.seeds[0]} {args.seeds[1]} --skus {args.skus}",
        "seconds": round(time.perf_counter() - t0, 1),
        "coverage": coverage(rows),
    }
    print(json.dumps(result["coverage"], indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
