"""Override: one form per agent; checked here, confirmed with a reason, sent to the backend."""

from __future__ import annotations

import streamlit as st

from console import resources
from console.client import AGENT_NAMES, ApiError, may
from console.components import request_intervention, show_last_result
from console.overrides import MAX_DAYS, MAX_QUANTITY, validate_override


def sku_picker(agent_id: str, skus: list[dict]) -> str | None:
    by_id = {s["sku"]: s for s in skus if "sku" in s}

    def label(sku: str) -> str:
        row = by_id.get(sku, {})
        return f"{sku} · {row.get('name', '')} ({row.get('category', '')})"

    return st.selectbox(
        "SKU",
        list(by_id),
        format_func=label,
        key=f"{agent_id}_sku",
        index=None,
        placeholder="Choose a SKU",
    )


def current_row(sku: str | None, skus: list[dict]) -> None:
    row = next((s for s in skus if s.get("sku") == sku), None)
    if row:
        markdown = row.get("markdown_price")
        st.caption(
            f"Now: price {row.get('price')} · markdown {markdown if markdown is not None else 'none'}"
            f" · cost {row.get('cost')} · stock {row.get('stock')} · on order {row.get('on_order')}"
            f" · oldest unit expires in {row.get('days_to_expiry', '—')} d"
        )


def override_form(agent_id: str, skus: list[dict]) -> None:
    with st.form(f"override_{agent_id}", border=True):
        sku = sku_picker(agent_id, skus)
        if agent_id == "pricing_agent":
            a, b = st.columns(2)
            params = {
                "sku": sku,
                "price": a.number_input(
                    "Regular price (0.2x to 5x the list price)",
                    min_value=0.0,
                    value=None,
                    step=0.05,
                    format="%.2f",
                    placeholder="e.g. 3.49",
                ),
                "hold_days": b.number_input(
                    "Hold for (sim days)", min_value=1, max_value=MAX_DAYS, value=7, step=1
                ),
            }
        elif agent_id == "inventory_agent":
            params = {
                "sku": sku,
                "quantity": st.number_input(
                    "Order quantity (units)",
                    min_value=0,
                    max_value=MAX_QUANTITY,
                    value=None,
                    step=1,
                    placeholder="e.g. 24",
                ),
            }
        else:
            a, b = st.columns(2)
            params = {
                "sku": sku,
                "discount": a.number_input(
                    "Discount (fraction, 0 < d < 0.9)",
                    min_value=0.0,
                    max_value=0.89,
                    value=None,
                    step=0.05,
                    format="%.2f",
                    placeholder="e.g. 0.25",
                ),
                "days": b.number_input(
                    "For (sim days)", min_value=1, max_value=MAX_DAYS, value=3, step=1
                ),
            }
        submitted = st.form_submit_button(
            f"Review override for {AGENT_NAMES[agent_id]}", type="primary", icon=":material/tune:"
        )
    if submitted:
        current_row(sku, skus)
        problems = validate_override(agent_id, params, {s["sku"] for s in skus if "sku" in s})
        if problems:
            st.error("Not sent. Please fix:\n\n" + "\n".join(f"- {p}" for p in problems))
        else:
            request_intervention(agent_id, "override", params)


st.title("Override")
show_last_result()
st.caption(
    "An override applies your value now and holds it; the agent leaves that SKU's lever "
    "alone until the hold ends. You confirm with a reason before anything is sent."
)
SKU_CHOICES = 100  # SKUs offered in a picker at once; the search narrows a big store down


def sku_choices(agent_id: str) -> list[dict]:
    """The SKUs matching the operator's search (the backend filters), at most SKU_CHOICES."""
    q = st.text_input(
        "Find a SKU by id or name",
        key=f"{agent_id}_sku_q",
        max_chars=100,
        placeholder="e.g. milk or SKU12",
    )
    try:
        total, rows = resources.get_api().store_skus(limit=SKU_CHOICES, q=q.strip() or None)
    except ApiError as exc:
        st.error(f"{exc} The SKU list is needed to build an override.", icon=":material/cloud_off:")
        return []
    if not rows:
        st.info("No SKU matches this search.", icon=":material/search_off:")
    elif total is not None and total > len(rows):
        st.caption(f"The first {len(rows)} of {total:,} matching SKUs; type to narrow the list.")
    return rows


if not may(resources.role(), "override"):
    st.info(
        f"The console's token has the role '{resources.role()}'; overrides need 'operator' or "
        "higher (set AUTOOPS_API_TOKEN to an operator's token).",
        icon=":material/lock:",
    )
else:
    for tab, agent_id in zip(
        st.tabs([AGENT_NAMES[a] for a in AGENT_NAMES], key="override_tab", on_change="rerun"),
        AGENT_NAMES,
    ):
        with tab:
            skus = sku_choices(agent_id)
            if skus:
                override_form(agent_id, skus)
