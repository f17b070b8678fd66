"""One day's expected economics under the true demand model: expected profit and optimal price.

The day's expected profit at a price, for the stock on the shelf, counts what pricing controls:
    value(p) = (p - c) * E[sold] + (c + fee) * E[expiring units sold]
i.e. revenue - cogs - disposal of the day, measured against not selling at all (so write-offs
no price could avoid are not charged to the price). Demand is gamma-Poisson (negative binomial)
with mean base x weekday x (p / list)^e; sales are min(demand, available); customers take the
oldest unit first and a share f the freshest. Holding (0.2% of cost a day) is left out: it
barely moves with price. With ample stock the optimum is the Lerner price c e / (1 + e).
"""

from __future__ import annotations

import numpy as np
from scipy import special

from backend.sim.catalog import Catalog

# Price search: a log grid per SKU, then rounds of points across the best point's neighbours.
SEARCH = (40, 16)
BAND_SD = 10.0  # demand levels summed: mean - 10 sd .. mean + 15 sd
CHUNK_CELLS = 65_536  # rows x demand levels per block: rows of like width share a block


def lerner_price(catalog: Catalog) -> np.ndarray:
    """Unconstrained profit-maximising price c e / (1 + e) (elasticity e < -1)."""
    e = catalog.elasticity
    return catalog.unit_cost * e / (1.0 + e)


def price_bounds(catalog: Catalog) -> tuple[np.ndarray, np.ndarray]:
    """Search range for the optimal price: a 90% markdown of list up to twice max(list, Lerner).

    Above the Lerner price profit only falls unless stock is scarce; twice it covers rationing
    of all but a near-empty shelf.
    """
    return 0.1 * catalog.list_price, 2.0 * np.maximum(catalog.list_price, lerner_price(catalog))


def _expiring_taken(
    sold: np.ndarray, available: np.ndarray, expiring: np.ndarray, fresh_share: float
) -> np.ndarray:
    """Units of the expiring cohort sold when `sold` units go, (1-f) oldest first, f freshest."""
    old = (1.0 - fresh_share) * sold
    from_old = np.minimum(expiring, old)
    other_left = (available - expiring) - np.maximum(old - expiring, 0.0)
    taken: np.ndarray = from_old + np.maximum(fresh_share * sold - other_left, 0.0)
    return taken


def _expiring_shape(
    available: np.ndarray, expiring: np.ndarray, fresh_share: float
) -> tuple[np.ndarray, np.ndarray]:
    """(c, b) with _expiring_taken(s) = (1 - f) s + c (s - b)+ for 0 <= s <= available.

    Old-takers reach the end of the expiring cohort at b1 = x / (1 - f). When that lies within
    the stock, expiring units go with them alone: min((1 - f) s, x), so c = -(1 - f), b = b1.
    Otherwise fresh-takers start on the expiring cohort once the other units are gone, at
    s* = (a - x) / f: c = f, b = s*.
    """
    a, x, f = available, expiring, fresh_share
    reach = x >= (1.0 - f) * a  # b1 >= a
    with np.errstate(divide="ignore", invalid="ignore"):
        star = np.where(f > 0, (a - x) / f if f > 0 else 0.0, 0.0)
        b1 = x / (1.0 - f) if f < 1 else np.full_like(a, np.inf)
    return np.where(reach, f, -(1.0 - f)), np.where(reach, star, np.minimum(b1, a))


