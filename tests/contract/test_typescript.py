"""The TypeScript package from the checked-in contract: `npm ci`, the type generators, `tsc
--noEmit` (package, tests and example), then its own tests with node's test runner against real
uvicorn backends the tests start."""

from __future__ import annotations

from pathlib import Path

from tests.contract.node import npm


def test_the_package_passes_its_tests_against_a_real_backend(typescript_package: Path) -> None:
    generated = (typescript_package / "src" / "generated" / "ws.ts").read_text()
    assert "export type LiveUpdatesMessage" in generated
    out = npm(typescript_package, "test")
    assert "# fail 0" in out and "# pass 7" in out, out[-2000:]
