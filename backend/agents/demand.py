"""Per-SKU Bayesian log-log demand model learned from censored daily sales (vectorised over SKUs).

Model: mean units on weekday d at effective price p is
    mu = exp(a + b * log(p / list_price)) * w[d],
with b the own-price elasticity and w the weekday multipliers (mean 1 per SKU). Sales are
negative-binomial around mu (variance mu + mu^2 / k). The regression coefficients (a, b) carry a
normal posterior updated day by day with the conjugate normal (weighted least squares) update on
the log-link working response z = x'm + (s - mu) / mu with weight 1 / (1/mu + 1/k): the online
Laplace approximation of the log-log regression, which keeps zero-sale days (log(0) would drop
them and bias the elasticity towards zero on slow sellers). Stock-out days are censored: their
sales are not taken as demand (see update). Weekday multipliers are pooled per category and shrunk per SKU.
The dispersion 1/k is estimated by its likelihood on a grid, a sold-out day entering as
P(D >= sales), so heavy censoring does not inflate it (nor, through the imputed demand, the level).

Priors: elasticity N(-2.5, 0.7^2), close to the meta-analytic mean of -2.6 for grocery
(Bijmolt, van Heerde and Pieters 2005); level N(c, 1.2^2) with c the log of the median first-day
sales of the SKU's category (empirical Bayes from what the store sells, not an assumed median;
before any sale, log 1).
"""

from __future__ import annotations

import numpy as np
from scipy import special

PRIOR_ELASTICITY = -2.5
PRIOR_ELASTICITY_SD = 0.7
PRIOR_LOG_LEVEL = 0.0  # before the first day's sales centre it per category
PRIOR_LOG_LEVEL_SD = 1.2
PRIOR_INV_K = 0.2  # squared CV of the demand shock, a loose start for the pooled dispersion
PRIOR_LOG_INV_K_SD = 1.5  # of the prior on log(1/k): loose, the days soon outweigh it
INV_K_GRID = np.geomspace(0.01, 2.0, 24)  # values of 1/k the dispersion's likelihood is kept on
WEEKDAY_SHRINK = 6.0  # pseudo-observations pulling a SKU's weekday factor to its category's
MU_FLOOR = 0.05
RESIDUAL_CAP = 3.0  # caps (s - mu)/mu so one freak day early on cannot swing the fit
Z90 = 1.6448536269514722
DISPERSION_SHRINK = 30.0  # pseudo-days of the pooled dispersion in each SKU's estimate
DISPERSION_MEMORY = 0.995  # daily discount of the dispersion's evidence (about 200 days)
# Daily sd of the random walk in a SKU's log level: more drift follows a moving level sooner and
# costs profit where the level is still (tuned on the store's seeds 0-19 and seeds 0-3 of the
# shifts and seasonal worlds)
LEVEL_DRIFT = 0.015
CENSORED_WEIGHT = 1.0  # weight of a stock-out day (imputed demand); less would bias the level down


def tail_mean(mean: np.ndarray, var: np.ndarray, above: np.ndarray) -> np.ndarray:
    """E[D | D > above] for D gamma with the given mean and variance (at least `above`)."""
    safe = np.maximum(mean, 1e-9)
    var = np.maximum(var, 1e-9)
    k = safe * safe / var
    x = np.maximum(above, 0.0) / (var / safe)
    tail0 = special.gammaincc(k, x)
    tail1 = special.gammaincc(k + 1.0, x)
    with np.errstate(divide="ignore", invalid="ignore"):
        cond = np.where(tail0 > 1e-12, safe * tail1 / tail0, above)
    at_least: np.ndarray = np.maximum(cond, above)
    return at_least


def nb_log_likelihood(
    mean: np.ndarray, sales: np.ndarray, censored: np.ndarray, inv_k: np.ndarray
) -> np.ndarray:
    """(n, G) log P(sales) of a negative binomial (mean, variance mean + inv_k mean^2) for each
    1/k of inv_k ((G,), or (n, G) per SKU), and log P(D >= sales) where the day was censored
    (the shelf sold out)."""
    mu = np.maximum(np.asarray(mean, dtype=float), MU_FLOOR)[:, None]
    s = np.asarray(sales, dtype=float)[:, None]
    r = 1.0 / np.atleast_2d(np.asarray(inv_k, dtype=float))
    r = np.broadcast_to(r, (len(mu), r.shape[1]))
    q = mu / (mu + r)  # the failure probability: P = r / (r + mu) is that of a success
    cut = np.asarray(censored, dtype=bool)
    ll = np.zeros(q.shape)
    e = ~cut
    se, re, qe = s[e], r[e], q[e]
    ll[e] = (
        special.gammaln(se + re)
        - special.gammaln(re)
        - special.gammaln(se + 1.0)
        + re * np.log1p(-qe)
        + se * np.log(qe)
    )
    # P(D >= s) = I_q(s, r) (regularised incomplete beta), 1 for s = 0; only the censored rows
    # (the incomplete beta is the dear part)
    c = cut & (s[:, 0] > 0)
    ll[c] = np.log(np.maximum(special.betainc(s[c], r[c], q[c]), 1e-300))
    return ll


