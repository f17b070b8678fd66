"""End to end in a real Chromium: the real backend and the real console, an operator pausing an agent."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from bench.harness import CHROMIUM, CHROMIUM_ARGS, console_argv, free_port
from tests.api.support import wait_until

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "console"
SCREENSHOT = ROOT / "docs" / "screenshots" / "overview.png"

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


def wait_ready(
    check: Callable[[], bool], timeout: float, what: str, proc: subprocess.Popen, log: Path
) -> None:
    """Wait for a started process to answer `check`; fail with its log's tail if it exits."""

    def probe() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"{what}: the process exited with {proc.returncode}\n{tail()}")
        return check()

    def tail() -> str:
        return log.read_text()[-3000:] if log.exists() else ""

    try:
        wait_until(probe, timeout, what, interval=0.2, ignore=(httpx.HTTPError, OSError))
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{tail()}") from None


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


@contextlib.contextmanager
def running(tmp: Path, day_seconds: str, name: str) -> Iterator[tuple[str, str]]:
    """The real backend (its own temp SQLite) and the real console pointed at it."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    api_port, ui_port = free_port(), free_port()
    api_url, ui_url = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{ui_port}"
    env = {
        **os.environ,
        "AUTOOPS_DAY_SECONDS": day_seconds,
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
    api_log, ui_log = ARTIFACTS / f"{name}backend.log", ARTIFACTS / f"{name}console.log"
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
        console_argv(ui_port),
        env,
        ui_log,
    )
    try:
        wait_ready(
            lambda: (
                httpx.get(f"{api_url}/api/dashboard/agents/status", timeout=2).status_code == 200
            ),
            60,
            "backend",
            backend,
            api_log,
        )
        wait_ready(
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


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """Half-second sim days: the figures visibly move."""
    with running(tmp_path_factory.mktemp("e2e"), "0.5", "") as urls:
        yield urls


@pytest.fixture(scope="module")
def steady(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """Ten-second sim days: a page refreshing every 5 s and the API can be caught on one day."""
    with running(tmp_path_factory.mktemp("e2e-steady"), "10", "steady-") as urls:
        yield urls


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
            wait_until(
                lambda: tile_value(page, "Decisions (total)") != first,
                45,
                f"Decisions to move on from {first}",
                interval=500,
                sleep=page.wait_for_timeout,
            )
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


# Every button's text element must show its whole label inside the button (no overflow, no
# ellipsis), every tile its label, value and change, and every chart title must fit its chart.
CUT_OFF = """() => {
  const bad = [];
  for (const b of document.querySelectorAll('button')) {
    const r = b.getBoundingClientRect();
    const label = b.innerText.trim();
    if (!label || r.width === 0 || r.height === 0) continue;
    if (r.right > window.innerWidth + 1) bad.push(`${label}: beyond the window`);
    for (const el of b.querySelectorAll('*')) {
      const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
      // an icon's ligature name is not a label: the icon font draws it as one glyph
      if (!own || el.closest('[data-testid="stIconMaterial"]')) continue;
      const e = el.getBoundingClientRect();
      if (e.width <= 1) continue;  // text for screen readers only, clipped to 1 px on purpose
      if (el.scrollWidth > el.clientWidth + 1)
        bad.push(`${label}: text overflows (${el.scrollWidth} > ${el.clientWidth})`);
      if (e.left < r.left - 1 || e.right > r.right + 1)
        bad.push(`${label}: text outside the button`);
    }
  }
  const figures = '[data-testid="stMetricLabel"], [data-testid="stMetricValue"], ' +
    '[data-testid="stMetricDelta"]';
  for (const box of document.querySelectorAll(figures)) {
    for (const el of [box, ...box.querySelectorAll('*')]) {
      const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
      if (own && el.getBoundingClientRect().width > 1 && el.scrollWidth > el.clientWidth + 1)
        bad.push(`tile text cut: ${box.innerText.trim()}`);
    }
  }
  for (const plot of document.querySelectorAll('.js-plotly-plot')) {
    const title = plot.querySelector('.gtitle');
    if (!title) continue;
    const t = title.getBoundingClientRect(), p = plot.getBoundingClientRect();
    if (t.width && (t.left < p.left - 1 || t.right > p.right + 1))
      bad.push(`chart title cut: ${title.textContent}`);
  }
  return bad;
}"""

TABLE_TEXT = """(root) => [...root.querySelectorAll('tbody tr')].map(
  tr => [...tr.querySelectorAll('th, td')].map(c => c.innerText.trim()))"""


def labels_cut_off(page, where: str) -> list[str]:  # type: ignore[no-untyped-def]
    page.wait_for_timeout(1500)  # fragments drawn
    return [f"{where}: {problem}" for problem in page.evaluate(CUT_OFF)]


def open_page(page, title: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("link", name=title).first.click()
    page.get_by_role("heading", name=title).first.wait_for(timeout=20_000)


def shoot(page, name: str, full_page: bool = True) -> None:  # type: ignore[no-untyped-def]
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)
    if os.environ.get("AUTOOPS_UPDATE_SCREENSHOTS") == "1":
        page.screenshot(path=str(SCREENSHOT.parent / f"{name}.png"), full_page=full_page)


def test_preview_audit_categories_replay_and_no_cut_off_labels(steady: tuple[str, str]) -> None:
    from console.categories import compact_frame

    api_url, ui_url = steady
    api = f"{api_url}/api/dashboard"
    wait_until(
        lambda: httpx.get(f"{api}/metrics/current", timeout=5).json()["day"] >= 4,
        120,
        "4 days",
        interval=0.2,
        ignore=(httpx.HTTPError, OSError),
    )
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1920, "height": 1200})
        try:
            page.goto(ui_url, wait_until="domcontentloaded")
            sync_api.expect(page.locator('[data-testid="stSidebar"]')).to_contain_text(
                "Live", timeout=60_000
            )

            # the Overview's per-category table is metrics/by-category, caught on one sim day
            table = page.locator(".st-key-overview_category_table")
            table.wait_for(timeout=30_000)
            deadline = time.monotonic() + 150
            seen = None
            while True:  # the same on two reads (drawn), and the API still on that day
                now = table.evaluate(f"(r) => [r.innerText, ({TABLE_TEXT})(r)]")
                body = httpx.get(f"{api}/metrics/by-category", timeout=5).json()
                caption, shown = now
                if now == seen and re.search(rf"\bover all {body['day']} sim day", caption):
                    break
                assert time.monotonic() < deadline, (
                    f"never on the API's day {body['day']}: {caption}"
                )
                seen = now
                page.wait_for_timeout(300)
            expected = compact_frame(body, "since_start")
            assert shown == [[str(v) for v in row] for row in expected.itertuples(index=False)]

            # an override: its preview shows both arms, follows the value, and is audited
            open_page(page, "Override")
            picker = page.locator(".st-key-pricing_agent_sku").get_by_role("combobox")
            picker.click()
            page.get_by_role("option").first.click()
            sync_api.expect(picker).to_have_value(re.compile(r"^SKU\d+"))
            sku = re.search(r"SKU\d+", picker.input_value()).group(0)
            row = httpx.get(f"{api}/store/skus", params={"q": sku}, timeout=5).json()[0]
            first, second = round(row["price"] * 1.1, 2), round(row["price"] * 1.6, 2)
            page.get_by_label("Regular price (0.2x to 5x the list price)").fill(f"{first:.2f}")
            page.keyboard.press("Tab")
            page.get_by_role("button", name="Review override for Pricing Agent").click()
            dialog = page.get_by_role("dialog")
            preview = dialog.locator(".st-key-preview_table")
            sync_api.expect(preview).to_contain_text("Units sold", timeout=30_000)
            sync_api.expect(dialog).to_contain_text(f"regular price {first:.2f}")
            before = preview.evaluate(TABLE_TEXT)
            assert [r[0] for r in before][:2] == ["Units sold", "Revenue"]
            assert all(len(r) == 3 for r in before)  # the figure, with it, without it
            problems = labels_cut_off(page, "preview dialog at 1920")
            shoot(page, "preview", full_page=False)
            dialog.locator(".st-key-dialog_pricing_agent_price input").fill(f"{second:.2f}")
            page.keyboard.press("Tab")
            sync_api.expect(dialog).to_contain_text(f"regular price {second:.2f}", timeout=30_000)
            # the heading is drawn before the table in the same rerun: wait for the table too
            after = wait_until(
                lambda: (table := preview.evaluate(TABLE_TEXT)) != before and table,
                30,
                "the preview to follow the value",
                interval=200,
                sleep=page.wait_for_timeout,
            )
            assert [r[0] for r in after] == [r[0] for r in before]
            dialog.locator("textarea").fill("end-to-end test: previewed price")
            dialog.locator(".st-key-confirm_pricing_agent_override button").click()
            dialog.wait_for(state="detached", timeout=20_000)
            record = httpx.get(f"{api}/interventions", timeout=5).json()[0]
            assert record["parameters"]["price"] == second
            assert record["preview"]["sku"] == sku
            assert record["preview"]["parameters"]["price"] == second

            open_page(page, "Audit")
            detail = page.locator(".st-key-audit_preview_detail")
            sync_api.expect(detail).to_contain_text("With the override", timeout=30_000)
            units = record["preview"]["with_override"]["total"]["units_sold"]
            audited = dict((r[0], r[1:]) for r in detail.evaluate(TABLE_TEXT))
            assert audited["Units sold"][0] == (
                f"{units['p50']:,.0f} ({units['p10']:,.0f}–{units['p90']:,.0f})"
            )

            # the replay shows a chosen past day's decisions
            open_page(page, "Replay")
            slider = page.locator('.st-key-replay_day input[type="range"]')
            slider.wait_for(state="attached", timeout=20_000)
            slider.focus()
            page.keyboard.press("Home")
            page.keyboard.press("ArrowRight")
            page.keyboard.press("ArrowRight")
            sync_api.expect(slider).to_have_value("2")
            sync_api.expect(page.get_by_role("heading", name=re.compile(r"^Day 2 "))).to_be_visible(
                timeout=20_000
            )
            day = httpx.get(f"{api}/replay/2", params={"limit": 500}, timeout=5).json()
            counts = page.locator(".st-key-replay_counts")
            for agent_id, name in (
                ("pricing_agent", "Pricing Agent"),
                ("inventory_agent", "Inventory Agent"),
                ("promotion_agent", "Promotion Agent"),
            ):
                n = sum(d["agent_id"] == agent_id for d in day["decisions"])
                sync_api.expect(counts).to_contain_text(f"{name}: {n}")
            shoot(page, "replay")

            # every button's full label at 1920 and 1280 px, on every page
            for width in (1920, 1280):
                page.set_viewport_size({"width": width, "height": 1200})
                for title in (
                    "Overview",
                    "Decisions",
                    "Store",
                    "Replay",
                    "Alerts",
                    "Audit",
                    "Override",
                ):
                    open_page(page, title)
                    problems += labels_cut_off(page, f"{title} at {width}")
                    if width == 1920 and title in ("Overview", "Store"):
                        shoot(page, title.lower())
            assert problems == []
        except BaseException:
            page.screenshot(path=str(ARTIFACTS / "failure-steady.png"), full_page=True)
            raise
        finally:
            browser.close()
