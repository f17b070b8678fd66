"""AutoOps Retail operator console: `python -m streamlit run console/app.py`."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `streamlit run` puts console/ on the path, not the repo root
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from console import components, resources  # noqa: E402

log = logging.getLogger("console")
if not logging.getLogger().handlers:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per poll would drown the log

st.set_page_config(
    page_title="AutoOps Retail · Operator console",
    page_icon=":material/storefront:",
    layout="wide",
    initial_sidebar_state="expanded",
)

# A denser layout than Streamlit's default: this is a control room, not a blog.
st.html("""<style>
.block-container {padding-top: 2.2rem; padding-bottom: 2rem;}
h1 {font-size: 1.9rem !important; padding-bottom: 0.2rem !important;}
h3 {font-size: 1.2rem !important;}
[class*="st-key-agent_card_"] [data-testid="stMetricValue"] {font-size: 1.35rem;}
[class*="st-key-agent_card_"] [data-testid="stMetricLabel"] p {font-size: 0.8rem;}
[class*="st-key-activity_"] {min-height: 3.1rem;}
</style>""")

PAGES = [
    st.Page("views/overview.py", title="Overview", icon=":material/dashboard:", default=True),
    st.Page("views/decisions.py", title="Decisions", icon=":material/psychology:"),
    st.Page("views/store.py", title="Store", icon=":material/inventory_2:"),
    st.Page("views/replay.py", title="Replay", icon=":material/replay:"),
    st.Page("views/alerts.py", title="Alerts", icon=":material/notifications:"),
    st.Page("views/audit.py", title="Audit", icon=":material/history:"),
    st.Page("views/override.py", title="Override", icon=":material/tune:"),
]
page = st.navigation(PAGES)

with st.sidebar:
    st.markdown("#### :material/storefront: AutoOps Retail")
    st.caption(f"Backend `{resources.get_api().base_url}`")
    st.fragment(run_every=1.0)(components.connection_badge)()
    st.toggle(
        "Pause live updates",
        key="live_paused",
        help="Freeze the live panels on what they show now; the store keeps trading.",
    )
    if resources.live_paused():
        st.caption(":orange[:material/pause_circle: Live updates paused]")

try:
    page.run()
    components.pending_dialog()
except Exception as exc:  # the operator gets a sentence, the log gets the traceback
    log.exception("page %s failed", page.title)
    st.error(
        f"This page could not be shown: {type(exc).__name__}: {exc}. "
        "The details are in the console's log.",
        icon=":material/error:",
    )
