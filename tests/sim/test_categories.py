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
    op = traded(40)  # beyond the baseline's window-long ring: the running sums still cover all
    assert op.baseline.ledger.history_days < 40
    body = by_category(op.live.ledger, op.baseline.ledger, op.public, 7)
    assert body["covers_since_start"] and body["since_start_days"] == 40
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


def test_coverage_is_said_when_only_the_ring_is_known() -> None:
    op = traded(12, history_days=10)
    body = by_category(op.live.ledger, op.baseline.ledger, op.public, 28)
    assert (body["since_start_days"], body["covers_since_start"], body["window_days"]) == (
        12,
        True,
        10,
    )
    del op.baseline.ledger.sku_totals  # as restored from a checkpoint made before they were kept
    body = by_category(op.live.ledger, op.baseline.ledger, op.public, 28)
    assert (body["since_start_days"], body["covers_since_start"]) == (10, False)
    ring = op.live.ledger.window("sales", 10).sum()
    assert sum(c["since_start"]["live"]["units_sold"] for c in body["categories"]) == ring


def test_before_any_day_every_figure_is_zero_and_fill_rate_unknown() -> None:
    op = Operation(n_skus=10, seed=0)
    body = by_category(op.live.ledger, op.baseline.ledger, op.public, 28)
    for c in body["categories"]:
        assert c["since_start"]["live"]["fill_rate"] is None
        assert c["since_start"]["live"]["units_sold"] == 0


def written_off_by(ledger, day: int) -> int:  # noqa: ANN001 - a Ledger
    """Units written off since the start up to and including `day` (the ring holds the rest)."""
    later = ledger.window("day") > day
    return int(ledger.totals["units_expired"]) - int(ledger.window("expired")[later].sum())


def test_waste_is_comparable_from_the_day_both_stores_wrote_off_the_minimum() -> None:
    op = Operation(n_skus=10, seed=0)  # a small store: both reach the minimum after weeks
    for _ in range(60):
        op.run_day(datetime.now(UTC))
    body = by_category(op.live.ledger, op.baseline.ledger, op.public, 7)
    first, minimum = body["waste_comparable_from_day"], body["waste_min_units"]
    assert first is not None and first > 28, first
    stores = (op.live.ledger, op.baseline.ledger)
    assert all(written_off_by(ledger, first) >= minimum for ledger in stores)
    held_from = max(int(ledger.window("day")[0]) for ledger in stores)
    if first > held_from:  # the day before is held by both: one of them was still short then
        assert min(written_off_by(ledger, first - 1) for ledger in stores) < minimum
    else:  # it happened before a ring's first day: that day is the answer
        assert first == held_from
    fresh = Operation(n_skus=5)
    body = by_category(fresh.live.ledger, fresh.baseline.ledger, fresh.public, 7)
    assert body["waste_comparable_from_day"] is None


def test_the_running_sums_survive_a_checkpoint() -> None:
    op = traded(9)
    again = Operation.from_bytes(op.to_bytes())
    for a, b in ((op.live, again.live), (op.baseline, again.baseline)):
        for name, sums in a.ledger.sku_totals.items():
            assert (b.ledger.sku_totals[name] == sums).all(), name
    assert by_category(again.live.ledger, again.baseline.ledger, again.public, 7) == by_category(
        op.live.ledger, op.baseline.ledger, op.public, 7
    )
