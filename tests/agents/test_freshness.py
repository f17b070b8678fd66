"""The fresh-pick share is learned from the shelf's cohorts, whatever the store's true share."""

from __future__ import annotations

import dataclasses

import pytest

from backend.agents.freshness import PRIOR_SHARE, FreshPicks
from backend.sim.catalog import make_catalog
from backend.sim.store import Store


@pytest.mark.parametrize("true_share", [0.0, 0.15, 0.5])
def test_the_estimate_finds_the_stores_share(true_share: float) -> None:
    c = dataclasses.replace(make_catalog(40, 5), fresh_share=true_share)
    store, est = Store(c, 5), FreshPicks()
    assert est.share == pytest.approx(PRIOR_SHARE)
    for _ in range(120):
        est.observe(store.snapshot(history_days=1))
        act = store.standing_actions()
        store.apply(act)
        store.step()
    assert est.sold > 1000  # the prior is swamped
    assert est.share == pytest.approx(true_share, abs=0.04)


def test_a_gap_in_the_days_is_not_learned_from() -> None:
    c = make_catalog(20, 6)
    store, est = Store(c, 6), FreshPicks()
    est.observe(store.snapshot(history_days=1))
    for _ in range(2):
        store.apply(store.standing_actions())
        store.step()
    est.observe(store.snapshot(history_days=1))  # two days later: nothing to compare
    assert est.sold == pytest.approx(50.0)
