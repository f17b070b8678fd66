"""Plotly figures and the data frames behind them, built from the listener's metric points."""

from __future__ import annotations

import math
from datetime import timedelta

import pandas as pd
import plotly.graph_objects as go

from console.listener import METRIC_FIELDS, MetricPoint

RANGES: dict[str, timedelta | None] = {
    "5 min": timedelta(minutes=5),
    "15 min": timedelta(minutes=15),
    "1 h": timedelta(hours=1),
    "All": None,
}
TEAL, SLATE, AMBER, RED = "#0f766e", "#475569", "#d97706", "#b91c1c"
CATEGORY_COLORS = {
    "bakery": "#b45309",
    "dairy": "#0369a1",
    "produce": "#15803d",
    "meat": "#b91c1c",
    "ambient": "#6b7280",
}


def points_frame(points: list[MetricPoint]) -> pd.DataFrame:
    """One row per point: timestamp, the ten metrics, any extra numeric history fields."""
    rows = [{"timestamp": p.timestamp, "day": p.day, **p.values, **p.extra} for p in points]
    frame = pd.DataFrame(rows, columns=None if rows else ["timestamp", "day", *METRIC_FIELDS])
    if not frame.empty:
        frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
        for name in METRIC_FIELDS:
            frame[name] = pd.to_numeric(frame.get(name, math.nan), errors="coerce")
    return frame


def in_range(frame: pd.DataFrame, label: str) -> pd.DataFrame:
    span = RANGES.get(label)
    if span is None or frame.empty:
        return frame
    return frame[frame["timestamp"] >= frame["timestamp"].max() - span]


def reference_point(points: list[MetricPoint], seconds: float = 60.0) -> MetricPoint | None:
    """The point about `seconds` before the latest (the earliest one if the buffer is shorter)."""
    if len(points) < 2:
        return None
    target = points[-1].timestamp - timedelta(seconds=seconds)
    earlier = [p for p in points[:-1] if p.timestamp <= target]
    return earlier[-1] if earlier else points[0]


def baseline_waste_columns(frame: pd.DataFrame) -> tuple[str, str] | None:
    """(agents, baseline) expired-unit columns if the history exposes the shadow baseline."""
    baseline = [c for c in frame.columns if "baseline" in c and ("expired" in c or "waste" in c)]
    if not baseline:
        return None
    ours = [
        c
        for c in frame.columns
        if c not in baseline and ("expired" in c or "waste_units" in c) and "baseline" not in c
    ]
    return (ours[0], baseline[0]) if ours else None


def layout(fig: go.Figure, title: str, y_title: str, height: int = 290) -> go.Figure:
    fig.update_layout(
        title={"text": title, "font": {"size": 15}, "x": 0.01, "y": 0.98, "yanchor": "top"},
        template="plotly_white",
        height=height,
        margin={"l": 10, "r": 10, "t": 64, "b": 10},
        legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 1, "xanchor": "right"},
        yaxis_title=y_title,
        hovermode="x unified",
    )
    fig.update_xaxes(showgrid=False)
    return fig


def empty_figure(title: str, note: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=note, showarrow=False, font={"color": SLATE})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return layout(fig, title, "")


def revenue_profit_figure(frame: pd.DataFrame) -> go.Figure:
    if frame.empty:
        return empty_figure("Revenue and profit (since start)", "waiting for the metric stream")
    fig = go.Figure()
    fig.add_scatter(
        x=frame["timestamp"],
        y=frame["total_revenue"],
        name="Revenue",
        line={"color": TEAL, "width": 2},
    )
    fig.add_scatter(
        x=frame["timestamp"],
        y=frame["total_profit"],
        name="Profit",
        line={"color": AMBER, "width": 2},
    )
    return layout(fig, "Revenue and profit (since start)", "currency")


