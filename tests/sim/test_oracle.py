from __future__ import annotations

import numpy as np
import pytest

from backend.sim.catalog import make_catalog
from backend.sim.kpis import price_optimization_score
from backend.sim.oracle import oracle_actions, profit_upper_bound
from backend.sim.store import Actions, Store, daily_draws
from backend.sim.true_demand import poisson_ppf
from tests.sim.conftest import run_standing

DAYS = 84


def _run(store: Store, policy: str, rng: np.random.Generator | None = None) -> Store:
    for _ in range(DAYS):
        if policy == "oracle":
            store.apply(oracle_actions(store))
        elif policy == "random":
            act = store.standing_actions()
            assert rng is not None
            store.apply(
                Actions(
                    price=act.price * rng.uniform(0.5, 2.0, store.n),
                    markdown=rng.uniform(0.0, 0.5, store.n),
                    order_qty=rng.integers(0, 15, store.n),
                )
            )
        else:
            run_standing(store, 1)
            continue
        store.step()
    return store


@pytest.mark.parametrize("seed", [0, 1])
def test_oracle_beats_the_static_baseline_in_profit_and_waste(seed: int) -> None:
    cat = make_catalog(50, seed)
    base = _run(Store(cat, seed), "standing")
    oracle = _run(Store(cat, seed), "oracle")
    b, o = base.ledger, oracle.ledger
    assert o.profit > 1.03 * b.profit
    assert o.units_expired / o.units_received < 0.7 * (b.units_expired / b.units_received)
    assert o.units_sold / o.units_demanded > 0.94  # it does not win by starving the shelf


def test_oracle_prices_score_one_and_the_baseline_less() -> None:
    cat = make_catalog(50, 2)
    base = Store(cat, 2)
    oracle = Store(cat, 2)
    for _ in range(21):
        run_standing(base, 1)
        oracle.apply(oracle_actions(oracle))
        oracle.step()
    assert price_optimization_score(oracle.ledger, cat) == pytest.approx(1.0, abs=1e-9)
    assert price_optimization_score(base.ledger, cat) < 0.98


def test_no_policy_beats_the_profit_upper_bound() -> None:
    cat = make_catalog(50, 3)
    bound = profit_upper_bound(cat, 3, DAYS)
    rng = np.random.default_rng(0)
    runs = [_run(Store(cat, 3), p, rng) for p in ("standing", "oracle", "random")]
    profits = [s.ledger.profit for s in runs]
    assert all(p < bound for p in profits)
    assert profits[1] > 0.25 * bound  # the bound is loose but not vacuous


def test_upper_bound_is_the_hindsight_optimum_over_prices() -> None:
    cat = make_catalog(30, 5)
    u, shock = next(daily_draws(cat, 5, 1))
    a = cat.base_demand * cat.weekday[:, 0] * shock
    ratios = np.geomspace(0.3, 200.0, 60_000)
    best = np.zeros(cat.n)
    for chunk in np.array_split(ratios, 30):
        price = cat.list_price[:, None] * chunk[None, :]
        rate = a[:, None] * chunk[None, :] ** cat.elasticity[:, None]
        demand = poisson_ppf(np.repeat(u[:, None], chunk.size, 1), rate)
        best = np.maximum(best, ((price - cat.unit_cost[:, None]) * demand).max(axis=1))
    bound = profit_upper_bound(cat, 5, 1)
    assert best.sum() <= bound
    assert best.sum() >= 0.995 * bound  # a fine grid approaches the supremum from below


def test_upper_bound_rejects_negative_days() -> None:
    with pytest.raises(ValueError, match="days: expected an integer >= 0, got -1"):
        profit_upper_bound(make_catalog(5, 0), 0, -1)


def test_oracle_object_gives_the_oracle_actions() -> None:
    from backend.sim.oracle import Oracle

    cat = make_catalog(20, 0)
    store = Store(cat, 0)
    a, b = Oracle(cat).actions(store), oracle_actions(store)
    assert np.array_equal(a.price, b.price) and np.array_equal(a.order_qty, b.order_qty)
    with pytest.raises(ValueError, match="store: expected 21 SKUs, got 20"):
        Oracle(make_catalog(21, 1)).actions(store)
