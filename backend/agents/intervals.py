"""Predictive intervals for the units a decision expects to sell, from an agent's own posterior.

A decision predicts the units sold over one or more days. Demand D over those days is taken as
gamma with the agent's predictive mean and variance (shock variance mu + mu^2 / k plus the
posterior variance of the log mean times mean^2); sales are D capped at the units the agent
expects on the shelf, so the interval is [min(q_lo, cap), min(q_hi, cap)]. The outcome is judged
inside, above or below (outcomes.py); the share inside is the interval's calibration.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import gamma

from backend.agents.demand import DemandModel

LOW, HIGH = 0.1, 0.9  # an 80% central interval


def sales_interval(
    mean: np.ndarray, var: np.ndarray, cap: np.ndarray | float = np.inf
) -> tuple[np.ndarray, np.ndarray]:
    """(lo, hi) of units sold: the LOW and HIGH quantiles of gamma(mean, var) capped at `cap`."""
    mean = np.maximum(np.asarray(mean, dtype=float), 1e-9)
    var = np.maximum(np.asarray(var, dtype=float), 1e-9)
    shape, scale = mean * mean / var, var / mean
    lo, hi = gamma.ppf(LOW, shape, scale=scale), gamma.ppf(HIGH, shape, scale=scale)
    cap = np.asarray(cap, dtype=float)
    return np.minimum(lo, cap), np.minimum(hi, cap)


def day_predictive(
    model: DemandModel, price: np.ndarray, weekday: int
) -> tuple[np.ndarray, np.ndarray]:
    """(mean, var) of one day's units per SKU at `price` (n,) under a DemandModel's posterior."""
    price = np.asarray(price, dtype=float)
    mu = model.mean_demand(price, weekday)
    c = model.cov()
    x = np.log(np.maximum(price, 1e-9) / model.list_price)
    var_log = c[:, 0, 0] + 2.0 * x * c[:, 0, 1] + x * x * c[:, 1, 1]
    return mu, mu + model.inv_k * mu * mu + var_log * mu * mu
