"""Per-category figures add up to the store's own books and follow the ring's coverage."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from backend.agents.operation import Operation
from backend.sim import kpis
from backend.sim.categories import by_category


def traded(days: int, history_days: int | None = None) -> Operation:
    op = Operation(n_skus=30, seed=3)
    if history_days is not None:  # a short ring, to see the coverage run out
        for store in (op.live, op.baseline):
            store.ledger = type(store.ledger)(store.n, history_days)
    for _ in range(days):
        op.run_day(datetime.now(UTC))
    return op


def test_categories_add_up_to_the_ledgers() -> None:
    op = traded(20)
    body = by_category(op.live.ledger, op.baseline.ledger, op.public, 7)
    assert body["covers_since_start"] and body["since_start_days"] == 20
    assert body["window_days"] == 7
    assert sum(c["skus"] for c in body["categories"]) == 30
    for store, ledger in (("live", op.live.ledger), ("baseline", op.baseline.ledger)):
        rows = [c["since_start"][store] for c in body["categories"]]
        assert sum(r["revenue"] for r in rows) == pytest.approx(kpis.total_revenue(ledger))
        assert sum(r["profit"] for r in rows) == pytest.approx(kpis.total_profit(ledger))
        assert sum(r["units_wasted"] for r in rows) == ledger.totals["units_expired"]
        assert sum(r["units_sold"] for r in rows) == ledger.totals["units_sold"]
        assert sum(r["stockout_sku_days"] for r in rows) == ledger.totals["stockout_sku_days"]
        week = [c["window"][store] for c in body["categories"]]
        assert sum(r["profit"] for r in week) == pytest.approx(ledger.window("profit", 7).sum())
    # the two stores differ somewhere: the agents trade differently from the standing rule
    assert any(c["since_start"]["live"] != c["since_start"]["baseline"] for c in body["categories"])


def test_coverage_is_said_once_the_ring_drops_days() -> None:
    op = traded(12, history_days=10)
    body = by_category(op.live.ledger, op.baseline.ledger, op.public, 28)
    assert (body["since_start_days"], body["covers_since_start"], body["window_days"]) == (
        10,
        False,
        10,
    )


def test_before_any_day_every_figure_is_zero_and_fill_rate_unknown() -> None:
    op = Operation(n_skus=10, seed=0)
    body = by_category(op.live.ledger, op.baseline.ledger, op.public, 28)
    for c in body["categories"]:
        assert c["since_start"]["live"]["fill_rate"] is None
        assert c["since_start"]["live"]["units_sold"] == 0
