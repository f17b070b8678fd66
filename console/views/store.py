"""Store: every SKU's price, stock by age, expiry, orders and markdowns; stock against expiry."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from console import categories, charts, resources
from console.client import ApiError
from console.components import TILE_WIDTH, guarded, show_last_result, tile_row


def stock_by_age_text(value: object) -> str:
    """{days_left: units} as "1d 4 · 2d 6", soonest first."""
    if not isinstance(value, dict) or not value:
        return "—"

    def days(key: object) -> float:
        try:
            return float(key)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return float("inf")

    return " · ".join(
        f"{k}d {v}" for k, v in sorted(value.items(), key=lambda kv: days(kv[0])) if v
    )


def override_text(value: object) -> str:
    """An override's end as "day 14" (pandas may have turned the day into 14.0), or "—"."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "—"
    if isinstance(value, (int, float)):
        return f"day {int(value)}"
    return str(value)


def skus_frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    frame["stock_by_age_text"] = frame.get("stock_by_age", pd.Series(dtype=object)).map(
        stock_by_age_text
    )
    price = pd.to_numeric(frame.get("price", math.nan), errors="coerce")
    markdown = pd.to_numeric(frame.get("markdown_price", math.nan), errors="coerce")
    frame["markdown_pct"] = (1 - markdown / price) * 100
    if "override_until" in frame:
        frame["override_until"] = frame["override_until"].map(override_text)
    for name in ("stock", "on_order", "days_to_expiry", "cost", "price", "markdown_price"):
        if name in frame:
            frame[name] = pd.to_numeric(frame[name], errors="coerce")
    return frame


PAGE_SIZES = (50, 100, 200, 500)


def filters() -> tuple[str | None, str | None, int, int]:
    """The operator's category, search text, page size and page; the backend filters."""
    known = st.session_state.get("store_known_categories") or []
    a, b, c, d = st.columns([2, 3, 1, 1])
    category = a.selectbox("Category", ["All categories", *known], key="store_category", index=0)
    q = b.text_input(
        "Search SKU id or name", key="store_q", max_chars=100, placeholder="e.g. milk or SKU12"
    )
    size = c.selectbox("Rows per page", PAGE_SIZES, index=1, key="store_page_size")
    page = d.number_input("Page", min_value=1, step=1, key="store_page")
    return (None if category == "All categories" else category), (q.strip() or None), size, page


@guarded
def store_panel(category: str | None, q: str | None, size: int, page: int) -> None:
    api = resources.get_api()
    total, rows = api.store_skus(offset=(page - 1) * size, limit=size, category=category, q=q)
    if total and not rows:  # past the last page (the filters shrank the list): show the last
        page = -(-total // size)
        total, rows = api.store_skus(offset=(page - 1) * size, limit=size, category=category, q=q)
    frame = skus_frame(rows)
    if frame.empty:
        st.info(
            "No SKU matches these filters."
            if (category or q)
            else "The backend reports no SKUs yet.",
            icon=":material/search_off:",
        )
        return
    first = (page - 1) * size + 1
    st.caption(
        f"SKUs {first:,}–{first + len(frame) - 1:,}"
        + (f" of {total:,} matching" if total is not None else "")
        + ". Figures below are for this page."
    )
    marked = int(frame["markdown_price"].notna().sum()) if "markdown_price" in frame else 0
    soon = int((frame["days_to_expiry"] <= 1).sum()) if "days_to_expiry" in frame else 0
    out = int((frame["stock"] <= 0).sum()) if "stock" in frame else 0
    tiles = tile_row("store_tiles")
    tiles.metric("Units in stock", f"{frame['stock'].sum():,.0f}", border=True, width=TILE_WIDTH)
    tiles.metric("Units on order", f"{frame['on_order'].sum():,.0f}", border=True, width=TILE_WIDTH)
    tiles.metric(
        "Marked down",
        f"{marked:,}",
        border=True,
        help="SKUs with a markdown price today.",
        width=TILE_WIDTH,
    )
    tiles.metric("Out of stock / expiring ≤ 1 d", f"{out} / {soon}", border=True, width=TILE_WIDTH)
    left, right = st.columns(2)
    config = {"displaylogo": False, "displayModeBar": False}
    left.plotly_chart(charts.stock_expiry_figure(frame), width="stretch", config=config)
    right.plotly_chart(charts.stock_age_figure(frame), width="stretch", config=config)
    columns = [
        c
        for c in (
            "sku",
            "name",
            "category",
            "price",
            "markdown_price",
            "markdown_pct",
            "cost",
            "stock",
            "stock_by_age_text",
            "days_to_expiry",
            "on_order",
            "override_until",
        )
        if c in frame
    ]
    st.dataframe(
        frame[columns],
        hide_index=True,
        width="stretch",
        height=520,
        column_config={
            "sku": st.column_config.TextColumn("SKU"),
            "name": st.column_config.TextColumn("Name", width="medium"),
            "category": st.column_config.TextColumn("Category"),
            "price": st.column_config.NumberColumn("Price", format="%.2f"),
            "markdown_price": st.column_config.NumberColumn("Markdown price", format="%.2f"),
            "markdown_pct": st.column_config.NumberColumn("Markdown", format="%.0f %%"),
            "cost": st.column_config.NumberColumn("Unit cost", format="%.2f"),
            "stock": st.column_config.NumberColumn("Stock", format="%d"),
            "stock_by_age_text": st.column_config.TextColumn(
                "Stock by days left",
                width="medium",
                help="Units by days of life left, soonest first (1d = sell today or write off).",
            ),
            "days_to_expiry": st.column_config.NumberColumn(
                "Days to expiry", format="%d", help="Days of life left on the oldest unit."
            ),
            "on_order": st.column_config.NumberColumn("On order", format="%d"),
            "override_until": st.column_config.TextColumn(
                "Override until", help="Sim day until which an operator override holds."
            ),
        },
    )


st.title("Store")
show_last_result()
st.subheader("By category")
st.fragment(run_every=resources.refresh_every(5.0))(categories.category_panel)("store")
st.subheader("SKUs")
try:
    st.session_state["store_known_categories"] = [
        c["category"] for c in resources.get_api().metrics_by_category().get("categories") or []
    ]
except ApiError:
    pass  # the panels below say the backend is away
chosen = filters()
st.fragment(run_every=resources.refresh_every(5.0))(store_panel)(*chosen)