def _expectations(
    mu: np.ndarray, k: np.ndarray, available: np.ndarray, expiring: np.ndarray, fresh_share: float
) -> tuple[np.ndarray, np.ndarray]:
    """E[sold] and E[expiring units sold] for NB(mean mu, shape k) demand; 1-D inputs.

    Sums the demand pmf over its central band (tails beyond 10-15 sd dropped) below the stock;
    the mass at or above the stock sells out the shelf.
    """
    mu = np.maximum(mu, 1e-12)
    p = k / (k + mu)
    # Band of demand levels carrying all but ~1e-12 of the mass (negative binomial tails
    # decay at least geometrically), found without the far costlier quantile inversion (nbdtrik).
    sd = np.sqrt(mu + mu * mu / k)
    lo = np.maximum(np.floor(mu - BAND_SD * sd - 5.0), 0.0)
    hi = np.ceil(mu + 1.5 * BAND_SD * sd + 15.0)
    lo = np.minimum(lo, available)
    width = (np.minimum(available, hi) - lo).astype(np.int64) + 1
    out_s = np.empty_like(mu)
    out_x = np.empty_like(mu)
    slope, knee = _expiring_shape(available, expiring, fresh_share)
    order = np.argsort(width, kind="stable")  # similar widths share a chunk
    ws = width[order]
    start = 0
    while start < mu.size:
        end = _chunk_end(ws, start)
        idx = order[start:end]
        w = int(ws[end - 1])
        # Levels down the rows, SKUs across: the running product below walks contiguous rows.
        d = lo[None, idx] + np.arange(w, dtype=float)[:, None]
        kk, pp, av = k[idx], p[idx], available[idx]
        d0 = d[0]
        # pmf(d + 1) = pmf(d) (d + k) / (d + 1) (1 - p): one product per level instead of three
        # log-gammas; the band starts at most ~10 sd below the mean, far from underflow.
        pmf = np.empty_like(d)
        log0 = kk * np.log(pp)  # pmf(0) = p^k; the log-gammas only where the band starts later
        later = d0 > 0
        if later.any():
            dl, kl = d0[later], kk[later]
            log0[later] += (
                special.gammaln(dl + kl)
                - special.gammaln(kl)
                - special.gammaln(dl + 1.0)
                + dl * np.log1p(-pp[later])
            )
        pmf[0] = np.where(d0 < av, np.exp(log0), 0.0)
        pmf[1:] = (d[:-1] + kk) / (d[:-1] + 1.0) * (1.0 - pp)
        # A zero step at the stock: every level from there on is zero after the running product
        # (a boolean-indexed assignment would cost several times the whole product).
        np.multiply(pmf[1:], d[1:] < av, out=pmf[1:])
        # numpy's cumprod down axis 0 runs element by element: a row at a time is much faster
        if w <= 128:
            for i in range(1, w):
                np.multiply(pmf[i], pmf[i - 1], out=pmf[i])
        else:
            np.cumprod(pmf, axis=0, out=pmf)
        tail = np.maximum(1.0 - pmf.sum(axis=0), 0.0)  # P(demand >= stock)
        sold = np.einsum("ij,ij->j", pmf, d) + tail * av
        # Expiring units taken, (1 - f) s + c (s - b)+ on 0..available (_expiring_shape).
        c, b = slope[idx], knee[idx]
        d -= b
        np.maximum(d, 0.0, out=d)
        above = np.einsum("ij,ij->j", pmf, d) + tail * np.maximum(av - b, 0.0)
        out_s[idx] = sold
        out_x[idx] = (1.0 - fresh_share) * sold + c * above
        start = end
    return out_s, out_x


def _chunk_end(widths: np.ndarray, start: int) -> int:
    """Largest end with (end - start) x widths[end - 1] <= CHUNK_CELLS (ascending widths)."""
    lo, hi = start + 1, widths.size
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if (mid - start) * int(widths[mid - 1]) <= CHUNK_CELLS:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _value(
    catalog: Catalog, weekday: int, price: np.ndarray, available: np.ndarray, expiring: np.ndarray
) -> np.ndarray:
    """value(p) for price of shape (n,) or (n, G); stock arrays (n,)."""
    c = catalog
    price = np.asarray(price, dtype=float)
    shape = price.shape
    col = (slice(None),) + (None,) * (price.ndim - 1)
    mean = (c.base_demand * c.weekday[:, weekday])[col] * (
        price / c.list_price[col]
    ) ** c.elasticity[col]
    b = np.broadcast_to
    sold, taken = _expectations(
        mean.ravel(),
        b(c.dispersion[col], shape).ravel(),
        b(np.asarray(available, float)[col], shape).ravel(),
        b(np.asarray(expiring, float)[col], shape).ravel(),
        c.fresh_share,
    )
    margin = price - c.unit_cost[col]
    write_off = (c.unit_cost + c.disposal_fee)[col]
    profit: np.ndarray = margin * sold.reshape(shape) + write_off * taken.reshape(shape)
    return profit