def waste_figure(frame: pd.DataFrame, gate: dict | None = None) -> go.Figure:
    """`gate`: from metrics/by-category, the units each store has written off (`wasted`), the
    minimum before comparing (`minimum`) and the first day both had (`from_day`, or None)."""
    title = "Waste vs baseline"
    if frame.empty:
        return empty_figure(title, "waiting for the metric stream")
    if gate is not None:
        if gate["from_day"] is None:
            live, base = gate["wasted"]
            return empty_figure(
                title,
                "Too few units written off to compare yet<br>"
                f"(agents {live}, baseline {base}; drawn from {gate['minimum']} each)",
            )
        # from the first point on that day (points from the stream may not say their day)
        on = frame["timestamp"][pd.to_numeric(frame["day"], errors="coerce") >= gate["from_day"]]
        if not on.empty:
            frame = frame[frame["timestamp"] >= on.min()]
    columns = baseline_waste_columns(frame)
    fig = go.Figure()
    if columns:
        ours, base = columns
        fig.add_scatter(
            x=frame["timestamp"], y=frame[ours], name="Agents", line={"color": TEAL, "width": 2}
        )
        fig.add_scatter(
            x=frame["timestamp"],
            y=frame[base],
            name="Shadow baseline",
            line={"color": SLATE, "width": 2, "dash": "dash"},
        )
        return layout(fig, title + " (units)", "units")
    fig.add_scatter(
        x=frame["timestamp"],
        y=frame["waste_reduction_percentage"],
        name="Waste reduction",
        line={"color": TEAL, "width": 2},
        fill="tozeroy",
        fillcolor="rgba(15,118,110,0.08)",
    )
    fig.add_hline(
        y=0,
        line={"color": SLATE, "dash": "dash"},
        annotation_text="same waste as the baseline",
        annotation_position="bottom right",
    )
    return layout(fig, title + " (% less)", "%")


def stockout_figure(frame: pd.DataFrame) -> go.Figure:
    title = "Stock-outs (SKU-days, 7 d)"
    if frame.empty:
        return empty_figure(title, "waiting for the metric stream")
    fig = go.Figure()
    fig.add_scatter(
        x=frame["timestamp"],
        y=frame["stockout_incidents"],
        name="Stock-outs",
        line={"color": RED, "width": 2, "shape": "hv"},
    )
    return layout(fig, title, "SKU-days")


AGE_BUCKETS = (
    (1, 1, "1 d"),
    (2, 2, "2 d"),
    (3, 3, "3 d"),
    (4, 7, "4-7 d"),
    (8, 14, "8-14 d"),
    (15, 60, "15-60 d"),
    (61, 10**6, "> 60 d"),
)


def stock_age_frame(skus: pd.DataFrame) -> pd.DataFrame:
    """Units in stock by days of life left (bucketed) and category, from each SKU's stock_by_age."""
    rows = []
    for category, ages in zip(skus.get("category", []), skus.get("stock_by_age", [])):
        for key, units in (ages or {}).items() if isinstance(ages, dict) else ():
            try:
                days = int(float(key))
            except (TypeError, ValueError):
                continue
            label = (
                next(lbl for lo, hi, lbl in AGE_BUCKETS if lo <= days <= hi) if days >= 1 else "1 d"
            )
            rows.append({"category": category, "days_left": label, "units": units or 0})
    frame = pd.DataFrame(rows, columns=["category", "days_left", "units"])
    return frame.groupby(["days_left", "category"], as_index=False).agg(units=("units", "sum"))


def stock_age_figure(skus: pd.DataFrame) -> go.Figure:
    title = "Units in stock by days of life left"
    data = stock_age_frame(skus)
    if data.empty or data["units"].sum() == 0:
        return empty_figure(title, "no stock")
    order = [lbl for _, _, lbl in AGE_BUCKETS]
    fig = go.Figure()
    for category, group in data.groupby("category", sort=True):
        units = group.set_index("days_left")["units"].reindex(order).fillna(0)
        fig.add_bar(
            x=order,
            y=units,
            name=str(category),
            marker_color=CATEGORY_COLORS.get(str(category), SLATE),
        )
    fig.update_layout(barmode="stack")
    fig.update_xaxes(title="days of life left", type="category")
    return layout(fig, title, "units", height=380)


def stock_expiry_figure(skus: pd.DataFrame) -> go.Figure:
    """Each SKU's stock against the days left on its oldest unit, by category."""
    title = "Stock against expiry"
    data = skus.dropna(subset=["days_to_expiry"]) if "days_to_expiry" in skus else skus.iloc[0:0]
    if data.empty:
        return empty_figure(title, "no SKU has stock with a known expiry")
    fig = go.Figure()
    for category, group in data.groupby("category", sort=True):
        fig.add_scatter(
            x=group["days_to_expiry"],
            y=group["stock"],
            mode="markers",
            name=str(category),
            text=group["sku"] + " · " + group["name"].astype(str),
            marker={"size": 10, "opacity": 0.8, "color": CATEGORY_COLORS.get(str(category), SLATE)},
            hovertemplate="%{text}<br>%{y} units, oldest expires in %{x} d<extra></extra>",
        )
    ticks = [1, 2, 3, 5, 7, 10, 14, 30, 60, 180]
    fig.update_xaxes(
        type="log",
        title="days to expiry of the oldest unit (log scale)",
        tickvals=ticks,
        ticktext=[str(t) for t in ticks],
    )
    fig = layout(fig, title, "units in stock", height=380)
    fig.update_layout(hovermode="closest")
    return fig
