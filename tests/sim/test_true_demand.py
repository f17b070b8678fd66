from __future__ import annotations

import numpy as np
from scipy import stats

from backend.sim.true_demand import poisson_ppf


def test_poisson_quantile_matches_scipy_exactly() -> None:
    rng = np.random.default_rng(0)
    u = rng.random(20_000)
    rate = np.exp(rng.uniform(-6, 13, 20_000))
    assert np.array_equal(poisson_ppf(u, rate), stats.poisson.ppf(u, rate).astype(np.int64))
    assert poisson_ppf(np.array([0.0]), np.array([3.0]))[0] == 0


def test_poisson_quantile_is_monotone_in_the_rate() -> None:
    rng = np.random.default_rng(1)
    u = np.repeat(rng.random(200), 50)
    rate = np.tile(np.linspace(0.01, 80, 50), 200)
    k = poisson_ppf(u, rate).reshape(200, 50)
    assert np.all(np.diff(k, axis=1) >= 0)
