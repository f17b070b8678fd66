"""The published perishable inventory problem and its exact average-cost solution.

The problem is that of De Moor, Gijsbrechts and Boute (2022, "Reward shaping to improve the
performance of deep reinforcement learning in perishable inventory management", European Journal
of Operational Research 301(2), 535-545), as re-solved by Farrington et al. ("Going faster to see
further: GPU-accelerated value iteration and simulation for perishable inventory control using
JAX", Annals of Operations Research, 2025; public code joefarrington/viso_jax). The conventions
below follow that code's scenario definition (viso_jax/scenarios/de_moor_perishable/):

- One SKU with useful life m days, lead time L >= 1 days, orders of 0..10 units placed each day.
- Daily demand is gamma with mean 4 and CV 0.5 rounded to the nearest integer: P(0) = F(0.5),
  P(d) = F(d + 0.5) - F(d - 0.5), truncated at 100 with the remaining mass put on 100.
- State at the start of a day: the L - 1 orders still in transit (newest first) and the stock by
  age, freshest first. The day's demand is met from the stock (FIFO: oldest first; LIFO:
  freshest first), excess demand is lost; after issuing, the oldest cohort is written off and the
  rest is held; the order placed L days earlier arrives before the next day opens and carries no
  holding cost that day.
- Cost of a day: 3 per unit ordered + 5 per unit short + 7 per unit written off + 1 per unit
  held (left after issuing and not written off).

`solve` runs relative value iteration on the average cost over the full state grid (every state
component 0..max_order), numpy only. `simulate` runs any table policy on given demand paths.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import stats

from backend.sim.arrays import FloatArray

ISSUING = ("fifo", "lifo")
DAMPING = 0.5


@dataclass(frozen=True)
class Instance:
    """One experiment: useful life m, lead time L, issuing rule and the published cost figures."""

    name: str
    useful_life: int
    lead_time: int
    issuing: str
    max_order: int = 10
    demand_mean: float = 4.0
    demand_cv: float = 0.5
    max_demand: int = 100
    order_cost: float = 3.0
    shortage_cost: float = 5.0
    wastage_cost: float = 7.0
    holding_cost: float = 1.0

    def __post_init__(self) -> None:
        if self.issuing not in ISSUING:
            raise ValueError(f"issuing: expected one of {ISSUING}, got {self.issuing!r}")
        if not isinstance(self.useful_life, int) or self.useful_life < 2:
            raise ValueError(f"useful_life: expected an integer >= 2, got {self.useful_life!r}")
        if not isinstance(self.lead_time, int) or self.lead_time < 1:
            raise ValueError(f"lead_time: expected an integer >= 1, got {self.lead_time!r}")
        if not isinstance(self.max_order, int) or self.max_order < 1:
            raise ValueError(f"max_order: expected an integer >= 1, got {self.max_order!r}")

    @property
    def state_length(self) -> int:
        return self.useful_life + self.lead_time - 1


# The experiments solved here, named as in viso_jax's scenario settings (m2/exp1 is the base
# setting with LIFO issuing, exp2 the same with FIFO; m3 and m4 exp1/exp2 the same with m = 3
# and 4; m2/exp5 and exp6 the base setting with lead time 2, LIFO and FIFO).
INSTANCES: dict[str, Instance] = {
    i.name: i
    for i in (
        Instance("m2_exp1", 2, 1, "lifo"),
        Instance("m2_exp2", 2, 1, "fifo"),
        Instance("m3_exp1", 3, 1, "lifo"),
        Instance("m3_exp2", 3, 1, "fifo"),
        Instance("m4_exp1", 4, 1, "lifo"),
        Instance("m4_exp2", 4, 1, "fifo"),
        Instance("m2_exp5", 2, 2, "lifo"),
        Instance("m2_exp6", 2, 2, "fifo"),
    )
}


def demand_pmf(inst: Instance) -> np.ndarray:
    """P(demand = d) for d = 0..max_demand: the gamma rounded to integers, truncated at the top."""
    shape = 1.0 / inst.demand_cv**2
    scale = inst.demand_mean * inst.demand_cv**2
    edges = np.concatenate([[0.0], np.arange(inst.max_demand + 1) + 0.5])
    p: FloatArray = np.diff(stats.gamma.cdf(edges, shape, scale=scale))
    p[-1] += 1.0 - p.sum()
    return p


def sample_demand(inst: Instance, rng: np.random.Generator, size: tuple[int, ...]) -> np.ndarray:
    """Demand draws with the distribution of demand_pmf (gamma, rounded, capped)."""
    shape = 1.0 / inst.demand_cv**2
    raw = rng.gamma(shape, inst.demand_mean * inst.demand_cv**2, size=size)
    return np.minimum(np.rint(raw), inst.max_demand).astype(np.int64)


def issue(stock: np.ndarray, demand: np.ndarray, issuing: str) -> np.ndarray:
    """Stock left after meeting demand; stock (..., m) freshest first, demand broadcastable."""
    order = stock[..., ::-1] if issuing == "fifo" else stock
    before = np.cumsum(order, axis=-1) - order
    left: np.ndarray = order - np.clip(np.asarray(demand)[..., None] - before, 0, order)
    return left[..., ::-1] if issuing == "fifo" else left


@dataclass
class Day:
    """One simulated day, per row: next state and the cost components."""

    state: np.ndarray
    sold: np.ndarray
    short: np.ndarray
    expired: np.ndarray
    held: np.ndarray
    cost: np.ndarray


def step(inst: Instance, state: np.ndarray, order: np.ndarray, demand: np.ndarray) -> Day:
    """Trade one day from states (R, K) = (in transit newest first, stock freshest first)."""
    m, lt = inst.useful_life, inst.lead_time
    transit, stock = state[:, : lt - 1], state[:, lt - 1 :]
    left = issue(stock, demand, inst.issuing)
    on_hand = stock.sum(axis=1)
    sold = on_hand - left.sum(axis=1)
    short = demand - sold
    expired = left[:, m - 1]
    held = left[:, : m - 1].sum(axis=1)
    order = np.asarray(order, dtype=np.int64)
    nxt = np.concatenate([order[:, None], transit, left[:, : m - 1]], axis=1)
    cost = (
        inst.order_cost * order
        + inst.shortage_cost * short
        + inst.wastage_cost * expired
        + inst.holding_cost * held
    )
    return Day(nxt, sold, short, expired, held, cost)


def state_index(inst: Instance, state: np.ndarray) -> np.ndarray:
    """Row index of states (R, K) in the solver's grid (component 0 most significant)."""
    base = inst.max_order + 1
    weights = base ** np.arange(inst.state_length - 1, -1, -1)
    return np.asarray(state, dtype=np.int64) @ weights


