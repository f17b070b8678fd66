"""The published perishable benchmark: the inventory agent against the exact optimum.

    python -m backend.evaluation.perishable --reps 20 --days 730 --seed 0 --json out.json

For each solved instance of backend/sim/perishable.py (De Moor, Gijsbrechts and Boute 2022, as
re-solved by Farrington et al. 2025): the exact optimal mean daily cost (relative value
iteration), the best base-stock policy found by simulation, and the project's inventory agent
(backend/agents/inventory.py, through the same `coordinate` call the store evaluation uses),
all on the same demand paths (common random numbers: `reps` paths of `days` days drawn once per
instance from `seed`). Costs are the benchmark's (3 per unit ordered, 5 per unit short, 7 per
unit written off, 1 per unit held), mean daily cost over days 366..730, averaged over the paths
with a 95% t interval over paths. The optimal policy is also simulated on the same paths, so the
agent's excess over the optimum has a paired interval free of the paths' common noise.

What the agent sees (the adapter, `AgentAdapter`): a one-SKU store whose snapshot shows the
shelf by age and the orders in transit exactly as the store shows them (the units arriving at
today's opening in pipeline[:, 0], older units in stock_by_age by days left, orders placed
earlier in the later pipeline columns) and a one-day history of its own sales, stock-out flags
(sales == units available), write-offs, receipts and orders. It never sees the demand, the
units short, the demand distribution or the issuing rule; it learns the demand from censored
sales with its own DemandModel, as in the store. Each path gets its own agent (nothing is
pooled across paths). The price is fixed (the problem has no price lever) and orders are
clipped to the problem's 0..10.

Cost mapping. The store charges a unit's cost when it sells (cogs) or expires (with the
disposal fee), holding at holding_rate x cost per unit carried overnight, and earns the price
per unit sold. Over a long run ordered = sold + expired (+ a bounded change of stock), so the
benchmark's daily cost

    3 ordered + 5 short + 7 expired + 1 held
  = 5 demand - (5 - 3) sold + (3 + 7) expired + 1 held   (short = demand - sold)

and, since demand does not depend on the policy, minimising it is maximising
(5 - 3) sold - (3 + 7) expired - 1 held: the store's profit with price 5, unit cost 3, disposal
fee 7 and holding rate 1/3 a day (1 per unit on cost 3). The agent's underage is its margin
price - cost = 2 (a lost sale costs 5, but serving it would have cost the unit's 3: the order
cost is sunk in every unit sold), its overage a day's holding 1 plus P(expire) x (cost + fee)
= 10. Benchmark cost = 5 x demand - store profit, up to that bounded stock term.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import stats

from backend.agents.inventory import InventoryAgent
from backend.agents.policy import coordinate
from backend.evaluation import write_json
from backend.sim import perishable as P
from backend.sim.catalog import PublicCatalog
from backend.sim.ledger import Observations
from backend.sim.store import Actions, Snapshot

FIRST_DAY = 365  # days 366..730 (1-based) are reported: indices 365..729
DAYS = 730
REPS = 20
GAP_TARGET_PCT = 5.0  # every instance
MEAN_GAP_TARGET_PCT = 3.0
AGENT = "inventory_agent"
WEEK = np.arange(7)
# The agent's settings: "benchmark" prices what the problem prices (a lost sale's margin, a
# written-off unit's cost and fee; no stock-out-day penalty, no aversion to waste beyond its
# cost) and counts sales lost before an order arrives as lost (the problem's lost sales);
# "store" is the agent as the store runs it (weights tuned for the store's fill-rate and waste
# targets, backorder accounting of the position).
OBJECTIVES: dict[str, dict[str, Any]] = {
    "benchmark": {"stockout_penalty": 0.0, "waste_aversion": 1.0, "lost_sales": True},
    "store": {},
}


def instance_catalog(inst: P.Instance) -> PublicCatalog:
    """The one-SKU catalog with the benchmark's costs mapped to the store's (module docstring)."""
    return PublicCatalog(
        sku=np.array(["PERISH-1"]),
        name=np.array([inst.name]),
        category=np.array(["fresh"]),
        list_price=np.array([inst.shortage_cost]),
        unit_cost=np.array([inst.order_cost]),
        shelf_life=np.array([inst.useful_life]),
        lead_time=np.array([inst.lead_time]),
        holding_rate=inst.holding_cost / inst.order_cost,
        disposal_fee=np.array([inst.wastage_cost]),
    )


def store_view(inst: P.Instance, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(stock_by_age (R, m), pipeline (R, L + 1)) as the store shows the benchmark states (R, K).

    Benchmark state: L - 1 orders in transit (newest first), then stock freshest first; its
    freshest cohort is the order arriving at today's opening, which the store's morning
    snapshot shows in pipeline[:, 0]. Stock of age j >= 1 has m - j days left (column m - 1 - j);
    the order placed i + 1 days ago arrives in L - 1 - i days (pipeline column L - 1 - i).
    """
    m, lt = inst.useful_life, inst.lead_time
    r = state.shape[0]
    transit, stock = state[:, : lt - 1], state[:, lt - 1 :]
    by_age = np.zeros((r, m), dtype=np.int64)
    by_age[:, : m - 1] = stock[:, 1:][:, ::-1]
    pipeline = np.zeros((r, lt + 1), dtype=np.int64)
    pipeline[:, 0] = stock[:, 0]
    if lt > 1:
        pipeline[:, 1:lt] = transit[:, ::-1]
    return by_age, pipeline