def expected_profit(
    catalog: Catalog, weekday: int, price: np.ndarray, available: np.ndarray, expiring: np.ndarray
) -> np.ndarray:
    """Per-SKU expected profit of a day's sales at effective `price` (n,), true demand model.

    available: units on the shelf (opening + receipts); expiring: those on their last day.
    """
    return _value(catalog, weekday, price, available, expiring)


def optimal_price(
    catalog: Catalog,
    weekday: int,
    available: np.ndarray,
    expiring: np.ndarray,
    search: tuple[int, ...] = SEARCH,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-SKU price maximising expected_profit for this stock, and that expected profit.

    `search`: a log grid over price_bounds, then each further count of points across the best
    point's neighbours (SEARCH ends at about 0.7-1.3% spacing; profit is flat at the optimum,
    so the loss is far below 0.1%).
    """
    available = np.asarray(available, dtype=float)
    expiring = np.asarray(expiring, dtype=float)
    c = catalog
    lerner = lerner_price(c)
    # With nothing on its last day, value(p) <= (p - c) x mean demand(p), which peaks at the
    # Lerner price: where the shelf lets the Lerner price earn that bound (to 1e-9), no price
    # earns more and the search is skipped (most SKUs on most days).
    at_lerner = _value(c, weekday, lerner, available, expiring)
    mean = c.base_demand * c.weekday[:, weekday] * (lerner / c.list_price) ** c.elasticity
    bound = (lerner - c.unit_cost) * mean
    plain = (expiring <= 0) & (available > 0)
    solved = plain & (at_lerner >= bound * (1.0 - 1e-9))
    price, value = lerner.copy(), at_lerner
    # Elsewhere with nothing on its last day the shelf only rations demand, which moves the
    # optimum up from the Lerner price (expected sales are concave in mean demand, so their
    # price elasticity is at most the demand's): those SKUs search from the Lerner price up,
    # on a first grid as fine as the whole range's. SKUs with units expiring search it all.
    dated = (expiring > 0) & (available > 0)
    for rows, start in ((plain & ~solved, lerner), (dated, None)):
        rest = np.flatnonzero(rows)
        if rest.size:
            price[rest], value[rest] = _search(
                c.rows(rest),
                weekday,
                available[rest],
                expiring[rest],
                search,
                None if start is None else start[rest],
            )
    # An empty shelf earns nothing at any price: post the price that is optimal once stocked.
    price = np.where(available > 0, price, lerner)
    return price, value


def _search(
    catalog: Catalog,
    weekday: int,
    available: np.ndarray,
    expiring: np.ndarray,
    search: tuple[int, ...],
    start: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Grid search of value(p): a log grid over price_bounds, then rounds across the best.

    `start`: per-SKU prices the search begins at instead of the bounds' low end; the first
    grid then has as many points as keep its spacing no wider than over the whole range.
    """
    lo, hi = price_bounds(catalog)
    points = search[0]
    if start is not None:
        share = np.log(hi / start) / np.log(hi / lo)
        points = 1 + int(np.ceil((points - 1) * share.max() - 1e-9))
        lo = start
    rows = np.arange(catalog.n)
    grid = lo[:, None] * (hi / lo)[:, None] ** np.linspace(0.0, 1.0, points)[None, :]
    val = _value(catalog, weekday, grid, available, expiring)
    best = val.argmax(axis=1)
    price, value = grid[rows, best], val[rows, best]
    for points in search[1:]:
        left = grid[rows, np.maximum(best - 1, 0)]
        right = grid[rows, np.minimum(best + 1, grid.shape[1] - 1)]
        grid = left[:, None] * (right / left)[:, None] ** np.linspace(0.0, 1.0, points)[None, :]
        val = _value(catalog, weekday, grid, available, expiring)
        best = val.argmax(axis=1)
        better = val[rows, best] > value
        price = np.where(better, grid[rows, best], price)
        value = np.where(better, val[rows, best], value)
    return price, value
