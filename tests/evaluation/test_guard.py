"""CI guard on the evaluation: on a few seeds the agents earn more than the competent baseline
and reach 85% of the known-parameter oracle. A change that makes them lose fails here."""

from __future__ import annotations

from backend.evaluation.store import evaluate

SKUS, DAYS, SEEDS, SEED_BASE = 12, 364, 2, 40


def test_agents_beat_the_competent_baseline_and_reach_85_percent_of_the_oracle() -> None:
    s = evaluate(SKUS, DAYS, SEEDS, SEED_BASE, processes=1, coalitions=False)
    assert s["profit_pct_of_oracle"] >= 85.0, s["profit_pct_of_oracle"]
    assert s["profit"] > s["baseline_profit"], (s["profit"], s["baseline_profit"])
