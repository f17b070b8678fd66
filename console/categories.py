"""The per-category view (metrics/by-category) as tables: the live store against its baseline."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from console import resources
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
COMPACT = ("profit", "units_wasted", "fill_rate", "stockout_sku_days")


def category_frame(body: dict, period: str) -> pd.DataFrame:
    """One row per category: each figure for the live store, the baseline and live - baseline."""
    records = []
    for row in body.get("categories") or []:
        stores = row.get(period) or {}
        live, base = stores.get("live") or {}, stores.get("baseline") or {}
        record: dict = {"category": row.get("category"), "skus": row.get("skus")}
        for key, _, _ in FIGURES:
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


NO_FIGURES = "No category figures yet: the store has not traded a day."


def category_table(body: dict, period: str, key: str = "") -> None:
    """The table, with a column triple (live, baseline, live - baseline) per figure."""
    frame = category_frame(body, period)
    if frame.empty:
        st.info(NO_FIGURES, icon=":material/info:")
        return
    config: dict = {
        "category": st.column_config.TextColumn("Category"),
        "skus": st.column_config.NumberColumn("SKUs", format="%d"),
    }
    for name, label, fmt in FIGURES:
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


def pair_text(live: object, base: object, fmt: str) -> str:
    """ "agents / baseline" with the figure's format; a figure not known yet is "—"."""

    def one(v: object) -> str:
        return "—" if v is None else (fmt % v).replace(" %%", " %")

    return f"{one(live)} / {one(base)}"


def compact_frame(body: dict, period: str) -> pd.DataFrame:
    """One row per category, each figure as "agents / baseline" text: narrow enough for the
    Overview at any width, and readable as text."""
    labels = {key: (label, fmt) for key, label, fmt in FIGURES}
    records = []
    for row in body.get("categories") or []:
        stores = row.get(period) or {}
        live, base = stores.get("live") or {}, stores.get("baseline") or {}
        record = {"Category": row.get("category")}
        for key in COMPACT:
            label, fmt = labels[key]
            a, b = live.get(key), base.get(key)
            if key == "fill_rate":
                a, b = (None if v is None else 100 * v for v in (a, b))
            record[f"{label} (agents / baseline)"] = pair_text(a, b, fmt)
        records.append(record)
    return pd.DataFrame(records)


@guarded
def category_panel(key: str, compact: bool = False) -> None:
    """Fetch metrics/by-category and show it for the period the operator picks."""
    body = resources.get_api().metrics_by_category()
    period = (
        st.segmented_control(
            "Period",
            list(PERIODS),
            format_func=lambda p: PERIODS[p],
            default="since_start",
            key=f"{key}_category_period",
            label_visibility="collapsed",
        )
        or "since_start"
    )
    note = (
        "Per category, the agents' store against the shadow baseline store (standing rule, "
        f"same demand), {period_note(body, period)}; Δ = agents minus baseline."
    )
    if not compact:
        st.caption(note)
        category_table(body, period, key=f"{key}_category_table")
        return
    frame = compact_frame(body, period)
    if frame.empty:
        st.info(NO_FIGURES, icon=":material/info:")
        return
    with st.container(key=f"{key}_category_table"):
        st.caption(note.replace("; Δ = agents minus baseline", ""))
        st.table(frame.set_index("Category"))
