"""Connections' objects leave the collector's full passes, and closes bring one full pass back."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from backend.api.gcfreeze import FrozenConnections


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector can free it


@pytest.fixture(autouse=True)
def thawed() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_nothing_opened_means_no_freeze_and_an_open_means_one() -> None:
    frozen = FrozenConnections(0.25)
    frozen.maintain(open_now=0)
    assert frozen.freezes == 0 and gc.get_freeze_count() == 0
    frozen.opened = 3
    frozen.maintain(open_now=3)
    assert frozen.freezes == 1 and frozen.opened == 0 and gc.get_freeze_count() > 0


def test_a_frozen_cycle_survives_collections_until_enough_closes_bring_a_full_pass() -> None:
    frozen = FrozenConnections(0.25)
    node = Node()
    ref = weakref.ref(node)
    frozen.opened = 1
    frozen.maintain(open_now=100)
    del node
    gc.collect()
    assert ref() is not None  # frozen: the full collection skipped it

    frozen.closed = 10  # 10 of 100 open: under the 25% share, nothing collected
    frozen.maintain(open_now=100)
    assert ref() is not None and frozen.collections == 0

    frozen.closed = 30
    frozen.maintain(open_now=100)
    assert ref() is None and frozen.collections == 1 and frozen.closed == 0
    assert gc.get_freeze_count() > 0  # and what is alive is frozen again
