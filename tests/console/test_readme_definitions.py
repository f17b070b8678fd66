"""The console's KPI hover texts are the README's definitions, word for word."""

from __future__ import annotations

from pathlib import Path

from backend.schemas import SystemMetrics
from console.kpis import KPIS, SUCCESS_RATE_HELP

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_every_kpi_tile_definition_is_the_readme_definition() -> None:
    missing = [k.field for k in KPIS if f"| `{k.field}` | {k.definition} |" not in README]
    assert missing == []


def test_the_success_rate_help_is_the_readme_definition() -> None:
    assert SUCCESS_RATE_HELP in README


def test_the_readme_defines_exactly_the_contract_metrics() -> None:
    assert [k.field for k in KPIS] == list(SystemMetrics.model_fields)
