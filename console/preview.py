"""The Override dialog's what-if: the agent's own expectation with the override and without it."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from console import resources
from console.client import ApiError

FIGURES = (
    ("units_sold", "Units sold", "{:,.0f}"),
    ("revenue", "Revenue", "{:,.2f}"),
    ("profit", "Profit", "{:,.2f}"),
    ("units_expired", "Units expected to expire", "{:,.0f}"),
    ("stockout_days", "Stock-out days", "{:,.0f}"),
)
ARMS = (("with_override", "With the override"), ("without_override", "Without it"))


def band_text(band: dict | None, fmt: str) -> str:
    """ "12 (9–15)": the median and the 10-90% band."""
    if not band:
        return "—"
    return f"{fmt.format(band['p50'])} ({fmt.format(band['p10'])}–{fmt.format(band['p90'])})"


def preview_frame(preview: dict) -> pd.DataFrame:
    """Rows: figure; columns: each arm's median with its 10-90% band over the horizon."""
    rows = []
    for key, label, fmt in FIGURES:
        row = {"figure": label}
        for arm, title in ARMS:
            row[title] = band_text((preview.get(arm) or {}).get("total", {}).get(key), fmt)
        rows.append(row)
    row = {"figure": "Chance of a stock-out"}
    for arm, title in ARMS:
        p = (preview.get(arm) or {}).get("total", {}).get("stockout_probability")
        row[title] = "—" if p is None else f"{100 * p:.0f} %"
    rows.append(row)
    return pd.DataFrame(rows)


def realised_column(done: dict | None) -> list[str]:
    """What happened, in the rows of preview_frame; "not traded yet" until the days are done."""
    if not done:
        return ["not traded yet"] * (len(FIGURES) + 1)
    out = [fmt.format(done[key]) if done.get(key) is not None else "—" for key, _, fmt in FIGURES]
    return [*out, "stocked out" if done.get("stockout_days") else "no stock-out"]


def daily_figure(preview: dict) -> go.Figure:
    """Units sold per day, median and 10-90% band, for both arms."""
    fig = go.Figure()
    for (arm, title), color in zip(ARMS, ("#1f77b4", "#7f7f7f"), strict=True):
        days = (preview.get(arm) or {}).get("daily") or []
        x = [d["day"] for d in days]
        lo = [d["units_sold"]["p10"] for d in days]
        hi = [d["units_sold"]["p90"] for d in days]
        fig.add_trace(
            go.Scatter(
                x=x + x[::-1],
                y=hi + lo[::-1],
                fill="toself",
                line={"width": 0},
                fillcolor=color,
                opacity=0.18,
                hoverinfo="skip",
                showlegend=False,
            )
        )
        fig.add_trace(
            go.Scatter(
                x=x, y=[d["units_sold"]["p50"] for d in days], name=title, line={"color": color}
            )
        )
    fig.update_layout(
        height=220,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        title={"text": "Units sold per day (median, 10-90% band)", "font": {"size": 13}},
        legend={"orientation": "h", "y": -0.25},
        xaxis_title="sim day",
    )
    return fig


def preview_panel(agent_id: str, parameters: dict) -> None:
    """Ask the backend for the preview of these values and show both arms side by side."""
    try:
        preview = resources.get_api().preview(agent_id, parameters)
    except ApiError as exc:
        st.warning(f"No preview: {exc}", icon=":material/visibility_off:")
        return
    arm = preview.get("with_override") or {}
    order = arm.get("order_today")
    st.markdown(
        f"**Expected over sim days {preview['first_day']}–{preview['last_day']}** "
        "(the agent's own demand model, median and 10–90% band), with the override: "
        f"regular price {arm.get('regular_price', 0):.2f}, markdown {arm.get('markdown', 0):.0%}, "
        f"order today {'by the agent' if order is None else f'{order:,} units'}"
    )
    with st.container(key="preview_table"):
        st.table(preview_frame(preview).set_index("figure"))
    st.plotly_chart(
        daily_figure(preview),
        width="stretch",
        config={"displaylogo": False, "displayModeBar": False},
    )
    st.caption(
        "Both columns share the same simulated demand; later orders follow the inventory "
        "agent's order-up-to level. The audit log keeps this preview with the override and "
        "shows what happened once the days have traded."
    )
