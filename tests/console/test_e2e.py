"""End to end in a real Chromium: the real backend and the real console, an operator pausing an agent."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from .wsserver import free_port

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "console"
SCREENSHOT = ROOT / "docs" / "screenshots" / "overview.png"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

if not (ROOT / "backend" / "api" / "app.py").exists():
    pytest.skip(
        "backend/api/app.py does not exist yet: the end-to-end test needs the real backend",
        allow_module_level=True,
    )
if not Path(CHROMIUM).exists():
    pytest.skip(
        f"{CHROMIUM} is missing (.ci/run installs Debian's chromium)", allow_module_level=True
    )
sync_api = pytest.importorskip("playwright.sync_api")


def wait_until(
    check: Callable[[], bool],
    timeout: float,
    what: str,
    proc: subprocess.Popen | None = None,
    log: Path | None = None,
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            tail = log.read_text()[-3000:] if log and log.exists() else ""
            raise AssertionError(f"{what}: the process exited with {proc.returncode}\n{tail}")
        try:
            if check():
                return
        except (httpx.HTTPError, OSError):
            pass
        time.sleep(0.2)
    tail = log.read_text()[-3000:] if log and log.exists() else ""
    raise AssertionError(f"{what}: not ready after {timeout} s\n{tail}")


def spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    handle = log.open("w")
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The real backend (fast sim days, temp SQLite) and the real console pointed at it."""
    tmp = tmp_path_factory.mktemp("e2e")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    api_port, ui_port = free_port(), free_port()
    api_url, ui_url = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{ui_port}"
    env = {
        **os.environ,
        "AUTOOPS_DAY_SECONDS": "0.5",
        "AUTOOPS_LIVE_INTERVAL": "1",
        "AUTOOPS_AGENT_INTERVAL": "1",
        "AUTOOPS_METRICS_INTERVAL": "0.5",
        "DATABASE_URL": f"sqlite:///{tmp / 'autoops.db'}",
        "AUTOOPS_BUS_URL": "memory://",
        "AUTOOPS_LOG_DIR": str(tmp / "logs"),
        "AUTOOPS_API_URL": api_url,
        "AUTOOPS_CORS_ORIGINS": ui_url,
        "PYTHONUNBUFFERED": "1",
    }
    api_log, ui_log = ARTIFACTS / "backend.log", ARTIFACTS / "console.log"
    backend = spawn(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "backend.api.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(api_port),
            "--ws-per-message-deflate",
            "false",
        ],
        env,
        api_log,
    )
    console = spawn(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "console/app.py",
            "--server.port",
            str(ui_port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
        ],
        env,
        ui_log,
    )
    try:
        wait_until(
            lambda: (
                httpx.get(f"{api_url}/api/dashboard/agents/status", timeout=2).status_code == 200
            ),
            60,
            "backend",
            backend,
            api_log,
        )
        wait_until(
            lambda: httpx.get(f"{ui_url}/_stcore/health", timeout=2).status_code == 200,
            60,
            "console",
            console,
            ui_log,
        )
        yield api_url, ui_url
    finally:
        stop(console)
        stop(backend)


def tile_value(page, label: str) -> str:  # type: ignore[no-untyped-def]
    tile = (
        page.locator('[data-testid="stMetric"]')
        .filter(has=page.locator('[data-testid="stMetricLabel"]', has_text=label))
        .first
    )
    return tile.locator('[data-testid="stMetricValue"]').inner_text(timeout=30_000)


