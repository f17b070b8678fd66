"""The exact solver of the published perishable problem against the policies the paper reports."""

from __future__ import annotations

import numpy as np
import pytest

from backend.sim import perishable as P

# Optimal orders reported by De Moor, Gijsbrechts and Boute (2022, EJOR 301(2), Fig. 3) for m = 2,
# L = 1, as kept by Farrington et al. in joefarrington/viso_jax,
# tests/data/de_moor_perishable_m2_exp1_reported_policy.csv and ..._exp2_... . Rows: units of
# age 1 (freshest) from 8 down to 0; columns: units of age 2 (oldest) from 0 to 8.
REPORTED = {
    "m2_exp1": [  # LIFO
        [0, 0, 0, 0, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0, 0, 0, 0],
        [1, 1, 1, 1, 1, 1, 1, 1, 1],
        [2, 2, 2, 2, 2, 2, 2, 2, 2],
        [3, 3, 3, 3, 3, 3, 3, 3, 3],
        [3, 3, 3, 3, 3, 3, 3, 3, 3],
        [3, 3, 3, 3, 3, 3, 3, 3, 3],
    ],
    "m2_exp2": [  # FIFO
        [1, 0, 0, 0, 0, 0, 0, 0, 0],
        [1, 1, 0, 0, 0, 0, 0, 0, 0],
        [2, 1, 1, 0, 0, 0, 0, 0, 0],
        [2, 2, 1, 1, 0, 0, 0, 0, 0],
        [3, 2, 2, 1, 1, 1, 1, 0, 0],
        [3, 3, 2, 2, 1, 1, 1, 1, 1],
        [4, 3, 3, 3, 2, 2, 2, 2, 2],
        [4, 4, 3, 3, 3, 3, 3, 3, 3],
        [4, 4, 4, 4, 4, 4, 4, 4, 4],
    ],
}
PUBLISHED_DISCOUNT = 0.99  # the criterion of the published value iteration (viso_jax vi_runner)


def reported(name: str) -> np.ndarray:
    return np.array(REPORTED[name])[::-1]  # row index = units of age 1


@pytest.fixture(scope="module")
def average() -> dict[str, P.Solution]:
    return {n: P.solve(P.INSTANCES[n]) for n in REPORTED}


@pytest.mark.parametrize("name", sorted(REPORTED))
def test_published_criterion_reproduces_the_reported_policy(name: str) -> None:
    sol = P.solve(P.INSTANCES[name], discount=PUBLISHED_DISCOUNT)
    assert np.array_equal(P.policy_table(sol), reported(name))


def test_average_cost_policy_is_the_reported_one_up_to_a_transient_state(average) -> None:
    assert np.array_equal(P.policy_table(average["m2_exp1"]), reported("m2_exp1"))
    diff = P.policy_table(average["m2_exp2"]) != reported("m2_exp2")
    assert diff.sum() <= 1
    # the reported (discounted) policy is average-cost optimal as well, to 1e-5 a day
    for name, sol in average.items():
        disc = P.solve(P.INSTANCES[name], discount=PUBLISHED_DISCOUNT)
        assert -1e-6 < disc.average_cost - sol.average_cost < 1e-5


def test_bounds_bracket_the_exact_cost_of_the_policy(average) -> None:
    for name, sol in average.items():
        lo, hi = sol.bounds
        assert lo <= hi and hi - lo < 1e-6
        assert abs(P.average_cost(P.INSTANCES[name], sol.policy) - sol.average_cost) < 1e-6


def test_optimum_beats_every_base_stock_level_and_fifo_beats_lifo(average) -> None:
    for name, sol in average.items():
        inst = P.INSTANCES[name]
        costs = [
            P.average_cost(inst, P.base_stock_order(inst, sol.states, s)) for s in range(4, 13)
        ]
        assert sol.average_cost < min(costs)
    assert average["m2_exp2"].average_cost < average["m2_exp1"].average_cost


def test_simulation_agrees_with_the_exact_average_cost(average) -> None:
    inst = P.INSTANCES["m2_exp2"]
    sol = average["m2_exp2"]
    demand = P.sample_demand(inst, np.random.default_rng(5), (200, 600))
    daily = P.simulate(inst, sol.order, demand)["cost"][:, 100:].mean(axis=1)
    se = daily.std(ddof=1) / np.sqrt(len(daily))
    assert abs(daily.mean() - sol.average_cost) < 4 * se


def test_demand_is_the_rounded_gamma() -> None:
    inst = P.INSTANCES["m2_exp1"]
    p = P.demand_pmf(inst)
    assert p.shape == (101,) and abs(p.sum() - 1.0) < 1e-12
    d = np.arange(101)
    assert abs(p @ d - 4.0) < 0.05 and abs(p @ d**2 - (p @ d) ** 2 - 4.0 - 1 / 12) < 0.05
    draws = P.sample_demand(inst, np.random.default_rng(0), (200_000,))
    freq = np.bincount(draws, minlength=101) / draws.size
    assert np.abs(freq[:15] - p[:15]).max() < 0.005


def test_issuing_rules_and_one_day() -> None:
    stock = np.array([[3, 2]])  # 3 fresh, 2 old
    assert P.issue(stock, np.array([4]), "fifo").tolist() == [[1, 0]]
    assert P.issue(stock, np.array([4]), "lifo").tolist() == [[0, 1]]
    day = P.step(P.INSTANCES["m2_exp1"], stock, np.array([5]), np.array([4]))
    assert day.state.tolist() == [[5, 0]]  # the order arrives; the old unit expires
    assert (day.sold[0], day.short[0], day.expired[0], day.held[0]) == (4, 0, 1, 0)
    assert day.cost[0] == 3 * 5 + 7 * 1
    day = P.step(P.INSTANCES["m2_exp5"], np.array([[2, 1, 0]]), np.array([4]), np.array([3]))
    assert day.state.tolist() == [[4, 2, 0]] and day.short[0] == 2


def test_bad_instance_is_refused() -> None:
    with pytest.raises(ValueError, match="issuing: expected one of"):
        P.Instance("x", 2, 1, "random")
    with pytest.raises(ValueError, match="lead_time: expected an integer >= 1"):
        P.Instance("x", 2, 0, "fifo")
