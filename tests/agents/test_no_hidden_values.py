"""Agents see only what a store sees: no hidden generator field read, no hidden value copied.

The deciding modules (everything in backend/agents but the harness: operation.py, which owns
the simulated stores, and state.py, which encodes checkpoints) import nothing from the
simulation, touch no hidden catalog field, and hold no module constant equal to a value the
generator hides (fresh-pick share, demand dispersion, the catalog's median demand or its log,
the squared demand CV it targets, the elasticity range, the weekday shape).
"""

from __future__ import annotations

import ast
import importlib
import math
from pathlib import Path

import numpy as np

from backend.sim import catalog as gen

ROOT = Path(__file__).resolve().parents[2]
HARNESS = {"operation.py", "state.py"}  # owns the simulated stores / encodes checkpoints
AGENTS = sorted(p for p in (ROOT / "backend/agents").glob("*.py") if p.name not in HARNESS)
HIDDEN_FIELDS = {"base_demand", "dispersion", "fresh_share"}
HIDDEN_VALUES = {
    "fresh share": gen.FRESH_SHARE,
    "median demand": gen.MEDIAN_DEMAND,
    "log median demand": math.log(gen.MEDIAN_DEMAND),
    "target CV squared": gen.TARGET_CV**2,
    "dispersion": 1.0 / (gen.TARGET_CV**2 - 1.0 / gen.MEDIAN_DEMAND),
    "elasticity low": gen.ELASTICITY_RANGE[0],
    "elasticity high": gen.ELASTICITY_RANGE[1],
    "elasticity midpoint": sum(gen.ELASTICITY_RANGE) / 2,
}


def _violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    bad = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.startswith("backend.sim")
        ):
            bad.append(f"imports {node.module}")
        if isinstance(node, ast.Import):
            bad += [f"imports {a.name}" for a in node.names if a.name.startswith("backend.sim")]
        if isinstance(node, ast.Attribute) and node.attr in HIDDEN_FIELDS:
            bad.append(f"reads .{node.attr} (line {node.lineno})")
    return bad


def _copied_values(module) -> list[str]:
    bad = []
    for name, value in vars(module).items():
        if not name.isupper():
            continue
        if isinstance(value, float):
            bad += [
                f"{name} = {value!r} equals the hidden {what}"
                for what, hidden in HIDDEN_VALUES.items()
                if math.isclose(value, hidden, rel_tol=1e-9)
            ]
        elif isinstance(value, np.ndarray) and value.shape == gen.WEEKDAY_SHAPE.shape:
            shape = gen.WEEKDAY_SHAPE / gen.WEEKDAY_SHAPE.mean()
            if np.allclose(value / value.mean(), shape, rtol=1e-3):
                bad.append(f"{name} repeats the hidden weekday shape")
    return bad


def test_deciding_modules_read_no_hidden_field_and_copy_no_hidden_value() -> None:
    assert AGENTS
    bad = []
    for path in AGENTS:
        bad += [f"{path.name}: {v}" for v in _violations(path)]
        module = importlib.import_module(f"backend.agents.{path.stem}")
        bad += [f"{path.name}: {v}" for v in _copied_values(module)]
    assert bad == []


def test_the_guard_catches_a_copied_value_and_a_hidden_read(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("from backend.sim.catalog import FRESH_SHARE\nx = snap.catalog.fresh_share\n")
    assert _violations(probe) == ["imports backend.sim.catalog", "reads .fresh_share (line 2)"]

    class Fake:
        SHARE = 0.15
        LEVEL = math.log(5.0)
        SHAPE = np.array([0.88, 0.85, 0.90, 0.95, 1.08, 1.25, 1.09]) * 2

    assert len(_copied_values(Fake)) == 3