def test_operator_sees_the_store_trade_live_and_pauses_an_agent(servers: tuple[str, str]) -> None:
    api_url, ui_url = servers
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1700})
            page.goto(ui_url, wait_until="domcontentloaded")
            badge = page.locator('[data-testid="stSidebar"]')
            sync_api.expect(badge).to_contain_text("Live", timeout=60_000)
            sync_api.expect(badge).to_contain_text("last message", timeout=10_000)

            # the live figures move on their own
            first = tile_value(page, "Decisions (total)")
            deadline = time.monotonic() + 45
            while tile_value(page, "Decisions (total)") == first:
                assert time.monotonic() < deadline, f"Decisions stayed at {first}"
                page.wait_for_timeout(500)
            page.locator(".st-key-agent_card_pricing_agent").wait_for(timeout=30_000)
            page.wait_for_timeout(3000)  # let the charts gather a few points for the picture
            page.screenshot(path=str(ARTIFACTS / "overview.png"), full_page=True)
            if os.environ.get("AUTOOPS_UPDATE_SCREENSHOTS") == "1":  # refresh the README's picture
                SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SCREENSHOT), full_page=True)

            # pause the pricing agent: ask, confirm, see it
            page.locator(".st-key-pause_pricing_agent button").click()
            dialog = page.get_by_role("dialog")
            dialog.wait_for(timeout=15_000)
            dialog.locator("textarea").fill("end-to-end test: pause pricing")
            page.screenshot(path=str(ARTIFACTS / "pause_dialog.png"))
            dialog.locator(".st-key-confirm_pricing_agent_pause button").click()
            card = page.locator(".st-key-agent_card_pricing_agent")
            sync_api.expect(
                card.locator('[data-testid="stMarkdownContainer"]').first
            ).to_contain_text("Paused", timeout=20_000)
            page.get_by_text("Pause Pricing Agent").first.wait_for(timeout=10_000)
            page.screenshot(path=str(ARTIFACTS / "paused.png"), full_page=True)

            statuses = httpx.get(f"{api_url}/api/dashboard/agents/status", timeout=5).json()
            assert {a["agent_id"]: a["status"] for a in statuses}["pricing_agent"] == "paused"
            log = httpx.get(f"{api_url}/api/dashboard/interventions", timeout=5).json()
            assert any(r["reason"] == "end-to-end test: pause pricing" for r in log)

            # and resume it, with the default reason the dialog offers
            page.locator(".st-key-resume_pricing_agent button").click()
            page.get_by_role("dialog").locator(
                ".st-key-confirm_pricing_agent_resume button"
            ).click()
            sync_api.expect(
                card.locator('[data-testid="stMarkdownContainer"]').first
            ).to_contain_text("Active", timeout=20_000)
            statuses = httpx.get(f"{api_url}/api/dashboard/agents/status", timeout=5).json()
            assert {a["agent_id"]: a["status"] for a in statuses}["pricing_agent"] == "active"

            # an override the backend refuses: its reason is shown as it gave it
            page.get_by_role("link", name="Override").first.click()
            picker = page.locator(".st-key-pricing_agent_sku").get_by_role("combobox")
            picker.wait_for(timeout=20_000)
            picker.click()
            page.get_by_role("option").first.click()
            page.get_by_label("Regular price (0.2x to 5x the list price)").fill("0.01")
            page.keyboard.press("Tab")
            page.get_by_role("button", name="Review override for Pricing Agent").click()
            dialog = page.get_by_role("dialog")
            dialog.locator("textarea").fill("end-to-end test: a price the backend refuses")
            dialog.locator(".st-key-confirm_pricing_agent_override button").click()
            sync_api.expect(dialog).to_contain_text("parameters.price: expected", timeout=15_000)
            page.screenshot(path=str(ARTIFACTS / "override_refused.png"))
            dialog.locator(".st-key-cancel_pricing_agent_override button").click()
            dialog.wait_for(state="detached", timeout=10_000)

            # the other pages render against the real backend, without an error box
            for title in ("Decisions", "Store", "Alerts", "Audit", "Override"):
                page.get_by_role("link", name=title).first.click()
                page.get_by_role("heading", name=title).first.wait_for(timeout=20_000)
                page.wait_for_timeout(1500)
                page.screenshot(path=str(ARTIFACTS / f"{title.lower()}.png"), full_page=True)
                assert page.locator('[data-testid="stException"]').count() == 0, title
        except BaseException:
            page.screenshot(path=str(ARTIFACTS / "failure.png"), full_page=True)
            raise
        finally:
            browser.close()
