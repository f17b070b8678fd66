"""Pending decision outcomes: judged once the day they predicted has traded."""

from __future__ import annotations

from dataclasses import dataclass

from backend.agents.plan import Draft
from backend.agents.records import AGENT_IDS, OutcomeUpdate


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


class Outcomes:
    """Tracks predictions until their realised outcome is known; keeps hit counts per agent."""

    def __init__(self) -> None:
        self.pending: list[Pending] = []
        self.hits = {a: 0 for a in AGENT_IDS}
        self.known = {a: 0 for a in AGENT_IDS}

    def expect(self, decision_id: str, agent_id: str, epoch: int, draft: Draft) -> None:
        kind, a, b = draft.check
        if kind == "no_stockout":
            self.pending.append(Pending(decision_id, agent_id, epoch, draft.index, kind, int(a), int(b), 0.0))
        else:
            self.pending.append(Pending(decision_id, agent_id, epoch, draft.index, kind, int(a), int(a), float(b)))

    def resolve(self, rec, epoch: dict[str, int]) -> list[OutcomeUpdate]:
        """Judge every pending prediction whose last day is the day `rec` traded."""
        out, keep = [], []
        for p in self.pending:
            i = p.index
            if p.kind == "no_stockout" and p.first <= rec.day <= p.last:
                p.failed = p.failed or bool(rec.stocked_out[i])
            if p.last > rec.day:
                keep.append(p)
                continue
            sold = int(rec.sales[i])
            if p.kind == "no_stockout":
                hit = not p.failed
                outcome = {"stocked_out": p.failed, "units_sold": sold, "day": int(rec.day)}
            else:
                hit = sold >= p.threshold
                outcome = {"units_sold": sold, "expected_at_least": round(p.threshold, 2),
                           "stocked_out": bool(rec.stocked_out[i]), "day": int(rec.day)}
            if p.epoch == epoch.get(p.agent_id, 0):
                self.known[p.agent_id] += 1
                self.hits[p.agent_id] += int(hit)
            out.append(OutcomeUpdate(decision_id=p.decision_id, outcome=outcome, hit=hit))
        self.pending = keep
        return out

    def reset(self, agent_id: str) -> None:
        self.hits[agent_id] = 0
        self.known[agent_id] = 0

    def success_rate(self, agent_id: str) -> float | None:
        k = self.known[agent_id]
        return None if k == 0 else 100.0 * self.hits[agent_id] / k