@dataclass
class Solution:
    """Relative value iteration's answer: the policy over the grid and the optimal average cost."""

    instance: Instance
    states: np.ndarray  # (S, K), the grid in state_index order
    policy: np.ndarray  # (S,) optimal order per state
    average_cost: float  # optimal mean daily cost (midpoint of the final bounds)
    bounds: tuple[float, float]  # lower and upper bound on it at the last iteration
    bias: np.ndarray  # relative values, 0 at the empty state
    iterations: int

    def order(self, state: np.ndarray) -> np.ndarray:
        orders: np.ndarray = self.policy[state_index(self.instance, state)]
        return orders


def _grid(inst: Instance) -> np.ndarray:
    values = range(inst.max_order + 1)
    return np.array(list(itertools.product(values, repeat=inst.state_length)), dtype=np.int64)


def _transitions(inst: Instance, states: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rest index (S, D), P over the D demand columns, expected cost without the order (S,)).

    Demand above a state's stock leaves the same next state, so demands of at least the largest
    possible stock share one column; the shortage cost uses the full distribution.
    """
    m, lt = inst.useful_life, inst.lead_time
    pmf = demand_pmf(inst)
    top = min(m * inst.max_order, inst.max_demand)
    p = pmf[: top + 1].copy()
    p[top] += pmf[top + 1 :].sum()
    transit, stock = states[:, : lt - 1], states[:, lt - 1 :]
    demand = np.arange(top + 1)
    left = issue(stock[:, None, :], demand[None, :], inst.issuing)  # (S, D, m)
    rest = np.concatenate(
        [np.broadcast_to(transit[:, None, :], left.shape[:2] + (lt - 1,)), left[:, :, : m - 1]],
        axis=2,
    )
    base = inst.max_order + 1
    weights = base ** np.arange(inst.state_length - 2, -1, -1)
    rest_idx = rest @ weights
    on_hand = stock.sum(axis=1)
    d_all = np.arange(len(pmf))
    shortage = (np.maximum(d_all[None, :] - on_hand[:, None], 0) * pmf[None, :]).sum(axis=1)
    expired = left[:, :, m - 1] @ p
    held = left[:, :, : m - 1].sum(axis=2) @ p
    cost = inst.shortage_cost * shortage + inst.wastage_cost * expired + inst.holding_cost * held
    return rest_idx, p, cost


def solve(
    inst: Instance, discount: float | None = None, tol: float = 1e-7, max_iter: int = 20_000
) -> Solution:
    """Relative value iteration on the average cost until the bounds on it are within tol.

    h_{n+1}(s) = min_a [c(s, a) + E h_n(s')] - (same at the empty state). The spread of
    T h - h bounds the optimal average cost from both sides (Odoni). With `discount` the same
    iteration minimises the discounted cost instead (the criterion of the published value
    iteration, discount 0.99); average_cost is then that policy's exact long-run mean.
    """
    if discount is not None and not 0.0 < discount < 1.0:
        raise ValueError(f"discount: expected None or a number in (0, 1), got {discount!r}")
    states = _grid(inst)
    rest_idx, p, cost0 = _transitions(inst, states)
    base = inst.max_order + 1
    order_cost = inst.order_cost * np.arange(base)  # (A,)
    gamma = 1.0 if discount is None else discount
    # the aperiodicity transform (stay put with probability 1 - DAMPING) keeps the average-cost
    # policy and gain but lets the iteration converge on periodic chains
    damping = DAMPING if discount is None else 1.0
    h = np.zeros(len(states))
    lo, hi = -np.inf, np.inf
    for it in range(1, max_iter + 1):  # noqa: B007 (the count is returned)
        future = h.reshape(base, -1)[:, rest_idx] @ p  # (A, S): E h(order a, rest)
        q = cost0[None, :] + order_cost[:, None] + gamma * future
        diff = q.min(axis=0) - h
        lo, hi = float(diff.min()), float(diff.max())
        h = h + damping * (diff - (diff[0] if discount is None else 0.0))
        if hi - lo < tol:
            break
    else:
        raise RuntimeError(
            f"value iteration: bounds {lo:.6g}..{hi:.6g} not within {tol} "
            f"after {max_iter} iterations"
        )
    # ties (equal to rounding) go to the smallest order
    best = q.min(axis=0)
    policy = np.argmax(q <= best[None, :] + 1e-9, axis=0).astype(np.int64)
    if discount is None:
        return Solution(inst, states, policy, 0.5 * (lo + hi), (lo, hi), h - h[0], it)
    g = average_cost(inst, policy)
    return Solution(inst, states, policy, g, (g, g), h, it)


def average_cost(
    inst: Instance, policy: np.ndarray, tol: float = 1e-12, max_iter: int = 100_000
) -> float:
    """Exact long-run mean daily cost of a table policy (S,), from the empty state.

    The stationary distribution by damped power iteration (the chain may be periodic).
    """
    states = _grid(inst)
    policy = np.asarray(policy, dtype=np.int64)
    if policy.shape != (len(states),) or policy.min() < 0 or policy.max() > inst.max_order:
        raise ValueError(
            f"policy: expected {len(states)} orders in 0..{inst.max_order}, "
            f"got shape {policy.shape}"
        )
    rest_idx, p, cost0 = _transitions(inst, states)
    nxt = policy[:, None] * (inst.max_order + 1) ** (inst.state_length - 1) + rest_idx
    flow = np.broadcast_to(p, nxt.shape)
    pi = np.zeros(len(states))
    pi[0] = 1.0
    for _ in range(max_iter):
        moved = np.bincount(nxt.ravel(), weights=(pi[:, None] * flow).ravel(), minlength=len(pi))
        new = 0.5 * (pi + moved)
        if np.abs(new - pi).sum() < tol:
            pi = new
            break
        pi = new
    else:
        raise RuntimeError(f"average_cost: stationary distribution not found in {max_iter} steps")
    return float(pi @ (cost0 + inst.order_cost * policy))


def policy_table(sol: Solution, size: int = 9) -> np.ndarray:
    """For m = 2, L = 1: order by (freshest units, oldest units), each 0..size-1."""
    inst = sol.instance
    if inst.useful_life != 2 or inst.lead_time != 1:
        raise ValueError(
            f"policy_table: expected m = 2 and L = 1, got m = {inst.useful_life}, "
            f"L = {inst.lead_time}"
        )
    fresh, old = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
    return sol.order(np.stack([fresh.ravel(), old.ravel()], axis=1)).reshape(size, size)


def base_stock_order(inst: Instance, state: np.ndarray, level: int) -> np.ndarray:
    """Order up to `level` on the inventory position (stock + in transit), within 0..max_order."""
    orders: np.ndarray = np.clip(level - state.sum(axis=1), 0, inst.max_order)
    return orders


def simulate(
    inst: Instance,
    orders: Callable[[np.ndarray], np.ndarray],
    demand: np.ndarray,
    observe: Callable[[Day], None] | None = None,
) -> dict[str, np.ndarray]:
    """Run `orders(state (R, K)) -> (R,)` on demand paths (R, T) from an empty start.

    `observe(day: Day)`, when given, is called after each day is traded (a learning policy reads
    its sales there). Returns per-day arrays (R, T): cost, sold, short, expired, held, ordered.
    """
    demand = np.asarray(demand, dtype=np.int64)
    r, t = demand.shape
    state = np.zeros((r, inst.state_length), dtype=np.int64)
    out = {k: np.zeros((r, t)) for k in ("cost", "sold", "short", "expired", "held", "ordered")}
    for day in range(t):
        a = np.asarray(orders(state), dtype=np.int64)
        d = step(inst, state, a, demand[:, day])
        if observe is not None:
            observe(d)
        for k in ("cost", "sold", "short", "expired", "held"):
            out[k][:, day] = getattr(d, k)
        out["ordered"][:, day] = a
        state = d.state
    return out
