"""The what-if preview: it changes nothing, it follows the override, and its bands are calibrated."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime

import pytest

from backend.agents.operation import Operation
from backend.agents.preview import preview_override, realised
from backend.errors import InvalidOverride, UnknownAgent, UnknownSku
from bench.preview_calibration import coverage, run_seed

NOW = datetime(2026, 1, 5, tzinfo=UTC)


def traded(days: int = 30, seed: int = 4) -> Operation:
    op = Operation(n_skus=20, seed=seed)
    for _ in range(days):
        op.run_day(NOW)
    return op


def price_override(op: Operation, i: int, factor: float, hold: int = 5) -> dict:
    price = round(float(op.public.list_price[i]) * factor, 2)
    return {"sku": str(op.public.sku[i]), "price": price, "hold_days": hold}


def test_a_preview_leaves_the_store_exactly_as_it_was() -> None:
    op, twin = traded(), traded()
    before = op.to_bytes()
    sku = str(op.public.sku[2])
    preview_override(op, "pricing_agent", price_override(op, 2, 1.2))
    preview_override(op, "promotion_agent", {"sku": sku, "discount": 0.3, "days": 4})
    preview_override(op, "inventory_agent", {"sku": sku, "quantity": 25})
    assert op.to_bytes() == before
    for _ in range(5):  # and it trades on exactly like a store that was never previewed
        a, b = op.run_day(NOW), twin.run_day(NOW)
        assert [d.parameters for d in a.decisions] == [d.parameters for d in b.decisions]
    # (decide() timings differ between any two runs; everything the store holds does not)
    assert pickle.dumps(op.live.state()) == pickle.dumps(twin.live.state())
    for a in op.agents:
        assert pickle.dumps(op.agents[a].__dict__) == pickle.dumps(twin.agents[a].__dict__)


def test_the_preview_follows_the_value_and_keeps_the_other_arm() -> None:
    op = traded()
    cheap = preview_override(op, "pricing_agent", price_override(op, 3, 0.8))
    dear = preview_override(op, "pricing_agent", price_override(op, 3, 1.5))
    assert dear["without_override"] == cheap["without_override"]
    sold = lambda p: p["with_override"]["total"]["units_sold"]["mean"]  # noqa: E731
    assert sold(dear) < sold(cheap)
    assert dear["with_override"]["regular_price"] > cheap["with_override"]["regular_price"]
    # the same request gives the same preview: the draws are seeded by the store and the SKU
    assert preview_override(op, "pricing_agent", price_override(op, 3, 0.8)) == cheap


def test_bands_are_ordered_per_day_and_in_total() -> None:
    op = traded()
    p = preview_override(
        op, "promotion_agent", {"sku": str(op.public.sku[5]), "discount": 0.25, "days": 6}
    )
    assert (p["horizon_days"], p["last_day"] - p["first_day"]) == (6, 5)
    for arm in ("with_override", "without_override"):
        days, total = p[arm]["daily"], p[arm]["total"]
        assert len(days) == 6 and [d["day"] for d in days] == list(range(op.day, op.day + 6))
        for band in [total[f] for f in ("units_sold", "revenue", "profit", "units_expired")] + [
            d["units_sold"] for d in days
        ]:
            assert band["p10"] <= band["p50"] <= band["p90"]
        mean_of_days = sum(d["units_sold"]["mean"] for d in days)
        assert total["units_sold"]["mean"] == pytest.approx(mean_of_days)
        assert 0.0 <= total["stockout_probability"] <= 1.0
    assert p["with_override"]["markdown"] == 0.25 and p["without_override"]["markdown"] == 0.0


def test_a_bad_override_is_refused_as_the_override_itself_would_be() -> None:
    op = traded(3)
    with pytest.raises(UnknownSku):
        preview_override(op, "pricing_agent", {"sku": "SKU000000", "price": 1.0, "hold_days": 2})
    with pytest.raises(InvalidOverride, match="parameters.discount"):
        preview_override(
            op, "promotion_agent", {"sku": str(op.public.sku[0]), "discount": 0.95, "days": 2}
        )
    with pytest.raises(UnknownAgent):
        preview_override(op, "pricing", {})


def test_realised_is_known_only_once_every_day_has_traded() -> None:
    op = traded(10)
    params = price_override(op, 1, 1.1, hold=3)
    p = preview_override(op, "pricing_agent", params)
    op.override("pricing_agent", params)
    op.run_day(NOW)
    assert realised(op, p["sku"], p["first_day"], p["last_day"]) is None
    op.run_day(NOW)
    op.run_day(NOW)
    got = realised(op, p["sku"], p["first_day"], p["last_day"])
    sales = op.live.ledger.window("sales", 3)[:, 1]
    assert got["units_sold"] == int(sales.sum()) and got["first_day"] == 10


def test_realised_outcomes_fall_inside_the_band_about_eight_times_in_ten() -> None:
    rows = [r for seed in range(3) for r in run_seed(seed)]
    cover = coverage(rows)
    assert cover["all"]["previews"] >= 120
    assert 0.70 <= cover["all"]["units_sold"] <= 0.90, cover


def test_the_preview_sells_the_freshest_to_the_share_the_store_has_shown() -> None:
    op = traded()
    life = op.public.shelf_life
    i = int(next(j for j in range(op.public.n) if 2 <= life[j] <= 7))
    body = {"sku": str(op.public.sku[i]), "quantity": 40}  # a glut: some of it must expire
    picks = op.agents["promotion_agent"].fresh
    expired = {}
    for share in (0.0, 1.0):
        picks.fresh, picks.sold = share * 1e6, 1e6
        p = preview_override(op, "inventory_agent", body)
        expired[share] = p["with_override"]["total"]["units_expired"]["mean"]
    # everyone taking the freshest leaves the older units to expire
    assert expired[1.0] > expired[0.0]
