"""The engine benchmark runs end to end at a tiny size and writes its JSON."""

from __future__ import annotations

import json
from pathlib import Path

from bench import engine


def test_engine_benchmark_reports_ms_per_day_and_memory(tmp_path: Path) -> None:
    out = tmp_path / "engine.json"
    assert (
        engine.main(["--sizes", "12,30", "--days", "2", "--warmup", "1", "--json", str(out)]) == 0
    )
    data = json.loads(out.read_text())
    assert set(data["sizes"]) == {"12", "30"}
    for row in data["sizes"].values():
        for kind in ("reference", "core", "operation"):
            assert row[kind]["ms_median"] > 0 and row[kind]["cpu_ms_median"] >= 0
        assert row["peak_memory_mb_core"] > 0 and row["peak_memory_mb_operation"] > 0
        # the operation runs a static shadow store besides the agents' one: more than the reference
        assert row["ratio"]["operation"] > 1 and row["ratio"]["core"] > 0
