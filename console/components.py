"""Shared pieces of the pages: connection badge, intervention dialog and results, agent cards."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import streamlit as st

from console import resources
from console.client import AGENT_IDS, ApiError, agent_name, may
from console.kpis import RESPONSE_TIME_HELP, SUCCESS_RATE_HELP, format_percent, format_seconds
from console.listener import parse_time
from console.preview import preview_panel

log = logging.getLogger(__name__)

ACTION_EFFECTS = {
    "pause": "A paused agent decides nothing; its lever follows the store's standing rule, so the "
    "store keeps trading.",
    "resume": "The agent starts deciding again on the next sim day.",
    "reset": "Reset clears what the agent learned, restarts its counters and makes it active.",
    "override": "The store applies your value and holds it for the stated time; the agent leaves "
    "that SKU's lever alone until then.",
}
STATUS_BADGES = {
    "active": ":green-badge[:material/play_arrow: Active]",
    "paused": ":orange-badge[:material/pause: Paused]",
    "error": ":red-badge[:material/error: Error]",
}
BADGE_STYLE = {
    "live": ("green", ":material/wifi:"),
    "reconnecting": ("orange", ":material/sync:"),
    "unreachable": ("red", ":material/cloud_off:"),
    "connecting": ("gray", ":material/hourglass_empty:"),
}


TILE_WIDTH = 250  # px: a tile's label, value and delta fit; the row wraps to the page's width


def tile_row(key: str) -> Any:
    """A row of metric tiles that wraps onto more lines on a narrow page instead of cutting
    their labels; give each tile width=TILE_WIDTH."""
    return st.container(horizontal=True, gap="small", key=key)


def guarded(func: Callable[..., None]) -> Callable[..., None]:
    """Run a panel; if it fails, show one sentence instead of a traceback and log the details."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            func(*args, **kwargs)
        except ApiError as exc:
            st.error(str(exc), icon=":material/cloud_off:")
        except Exception as exc:  # any other failure of one panel must not take the page down
            log.exception("panel %s failed", func.__name__)
            st.error(
                f"This panel could not be shown: {type(exc).__name__}: {exc}",
                icon=":material/error:",
            )

    return wrapper


@guarded
def connection_badge() -> None:
    """The listener's connection state, refreshed every second (also while updates are paused)."""
    view = resources.get_listener().view()
    badge = view.badge()
    color, icon = BADGE_STYLE.get(badge.kind, ("gray", ""))
    st.markdown(f":{color}-badge[{icon} {badge.title}]  \n:gray[{badge.detail}]")
    live = view.live or {}
    if isinstance(live.get("day"), int):
        alerts = live.get("active_alerts_count")
        st.caption(
            f"Sim day {live['day']}"
            + (f" · {alerts} active alert(s)" if alerts is not None else "")
        )


def format_time(value: Any) -> str:
    try:
        stamp = parse_time(value)
        if stamp is not None:
            return stamp.astimezone(UTC).strftime("%H:%M:%S UTC")
    except (ValueError, TypeError):  # pandas NaT and friends
        pass
    return "—" if value in (None, "") or str(value) == "NaT" else str(value)


def record_result(
    ok: bool, agent_id: str, action: str, message: str, response: dict | None = None
) -> None:
    results = st.session_state.setdefault("intervention_results", [])
    results.append(
        {
            "ok": ok,
            "agent_id": agent_id,
            "action": action,
            "message": message,
            "response": response or {},
            "at": datetime.now(UTC).isoformat(),
        }
    )
    del results[:-10]


def show_last_result() -> None:
    """The outcome of the operator's last intervention, until they dismiss it."""
    results = st.session_state.get("intervention_results") or []
    if not results or st.session_state.get("result_dismissed") == results[-1]["at"]:
        return
    last = results[-1]
    name = agent_name(last["agent_id"])
    left, right = st.columns([12, 1], vertical_alignment="center")
    if last["ok"]:
        ref = last["response"].get("intervention_id")
        left.success(
            f"**{last['action'].title()} {name}**: {last['message']}"
            + (f" (intervention {ref})" if ref else ""),
            icon=":material/check_circle:",
        )
    else:
        left.error(
            f"**{last['action'].title()} {name} failed**: {last['message']}",
            icon=":material/error:",
        )
    if right.button("", icon=":material/close:", key="dismiss_result", help="Dismiss"):
        st.session_state["result_dismissed"] = last["at"]
        st.rerun()


