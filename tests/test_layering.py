"""The core stays pure: backend/sim and backend/agents import no web, database, bus or asyncio."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = (
    "fastapi",
    "starlette",
    "sqlalchemy",
    "pydantic",
    "pydantic_settings",
    "asyncio",
    "redis",
    "uvicorn",
    "websockets",
    "httpx",
    "streamlit",
    "backend.api",
    "backend.db",
    "backend.bus",
    "backend.runner",
    "backend.config",
    "backend.schemas",
)


def imported_modules(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def forbidden_imports(package: str) -> list[str]:
    bad = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for name in imported_modules(path):
            if any(name == f or name.startswith(f + ".") for f in FORBIDDEN):
                bad.append(f"{path.relative_to(ROOT)}: {name}")
    return bad


def test_sim_and_agents_import_nothing_impure() -> None:
    assert forbidden_imports("backend/sim") == []
    assert forbidden_imports("backend/agents") == []


def test_the_simulation_sits_below_the_agents_and_the_evaluation() -> None:
    above = ("backend.agents", "backend.evaluation")
    bad = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in sorted((ROOT / "backend/sim").rglob("*.py"))
        for name in imported_modules(path)
        if any(name == a or name.startswith(a + ".") for a in above)
    ]
    assert bad == []


def test_the_guard_catches_a_forbidden_import(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("import asyncio\nfrom sqlalchemy import select\nimport numpy\n")
    assert imported_modules(probe) == ["asyncio", "sqlalchemy", "numpy"]
    assert [
        n
        for n in imported_modules(probe)
        if any(n == f or n.startswith(f + ".") for f in FORBIDDEN)
    ] == ["asyncio", "sqlalchemy"]
