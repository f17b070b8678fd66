"""Audit: the intervention log (who, when, action, reason, parameters)."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from console import services
from console.client import AGENT_NAMES
from console.components import guarded, show_last_result


def audit_frame(rows: list[dict]) -> pd.DataFrame:
    records = []
    for r in rows:
        records.append(
            {
                "timestamp": pd.to_datetime(r.get("timestamp"), utc=True, errors="coerce"),
                "who": r.get("client") or r.get("operator") or "—",
                "agent": AGENT_NAMES.get(r.get("agent_id", ""), r.get("agent_id", "")),
                "action": r.get("action", ""),
                "reason": r.get("reason", ""),
                "parameters": json.dumps(r.get("parameters") or {}, sort_keys=True),
                "day": r.get("day"),
                "result": r.get("message") or "",
                "id": r.get("intervention_id") or r.get("id") or "",
            }
        )
    frame = pd.DataFrame(
        records,
        columns=[
            "timestamp",
            "day",
            "who",
            "agent",
            "action",
            "reason",
            "parameters",
            "result",
            "id",
        ],
    )
    return frame.sort_values("timestamp", ascending=False)


@guarded
def audit_log() -> None:
    frame = audit_frame(services.get_api().interventions())
    if frame.empty:
        st.info("No interventions yet: every pause, resume, reset and override appears here.")
        return
    st.caption(f"{len(frame)} intervention(s), newest first.")
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        height=min(600, 38 + 35 * len(frame)),
        column_config={
            "timestamp": st.column_config.DatetimeColumn("When", format="YYYY-MM-DD HH:mm:ss"),
            "day": st.column_config.NumberColumn("Sim day", format="%d", width="small"),
            "who": st.column_config.TextColumn(
                "Who", width="small", help="The client that sent it."
            ),
            "agent": st.column_config.TextColumn("Agent", width=130),
            "action": st.column_config.TextColumn("Action", width="small"),
            "reason": st.column_config.TextColumn("Reason", width="large"),
            "parameters": st.column_config.TextColumn("Parameters", width="medium"),
            "result": st.column_config.TextColumn("Result", width="medium"),
            "id": st.column_config.TextColumn("Intervention id", width="small"),
        },
    )
    st.download_button(
        "Download CSV",
        frame.to_csv(index=False).encode(),
        "interventions.csv",
        "text/csv",
        icon=":material/download:",
        key="audit_csv",
    )


st.title("Audit")
show_last_result()
st.fragment(run_every=services.refresh_every(5.0))(audit_log)()
