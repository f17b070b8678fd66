"""The day's plan the three agents fill in turn, and the draft decisions they return."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Plan:
    """Today's levers: regular price, markdown fraction and order quantity per SKU."""

    price: np.ndarray
    markdown: np.ndarray
    order_qty: np.ndarray
    # expected units the markdowns sell today (promotion agent), read by pricing and inventory
    markdown_units: np.ndarray = field(default_factory=lambda: np.zeros(0))


@dataclass(frozen=True)
class Draft:
    """A decision before the Operation stamps it with an id and a timestamp.

    `check` says how the realised outcome is judged once known: ("units_at_least", day, lo)
    means a hit if the SKU sells at least `lo` units on `day`; ("units_within", first, last, lo,
    hi) a hit if its units sold over days first..last reach `lo`, [lo, hi] being an 80% interval
    (outcomes.py reports its coverage); ("no_stockout", first, last)
    means a hit if the SKU does not stock out on any day first..last; ("expired_at_most", day,
    hi) a hit if at most `hi` units expire at the close of `day`.
    """

    agent_id: str
    action_type: str
    index: int
    parameters: dict[str, Any]
    rationale: str
    confidence: float
    expected: dict[str, Any]
    check: tuple[Any, ...]
