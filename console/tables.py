"""Tables shared by pages: the decisions as a frame."""

from __future__ import annotations

import json

import pandas as pd

from console.client import AGENT_NAMES

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


def decisions_frame(decisions: list[dict]) -> pd.DataFrame:
    rows = []
    for d in decisions:
        rows.append(
            {
                "timestamp": pd.to_datetime(
                    str(d.get("timestamp") or ""), utc=True, errors="coerce"
                ),
                "day": d.get("day"),
                "agent": AGENT_NAMES.get(d.get("agent_id", ""), d.get("agent_id", "")),
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
