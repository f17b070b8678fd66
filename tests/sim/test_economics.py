from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from backend.sim.catalog import make_catalog
from backend.sim.economics import (
    SEARCH,
    _expectations,
    _expiring_taken,
    _search,
    expected_profit,
    lerner_price,
    optimal_price,
)
from backend.sim.store import Actions, Store


@pytest.mark.parametrize("fresh", [0.15, 0.0, 0.6, 1.0])
def test_expectations_match_a_direct_negative_binomial_sum(fresh: float) -> None:
    rng = np.random.default_rng(0)
    mu = np.exp(rng.uniform(-3, 6, 150))
    k = np.exp(rng.uniform(0, 4, 150))
    stock = np.floor(mu * rng.uniform(0, 3, 150))
    expiring = np.floor(stock * rng.random(150))
    expiring[:20] = stock[:20]  # every unit on its last day
    sold, taken = _expectations(mu, k, stock, expiring, fresh)
    for i in range(150):
        d = np.arange(int(stock[i]) + 1, dtype=float)
        p = k[i] / (k[i] + mu[i])
        pmf = stats.nbinom.pmf(d, k[i], p)
        pmf[-1] = stats.nbinom.sf(stock[i] - 1, k[i], p)  # demand >= stock sells out
        assert sold[i] == pytest.approx((pmf * d).sum(), rel=1e-9, abs=1e-12)
        ref = (pmf * _expiring_taken(d, stock[i], expiring[i], fresh)).sum()
        assert taken[i] == pytest.approx(ref, rel=1e-9, abs=1e-12)


def test_expiring_units_sold_follow_oldest_first_with_a_fresh_share() -> None:
    # 10 on the shelf, 4 expiring; 6 sold: 5.1 oldest-first (4 expiring), 0.9 freshest
    assert _expiring_taken(np.array(6.0), 10.0, 4.0, 0.15) == pytest.approx(4.0)
    # 10 sold of 10: everything goes, including all 4 expiring
    assert _expiring_taken(np.array(10.0), 10.0, 4.0, 0.15) == pytest.approx(4.0)
    # all expiring: fresh pickers take expiring units too
    assert _expiring_taken(np.array(3.0), 5.0, 5.0, 0.15) == pytest.approx(3.0)
    assert _expiring_taken(np.array(2.0), 10.0, 4.0, 0.0) == pytest.approx(2.0)


def test_expected_profit_matches_the_simulated_store_on_average() -> None:
    cat = make_catalog(300, 4)
    rows = np.arange(cat.n)
    price = cat.list_price * np.random.default_rng(1).uniform(0.6, 1.6, cat.n)
    realised = []
    for seed in range(40):
        store = Store(cat, seed=seed)
        store.pipeline[...] = 0
        store.stock_by_age[...] = 0
        store.stock_by_age[:, 0] = 3  # expiring tonight
        store.stock_by_age[rows, cat.shelf_life - 1] += 6  # fresh (same cohort if life 1)
        store.apply(
            Actions(
                price=price, markdown=np.zeros(cat.n), order_qty=np.zeros(cat.n, dtype=np.int64)
            )
        )
        avail, exp_ = (
            store.stock_by_age.sum(1).astype(float),
            store.stock_by_age[:, 0].astype(float),
        )
        rec = store.step()
        write_off = cat.unit_cost + cat.disposal_fee
        realised.append(rec.revenue - rec.cogs - rec.disposal + float(write_off @ exp_))
    expected = expected_profit(cat, 0, price, avail, exp_).sum()
    assert np.mean(realised) == pytest.approx(expected, rel=0.02)


def test_optimal_price_is_lerner_with_ample_stock() -> None:
    cat = make_catalog(50, 0)
    price, value = optimal_price(cat, 2, np.full(50, 5_000.0), np.zeros(50))
    assert np.allclose(price, lerner_price(cat), rtol=0.01)
    assert np.all(value > 0)


def test_scarce_stock_raises_and_expiring_stock_lowers_the_optimal_price() -> None:
    cat = make_catalog(50, 0)
    lerner = lerner_price(cat)
    scarce, _ = optimal_price(cat, 5, np.ones(50), np.zeros(50))
    glut = np.ceil(10 * cat.base_demand)
    clearing, _ = optimal_price(cat, 5, glut, glut)
    assert np.all(scarce >= lerner * 0.99) and np.mean(scarce > lerner * 1.05) > 0.5
    assert np.all(clearing <= lerner * 1.01) and np.mean(clearing < lerner * 0.8) > 0.5
    empty, value = optimal_price(cat, 5, np.zeros(50), np.zeros(50))
    assert np.array_equal(empty, lerner) and not value.any()


def test_optimal_price_beats_every_other_price_tried() -> None:
    cat = make_catalog(40, 3)
    rng = np.random.default_rng(2)
    avail = np.floor(cat.base_demand * rng.uniform(0.2, 4.0, 40))
    expiring = np.floor(avail * rng.random(40))
    _, best = optimal_price(cat, 4, avail, expiring)
    for _ in range(30):
        other = lerner_price(cat) * rng.uniform(0.1, 2.5, 40)
        # the grid optimum is within 0.1% of the true one (profit is flat at the top)
        assert np.all(expected_profit(cat, 4, other, avail, expiring) <= best * 1.001 + 1e-9)


def test_the_lerner_shortcut_is_taken_only_where_no_searched_price_earns_more() -> None:
    cat = make_catalog(200, 5)
    rng = np.random.default_rng(7)
    avail = np.floor(cat.base_demand * rng.uniform(0.5, 12.0, 200))
    expiring = np.where(rng.random(200) < 0.5, 0.0, np.floor(avail * rng.random(200)))
    price, value = optimal_price(cat, 3, avail, expiring)
    searched, searched_value = _search(cat, 3, avail, expiring, SEARCH)
    lerner = lerner_price(cat)
    at_lerner = np.isclose(price, lerner, rtol=1e-12)
    assert 20 < at_lerner.sum() < 200  # some SKUs take the shortcut, not all
    assert np.all(expiring[at_lerner] == 0)
    # with units expiring, the price is the whole range's grid search
    dated = expiring > 0
    assert dated.any() and np.array_equal(price[dated], searched[dated])
    # with none, the search from the Lerner price up is where the whole range's search finds
    # its best (a rationed shelf only raises the optimum), and nothing there earns 0.01% more
    plain = ~dated
    assert np.all(searched[plain] >= lerner[plain] * 0.99)
    assert np.all(searched_value[plain] <= value[plain] * (1 + 1e-4))
