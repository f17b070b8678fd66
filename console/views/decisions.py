"""Decisions: the agents' recent decisions with rationale and confidence; filter and download."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from console import resources
from console.client import AGENT_IDS, AGENT_NAMES
from console.components import format_time, guarded, show_last_result
from console.kpis import format_value
from console.tables import COLUMNS, csv_download, decisions_frame


def decision_detail(frame: pd.DataFrame) -> None:
    """One decision in full, chosen by id (stable while the table refreshes)."""
    labels = {
        r.id: f"{format_time(r.timestamp)} · {r.agent} · {r.action_type} · {r.sku}"
        for r in frame.itertuples()
        if r.id
    }
    chosen = st.selectbox(
        "Read a decision in full",
        list(labels),
        format_func=lambda k: labels[k],
        index=None,
        key="decision_detail",
        placeholder="Choose a decision",
    )
    if chosen not in labels:
        return
    row = frame[frame["id"] == chosen].iloc[0]
    confidence = row["confidence_score"]
    with st.container(border=True):
        st.markdown(
            f"**{row['agent']} · {row['action_type']} · {row['sku']}** :gray[· {row['id']}"
            f" · confidence {format_value('ratio', confidence)}]"
        )
        st.markdown(row["rationale"])
        for column, (title, name) in zip(
            st.columns(3),
            (
                ("Parameters", "parameters"),
                ("Expected outcome", "expected_outcome"),
                ("Outcome", "outcome"),
            ),
        ):
            column.caption(title)
            column.code(row[name], language="json")


@guarded
def decisions_table() -> None:
    left, right, count = st.columns([2, 2, 1])
    limit = count.selectbox("Recent decisions", [50, 100, 200, 500], index=2, key="decision_limit")
    agents = left.multiselect(
        "Agent",
        AGENT_IDS,
        format_func=lambda a: AGENT_NAMES[a],
        key="decision_agents",
        placeholder="All agents",
    )
    # one agent: let the backend filter, so the limit counts that agent's decisions only
    frame = decisions_frame(
        resources.get_api().recent_decisions(
            limit=limit, agent_id=agents[0] if len(agents) == 1 else None
        )
    )
    types = sorted(t for t in frame["action_type"].unique() if t)
    chosen = right.multiselect(
        "Action type", types, key="decision_types", placeholder="All action types"
    )
    if agents:
        frame = frame[frame["agent_id"].isin(agents)]
    if chosen:
        frame = frame[frame["action_type"].isin(chosen)]
    frame = frame.sort_values("timestamp", ascending=False)[COLUMNS]
    if frame.empty:
        st.info(
            "No decision matches these filters."
            if agents or chosen
            else "No decisions yet: they appear here from the store's first trading day.",
            icon=":material/info:",
        )
        return
    st.caption(f"{len(frame)} decision(s) shown, newest first.")
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        height=600,
        column_config={
            "timestamp": st.column_config.DatetimeColumn("Time", format="HH:mm:ss", width="small"),
            "agent": st.column_config.TextColumn("Agent", width=125),
            "action_type": st.column_config.TextColumn("Action", width=165),
            "sku": st.column_config.TextColumn("SKU", width=95),
            "day": st.column_config.NumberColumn(
                "Day", format="%d", width=55, help="The sim day the decision was made for."
            ),
            "rationale": st.column_config.TextColumn("Rationale", width=520),
            "confidence_score": st.column_config.ProgressColumn(
                "Confidence", min_value=0.0, max_value=1.0, format="%.2f", width="small"
            ),
            "parameters": st.column_config.TextColumn("Parameters"),
            "expected_outcome": st.column_config.TextColumn("Expected outcome"),
            "outcome": st.column_config.TextColumn("Outcome"),
            "id": st.column_config.TextColumn("Decision id"),
        },
    )
    decision_detail(frame)
    csv_download(frame, "decisions.csv", "decisions_csv")


st.title("Decisions")
show_last_result()
st.fragment(run_every=resources.refresh_every(5.0))(decisions_table)()
