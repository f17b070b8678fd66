from __future__ import annotations

import re

import numpy as np
import pytest

from backend.sim.catalog import CATEGORIES, PUBLIC_FIELDS, make_catalog
from backend.sim.economics import lerner_price


def test_catalog_is_deterministic_for_a_seed() -> None:
    a, b, c = make_catalog(50, 3), make_catalog(50, 3), make_catalog(50, 4)
    for f in ("sku", "name", "list_price", "elasticity", "base_demand", "weekday"):
        assert np.array_equal(getattr(a, f), getattr(b, f))
    assert not np.array_equal(a.elasticity, c.elasticity)


def test_ids_and_names_are_unique_and_readable_even_at_ten_thousand_skus() -> None:
    cat = make_catalog(10_000, 1)
    assert len(set(cat.sku)) == 10_000 and len(set(cat.name)) == 10_000
    assert all(re.fullmatch(r"SKU\d{6}", s) for s in cat.sku)
    small = make_catalog(50, 0)
    assert all(re.search(r"[A-Za-z]+ .*\d|each", nm) for nm in small.name)
    assert set(small.category) == set(CATEGORIES)


def test_parameters_lie_in_the_design_ranges() -> None:
    cat = make_catalog(2_000, 7)
    assert np.all((cat.elasticity >= -3.5) & (cat.elasticity <= -2.0))
    assert np.all((cat.base_demand >= 2) & (cat.base_demand <= 60))
    assert 4.0 < np.median(cat.base_demand) < 6.0
    ratio = cat.unit_cost / cat.list_price
    assert np.all((ratio >= 1 / (1.67 * 1.05) - 1e-3) & (ratio <= 1 / (1.67 * 0.95) + 1e-3))
    # list prices a grocer would set: the profit-maximising price within 0.8-1.3 of list
    lerner = lerner_price(cat) / cat.list_price
    assert lerner.min() >= 0.79 and lerner.max() <= 1.3
    assert 0.9 < np.median(lerner) < 1.0
    assert np.all((cat.lead_time >= 0) & (cat.lead_time <= 2))
    life = {
        "bakery": (1, 3),
        "dairy": (3, 7),
        "produce": (2, 3),
        "meat": (2, 5),
        "ambient": (180, 180),
    }
    for c, (lo, hi) in life.items():
        sl = cat.shelf_life[cat.category == c]
        assert sl.min() >= lo and sl.max() <= hi
    assert np.allclose(cat.weekday.mean(axis=1), 1.0)
    assert np.all(cat.weekday.argmax(axis=1) >= 4)  # the peak falls Friday to Sunday
    assert cat.holding_rate == pytest.approx(0.002)
    assert np.all(cat.disposal_fee > 0)


def test_demand_cv_is_one_half_at_the_median_base_demand() -> None:
    cat = make_catalog(50, 0)
    mu = 5.0
    cv = np.sqrt(mu + mu**2 / cat.dispersion) / mu
    assert np.allclose(cv, 0.5)


def test_public_catalog_hides_the_demand_model() -> None:
    pub = make_catalog(20, 0).public()
    for hidden in ("elasticity", "base_demand", "weekday", "dispersion", "fresh_share"):
        assert not hasattr(pub, hidden)
    assert all(hasattr(pub, f) for f in PUBLIC_FIELDS)


@pytest.mark.parametrize("n", [0, -3, 2.5, True, "50"])
def test_bad_sku_counts_are_rejected(n: object) -> None:
    with pytest.raises(ValueError, match="n_skus: expected an integer >= 1"):
        make_catalog(n, 0)  # type: ignore[arg-type]


def test_a_supermarket_sized_catalog_has_a_name_for_every_sku() -> None:
    c = make_catalog(40_000, 1)
    assert c.n == 40_000 and len(set(c.name)) == c.n and len(set(c.sku)) == c.n
