"""The share of shoppers who take the freshest unit, learned from what the shelf shows.

The store sees its shelf in age cohorts every morning and the day's receipts, sales and
write-offs. From one morning to the next it can therefore tell how many units left each cohort.
On a SKU-day where the oldest cohort still had units at the close (so oldest-first buying never
reached past it) and a younger cohort did too (so the freshest-first buyers were all served),
every unit taken from a younger cohort was a fresh pick: fresh picks / sales on those days,
pooled over SKUs and days, estimates the store-wide share. A weak prior (PRIOR_SHARE over
PRIOR_UNITS units) holds until the shelf has spoken.
"""

from __future__ import annotations

import numpy as np

from backend.agents.views import SnapshotView

PRIOR_SHARE = 1.0 / 3.0  # a cautious start: more fresh picking means more old units left over
PRIOR_UNITS = 50.0


class FreshPicks:
    """Running estimate of the fresh-pick share; observe() once per decided day."""

    def __init__(self) -> None:
        self.fresh = PRIOR_SHARE * PRIOR_UNITS
        self.sold = PRIOR_UNITS
        self.prev_stock: np.ndarray | None = None
        self.prev_day = -2

    @property
    def share(self) -> float:
        return float(self.fresh / self.sold)

    def observe(self, snap: SnapshotView) -> None:
        """Learn from the last traded day if the previous observation was the morning before."""
        h = getattr(snap, "history", None)  # a bare snapshot (no past) teaches nothing
        now = np.asarray(snap.stock_by_age)
        if (
            h is not None
            and self.prev_stock is not None
            and self.prev_stock.shape == now.shape
            and snap.day == self.prev_day + 1
            and h.days
            and int(h.day[-1]) == self.prev_day
        ):
            life = np.asarray(snap.catalog.shelf_life, dtype=np.int64)
            fresh, sold = fresh_picks(
                self.prev_stock, life, h.received[-1], h.sales[-1], h.expired[-1], now
            )
            self.fresh += fresh
            self.sold += sold
        self.prev_stock = now.copy()
        self.prev_day = int(snap.day)


def fresh_picks(
    before: np.ndarray,
    life: np.ndarray,
    received: np.ndarray,
    sales: np.ndarray,
    expired: np.ndarray,
    after: np.ndarray,
) -> tuple[float, float]:
    """(fresh picks, units sold) over the SKUs whose day identifies them (module docstring).

    before / after: cohorts (n, A) on consecutive mornings (column j = j + 1 days left).
    """
    n, a = before.shape
    rows = np.arange(n)
    opening = before.astype(np.int64).copy()
    opening[rows, np.minimum(life, a) - 1] += np.asarray(received, dtype=np.int64)
    left = np.zeros_like(opening)  # units of each opening cohort still there at the close
    left[:, 1:] = after[:, :-1]
    left[:, 0] = 0
    taken = opening - left
    taken[:, 0] = opening[:, 0] - np.asarray(expired, dtype=np.int64)
    stocked = opening.sum(axis=1) > 0
    oldest = np.argmax(opening > 0, axis=1)
    oldest_left = np.where(oldest == 0, expired, left[rows, oldest]) > 0
    younger_left = (left.sum(axis=1) - np.where(oldest == 0, 0, left[rows, oldest])) > 0
    sales = np.asarray(sales, dtype=np.int64)
    ok = stocked & oldest_left & younger_left & (sales > 0) & (taken.sum(axis=1) == sales)
    fresh = sales - taken[rows, oldest]
    return float(fresh[ok].sum()), float(sales[ok].sum())
