from __future__ import annotations

import numpy as np
import pytest

from backend.sim import kpis
from backend.sim.catalog import make_catalog
from backend.sim.economics import expected_profit, optimal_price
from backend.sim.ledger import DayRecord, Ledger
from backend.sim.store import Store
from tests.sim.conftest import run_standing


def day(
    t: int,
    *,
    cogs: float = 0.0,
    inventory_value: float = 0.0,
    revenue: float = 0.0,
    expired: tuple[int, int] = (0, 0),
    stocked_out: tuple[bool, bool] = (False, False),
    holding: float = 0.0,
    disposal: float = 0.0,
) -> DayRecord:
    z = np.zeros(2, dtype=np.int64)
    return DayRecord(
        day=t,
        weekday=t % 7,
        price=np.ones(2),
        markdown=np.zeros(2),
        demand=z,
        sales=z,
        stocked_out=np.array(stocked_out),
        received=z,
        ordered=z,
        expired=np.array(expired),
        available=z,
        expiring=z,
        closing_stock=z,
        revenue=revenue,
        cogs=cogs,
        holding=holding,
        disposal=disposal,
        inventory_value=inventory_value,
    )


def ledger_of(*records: DayRecord) -> Ledger:
    led = Ledger(2, history_days=40)
    for r in records:
        led.record(r)
    return led


def test_totals_are_revenue_and_profit_since_the_start() -> None:
    led = ledger_of(
        day(0, revenue=100.0, cogs=60.0, holding=1.0, disposal=4.0),
        day(1, revenue=50.0, cogs=30.0, holding=0.5, disposal=0.0),
    )
    assert kpis.total_revenue(led) == pytest.approx(150.0)
    assert kpis.total_profit(led) == pytest.approx(150.0 - 90.0 - 1.5 - 4.0)


def test_inventory_turnover_annualises_window_cogs_over_mean_inventory() -> None:
    # 30 days; the 28-day window holds days 2..29: cogs 10/day, inventory 100 then 300
    recs = [
        day(t, cogs=10.0 if t >= 2 else 999.0, inventory_value=100.0 if t < 16 else 300.0)
        for t in range(30)
    ]
    led = ledger_of(*recs)
    mean_inv = (14 * 100.0 + 14 * 300.0) / 28  # days 2..15 at 100, 16..29 at 300
    assert kpis.inventory_turnover(led) == pytest.approx(280.0 * 365 / 28 / mean_inv)
    # a short history uses the days it has
    short = ledger_of(
        day(0, cogs=5.0, inventory_value=50.0), day(1, cogs=7.0, inventory_value=70.0)
    )
    assert kpis.inventory_turnover(short) == pytest.approx(12.0 * 365 / 2 / 60.0)
    assert kpis.inventory_turnover(Ledger(2)) is None  # no day yet
    assert kpis.inventory_turnover(ledger_of(day(0, cogs=5.0))) is None  # no stock held


def test_stockout_incidents_count_sku_days_over_the_last_seven_days() -> None:
    recs = [day(t, stocked_out=(True, True)) for t in range(3)]  # outside the window
    recs += [day(t, stocked_out=(t % 2 == 0, t == 9)) for t in range(3, 10)]
    led = ledger_of(*recs)
    # days 3..9: SKU 0 out on 4, 6, 8; SKU 1 out on 9
    assert kpis.stockout_incidents(led) == 4
    assert kpis.stockout_incidents(led, window=2) == 2


def test_waste_reduction_compares_expired_units_with_the_baseline() -> None:
    live = ledger_of(day(0, expired=(3, 1)), day(1, expired=(0, 2)))
    base = ledger_of(day(0, expired=(5, 3)), day(1, expired=(2, 0)))
    assert kpis.waste_reduction_percentage(live, base) == pytest.approx(100 * (1 - 6 / 10))
    assert kpis.waste_reduction_percentage(base, live) == pytest.approx(100 * (1 - 10 / 6))
    assert kpis.waste_reduction_percentage(live, base, window=1) == pytest.approx(0.0)


def test_waste_reduction_is_undefined_while_the_baseline_wasted_nothing() -> None:
    none = ledger_of(day(0), day(1))
    some = ledger_of(day(0, expired=(2, 1)), day(1))
    assert kpis.waste_reduction_percentage(none, none) is None
    assert kpis.waste_reduction_percentage(some, none) is None
    assert kpis.waste_reduction_percentage(none, some) == pytest.approx(100.0)


