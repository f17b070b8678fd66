"""The true demand model: rate at a price, its spread, and an exact vectorised Poisson quantile."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import special

from backend.sim.catalog import Catalog

MAX_RATE = 1_000_000.0  # units/day: a price near zero would otherwise ask for infinite demand


def demand_rate(
    catalog: Catalog, weekday: int, effective_price: np.ndarray, shock: np.ndarray | float = 1.0
) -> np.ndarray:
    """Poisson rate (units/day) at effective prices: base x weekday x shock x (p/list)^e."""
    ratio = np.asarray(effective_price, dtype=float) / catalog.list_price
    rate = catalog.base_demand * catalog.weekday[:, weekday] * shock * ratio**catalog.elasticity
    return np.minimum(rate, MAX_RATE)


def demand_sd(catalog: Catalog, mean: np.ndarray) -> np.ndarray:
    """Standard deviation of gamma-Poisson (negative binomial) demand with the given mean."""
    return np.sqrt(mean + mean**2 / catalog.dispersion)


def poisson_ppf(u: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """Smallest k with P(Poisson(rate) <= k) >= u, elementwise; equals scipy.stats.poisson.ppf.

    A Cornish-Fisher first guess then exact unit steps on the CDF (pdtr): cheaper than
    scipy.stats.poisson.ppf, whose pdtrik inversion would dominate the store's step.
    Monotone in rate for a fixed u because the Poisson CDF falls as the rate rises.
    """
    u = np.asarray(u, dtype=float)
    rate = np.asarray(rate, dtype=float)
    z = special.ndtri(np.clip(u, 1e-16, 1.0 - 1e-16))
    k = np.maximum(np.floor(rate + np.sqrt(rate) * z + (z * z - 1.0) / 6.0), 0.0)
    up = special.pdtr(k, rate) < u
    while up.any():
        k[up] += 1.0
        up[up] = special.pdtr(k[up], rate[up]) < u[up]
    down = (k > 0) & (special.pdtr(k - 1.0, rate) >= u)
    while down.any():
        k[down] -= 1.0
        down[down] = (k[down] > 0) & (special.pdtr(k[down] - 1.0, rate[down]) >= u[down])
    units: npt.NDArray[np.int64] = k.astype(np.int64)
    return units
