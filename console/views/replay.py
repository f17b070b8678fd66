"""Replay: any past day still held in the database, as it stood after it traded."""

from __future__ import annotations

import streamlit as st

from console import resources
from console.client import AGENT_NAMES, MAX_LIMIT
from console.components import (
    TILE_WIDTH,
    format_time,
    guarded,
    severity_badge,
    show_last_result,
    tile_row,
)
from console.kpis import KPIS, format_value
from console.tables import decisions_frame


def retention_note(held: dict) -> str:
    return (
        f"The database holds traded days {held['first_day']} to {held['last_day']} "
        f"({held['days_held']:,} day(s)). It keeps the last {held['retention_days']:,} sim days "
        "of KPIs, decisions and resolved alerts (AUTOOPS_RETENTION_DAYS) and "
        f"{held['audit_retention_days']:,} of interventions (AUTOOPS_AUDIT_RETENTION_DAYS)."
    )


@guarded
def replay() -> None:
    api = resources.get_api()
    held = api.replay_range()
    if not held.get("days_held"):
        st.info(
            "No traded day is stored yet: the first appears here once the store has traded it.",
            icon=":material/hourglass_empty:",
        )
        return
    st.caption(retention_note(held))
    first, last = int(held["first_day"]), int(held["last_day"])
    # The slider's range stays as first shown: a widget whose range changes is a new widget, and
    # a day traded while the operator moves it would snap it back to the newest day.
    shown = max(min(int(st.session_state.setdefault("replay_last", last)), last), first)
    if last > shown and st.button(
        f"Include {last - shown} newer day{'s' if last - shown > 1 else ''}", key="replay_newer"
    ):
        st.session_state["replay_last"] = shown = last
    day = (
        st.slider("Sim day", first, shown, value=shown, key="replay_day")
        if shown > first
        else first
    )
    record = api.replay_day(int(day), limit=MAX_LIMIT)
    st.markdown(f"#### Day {record['day']} · traded {format_time(record.get('timestamp'))}")
    metrics = record.get("system_metrics") or {}
    tiles = tile_row("replay_tiles")
    for kpi in KPIS:
        tiles.metric(
            kpi.label,
            format_value(kpi.kind, metrics.get(kpi.field)),
            help=kpi.definition,
            border=True,
            width=TILE_WIDTH,
        )
    decisions = record.get("decisions") or []
    st.subheader(f"Decisions ({record.get('decisions_total', len(decisions)):,})")
    if decisions:
        frame = decisions_frame(decisions)
        with st.container(key="replay_counts"):
            st.caption(
                " · ".join(
                    f"{name}: {int((frame['agent_id'] == a).sum())}"
                    for a, name in AGENT_NAMES.items()
                )
            )
        if record.get("decisions_total", 0) > len(decisions):
            st.caption(f"The first {len(decisions)} of the day's decisions.")
        st.dataframe(
            frame[["agent", "action_type", "sku", "rationale", "confidence_score", "outcome"]],
            hide_index=True,
            width="stretch",
            key="replay_decisions",
            column_config={
                "agent": st.column_config.TextColumn("Agent"),
                "action_type": st.column_config.TextColumn("Action"),
                "sku": st.column_config.TextColumn("SKU"),
                "rationale": st.column_config.TextColumn("Rationale", width="large"),
                "confidence_score": st.column_config.ProgressColumn(
                    "Confidence", min_value=0.0, max_value=1.0, format="%.2f"
                ),
                "outcome": st.column_config.TextColumn("Outcome"),
            },
        )
    else:
        st.info("The agents decided nothing that day.", icon=":material/info:")
    alerts = record.get("alerts") or []
    st.subheader(f"Alerts open after the day ({len(alerts)})")
    if not alerts:
        st.success("No alert was open.", icon=":material/task_alt:")
    for alert in alerts[:20]:
        st.markdown(
            f"{severity_badge(str(alert.get('severity', 'info')))} **{alert.get('title', '')}**"
            f" — {alert.get('message', '')} :gray[raised {format_time(alert.get('timestamp'))}"
            f" · now {alert.get('status', '')}]"
        )
    if len(alerts) > 20:
        st.caption(f"{len(alerts) - 20} more.")
    made = record.get("interventions") or []
    if made:
        st.subheader("Interventions in effect from this day")
        for r in made:
            st.markdown(
                f"**{r.get('action', '')}** {AGENT_NAMES.get(r.get('agent_id', ''), '')}: "
                f"{r.get('message', '')} :gray[· {r.get('reason', '')}]"
            )


st.title("Replay")
show_last_result()
replay()