def send_intervention(agent_id: str, action: str, reason: str, parameters: dict | None) -> bool:
    """POST the intervention and record its result; True when the backend accepted it."""
    try:
        response = resources.get_api().intervene(agent_id, action, reason, parameters)
    except ApiError as exc:
        record_result(False, agent_id, action, str(exc))
        return False
    ok = response.get("success", True) is not False
    message = response.get("message") or ("accepted" if ok else "the backend did not apply it")
    record_result(ok, agent_id, action, message, response)
    return ok


def request_intervention(agent_id: str, action: str, parameters: dict | None = None) -> None:
    """Ask for confirmation: the dialog stays open across reruns until confirmed or dismissed."""
    st.session_state["pending_intervention"] = {
        "agent_id": agent_id,
        "action": action,
        "parameters": parameters,
    }


def clear_pending() -> None:
    st.session_state.pop("pending_intervention", None)


def pending_dialog() -> None:
    """Open the confirmation dialog for the pending intervention, if any (called once a run)."""
    pending = st.session_state.get("pending_intervention")
    if pending:
        intervention_dialog(pending["agent_id"], pending["action"], pending["parameters"])


# The override values the dialog lets the operator adjust while watching the preview.
VALUE_INPUTS: dict[str, dict[str, Any]] = {
    "price": {"label": "Regular price", "min_value": 0.01, "step": 0.05, "format": "%.2f"},
    "hold_days": {"label": "Hold for (sim days)", "min_value": 1, "max_value": 90, "step": 1},
    "quantity": {
        "label": "Order quantity (units)",
        "min_value": 0,
        "max_value": 100_000,
        "step": 1,
    },
    "discount": {
        "label": "Discount",
        "min_value": 0.01,
        "max_value": 0.89,
        "step": 0.05,
        "format": "%.2f",
    },
    "days": {"label": "For (sim days)", "min_value": 1, "max_value": 90, "step": 1},
}


def override_values(agent_id: str, parameters: dict) -> dict:
    """The override's values, adjustable in the dialog; the SKU stays as chosen."""
    st.caption(f"SKU {parameters.get('sku')}")
    names = [k for k in parameters if k in VALUE_INPUTS]
    values = dict(parameters)
    for column, name in zip(st.columns(len(names)), names, strict=True):
        values[name] = column.number_input(
            value=parameters[name], key=f"dialog_{agent_id}_{name}", **VALUE_INPUTS[name]
        )
    return values


@st.dialog("Confirm intervention", width="large", on_dismiss=clear_pending)
def intervention_dialog(agent_id: str, action: str, parameters: dict | None = None) -> None:
    name = agent_name(agent_id)
    st.markdown(f"#### {action.title()} {name}")
    st.caption(ACTION_EFFECTS.get(action, ""))
    if action == "override" and parameters:
        parameters = override_values(agent_id, parameters)
        preview_panel(agent_id, parameters)
    elif parameters:
        st.dataframe(
            [{"parameter": k, "value": str(v)} for k, v in parameters.items()],
            hide_index=True,
            width="stretch",
        )
    default = f"{action.title()} from the operator console" if action in ("pause", "resume") else ""
    reason = st.text_area(
        "Reason (recorded in the audit log)",
        value=default,
        max_chars=1000,
        key=f"reason_{agent_id}_{action}",
        placeholder="Why are you doing this? 1 to 1,000 characters.",
    )
    confirm, cancel = st.columns(2)
    if confirm.button(
        f"Confirm {action}", type="primary", width="stretch", key=f"confirm_{agent_id}_{action}"
    ):
        if not reason.strip():
            st.error("A reason is required: 1 to 1,000 characters, recorded in the audit log.")
            return
        if send_intervention(agent_id, action, reason.strip(), parameters):
            clear_pending()
            st.toast(f"{action.title()} {name}: done", icon=":material/check_circle:")
            st.rerun()
        st.error(st.session_state["intervention_results"][-1]["message"])
    if cancel.button("Cancel", width="stretch", key=f"cancel_{agent_id}_{action}"):
        clear_pending()
        st.rerun()


