"""The per-category view (metrics/by-category) as tables: the live store against its baseline."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from console import services
from console.components import guarded

PERIODS = {"since_start": "Since the start", "window": "KPI window"}
FIGURES = (
    ("profit", "Profit", "%.0f"),
    ("revenue", "Revenue", "%.0f"),
    ("units_wasted", "Wasted", "%d"),
    ("units_sold", "Sold", "%d"),
    ("fill_rate", "Fill rate", "%.1f %%"),
    ("stockout_sku_days", "Stock-out SKU-days", "%d"),
)
COMPACT = tuple(f for f in FIGURES if f[0] in ("profit", "units_wasted", "fill_rate"))


def category_frame(body: dict, period: str, figures: tuple = FIGURES) -> pd.DataFrame:
    """One row per category: each figure for the live store, the baseline and live - baseline."""
    records = []
    for row in body.get("categories") or []:
        stores = row.get(period) or {}
        live, base = stores.get("live") or {}, stores.get("baseline") or {}
        record: dict = {"category": row.get("category"), "skus": row.get("skus")}
        for key, _, _ in figures:
            a, b = live.get(key), base.get(key)
            if key == "fill_rate":  # shown in percent
                a, b = (None if v is None else 100 * v for v in (a, b))
            record[f"{key}_live"], record[f"{key}_baseline"] = a, b
            record[f"{key}_diff"] = None if a is None or b is None else a - b
        records.append(record)
    return pd.DataFrame(records)


def period_note(body: dict, period: str) -> str:
    if period == "window":
        return f"over the last {body.get('window_days', 0)} sim day(s)"
    days = body.get("since_start_days", 0)
    if body.get("covers_since_start", True):
        return f"over all {days} sim day(s) since the start"
    return f"over the last {days} sim days held (earlier days have left the ledger)"


def category_table(body: dict, period: str, figures: tuple = FIGURES, key: str = "") -> None:
    """The table, with a column triple (live, baseline, live - baseline) per figure."""
    frame = category_frame(body, period, figures)
    if frame.empty:
        st.info("No category figures yet: the store has not traded a day.", icon=":material/info:")
        return
    config: dict = {
        "category": st.column_config.TextColumn("Category"),
        "skus": st.column_config.NumberColumn("SKUs", format="%d"),
    }
    for name, label, fmt in figures:
        config[f"{name}_live"] = st.column_config.NumberColumn(
            f"{label} (agents)", format=fmt, help=f"{label}, the store run by the agents"
        )
        config[f"{name}_baseline"] = st.column_config.NumberColumn(
            f"{label} (baseline)",
            format=fmt,
            help=f"{label}, the shadow store run by the standing rule on the same demand",
        )
        config[f"{name}_diff"] = st.column_config.NumberColumn(
            f"{label} Δ", format=fmt, help=f"{label}: agents minus baseline"
        )
    st.dataframe(frame, hide_index=True, width="stretch", column_config=config, key=key or None)


@guarded
def category_panel(key: str, figures: tuple = FIGURES) -> None:
    """Fetch metrics/by-category and show it for the period the operator picks."""
    body = services.get_api().metrics_by_category()
    period = (
        st.segmented_control(
            "Period",
            list(PERIODS),
            format_func=PERIODS.get,
            default="since_start",
            key=f"{key}_category_period",
            label_visibility="collapsed",
        )
        or "since_start"
    )
    st.caption(
        "Per category, the agents' store against the shadow baseline store (standing rule, "
        f"same demand), {period_note(body, period)}; Δ = agents minus baseline."
    )
    category_table(body, period, figures, key=f"{key}_category_table")
