from __future__ import annotations

import pytest

from tests.contract.node import PACKAGE, build_package


@pytest.fixture(scope="session")
def typescript_package() -> object:
    """The TypeScript client built from the checked-in contract, once per run."""
    build_package()
    return PACKAGE
