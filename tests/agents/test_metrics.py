"""Agent-side KPIs: promotion effectiveness traced to the cohorts a markdown touched."""

from __future__ import annotations

import numpy as np

from backend.agents import metrics
from backend.sim.catalog import make_catalog
from backend.sim.store import Actions, Store


def test_later_write_offs_of_a_marked_down_cohort_count_against_the_markdown() -> None:
    # one SKU, three days of life, a markdown on day 5 only
    t = 12
    md, sales, expired = np.zeros((t, 1)), np.zeros((t, 1), int), np.zeros((t, 1), int)
    md[5] = 0.3
    sales[5] = 4
    expired[6], expired[7] = 2, 1  # arrived on days 4 and 5: on the shelf on day 5
    expired[8] = 5  # arrived on day 6, after the markdown ended
    expired[4] = 7  # expired before the markdown was posted
    life = np.array([3])
    assert metrics.promotion_effectiveness(md, sales, expired, life, window=t) == 4 / (4 + 3)
    sold, lost = metrics.marked_down_units(md, sales, expired, life)
    assert sold.tolist() == [0] * 5 + [4] + [0] * 6
    assert lost.tolist() == [0] * 6 + [2, 1] + [0] * 4
    # a window that starts after the markdown still counts its later write-offs, not its sales
    assert metrics.promotion_effectiveness(md, sales, expired, life, window=6) == 0.0
    assert metrics.promotion_effectiveness(np.zeros((t, 1)), sales, expired, life, t) is None


def test_the_attribution_matches_cohorts_tracked_on_a_real_shelf() -> None:
    cat = make_catalog(40, 5)
    store = Store(cat, seed=5)
    rng = np.random.default_rng(1)
    days = 60
    horizon = days + int(cat.max_shelf_life)
    touched = np.zeros((horizon, cat.n), dtype=bool)  # [expiry day, SKU]: cohort was marked down
    rows = np.arange(cat.n)
    for day in range(days):
        std = store.standing_actions()
        md = np.where(rng.random(cat.n) < 0.15, 0.3, 0.0)
        # over-order now and then so that marked-down cohorts do expire
        qty = std.order_qty * rng.choice([1, 2, 3], cat.n)
        store.apply(Actions(price=std.price, markdown=md, order_qty=qty))
        shelf = store.stock_by_age.copy()
        shelf[rows, cat.shelf_life - 1] += store.pipeline[:, 0]  # today's receipts
        for i in np.flatnonzero(md > 0):
            for k in np.flatnonzero(shelf[i]):
                touched[day + k, i] = True  # k + 1 days left: expires day + k
        store.step()
    led = store.ledger
    expired = led.window("expired")
    want = int(np.where(touched[:days], expired, 0).sum())
    sold, lost = metrics.marked_down_units(
        led.window("markdown"), led.window("sales"), expired, cat.shelf_life
    )
    assert want > 0
    assert int(lost.sum()) == want
    on = led.window("markdown") > 0
    assert int(sold.sum()) == int(led.window("sales")[on].sum())
