"""The import graph keeps its layers, read from every module's source (relative imports too).

backend.sim is the bottom: stdlib, numpy and scipy only. backend.agents sits on it (plus the
shared error types); backend.evaluation sits above both. None of the three reaches the web,
database, bus or runner layers, and the console is a client: it imports nothing from backend.
In the rest of backend only `backend.api.uvicorn_direct` imports uvicorn: the app speaks plain ASGI.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PURE_THIRD_PARTY = {"numpy", "scipy"}
IMPURE_STDLIB = {"asyncio"}  # the core is synchronous: the runner owns the event loop
# package -> the first-party packages it may import (itself included)
LAYERS: dict[str, set[str]] = {
    "backend.sim": {"backend.sim"},
    "backend.agents": {"backend.sim", "backend.agents", "backend.errors"},
    "backend.evaluation": {"backend.sim", "backend.agents", "backend.evaluation", "backend.errors"},
}
FIRST_PARTY = ("backend", "console", "bench", "tests")
# The server's internals are known in one place; everything else in backend speaks plain ASGI.
UVICORN_ADAPTER = "backend.api.uvicorn_direct"


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, root: Path = ROOT) -> list[str]:
    """Absolute names of everything `path` imports; relative imports resolved."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module_name(path, root).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            mod = ".".join([*base, *([node.module] if node.module else [])])
            names += [mod] if node.module else [f"{mod}.{a.name}" for a in node.names]
    return names


def within(name: str, packages: set[str] | tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def violations(root: Path = ROOT) -> list[str]:
    bad = []
    for path in sorted(root.rglob("*.py")):
        mod = module_name(path, root)
        layer = next((p for p in LAYERS if within(mod, (p,))), None)
        for name in imported_modules(path, root):
            top = name.split(".")[0]
            if layer is not None:
                if within(name, FIRST_PARTY):
                    ok = within(name, LAYERS[layer])
                else:
                    ok = (top in sys.stdlib_module_names and top not in IMPURE_STDLIB) or (
                        top in PURE_THIRD_PARTY
                    )
            elif within(mod, ("console",)):
                ok = not within(name, ("backend",))
            elif within(mod, ("backend",)) and mod != UVICORN_ADAPTER:
                ok = top != "uvicorn"
            else:
                continue
            if not ok:
                bad.append(f"{path.relative_to(root)}: {name}")
    return bad


def test_every_layer_imports_only_what_it_may() -> None:
    assert violations() == []


def test_the_guard_catches_upward_and_impure_imports(tmp_path: Path) -> None:
    files = {
        "backend/__init__.py": "",
        "backend/sim/__init__.py": "",
        "backend/sim/probe.py": "import numpy\nfrom backend.agents import policy\n",
        "backend/agents/__init__.py": "",
        "backend/agents/probe.py": "from ..sim import store\nimport asyncio\nfrom backend.runner import loop\n",
        "console/probe.py": "from backend.schemas import SystemMetrics\n",
        "backend/api/__init__.py": "",
        "backend/api/probe.py": "from uvicorn.protocols import utils\n",
        "backend/api/uvicorn_direct.py": "import uvicorn\n",
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    assert violations(tmp_path) == [
        "backend/agents/probe.py: asyncio",
        "backend/agents/probe.py: backend.runner",
        "backend/api/probe.py: uvicorn.protocols",
        "backend/sim/probe.py: backend.agents",
        "console/probe.py: backend.schemas",
    ]
