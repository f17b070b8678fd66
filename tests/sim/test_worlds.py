"""Worlds change the hidden generator only, each in the way it names."""

from __future__ import annotations

import numpy as np
import pytest

from backend.sim.catalog import PUBLIC_FIELDS, make_catalog
from backend.sim.worlds import WORLDS, WorldStore, make_store, world_catalog


@pytest.mark.parametrize("world", WORLDS)
def test_a_world_keeps_what_the_agents_see(world: str) -> None:
    c = make_catalog(30, 4)
    w = world_catalog(c, world, 4)
    for f in PUBLIC_FIELDS:
        assert np.array_equal(np.asarray(getattr(c, f)), np.asarray(getattr(w, f)))
    s = make_store(w, 4, world)
    for _ in range(5):
        s.apply(s.standing_actions())
        s.step()


def test_catalog_worlds_move_the_named_parameter() -> None:
    c = make_catalog(200, 5)
    assert np.allclose(world_catalog(c, "level_low", 5).base_demand, 0.2 * c.base_demand)
    assert np.allclose(world_catalog(c, "level_high", 5).base_demand, 5 * c.base_demand)
    e = world_catalog(c, "inelastic", 5).elasticity
    assert e.min() >= -1.8 and e.max() <= -1.2
    e = world_catalog(c, "elastic", 5).elasticity
    assert e.min() >= -5.0 and e.max() <= -3.5
    assert np.allclose(world_catalog(c, "overdispersed", 5).dispersion, c.dispersion / 3)
    assert world_catalog(c, "poisson", 5).dispersion.min() > 1e9
    assert world_catalog(c, "fresh_half", 5).fresh_share == 0.5
    with pytest.raises(ValueError, match="world: expected one of"):
        world_catalog(c, "moon", 5)


def test_seasonal_and_shift_worlds_move_demand_over_the_year() -> None:
    c = make_catalog(40, 6)
    s = WorldStore(c, 6, "seasonal")
    lv = np.array([s.level(d) for d in range(0, 364, 7)])
    assert lv.max() > 1.25 and lv.min() < 0.8
    assert np.mean(s.level(363) / s.level(0)) == pytest.approx(1.2, rel=0.1)
    sh = WorldStore(c, 6, "shifts")
    late = sh.level(400)
    assert set(np.round(late, 2)) <= {0.5, 2.0} and np.all(sh.level(-1) == 1.0)


def test_linear_world_has_the_same_slope_at_list_and_a_kink_to_zero() -> None:
    c = make_catalog(20, 7)
    s = WorldStore(c, 7, "linear")
    at_list = s._rate(c.list_price, np.ones(c.n))
    plain = make_store(c, 7, None)._rate(c.list_price, np.ones(c.n))
    assert np.allclose(at_list, plain)
    assert np.all(s._rate(c.list_price * 3.0, np.ones(c.n)) == 0.0)