def _no_history() -> Observations:
    f, i, b = np.zeros((0, 1)), np.zeros((0, 1), dtype=np.int64), np.zeros((0, 1), dtype=bool)
    return Observations(
        day=np.zeros(0, dtype=np.int64),
        weekday=np.zeros(0, dtype=np.int64),
        price=f,
        markdown=f,
        effective_price=f,
        sales=i,
        stocked_out=b,
        expired=i,
        received=i,
        ordered=i,
        closing_stock=i,
    )


class AgentAdapter:
    """The inventory agent, one per path, trading the benchmark through the store's interfaces.

    `orders` is simulate's policy (morning snapshot -> coordinate -> order); `observe` turns the
    traded day into the one-day history the next snapshot carries (never the demand).
    """

    def __init__(
        self, inst: P.Instance, reps: int, seed: int = 0, objective: str = "benchmark"
    ) -> None:
        self.inst = inst
        self.catalog = instance_catalog(inst)
        lp, cat = self.catalog.list_price, self.catalog.category
        kw = OBJECTIVES[objective]
        self.agents = [InventoryAgent(lp, cat, seed + i, **kw) for i in range(reps)]
        self.day = 0
        self.history = [_no_history() for _ in range(reps)]
        self.price = np.array([inst.shortage_cost])
        self._state: np.ndarray | None = None
        self._orders: np.ndarray | None = None

    def orders(self, state: np.ndarray) -> np.ndarray:
        by_age, pipeline = store_view(self.inst, state)
        standing = Actions(price=self.price, markdown=np.zeros(1), order_qty=np.zeros(1, int))
        out = np.zeros(len(state), dtype=np.int64)
        for r, agent in enumerate(self.agents):
            snap = Snapshot(
                day=self.day,
                weekday=self.day % 7,
                catalog=self.catalog,
                price=self.price.copy(),
                markdown=np.zeros(1),
                stock_by_age=by_age[r : r + 1].copy(),
                pipeline=pipeline[r : r + 1].copy(),
                history=self.history[r],
            )
            dp = coordinate(snap, standing, {AGENT: agent}, {AGENT})
            if dp.errors:
                raise RuntimeError(f"agent failed on day {self.day}: {dp.errors}")
            out[r] = int(dp.order_qty[0])
        self._state = state.copy()
        self._orders = np.clip(out, 0, self.inst.max_order)
        return self._orders

    def observe(self, d: P.Day) -> None:
        if self._state is None or self._orders is None:
            raise RuntimeError("observe: no day was ordered yet")
        lt = self.inst.lead_time
        stock = self._state[:, lt - 1 :]
        available = stock.sum(axis=1)
        received = stock[:, 0]
        for r in range(len(self.agents)):

            def row(x: object, dtype: npt.DTypeLike = np.int64) -> np.ndarray:
                return np.array([[x]], dtype=dtype)

            self.history[r] = Observations(
                day=np.array([self.day]),
                weekday=np.array([self.day % 7]),
                price=self.price[None, :].copy(),
                markdown=np.zeros((1, 1)),
                effective_price=self.price[None, :].copy(),
                sales=row(d.sold[r]),
                stocked_out=row(d.sold[r] == available[r], bool),
                expired=row(d.expired[r]),
                received=row(received[r]),
                ordered=row(self._orders[r]),
                closing_stock=row(d.held[r]),
            )
        self.day += 1