def test_waste_reduction_needs_ledgers_of_the_same_days() -> None:
    with pytest.raises(ValueError, match="expected a ledger of the same 2 days, got 1"):
        kpis.waste_reduction_percentage(ledger_of(day(0), day(1)), ledger_of(day(0)))


def test_price_score_is_posted_over_optimal_expected_profit_in_the_window() -> None:
    cat = make_catalog(2, 0)
    led = Ledger(2, history_days=10)
    recs = []
    for t, (scale, avail, expiring) in enumerate(
        [(0.05, (60, 40), (0, 0)), (1.3, (6, 5), (2, 0)), (0.9, (3, 40), (0, 10))]
    ):
        z = np.zeros(2, dtype=np.int64)
        rec = DayRecord(
            day=t,
            weekday=t,
            price=cat.list_price * scale,
            markdown=np.zeros(2),
            demand=z,
            sales=z,
            stocked_out=np.zeros(2, bool),
            received=z,
            ordered=z,
            expired=z,
            available=np.array(avail),
            expiring=np.array(expiring),
            closing_stock=z,
            revenue=0.0,
            cogs=0.0,
            holding=0.0,
            disposal=0.0,
            inventory_value=0.0,
        )
        led.record(rec)
        recs.append(rec)
    posted = [
        expected_profit(
            cat, r.weekday, r.effective_price, r.available.astype(float), r.expiring.astype(float)
        )
        for r in recs
    ]
    best = [
        np.maximum(
            optimal_price(cat, r.weekday, r.available.astype(float), r.expiring.astype(float))[1], p
        )
        for r, p in zip(recs, posted)
    ]
    want = (posted[1].sum() + posted[2].sum()) / (best[1].sum() + best[2].sum())
    assert kpis.price_optimization_score(led, cat, window=2) == pytest.approx(want)
    assert 0.0 < want < 1.0
    # day 0 sells far below cost: over three days the ratio would be negative, so it clips
    assert posted[0].sum() + posted[1].sum() + posted[2].sum() < 0
    assert kpis.price_optimization_score(led, cat, window=3) == 0.0
    assert kpis.price_optimization_score(Ledger(2), cat) is None  # nothing priced yet


def test_price_scores_are_computed_once_and_survive_a_state_round_trip() -> None:
    cat = make_catalog(10, 0)
    store = Store(cat, 0)
    run_standing(store, 4)
    first = store.ledger.price_scores(cat, 3)
    again = Ledger.from_state(store.ledger.state()).price_scores(cat, 3)
    assert np.array_equal(first[0], again[0]) and np.all(first[1] >= first[0])
    run_standing(store, 2)  # the ring moves on: new days get scored
    assert not np.isnan(store.ledger.price_scores(cat)[0]).any()


def test_price_score_needs_the_ledgers_catalog() -> None:
    with pytest.raises(ValueError, match="catalog: expected the ledger's 2 SKUs, got 5"):
        kpis.price_optimization_score(Ledger(2), make_catalog(5, 0))


def test_kpis_of_a_live_store_against_its_baseline() -> None:
    cat = make_catalog(30, 1)
    live, base = Store(cat, 1), Store(cat, 1)
    rng = np.random.default_rng(0)
    for _ in range(35):
        run_standing(base, 1)
        act = live.standing_actions()
        live.apply(
            act.__class__(
                price=act.price * rng.uniform(0.9, 1.4, cat.n),
                markdown=act.markdown,
                order_qty=act.order_qty,
            )
        )
        live.step()
    out = kpis.store_kpis(live.ledger, base.ledger, cat)
    assert set(out) == {
        "total_revenue",
        "total_profit",
        "inventory_turnover",
        "stockout_incidents",
        "waste_reduction_percentage",
        "price_optimization_score",
    }
    assert 0.0 < out["price_optimization_score"] < 1.0
    assert out["inventory_turnover"] > 0
    exp_live = live.ledger.totals["units_expired"]
    exp_base = base.ledger.totals["units_expired"]
    assert out["waste_reduction_percentage"] == pytest.approx(100 * (1 - exp_live / exp_base))
    assert out["stockout_incidents"] == int(live.ledger.window("stocked_out", 7).sum())
    assert 0 < kpis.waste_rate(base.ledger) < 0.2 and 0.9 < kpis.fill_rate(base.ledger) <= 1


def test_windows_must_be_positive_day_counts() -> None:
    with pytest.raises(ValueError, match=r"window: expected an integer >= 1 \(days\), got 0"):
        kpis.inventory_turnover(Ledger(2), window=0)
