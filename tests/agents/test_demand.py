"""The Bayesian log-log demand model on synthetic sales with known parameters."""

from __future__ import annotations

import numpy as np
import pytest

from backend.agents.demand import LEVEL_DRIFT, PRIOR_ELASTICITY, DemandModel, tail_mean


def simulate(n: int, days: int, seed: int, censor_at_mean: bool = False):
    rng = np.random.default_rng(seed)
    e = rng.uniform(-3.5, -1.3, n)
    base = np.exp(rng.normal(np.log(6.0), 0.5, n))
    lp = np.full(n, 2.0)
    shape = np.array([0.88, 0.85, 0.90, 0.95, 1.08, 1.25, 1.09])
    model = DemandModel(lp, np.array(["a", "b"])[np.arange(n) % 2])
    price = lp.copy()
    for t in range(days):
        if t % 3 == 0:
            price = lp * np.exp(rng.uniform(np.log(0.8), np.log(1.8), n))
        mu = base * (price / lp) ** e * shape[t % 7]
        demand = rng.poisson(mu * rng.gamma(5.0, 0.2, n))
        stock = np.ceil(mu) if censor_at_mean else np.full(n, 10**9)
        sales = np.minimum(demand, stock)
        model.update(t % 7, price, sales, sales == stock)  # what the shelf shows
    return model, e, base, shape


def test_model_recovers_elasticities_from_daily_sales() -> None:
    model, e, _, _ = simulate(400, 240, seed=1)
    mean, sd = model.elasticity()
    err = mean - e
    assert abs(err.mean()) < 0.12
    assert np.sqrt(np.mean(err**2)) < 0.35
    assert np.sqrt(np.mean(err**2)) < 0.6 * np.sqrt(np.mean((PRIOR_ELASTICITY - e) ** 2))
    assert 0.75 < np.mean(np.abs(err) < 1.645 * sd) <= 1.0  # 90% intervals roughly calibrated


def test_weekday_factors_find_the_saturday_peak() -> None:
    model, _, _, shape = simulate(200, 140, seed=2)
    w = model.weekday_factors()
    assert np.allclose(w.mean(axis=1), 1.0)
    assert np.argmax(w.mean(axis=0)) == 5
    assert np.mean(np.argmax(w, axis=1) >= 4) > 0.8  # most SKUs peak at the weekend
    assert np.abs(w.mean(axis=0) - shape / shape.mean()).max() < 0.06


def test_censored_days_do_not_pull_the_level_down() -> None:
    # stock equal to the mean: about half the days sell out, and the sales that day understate demand
    model, _, base, _ = simulate(300, 200, seed=3, censor_at_mean=True)
    level = np.exp(model.mean[:, 0])
    assert abs(np.median(level / base) - 1.0) < 0.12


def test_tail_mean_is_the_conditional_mean_of_a_gamma() -> None:
    rng = np.random.default_rng(0)
    draws = rng.gamma(2.0, 3.0, 400_000)  # mean 6, variance 18
    for above in (0.0, 4.0, 10.0):
        got = float(tail_mean(np.array([6.0]), np.array([18.0]), np.array([above]))[0])
        assert got == pytest.approx(draws[draws > above].mean(), rel=0.01)
        assert got >= above


def test_thompson_draws_follow_the_posterior() -> None:
    model, _, _, _ = simulate(3, 60, seed=4)
    rng = np.random.default_rng(5)
    draws = np.stack([model.sample(rng) for _ in range(20_000)])  # (draws, n, 2)
    assert np.allclose(draws.mean(axis=0), model.mean, atol=0.02)
    cov = model.cov()
    for i in range(3):
        assert np.allclose(np.cov(draws[:, i, :].T), cov[i], rtol=0.1, atol=1e-4)


def test_a_drifting_level_follows_a_shift_in_days_and_a_still_one_does_not() -> None:
    rng = np.random.default_rng(3)
    n, lp = 300, np.full(300, 2.0)
    fits = {}
    for drift in (0.0, 0.05):
        model = DemandModel(lp, np.array(["a"] * n), level_drift=drift)
        for t in range(240):
            mu = 6.0 if t < 200 else 12.0  # demand doubles on day 200
            price = lp * rng.uniform(0.9, 1.1, n)
            sales = rng.poisson(mu * (price / lp) ** -2.0)
            model.update(t % 7, price, sales, np.zeros(n, dtype=bool))
        fits[drift] = np.exp(model.mean[:, 0]).mean()
    assert fits[0.05] > 10.5  # close to the new 12 units a day
    assert fits[0.0] < 8.0  # still mostly the 200 days at 6
    assert DemandModel(lp, np.array(["a"] * n)).level_drift == LEVEL_DRIFT > 0.0


def test_heavy_censoring_overstates_neither_the_spread_nor_the_level() -> None:
    # near-Poisson demand (mean 4, 1/k about 0.005) on a shelf of 3: three days in four sell
    # out, and the days that do not are the low-demand ones
    rng = np.random.default_rng(1)
    n = 100
    model = DemandModel(np.full(n, 5.0), np.array(["fresh"] * n))
    price = np.full(n, 5.0)
    for t in range(365):
        sales = np.minimum(np.round(rng.gamma(4.0, 1.0, n)), 3.0)
        model.update(t % 7, price, sales, sales == 3.0)
    assert np.median(model.inv_k) < 0.1  # a moment estimate on the unsold-out days: 0.46
    level = model.mean_demand(np.full((n, 7), 5.0), np.arange(7)).mean(axis=1)
    assert abs(np.median(level) / 4.0 - 1.0) < 0.08  # with it: 6.1
