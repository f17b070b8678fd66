"""Chart data: time ranges, the delta reference point, stock by days of life left."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd

from console import charts
from console.listener import MetricPoint

from .conftest import T0


def points(n: int, step: float = 2.0) -> list[MetricPoint]:
    return [
        MetricPoint(T0 + timedelta(seconds=step * i), {"total_revenue": float(i)}) for i in range(n)
    ]


def test_reference_point_is_about_a_minute_back_or_the_oldest() -> None:
    assert charts.reference_point(points(1)) is None
    assert (
        charts.reference_point(points(100)).values["total_revenue"] == 69.0
    )  # 99 - 30 ticks of 2 s
    assert charts.reference_point(points(10)).values["total_revenue"] == 0.0


def test_time_range_keeps_the_trailing_window() -> None:
    frame = charts.points_frame(points(400))  # 800 s of points
    assert len(charts.in_range(frame, "5 min")) == 151
    assert len(charts.in_range(frame, "All")) == 400
    assert charts.points_frame([]).empty


def test_stock_is_bucketed_by_days_of_life_left_per_category() -> None:
    skus = pd.DataFrame(
        [
            {"category": "bakery", "stock_by_age": {"1": 4, "2": 6}},
            {"category": "dairy", "stock_by_age": {"5": 3, "9": 2}},
            {"category": "ambient", "stock_by_age": {"178": 10, "bad": 1}},
            {"category": "dairy", "stock_by_age": {}},
        ]
    )
    frame = charts.stock_age_frame(skus).set_index(["days_left", "category"])["units"]
    assert frame.to_dict() == {
        ("1 d", "bakery"): 4,
        ("2 d", "bakery"): 6,
        ("4-7 d", "dairy"): 3,
        ("8-14 d", "dairy"): 2,
        ("> 60 d", "ambient"): 10,
    }


def test_waste_chart_waits_for_enough_units_written_off() -> None:
    from console.charts import points_frame, waste_figure
    from tests.console.conftest import FakeListener

    listener = FakeListener()
    for i in range(5):
        listener.feed_metrics(i)
    frame = points_frame(listener.view().points)
    frame["day"] = [0, 1, 2, None, None]  # the stream's points need not say their day
    few = waste_figure(frame, {"from_day": None, "minimum": 30, "wasted": (4, 41)})
    assert not few.data and "Too few units written off" in few.layout.annotations[0].text
    assert "agents 4, baseline 41" in few.layout.annotations[0].text
    enough = waste_figure(frame, {"from_day": 2, "minimum": 30, "wasted": (30, 41)})
    assert len(enough.data) == 1 and list(enough.data[0].y) == [15.2] * 3  # days 2, 3 and 4
