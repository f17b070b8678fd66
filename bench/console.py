"""Console benchmark: from a metric tick on the server to the figure changing in the browser.

`python -m bench.console --seconds 60` starts the app and the Streamlit console, opens the console
in Chromium (Playwright), and watches the "Decisions (total)" tile. A WebSocket client on the
metrics stream notes the tick of the first message carrying each new decision count; the page
notes (every animation frame) when the tile starts showing it. Delay = page time - tick, both on
the system's wall clock (the tick is converted from time.monotonic()).
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import orjson
from websockets.sync.client import connect

from bench.harness import (
    CHROMIUM,
    CHROMIUM_ARGS,
    ServerProcess,
    app_facts,
    app_server,
    console_argv,
    free_port,
    machine_facts,
    percentile,
    rounded,
    running,
    versions,
    write_json,
)

log = logging.getLogger(__name__)

TILE = "Decisions (total)"
FIELD = "decision_count"
P90_TARGET_S = 2.5
# Runs in the page: on every frame, read the tile's value and note when it changes.
WATCH_JS = """(label) => {
  window.__changes = [];
  let last = null;
  const read = () => {
    for (const tile of document.querySelectorAll('[data-testid="stMetric"]')) {
      const name = tile.querySelector('[data-testid="stMetricLabel"]');
      if (name && name.innerText.trim() === label) {
        const value = tile.querySelector('[data-testid="stMetricValue"]');
        return value ? value.innerText.trim() : null;
      }
    }
    return null;
  };
  const frame = () => {
    const text = read();
    if (text !== null && text !== last) { window.__changes.push([Date.now(), text]); last = text; }
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
}"""


class TickRecorder(threading.Thread):
    """Notes, for each decision count, the tick of the first metrics message that carried it."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.first_tick: dict[int, float] = {}
        self.stop = threading.Event()
        self.messages = 0

    def run(self) -> None:
        with connect(self.url, compression=None, proxy=None, open_timeout=10) as ws:
            while not self.stop.is_set():
                try:
                    message = orjson.loads(ws.recv(timeout=1.0))
                except TimeoutError:
                    continue
                data = message.get("data") or {}
                tick = message.get("tick")
                if isinstance(tick, (int, float)) and isinstance(data.get(FIELD), int):
                    self.messages += 1
                    self.first_tick.setdefault(data[FIELD], float(tick))


def measure(api_port: int, ui_port: int, seconds: float) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    wall_minus_mono = time.time() - time.monotonic()
    recorder = TickRecorder(f"ws://127.0.0.1:{api_port}/api/dashboard/ws/metrics/real-time")
    recorder.start()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1200})
            page.goto(f"http://127.0.0.1:{ui_port}", wait_until="domcontentloaded")
            page.get_by_text(TILE).first.wait_for(timeout=90_000)
            started = time.time()
            page.evaluate(WATCH_JS, TILE)
            page.wait_for_timeout(seconds * 1000)
            changes: list[list[Any]] = page.evaluate("window.__changes")
        finally:
            browser.close()
            recorder.stop.set()
    recorder.join(timeout=5)
    delays = []
    for at_ms, text in changes[1:]:  # the first entry is the value already shown at the start
        digits = re.sub(r"[^\d]", "", text)
        tick = recorder.first_tick.get(int(digits)) if digits else None
        if tick is not None and tick + wall_minus_mono >= started:
            delays.append(at_ms / 1e3 - (tick + wall_minus_mono))
    delays.sort()
    return {
        "changes_seen": len(changes) - 1,
        "changes_matched": len(delays),
        "metrics_messages": recorder.messages,
        "p50_s": rounded(percentile(delays, 50), 3),
        "p90_s": rounded(percentile(delays, 90), 3),
        "max_s": rounded(delays[-1] if delays else float("nan"), 3),
        "min_s": rounded(delays[0] if delays else float("nan"), 3),
        "p90_target_s": P90_TARGET_S,
        "delays_s": [round(d, 3) for d in delays],
        "p90_met": bool(delays) and percentile(delays, 90) <= P90_TARGET_S,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=60.0, help="how long to watch the tile")
    p.add_argument("--json", type=Path, help="write the result here (default: stdout)")
    args = p.parse_args(argv)
    if args.seconds <= 0:
        p.error(f"--seconds: expected a positive number, got {args.seconds}")
    if not Path(CHROMIUM).exists():
        p.error(f"{CHROMIUM} is missing: apt-get install chromium")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    out: dict[str, Any] = {
        "benchmark": "console",
        "machine": machine_facts(),
        "versions": versions(),
        "config": {"seconds": args.seconds, "tile": TILE, "app_under_test": app_facts()},
    }
    with tempfile.TemporaryDirectory(prefix="bench-console-") as tmp:
        app = app_server(Path(tmp))
        ui_port = free_port()
        console = ServerProcess(
            console_argv(ui_port),
            ui_port,
            {
                "AUTOOPS_API_URL": f"http://127.0.0.1:{app.port}",
                "AUTOOPS_CORS_ORIGINS": f"http://127.0.0.1:{ui_port}",
            },
            "console",
        )
        with running(app), running(console, ready_timeout=90):
            out["console"] = measure(app.port, ui_port, args.seconds)
    log.info(
        "console: p50 %s s p90 %s s over %s changes",
        out["console"]["p50_s"],
        out["console"]["p90_s"],
        out["console"]["changes_matched"],
    )
    write_json(args.json, out)
    return out


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