class DemandModel:
    """Posterior over (log level, elasticity) per SKU plus weekday factors and a pooled dispersion.

    `level_drift`: the daily standard deviation of a random walk in each SKU's log level
    (LEVEL_DRIFT by default): old days weigh less for the level, so a level that moves (a
    season, a trend, a shift in a line's demand) is followed in weeks, not months.
    """

    level_drift: float = LEVEL_DRIFT

    def __init__(
        self,
        list_price: np.ndarray,
        category: np.ndarray,
        forget: float = 1.0,
        level_drift: float = LEVEL_DRIFT,
    ) -> None:
        n = len(list_price)
        self.level_drift = level_drift
        self.n = n
        self.list_price = np.asarray(list_price, dtype=float)
        cats, self.cat_index = np.unique(np.asarray(category), return_inverse=True)
        self.n_cat = len(cats)
        self.forget = forget
        self.mean = np.tile([PRIOR_LOG_LEVEL, PRIOR_ELASTICITY], (n, 1))
        self.prec = np.zeros((n, 2, 2))
        self.prec[:, 0, 0] = 1.0 / PRIOR_LOG_LEVEL_SD**2
        self.prec[:, 1, 1] = 1.0 / PRIOR_ELASTICITY_SD**2
        self._prior_prec = self.prec[0].copy()
        self.wd_sum = np.zeros((n, 7))  # sum of sales / weekday-free mean, per weekday
        self.wd_cnt = np.zeros((n, 7))
        # discounted log-likelihood of the days on the grid of 1/k, per SKU, with the number of
        # days behind it
        self.disp_ll = np.zeros((n, len(INV_K_GRID)))
        self.disp_cnt = np.zeros(n)
        self.n_obs = np.zeros(n, dtype=np.int64)
        self._weekday: np.ndarray | None = None  # cache of weekday_factors(), reset by update
        self._inv_k: np.ndarray | None = None  # cache of inv_k, reset by update
        self.last_day = -1

    def _centre_levels(self, sales: np.ndarray) -> None:
        """Centre the level prior on the median first-day sales of each SKU's category."""
        for c in range(self.n_cat):
            m = self.cat_index == c
            self.mean[m, 0] = np.log(max(float(np.median(sales[m])), 0.5))

    # -- reading the posterior ----------------------------------------------------------------
    @staticmethod
    def _posterior_inv_k(ll: np.ndarray) -> np.ndarray:
        """Posterior mean of 1/k on the grid (the variance it enters is linear in it), from
        rows of log-likelihoods (.., G) and a log-normal prior."""
        log_grid = np.log(INV_K_GRID)
        prior = -0.5 * ((log_grid - np.log(PRIOR_INV_K)) / PRIOR_LOG_INV_K_SD) ** 2
        post = ll + prior
        w = np.exp(post - post.max(axis=-1, keepdims=True))
        out: np.ndarray = (w * INV_K_GRID).sum(axis=-1) / w.sum(axis=-1)
        return out

    @property
    def pooled_inv_k(self) -> float:
        """Squared CV of the demand shock pooled over SKUs (1/k of the negative binomial)."""
        return float(self._posterior_inv_k(self.disp_ll.sum(axis=0)))

    @property
    def inv_k(self) -> np.ndarray:
        """(n,) per-SKU squared CV of the demand shock: each SKU's days plus DISPERSION_SHRINK
        pseudo-days of the pooled evidence (its log-likelihood per SKU-day)."""
        if self._inv_k is None:
            days = float(self.disp_cnt.sum())
            pooled = self.disp_ll.sum(axis=0) * (DISPERSION_SHRINK / max(days, 1.0))
            self._inv_k = self._posterior_inv_k(self.disp_ll + pooled[None, :])
        return self._inv_k

    def cov(self) -> np.ndarray:
        """(n, 2, 2) posterior covariance of (log level, elasticity)."""
        p = self.prec
        det = p[:, 0, 0] * p[:, 1, 1] - p[:, 0, 1] * p[:, 1, 0]
        c = np.empty_like(p)
        c[:, 0, 0] = p[:, 1, 1] / det
        c[:, 1, 1] = p[:, 0, 0] / det
        c[:, 0, 1] = c[:, 1, 0] = -p[:, 0, 1] / det
        return c

    def elasticity(self) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation of each SKU's elasticity."""
        return self.mean[:, 1].copy(), np.sqrt(self.cov()[:, 1, 1])

    def weekday_factors(self) -> np.ndarray:
        """(n, 7) weekday multipliers, mean 1 per SKU: category pool shrunk towards each SKU."""
        if self._weekday is not None:
            return self._weekday
        cs = np.stack(
            [np.bincount(self.cat_index, self.wd_sum[:, d], self.n_cat) for d in range(7)], axis=1
        )
        cc = np.stack(
            [np.bincount(self.cat_index, self.wd_cnt[:, d], self.n_cat) for d in range(7)], axis=1
        )
        cat = (cs + 4.0) / (cc + 4.0)
        cat /= cat.mean(axis=1, keepdims=True)
        w = (self.wd_sum + WEEKDAY_SHRINK * cat[self.cat_index]) / (self.wd_cnt + WEEKDAY_SHRINK)
        self._weekday = w / w.mean(axis=1, keepdims=True)
        return self._weekday

    def mean_demand(
        self, price: np.ndarray, weekday: int | np.ndarray, coef: np.ndarray | None = None
    ) -> np.ndarray:
        """Expected units at `price` (n,) or (n, m) on `weekday` (int, or (m,) per column).

        With `coef` (n, 2) a sampled curve is used; otherwise the posterior mean with the
        lognormal correction for parameter uncertainty.
        """
        price = np.asarray(price, dtype=float)
        lp = price if price.ndim == 1 else price
        x = np.log(
            np.maximum(lp, 1e-9)
            / (self.list_price if price.ndim == 1 else self.list_price[:, None])
        )
        wd = self.weekday_factors()
        w = wd[:, weekday] if np.ndim(weekday) else wd[:, int(weekday)]
        if coef is None:
            c = self.cov()
            m = self.mean
            if price.ndim == 1:
                eta = (
                    m[:, 0]
                    + m[:, 1] * x
                    + 0.5 * (c[:, 0, 0] + 2 * c[:, 0, 1] * x + c[:, 1, 1] * x * x)
                )
            else:
                eta = (
                    m[:, 0, None]
                    + m[:, 1, None] * x
                    + 0.5 * (c[:, 0, 0, None] + 2 * c[:, 0, 1, None] * x + c[:, 1, 1, None] * x * x)
                )
        else:
            eta = coef[:, 0] + coef[:, 1] * x if price.ndim == 1 else coef[:, :1] + coef[:, 1:2] * x
        rate: np.ndarray = np.exp(np.minimum(eta, 20.0)) * w
        return rate

    def sample(self, rng: np.random.Generator) -> np.ndarray:
        """(n, 2) one Thompson draw of (log level, elasticity) per SKU."""
        c = self.cov()
        l00 = np.sqrt(c[:, 0, 0])
        l10 = c[:, 1, 0] / l00
        l11 = np.sqrt(np.maximum(c[:, 1, 1] - l10**2, 1e-12))
        z = rng.standard_normal((self.n, 2))
        out = self.mean.copy()
        out[:, 0] += l00 * z[:, 0]
        out[:, 1] += l10 * z[:, 0] + l11 * z[:, 1]
        return out

    # -- learning -------------------------------------------------------------------------------
    def _drift(self, q: float) -> None:
        """A day of random-walk drift in the log level: its variance grows by q (a Kalman
        prediction step), so old days weigh less for the level, not for the elasticity."""
        c = self.cov()
        c[:, 0, 0] += q
        det = c[:, 0, 0] * c[:, 1, 1] - c[:, 0, 1] * c[:, 1, 0]
        p = np.empty_like(c)
        p[:, 0, 0] = c[:, 1, 1] / det
        p[:, 1, 1] = c[:, 0, 0] / det
        p[:, 0, 1] = p[:, 1, 0] = -c[:, 0, 1] / det
        self.prec = p

    def update(
        self, weekday: int, price: np.ndarray, sales: np.ndarray, stocked_out: np.ndarray
    ) -> None:
        """One day of observations (effective price, units sold, stock-out flag per SKU).

        On a stock-out day (the shelf sold out: sales == stock) the sale is censored: demand
        was at least the units sold; a day on an empty shelf carries no evidence. Those days
        do not enter as observed demand (which would bias the level and the elasticity down);
        they enter with the demand expected given the censoring, E[D | D > sold] under the
        current model (an EM step), at full weight: down-weighting them would again favour
        the low-demand days and bias the level down.
        """
        censored = np.asarray(stocked_out, dtype=bool)
        s = np.asarray(sales, dtype=float)
        if not self.n_obs.any():
            self._centre_levels(s)
        ok = ~censored & (np.asarray(price) > 0)
        # a sold-out shelf says demand >= sales; an empty one (nothing sold) says nothing
        use = ok | (censored & (s > 0) & (np.asarray(price) > 0))
        x1 = np.log(np.maximum(price, 1e-9) / self.list_price)
        w_all = self.weekday_factors()[:, weekday]
        m = self.mean
        base = np.exp(np.clip(m[:, 0] + m[:, 1] * x1, -20.0, 20.0))
        mu = np.maximum(base * w_all, MU_FLOOR)
        inv_k = self.inv_k
        # dispersion: the likelihood of the day on the grid of 1/k, a sold-out day by P(D >= sold)
        # (a moment estimate from the days that did not sell out sees only the low-demand ones:
        # it overstated 1/k, and the imputations below then overstated the level). The day's
        # mean is itself uncertain: the sales' excess spread is 1/k plus the posterior variance
        # of the log mean at that price, which is not the demand's own noise.
        c = self.cov()
        var_log = c[:, 0, 0] + 2.0 * x1 * c[:, 0, 1] + x1 * x1 * c[:, 1, 1]
        ll = nb_log_likelihood(mu, s, censored, INV_K_GRID[None, :] + var_log[:, None])
        self.disp_ll = DISPERSION_MEMORY * self.disp_ll + np.where(use[:, None], ll, 0.0)
        self.disp_cnt = DISPERSION_MEMORY * self.disp_cnt + use
        self._inv_k = None
        if censored.any():
            s = np.where(censored, tail_mean(mu, mu + inv_k * mu * mu, s - 0.5), s)
        # weekday evidence: sales relative to the weekday-free mean
        share = np.where(ok, 1.0, np.where(use, CENSORED_WEIGHT, 0.0))
        self.wd_sum[:, weekday] += share * s / np.maximum(base, MU_FLOOR)
        self.wd_cnt[:, weekday] += share
        # conjugate normal update on the working response
        wgt = share / (1.0 / mu + inv_k)
        r = np.clip((s - mu) / mu, -1.0, RESIDUAL_CAP)
        eta = m[:, 0] + m[:, 1] * x1
        z = eta + r
        if self.forget < 1.0:
            self.prec = self.forget * self.prec + (1.0 - self.forget) * self._prior_prec
        if self.level_drift > 0.0:
            self._drift(self.level_drift**2)
        p = self.prec
        h = np.einsum("nij,nj->ni", p, m)
        p[:, 0, 0] += wgt
        p[:, 0, 1] += wgt * x1
        p[:, 1, 0] += wgt * x1
        p[:, 1, 1] += wgt * x1 * x1
        h[:, 0] += wgt * z
        h[:, 1] += wgt * x1 * z
        det = p[:, 0, 0] * p[:, 1, 1] - p[:, 0, 1] ** 2
        self.mean = np.stack(
            [
                (p[:, 1, 1] * h[:, 0] - p[:, 0, 1] * h[:, 1]) / det,
                (p[:, 0, 0] * h[:, 1] - p[:, 0, 1] * h[:, 0]) / det,
            ],
            axis=1,
        )
        self.n_obs += ok
        self._weekday = None


class DemandLearner:
    """An agent that learns from a traded day through its demand model (`model`)."""

    model: DemandModel

    def learn(
        self,
        weekday: int,
        price: np.ndarray,
        sales: np.ndarray,
        stocked_out: np.ndarray,
        expired: np.ndarray,
    ) -> None:
        self.model.update(weekday, price, sales, stocked_out)
        self.learned(sales, expired)

    def learned(self, sales: np.ndarray, expired: np.ndarray) -> None:
        """What else the agent keeps from a traded day (nothing, unless it says so)."""
