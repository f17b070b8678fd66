"""Overview: the ten KPIs, the trend charts, the three agents and the active alerts."""

from __future__ import annotations

import streamlit as st

from console import categories, charts, resources
from console.client import ApiError
from console.components import (
    TILE_WIDTH,
    agent_panel,
    format_time,
    guarded,
    severity_badge,
    show_last_result,
    tile_row,
)
from console.kpis import KPIS, format_delta, format_value, is_number
from console.listener import MetricPoint, format_age, to_point


def latest_point(points: list[MetricPoint]) -> MetricPoint | None:
    """The stream's latest point, or metrics/current when the stream has given nothing yet."""
    if points:
        return points[-1]
    try:
        current = resources.get_api().metrics_current()
    except ApiError:
        return None
    return to_point(current, current.get("timestamp"))


@guarded
def kpi_tiles() -> None:
    view = resources.current_view()
    latest = latest_point(view.points)
    if latest is None:
        st.info(
            "No metrics yet: waiting for the backend's metric stream.",
            icon=":material/hourglass_empty:",
        )
        return
    badge = view.badge()
    if badge.kind != "live" and not resources.live_paused():
        st.warning(
            f"{badge.title}: these are the last figures received "
            f"({format_time(latest.timestamp)}); {badge.detail}.",
            icon=":material/cloud_off:",
        )
    reference = charts.reference_point(view.points)
    since = (
        f"vs {format_age((latest.timestamp - reference.timestamp).total_seconds())} ago"
        if reference
        else None
    )
    recent = view.points[-60:]
    tiles = tile_row("kpi_tiles")
    for kpi in KPIS:
        value = latest.values.get(kpi.field)
        before = reference.values.get(kpi.field) if reference else None
        spark = [p.values.get(kpi.field) for p in recent if is_number(p.values.get(kpi.field))]
        delta = format_delta(kpi.kind, value, before)
        tiles.metric(
            kpi.label,
            format_value(kpi.kind, value),
            delta=delta,
            delta_color=(
                "off" if delta == "no change" else "inverse" if kpi.lower_is_better else "normal"
            ),
            delta_arrow="off" if delta == "no change" else "auto",
            delta_description=since,
            help=kpi.definition,
            border=True,
            chart_data=spark if len(spark) > 2 and is_number(value) else None,
            width=TILE_WIDTH,
        )
    on_day = f" · sim day {latest.day}" if latest.day is not None else ""
    st.caption(
        f"As of {format_time(latest.timestamp)}{on_day}. Hover the ? on a tile for its definition."
    )


def waste_gate() -> dict | None:
    """Whether both stores have written off enough to compare their waste (by-category)."""
    try:
        body = resources.get_api().metrics_by_category()
    except ApiError:
        return None
    rows = body.get("categories") or []
    return {
        "from_day": body.get("waste_comparable_from_day"),
        "minimum": body.get("waste_min_units"),
        "wasted": tuple(
            sum(int(r["since_start"][store]["units_wasted"]) for r in rows)
            for store in ("live", "baseline")
        ),
    }


@guarded
def trend_charts() -> None:
    span = (
        st.segmented_control(
            "Time range",
            list(charts.RANGES),
            default="15 min",
            key="overview_range",
            label_visibility="collapsed",
        )
        or "All"
    )
    frame = charts.in_range(charts.points_frame(resources.current_view().points), span)
    left, middle, right = st.columns(3)
    config = {"displaylogo": False, "displayModeBar": False}
    left.plotly_chart(charts.revenue_profit_figure(frame), width="stretch", config=config)
    middle.plotly_chart(charts.waste_figure(frame, waste_gate()), width="stretch", config=config)
    right.plotly_chart(charts.stockout_figure(frame), width="stretch", config=config)


@guarded
def active_alerts() -> None:
    alerts = [
        a for a in resources.get_api().active_alerts() if a.get("status", "active") != "resolved"
    ]
    if not alerts:
        st.success("No active alerts.", icon=":material/task_alt:")
        return
    order = {"critical": 0, "error": 1, "warning": 2, "info": 3}
    alerts.sort(key=lambda a: (order.get(a.get("severity", ""), 9), str(a.get("timestamp"))))
    for alert in alerts[:8]:
        where = " · ".join(str(x) for x in (alert.get("agent_id"), alert.get("sku")) if x)
        st.markdown(
            f"{severity_badge(str(alert.get('severity', 'info')))} **{alert.get('title', '')}**"
            f" — {alert.get('message', '')} "
            f":gray[{where + ' · ' if where else ''}{format_time(alert.get('timestamp'))}"
            f" · {alert.get('status', 'active')}]"
        )
    if len(alerts) > 8:
        st.caption(f"{len(alerts) - 8} more on the Alerts page.")


st.title("Overview")
show_last_result()
# every second: a tick (2 s) shows within about a second of arriving (bench/README.md, Console)
st.fragment(run_every=resources.refresh_every(1.0))(kpi_tiles)()
st.subheader("Trends")
st.fragment(run_every=resources.refresh_every(5.0))(trend_charts)()
st.subheader("By category")
st.fragment(run_every=resources.refresh_every(5.0))(categories.category_panel)("overview", True)
st.subheader("Agents")
agent_panel()
st.subheader("Active alerts")
st.fragment(run_every=resources.refresh_every(5.0))(active_alerts)()
