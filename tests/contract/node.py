"""npm in the client folders, as scripts/test installs it (Debian's nodejs and npm)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

CLIENTS = Path(__file__).resolve().parents[2] / "clients"
PACKAGE = CLIENTS / "typescript"
REACT_EXAMPLE = CLIENTS / "react-example"


def npm(folder: Path, *args: str, timeout: float = 600) -> str:
    assert shutil.which("npm"), "npm is missing: scripts/test installs Debian's nodejs and npm"
    env = {**os.environ, "PYTHON": sys.executable, "npm_config_fund": "false"}
    done = subprocess.run(
        ["npm", *args], cwd=folder, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, (
        f"npm {' '.join(args)} in {folder.name}:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    )
    return done.stdout


def build_package() -> None:
    """`npm ci`, the type generators from the checked-in contract, `tsc --noEmit`, the build."""
    npm(PACKAGE, "ci", "--no-audit")
    npm(PACKAGE, "run", "gen")
    npm(PACKAGE, "run", "typecheck")
    npm(PACKAGE, "run", "build")
