"""Pending decision outcomes: judged once the days they predicted have traded.

A decision's check ("units_within", first, last, lo, hi) predicts the units sold over days
first..last inside [lo, hi], an 80% interval from the agent's posterior (intervals.py). The
outcome is a hit when the units sold fall inside or above the interval (selling more than the
interval's low end never counts against a decision); the share that fall inside is the
interval's calibration, reported per agent as interval_coverage (about 80% when calibrated).
The older checks ("units_at_least", day, lo) and ("no_stockout", first, last) are still judged
(hit or miss) but carry no interval.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backend.agents.plan import Draft
from backend.agents.records import AGENT_IDS, OutcomeUpdate
from backend.agents.views import DayView


@dataclass
class Pending:
    decision_id: str
    agent_id: str
    epoch: int
    index: int
    kind: str
    first: int
    last: int
    threshold: float
    failed: bool = False
    high: float = float("inf")
    sold: int = 0


def position(sold: float, lo: float, hi: float) -> str:
    """Where a realised outcome fell against its interval: below, inside or above."""
    return "below" if sold < lo else ("above" if sold > hi else "inside")


class Outcomes:
    """Tracks predictions until their realised outcome is known; keeps hit counts per agent."""

    def __init__(self) -> None:
        self.pending: list[Pending] = []
        self.hits = {a: 0 for a in AGENT_IDS}
        self.known = {a: 0 for a in AGENT_IDS}
        self.inside = {a: 0 for a in AGENT_IDS}  # judged interval predictions inside them
        self.judged = {a: 0 for a in AGENT_IDS}  # judged interval predictions

    def __setstate__(self, state: dict[str, Any]) -> None:
        # checkpoints taken before intervals existed carry no calibration counts
        self.__dict__.update(state)
        for name in ("inside", "judged"):
            if name not in self.__dict__:
                setattr(self, name, {a: 0 for a in AGENT_IDS})

    def expect(self, decision_id: str, agent_id: str, epoch: int, draft: Draft) -> None:
        kind, *args = draft.check
        if kind == "units_within":
            first, last, lo, hi = args
            p = Pending(
                decision_id,
                agent_id,
                epoch,
                draft.index,
                kind,
                int(first),
                int(last),
                float(lo),
                high=float(hi),
            )
        elif kind == "no_stockout":
            p = Pending(
                decision_id, agent_id, epoch, draft.index, kind, int(args[0]), int(args[1]), 0.0
            )
        else:
            p = Pending(
                decision_id,
                agent_id,
                epoch,
                draft.index,
                kind,
                int(args[0]),
                int(args[0]),
                float(args[1]),
            )
        self.pending.append(p)

    def resolve(self, rec: DayView, epoch: dict[str, int]) -> list[OutcomeUpdate]:
        """Judge every pending prediction whose last day is the day `rec` traded."""
        out, keep = [], []
        for p in self.pending:
            i = p.index
            if p.first <= rec.day <= p.last:
                p.failed = p.failed or bool(rec.stocked_out[i])
                p.sold += int(rec.sales[i])
            if p.last > rec.day:
                keep.append(p)
                continue
            sold = int(rec.sales[i])
            current = p.epoch == epoch.get(p.agent_id, 0)
            if p.kind == "units_within":
                where = position(p.sold, p.threshold, p.high)
                hit = where != "below"
                outcome = {
                    "units_sold": p.sold,
                    "interval_80": [round(p.threshold, 2), round(p.high, 2)],
                    "position": where,
                    "stocked_out": p.failed,
                    "day": int(rec.day),
                }
                if current:
                    self.judged[p.agent_id] += 1
                    self.inside[p.agent_id] += int(where == "inside")
            elif p.kind == "no_stockout":
                hit = not p.failed
                outcome = {"stocked_out": p.failed, "units_sold": sold, "day": int(rec.day)}
            else:
                hit = sold >= p.threshold
                outcome = {
                    "units_sold": sold,
                    "expected_at_least": round(p.threshold, 2),
                    "stocked_out": bool(rec.stocked_out[i]),
                    "day": int(rec.day),
                }
            if current:
                self.known[p.agent_id] += 1
                self.hits[p.agent_id] += int(hit)
            out.append(OutcomeUpdate(decision_id=p.decision_id, outcome=outcome, hit=hit))
        self.pending = keep
        return out

    def reset(self, agent_id: str) -> None:
        self.hits[agent_id] = 0
        self.known[agent_id] = 0
        self.inside[agent_id] = 0
        self.judged[agent_id] = 0

    def success_rate(self, agent_id: str) -> float | None:
        k = self.known[agent_id]
        return None if k == 0 else 100.0 * self.hits[agent_id] / k

    def coverage(self, agent_id: str) -> float | None:
        """Percent of the agent's judged interval predictions whose outcome fell inside them."""
        k = self.judged[agent_id]
        return None if k == 0 else 100.0 * self.inside[agent_id] / k
