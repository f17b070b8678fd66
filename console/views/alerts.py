"""Alerts: the active alerts grouped by severity; acknowledge and resolve."""

from __future__ import annotations

import streamlit as st

from console import resources
from console.client import ApiError, agent_name, may
from console.components import format_time, guarded, severity_badge, show_last_result

SEVERITIES = ("critical", "error", "warning", "info")


def alert_action(alert_id: str, verb: str) -> None:
    """Acknowledge or resolve one alert and say how it went."""
    api = resources.get_api()
    try:
        (api.acknowledge_alert if verb == "acknowledge" else api.resolve_alert)(alert_id)
    except ApiError as exc:
        st.session_state["alert_result"] = (False, f"Could not {verb} alert {alert_id}: {exc}")
        return
    done = "acknowledged" if verb == "acknowledge" else "resolved"
    st.session_state["alert_result"] = (True, f"Alert {alert_id} {done}.")


@guarded
def alert_list() -> None:
    alerts = resources.get_api().active_alerts()
    result = st.session_state.pop("alert_result", None)
    if result:
        (st.success if result[0] else st.error)(result[1])
    counts = {s: sum(1 for a in alerts if a.get("severity") == s) for s in SEVERITIES}
    for column, severity in zip(st.columns(len(SEVERITIES)), SEVERITIES):
        column.metric(severity.title(), counts[severity], border=True)
    if not alerts:
        st.success("No active alerts.", icon=":material/task_alt:")
        return
    for level in (*SEVERITIES, None):
        group = [
            a
            for a in alerts
            if (a.get("severity") in SEVERITIES and a.get("severity") == level)
            or (level is None and a.get("severity") not in SEVERITIES)
        ]
        if not group:
            continue
        st.subheader(f"{(level or 'other').title()} ({len(group)})")
        for alert in sorted(group, key=lambda a: str(a.get("timestamp")), reverse=True):
            alert_row(alert)


def alert_row(alert: dict) -> None:
    alert_id = str(alert.get("id", ""))
    status = str(alert.get("status", "active"))
    with st.container(border=True):
        text, actions = st.columns([5, 2], vertical_alignment="center")
        where = [
            agent_name(alert.get("agent_id") or ""),
            alert.get("sku") or "",
        ]
        text.markdown(
            f"{severity_badge(str(alert.get('severity', 'info')))} "
            f"**{alert.get('title', '')}** :gray[· {status}]  \n{alert.get('message', '')}"
        )
        text.caption(
            " · ".join(
                x for x in (*where, format_time(alert.get("timestamp")), f"id {alert_id}") if x
            )
        )
        if not may(resources.role(), "acknowledge"):
            return  # a viewer's token: the buttons it may not use are not drawn
        # buttons as wide as their labels, wrapping onto a second line when the row is narrow
        row = actions.container(horizontal=True, horizontal_alignment="right", gap="small")
        row.button(
            "Acknowledge",
            key=f"ack_{alert_id}",
            icon=":material/done:",
            width="content",
            disabled=status != "active",
            on_click=alert_action,
            args=(alert_id, "acknowledge"),
        )
        row.button(
            "Resolve",
            key=f"resolve_{alert_id}",
            icon=":material/task_alt:",
            width="content",
            type="primary",
            disabled=status == "resolved",
            on_click=alert_action,
            args=(alert_id, "resolve"),
        )


st.title("Alerts")
show_last_result()
st.fragment(run_every=resources.refresh_every(5.0))(alert_list)()
