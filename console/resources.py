"""The process-wide REST client and stream listener (st.cache_resource), and the frozen view."""

from __future__ import annotations

import logging

import streamlit as st

from console.client import ApiClient, api_url_from_env, token_from_env, token_role
from console.listener import ListenerView, StreamListener

log = logging.getLogger(__name__)

HISTORY_LIMIT = 1000


@st.cache_resource(show_spinner=False)
def get_api() -> ApiClient:
    return ApiClient(api_url_from_env(), token=token_from_env())


@st.cache_resource(show_spinner=False)
def get_listener() -> StreamListener:
    """One listener per console process; its threads never call Streamlit."""
    base_url = api_url_from_env()
    token = token_from_env()
    history_client = ApiClient(base_url, token=token)  # its own: used from the listener threads
    listener = StreamListener(
        base_url,
        token=token,
        history_loader=lambda: history_client.metrics_history(limit=HISTORY_LIMIT),
    )
    log.info("starting stream listener for %s", base_url)
    return listener.start()


def role() -> str:
    """The console token's role (display only: the backend decides)."""
    return token_role(token_from_env())


def live_paused() -> bool:
    return bool(st.session_state.get("live_paused", False))


def current_view() -> ListenerView:
    """The listener's data, or the copy taken when the operator paused live updates."""
    if live_paused():
        frozen = st.session_state.get("frozen_view")
        if frozen is None:
            frozen = st.session_state["frozen_view"] = get_listener().view()
        return frozen
    st.session_state.pop("frozen_view", None)
    return get_listener().view()


def refresh_every(seconds: float) -> float | None:
    """run_every for a live panel: None (frozen) while live updates are paused."""
    return None if live_paused() else seconds
