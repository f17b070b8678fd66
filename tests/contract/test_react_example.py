"""The React example, built by Vite on the TypeScript package, in Debian's Chromium against a real
backend: the KPIs change by themselves, Pause on a card pauses the agent, and the connection badge
follows the backend going away and coming back."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.server import Server
from tests.api.support import fast_env, wait_until
from bench.harness import CHROMIUM, CHROMIUM_ARGS, free_port
from tests.contract.node import REACT_EXAMPLE, npm

sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def page_url(typescript_package: Path, tmp_path: Path) -> Iterator[tuple[str, Server]]:
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing (scripts/test installs chromium)"
    npm(REACT_EXAMPLE, "ci", "--no-audit")
    npm(REACT_EXAMPLE, "run", "build")  # tsc --noEmit, then vite build
    static_port = free_port()
    origin = f"http://127.0.0.1:{static_port}"
    env = fast_env(tmp_path, AUTOOPS_DAY_SECONDS="0.5", AUTOOPS_CORS_ORIGINS=origin)
    backend = Server(env, tmp_path / "server.log").start()
    static = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(static_port), "--bind", "127.0.0.1"],
        cwd=REACT_EXAMPLE / "dist",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_until(lambda: _answers(origin), what="the static server")
    try:
        yield f"{origin}/?api={backend.http}", backend
    finally:
        static.terminate()
        static.wait(10)
        backend.stop()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_the_react_example_runs_live_pauses_an_agent_and_follows_the_connection(
    page_url: tuple[str, Server],
) -> None:
    url, backend = page_url
    expect = sync_api.expect
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(url)
            badge = page.get_by_test_id("connection")
            expect(badge).to_have_attribute("data-state", "open", timeout=30_000)
            decisions = page.get_by_test_id("kpi-decision_count").get_by_test_id("value")
            expect(decisions).not_to_have_text("…", timeout=30_000)
            first = decisions.inner_text()
            expect(decisions).not_to_have_text(first, timeout=30_000)  # changed by itself
            for key in ("total_revenue", "agent_collaboration_score", "response_time_avg"):
                expect(page.get_by_test_id(f"kpi-{key}")).to_be_visible()

            card = page.get_by_test_id("agent-pricing_agent")
            card.get_by_role("button", name="Pause").click()
            expect(card.get_by_test_id("status")).to_have_text("paused", timeout=15_000)
            statuses = httpx.get(f"{backend.http}/api/dashboard/agents/status", timeout=10).json()
            assert {a["agent_id"]: a["status"] for a in statuses}["pricing_agent"] == "paused"
            card.get_by_role("button", name="Resume").click()
            expect(card.get_by_test_id("status")).to_have_text("active", timeout=15_000)

            backend.stop()
            expect(badge).to_have_attribute("data-state", "reconnecting", timeout=15_000)
            expect(badge).to_contain_text("reconnecting in")
            time.sleep(2)  # a few failed attempts while the backend is away
            backend.start(same_port=True)
            expect(badge).to_have_attribute("data-state", "open", timeout=45_000)
            expect(badge).to_have_text("live")
        finally:
            browser.close()
