"""The TypeScript package from the checked-in contract: `npm ci`, the type generators, `tsc
--noEmit` (package, tests and example), then its own tests with node's test runner against real
uvicorn backends the tests start."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "clients" / "typescript"


def npm(*args: str, timeout: float = 600) -> str:
    assert shutil.which("npm"), "npm is missing: scripts/test installs Debian's nodejs and npm"
    env = {**os.environ, "PYTHON": sys.executable, "npm_config_fund": "false"}
    done = subprocess.run(
        ["npm", *args], cwd=PACKAGE, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"npm {' '.join(args)}:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return done.stdout


def test_the_package_builds_from_the_contract_and_passes_its_tests_against_a_real_backend() -> None:
    npm("ci", "--no-audit")
    npm("run", "gen")
    generated = (PACKAGE / "src" / "generated" / "ws.ts").read_text()
    assert "export type LiveUpdatesMessage" in generated
    npm("run", "typecheck")
    npm("run", "build")
    out = npm("test")
    assert "# fail 0" in out and "# pass 6" in out, out[-2000:]