def fetch_agents() -> tuple[list[dict], str | None]:
    """Agent statuses from REST, else from the latest live update; and a warning if degraded."""
    try:
        agents = resources.get_api().agent_statuses()
        return sorted(
            agents,
            key=lambda a: AGENT_IDS.index(a["agent_id"]) if a.get("agent_id") in AGENT_IDS else 99,
        ), None
    except ApiError as exc:
        live = resources.current_view().live or {}
        agents = live.get("agent_statuses") or []
        if agents:
            return agents, f"{exc} Showing the agents as of the last live update."
        return [], str(exc)


def agent_card(agent: dict) -> None:
    """One agent's live status and its Pause / Resume / Reset buttons."""
    agent_id, status = str(agent.get("agent_id", "")), str(agent.get("status", "unknown"))
    with st.container(border=True, key=f"agent_card_{agent_id}"):
        st.markdown(
            f"**{agent.get('name') or agent_name(agent_id)}** "
            f"&nbsp; {STATUS_BADGES.get(status, f':gray-badge[{status}]')}"
        )
        with st.container(key=f"activity_{agent_id}"):  # fixed height: the cards line up
            st.caption(agent.get("current_activity") or "No activity yet.")
        # as wide as their figures, wrapping in a narrow card rather than cutting a label
        figures = st.container(horizontal=True, gap="medium", key=f"agent_figures_{agent_id}")
        a = b = c = figures
        a.metric(
            "Decisions",
            f"{agent.get('decisions_count', 0):,}",
            help="Decisions since the start or the agent's last reset.",
            width="content",
        )
        b.metric(
            "Success",
            format_percent(agent.get("success_rate")),
            help=SUCCESS_RATE_HELP,
            width="content",
        )
        c.metric(
            "Response",
            format_seconds(agent.get("avg_response_time")),
            help=RESPONSE_TIME_HELP,
            width="content",
        )
        st.caption(f"Last decision: {format_time(agent.get('last_decision_time'))}")
        # The buttons live in the refreshing fragment so that their enabled state follows the
        # agent; a click asks for confirmation through a full rerun, where the dialog opens.
        # Only the buttons the console token's role may use are drawn.
        choice = None
        role = resources.role()
        # buttons as wide as their labels, wrapping onto a second line when the card is narrow
        row = st.container(horizontal=True, gap="small", key=f"agent_buttons_{agent_id}")
        for action, icon, useless_when in AGENT_BUTTONS:
            if may(role, action) and row.button(
                action.title(),
                key=f"{action}_{agent_id}",
                icon=icon,
                width="content",
                disabled=status == useless_when,
            ):
                choice = action
        if choice:
            request_intervention(agent_id, choice)
            st.rerun()


# An agent card's buttons: the action, its icon, and the status in which it would change nothing.
AGENT_BUTTONS = (
    ("pause", ":material/pause:", "paused"),
    ("resume", ":material/play_arrow:", "active"),
    ("reset", ":material/restart_alt:", None),
)


def agent_panel() -> None:
    """The three agents, refreshed every 3 s."""

    @st.fragment(run_every=resources.refresh_every(3.0))
    @guarded
    def cards() -> None:
        agents, warning = fetch_agents()
        if warning:
            (st.warning if agents else st.error)(warning, icon=":material/cloud_off:")
        if agents:
            for column, agent in zip(st.columns(len(agents)), agents):
                with column:
                    agent_card(agent)

    cards()


def severity_badge(severity: str) -> str:
    colors = {"critical": "red", "error": "red", "warning": "orange", "info": "blue"}
    return f":{colors.get(severity, 'gray')}-badge[{severity.upper()}]"
