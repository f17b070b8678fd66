"""Checkpoints as named arrays: round trips, the rows kept apart, older pickles still read."""

from __future__ import annotations

import pickle
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pytest

from backend.agents import metrics, state
from backend.agents.operation import MAGIC, Operation
from backend.agents.records import AgentStatus

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


@dataclass
class Item:
    name: str
    count: int
    value: float


class Holder:
    def __init__(self) -> None:
        self.shared = np.arange(4)
        self.again = self.shared
        self.status = AgentStatus.PAUSED
        self.when = NOW
        self.rng = np.random.default_rng(7)
        self.items = [Item("a", 1, 0.5), Item("b", 2, float("inf"))]
        self.window = deque([1, 2], maxlen=3)
        self.pairs = {3: "three"}
        self.nested = {"x": (1, 2.5, None)}


Holder.__module__ = "backend.tests_fixture"  # flatten rebuilds only this backend's classes


def test_flatten_keeps_arrays_named_and_the_rest_plain() -> None:
    tree, arrays = state.flatten(Holder())
    assert set(arrays) == {"/shared", "/items/name", "/items/count", "/items/value"}
    assert isinstance(arrays["/items/count"], np.ndarray)
    tree2, arrays2 = state.unpack(state.pack(tree, arrays))
    assert tree2 == tree and all(np.array_equal(arrays[k], arrays2[k]) for k in arrays)


def test_unflatten_rebuilds_the_graph(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys
    import types

    module = types.ModuleType("backend.tests_fixture")
    module.Holder = Holder
    monkeypatch.setitem(sys.modules, "backend.tests_fixture", module)
    Item.__module__ = "backend.tests_fixture"
    module.Item = Item
    h = Holder()
    expected = h.rng.random(3)
    back = state.unflatten(*state.unpack(state.pack(*state.flatten(Holder()))))
    assert back.again is back.shared and back.status is AgentStatus.PAUSED
    assert back.when == NOW and back.items == h.items and back.window == h.window
    assert back.window.maxlen == 3 and back.pairs == {3: "three"}
    assert back.nested == {"x": (1, 2.5, None)}
    np.testing.assert_array_equal(back.rng.random(3), expected)


def test_only_this_backends_classes_are_rebuilt() -> None:
    tree = {"__object__": "os:system", "fields": {}}
    with pytest.raises(ValueError, match="expected a class of this backend"):
        state.unflatten(tree, {})


def kpis(op: Operation) -> dict:
    return {k: v for k, v in op.kpis().items() if k != "response_time_avg"}  # wall time


def same_days(a: Operation, b: Operation, days: int) -> None:
    for _ in range(days):
        ra, rb = a.run_day(NOW), b.run_day(NOW)
        assert [(d.id, d.rationale, d.parameters) for d in ra.decisions] == [
            (d.id, d.rationale, d.parameters) for d in rb.decisions
        ]
        assert kpis(a) == kpis(b)
    assert a.live.ledger.summary() == b.live.ledger.summary()


def test_the_rows_kept_apart_restore_the_same_store_day_batches_in_any_split() -> None:
    op = Operation(n_skus=15, seed=3)
    batches = []
    for days in (5, 1, 4):  # stored as traded, in batches of several days or one
        first = op.day
        for _ in range(days):
            op.run_day(NOW)
        op.kpis()
        batches.append(op.ring_rows(first))
    data = Operation.encode(*op.export_state(ring=False))
    assert Operation.rows_kept_apart(data) and not Operation.rows_kept_apart(op.to_bytes())
    assert len(data) < len(op.to_bytes()) / 5
    copy = Operation.from_bytes(
        data, [Operation.decode_rows(Operation.encode_rows(b)) for b in batches]
    )
    for f in ("sales", "price", "stocked_out"):
        np.testing.assert_array_equal(op.live.ledger.window(f), copy.live.ledger.window(f))
    same_days(op, copy, 8)


def test_a_pickled_checkpoint_of_the_previous_format_still_restores() -> None:
    op = Operation(n_skus=15, seed=4)
    for _ in range(40):
        op.run_day(NOW)
    saved = dict(op.__dict__)
    del saved["last_markdown"]  # the previous format had no running markdown counts
    saved["live"], saved["baseline"] = op.live.state(), op.baseline.state()
    old = MAGIC + bytes([1]) + pickle.dumps(saved)
    copy = Operation.from_bytes(old)
    np.testing.assert_array_equal(copy.last_markdown, op.last_markdown)
    assert kpis(copy) == kpis(op)
    same_days(op, copy, 5)


def test_running_markdown_counts_match_the_window_definition() -> None:
    op = Operation(n_skus=25, seed=5)
    for _ in range(70):
        op.run_day(NOW)
    led, life = op.live.ledger, np.asarray(op.public.shelf_life)
    reach = op.window + int(life.max()) - 1
    windowed = metrics.promotion_effectiveness(
        *(led.window(f, reach) for f in ("markdown", "sales", "expired")), life, op.window
    )
    assert windowed is not None and op.kpis()["promotion_effectiveness"] == pytest.approx(windowed)
