"""Tables shared by pages: the decisions as a frame, record times, agent names, CSV downloads."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st
from pandas.api.typing import NaTType

from console.client import agent_name

COLUMNS = [
    "timestamp",
    "day",
    "agent",
    "action_type",
    "sku",
    "rationale",
    "confidence_score",
    "parameters",
    "expected_outcome",
    "outcome",
    "id",
]


def timestamp(value: object) -> pd.Timestamp | NaTType:
    """A record's ISO 8601 time as a UTC timestamp; NaT when it has none or it does not parse."""
    return pd.to_datetime(str(value or ""), utc=True, errors="coerce")


def decisions_frame(decisions: list[dict]) -> pd.DataFrame:
    rows = []
    for d in decisions:
        rows.append(
            {
                "timestamp": timestamp(d.get("timestamp")),
                "day": d.get("day"),
                "agent": agent_name(d.get("agent_id", "")),
                "agent_id": d.get("agent_id", ""),
                "action_type": d.get("action_type", ""),
                "sku": d.get("sku", ""),
                "rationale": d.get("rationale", ""),
                "confidence_score": d.get("confidence_score"),
                "parameters": json.dumps(d.get("parameters") or {}, sort_keys=True),
                "expected_outcome": json.dumps(d.get("expected_outcome") or {}, sort_keys=True),
                "outcome": (
                    "not yet known"
                    if d.get("outcome") is None
                    else json.dumps(d["outcome"], sort_keys=True)
                ),
                "id": d.get("id", ""),
            }
        )
    return pd.DataFrame(rows, columns=[*COLUMNS, "agent_id"])


def csv_download(frame: pd.DataFrame, file_name: str, key: str) -> None:
    st.download_button(
        "Download CSV",
        frame.to_csv(index=False).encode(),
        file_name,
        "text/csv",
        icon=":material/download:",
        key=key,
    )
