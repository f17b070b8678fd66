"""Audit: the intervention log (who, when, action, reason, parameters)."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from console import resources
from console.client import agent_name
from console.components import guarded, show_last_result
from console.preview import preview_frame, realised_column
from console.tables import csv_download, timestamp


def audit_frame(rows: list[dict]) -> pd.DataFrame:
    records = []
    for r in rows:
        records.append(
            {
                "timestamp": timestamp(r.get("timestamp")),
                "who": r.get("client") or r.get("operator") or "—",
                "agent": agent_name(r.get("agent_id", "")),
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


def band_text(band: dict | None) -> str:
    if not band:
        return "—"
    return f"{band['p50']:,.1f} ({band['p10']:,.1f}–{band['p90']:,.1f})"


def outcome_frame(rows: list[dict]) -> pd.DataFrame:
    """Each previewed override: what its preview expected against what the SKU did."""
    records = []
    for r in rows:
        preview = r.get("preview")
        if not preview:
            continue
        total, done = (preview.get("with_override") or {}).get("total") or {}, r.get("realised")
        record = {
            "id": r.get("intervention_id") or "",
            "agent": agent_name(r.get("agent_id", "")),
            "sku": preview.get("sku"),
            "days": f"{preview.get('first_day')}–{preview.get('last_day')}",
        }
        for key in ("units_sold", "profit", "units_expired"):
            band = total.get(key)
            record[f"{key}_expected"] = band_text(band)
            got = None if done is None else done.get(key)
            record[f"{key}_realised"] = got
            record[f"{key}_inside"] = (
                None if got is None or not band else band["p10"] <= got <= band["p90"]
            )
        record["status"] = "traded" if done else "hold not over yet (or left the ledger)"
        records.append(record)
    return pd.DataFrame(records)


@guarded
def audit_log() -> None:
    rows = resources.get_api().interventions()
    outcomes = outcome_frame(rows)
    frame = audit_frame(rows)
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
    csv_download(frame, "interventions.csv", "audit_csv")
    st.subheader("Overrides: expected against realised")
    if outcomes.empty:
        st.info(
            "No override with a preview yet: every override keeps the preview it was applied "
            "with, and shows here what happened once its days have traded.",
            icon=":material/info:",
        )
        return
    inside = outcomes["units_sold_inside"].dropna()
    if len(inside):
        st.caption(
            f"Units sold fell inside the preview's 10–90% band in {int(inside.sum())} of "
            f"{len(inside)} finished override(s) (about 8 in 10 when the model is calibrated)."
        )
    config = {"id": st.column_config.TextColumn("Intervention id", width="small")}
    for key, label in (
        ("units_sold", "Units sold"),
        ("profit", "Profit"),
        ("units_expired", "Expired"),
    ):
        config[f"{key}_expected"] = st.column_config.TextColumn(
            f"{label} expected", help="Median (10–90% band) of the preview with the override"
        )
        config[f"{key}_realised"] = st.column_config.NumberColumn(f"{label} realised")
        config[f"{key}_inside"] = st.column_config.CheckboxColumn(f"{label} in band")
    st.dataframe(
        outcomes, hide_index=True, width="stretch", column_config=config, key="audit_outcomes"
    )
    preview_detail([r for r in rows if r.get("preview")])


def preview_detail(rows: list[dict]) -> None:
    """One override's preview in full, both arms side by side, with what happened."""
    labels = {
        r["intervention_id"]: f"{r['intervention_id']} · {r['preview']['sku']} · "
        f"days {r['preview']['first_day']}–{r['preview']['last_day']}"
        for r in rows
    }
    chosen = st.selectbox(
        "Read an override's preview",
        list(labels),
        format_func=lambda k: labels[k],
        key="audit_preview",
    )
    row = next((r for r in rows if r["intervention_id"] == chosen), None)
    if row is None:
        return
    with st.container(key="audit_preview_detail", border=True):
        frame = preview_frame(row["preview"])
        frame["Realised"] = realised_column(row.get("realised"))
        st.table(frame.set_index("figure"))


st.title("Audit")
show_last_result()
st.fragment(run_every=resources.refresh_every(5.0))(audit_log)()