def ci95(x: np.ndarray) -> list[float]:
    """t interval of the mean over paths."""
    half = float(stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x)))
    return [float(x.mean() - half), float(x.mean() + half)]


def window_mean(run: dict[str, np.ndarray]) -> np.ndarray:
    """(R,) mean daily cost of each path over the reported days."""
    mean: np.ndarray = run["cost"][:, FIRST_DAY:].mean(axis=1)
    return mean


def best_base_stock(inst: P.Instance, demand: np.ndarray) -> tuple[int, np.ndarray]:
    """The order-up-to level (on stock + in transit) with the least mean cost on these paths."""

    def policy(level: int) -> Callable[[np.ndarray], np.ndarray]:
        return lambda state: P.base_stock_order(inst, state, level)

    costs = {
        level: window_mean(P.simulate(inst, policy(level), demand))
        for level in range(inst.max_order * inst.state_length + 1)
    }
    best = min(costs, key=lambda lv: float(costs[lv].mean()))
    return best, costs[best]


def evaluate_instance(inst: P.Instance, reps: int, days: int, seed: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    sol = P.solve(inst)
    demand = P.sample_demand(inst, np.random.default_rng(seed), (reps, days))
    opt_run = P.simulate(inst, sol.order, demand)
    opt_sim = window_mean(opt_run)
    level, base = best_base_stock(inst, demand)
    adapter = AgentAdapter(inst, reps, seed)
    run = P.simulate(inst, adapter.orders, demand, adapter.observe)
    agent = window_mean(run)
    store = AgentAdapter(inst, reps, seed, "store")
    store_weights = window_mean(P.simulate(inst, store.orders, demand, store.observe))
    tail = slice(FIRST_DAY, None)
    return {
        "name": inst.name,
        "m": inst.useful_life,
        "lead_time": inst.lead_time,
        "issuing": inst.issuing,
        "optimal_cost": sol.average_cost,
        "base_stock_cost": float(base.mean()),
        "agent_cost": float(agent.mean()),
        "agent_gap_pct": 100.0 * (agent.mean() / sol.average_cost - 1.0),
        "base_stock_gap_pct": 100.0 * (base.mean() / sol.average_cost - 1.0),
        "base_stock_level": level,
        "agent_store_weights_cost": float(store_weights.mean()),
        "agent_store_weights_gap_pct": 100.0 * (store_weights.mean() / sol.average_cost - 1.0),
        "optimal_sim_cost": float(opt_sim.mean()),
        "agent_cost_ci95": ci95(agent),
        "agent_minus_optimal_sim_ci95": ci95(agent - opt_sim),
        "base_stock_minus_optimal_sim_ci95": ci95(base - opt_sim),
        "agent_units": {
            k: float(run[k][:, tail].mean()) for k in ("ordered", "sold", "short", "expired")
        },
        "optimal_units": {
            k: float(opt_run[k][:, tail].mean()) for k in ("ordered", "sold", "short", "expired")
        },
        "per_path": {
            "agent_minus_optimal_sim_pct": [
                round(100.0 * x / sol.average_cost, 2) for x in (agent - opt_sim).tolist()
            ],
            # what each path's agent had learned by the last day (the truth: mean 4, 1/k about
            # 0.005 as the rounded gamma's variance is about its mean, fresh share 0 for FIFO
            # and 1 for LIFO), and on how many of its 730 days the shelf did not sell out
            "learned_mean_demand": [
                round(float(a.model.mean_demand(np.full((1, 7), adapter.price[0]), WEEK).mean()), 2)
                for a in adapter.agents
            ],
            "learned_inv_k": [round(float(a.model.inv_k[0]), 3) for a in adapter.agents],
            "learned_fresh_share": [round(a.fresh.share, 2) for a in adapter.agents],
            "uncensored_days": [int(a.model.n_obs[0]) for a in adapter.agents],
        },
        "seconds": time.perf_counter() - t0,
    }


def evaluate(names: list[str], reps: int = REPS, days: int = DAYS, seed: int = 0) -> dict[str, Any]:
    t0 = time.perf_counter()
    rows = [evaluate_instance(P.INSTANCES[n], reps, days, seed) for n in names]
    gaps = [r["agent_gap_pct"] for r in rows]
    mean_gap = float(np.mean(gaps))
    return {
        "config": {"instances": names, "reps": reps, "days": days, "seed": seed},
        "instances": rows,
        "mean_agent_gap_pct": mean_gap,
        "targets": {
            f"every gap <= {GAP_TARGET_PCT:g}%": bool(max(gaps) <= GAP_TARGET_PCT),
            f"mean gap <= {MEAN_GAP_TARGET_PCT:g}%": bool(mean_gap <= MEAN_GAP_TARGET_PCT),
        },
        "seconds": time.perf_counter() - t0,
    }


def table(s: dict[str, Any]) -> str:
    """Markdown table: one row per instance, then the mean gap."""
    lines = [
        "| instance | m | L | issuing | optimal | base-stock (level) | agent (95% CI) | "
        "agent gap, % |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in s["instances"]:
        lo, hi = r["agent_cost_ci95"]
        lines.append(
            f"| {r['name']} | {r['m']} | {r['lead_time']} | {r['issuing'].upper()} | "
            f"{r['optimal_cost']:.3f} | {r['base_stock_cost']:.3f} ({r['base_stock_level']}) | "
            f"{r['agent_cost']:.3f} ({lo:.3f}..{hi:.3f}) | {r['agent_gap_pct']:+.2f} |"
        )
    lines.append(f"| mean | | | | | | | {s['mean_agent_gap_pct']:+.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--instances",
        default=",".join(P.INSTANCES),
        help=f"comma-separated, of {', '.join(P.INSTANCES)} (default all)",
    )
    ap.add_argument("--reps", type=int, default=REPS, help="demand paths per instance")
    ap.add_argument("--days", type=int, default=DAYS, help=f"days per path (> {FIRST_DAY})")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", default=None, help="write the result here")
    a = ap.parse_args(argv)
    names = [n.strip() for n in a.instances.split(",") if n.strip()]
    bad = [n for n in names if n not in P.INSTANCES]
    if bad or not names:
        ap.error(f"--instances: expected names of {', '.join(P.INSTANCES)}, got {a.instances!r}")
    if a.reps < 2:
        ap.error(f"--reps: expected an integer >= 2, got {a.reps}")
    if a.days <= FIRST_DAY:
        ap.error(f"--days: expected an integer > {FIRST_DAY}, got {a.days}")
    if a.seed < 0:
        ap.error(f"--seed: expected an integer >= 0, got {a.seed}")
    s = evaluate(names, a.reps, a.days, a.seed)
    print(table(s))
    print()
    for name, ok in s["targets"].items():
        print(f"[{'x' if ok else ' '}] {name}")
    print(f"seconds: {s['seconds']:.1f}")
    write_json(a.json, s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
