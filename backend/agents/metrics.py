"""The agent-side KPIs and per-day bookkeeping the Operation keeps for its windows.

promotion_effectiveness: over the window, units sold under a markdown / (those + units written
off in the window that had been on sale under a markdown at any time in their shelf life, on or
after the markdown day); None when neither happened in the window.
agent_collaboration_score: 1 - conflicting decisions / decisions over the window (None with no
decisions); a decision conflicts when it and another agent's lever on the same SKU and day work
against each other (count_conflicts). Every kind can occur: the first whenever the agents
decide without seeing each other's plan (the daily coordination rules it out), the other two
under the coordination as well.
decision_count: decisions since the start. response_time_avg: mean wall seconds of one
agent's decide() over the window.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from backend.agents.plan import Draft
from backend.agents.views import DayView, SnapshotView


@dataclass
class DayBook:
    """Per-day counts kept for the trailing window."""

    decisions: int = 0
    conflicts: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    promo_sold: int = 0  # units sold under a markdown
    promo_lost: int = 0  # units written off that had been on the shelf under a markdown


def count_conflicts(
    drafts: list[Draft],
    snap: SnapshotView,
    price: np.ndarray,
    markdown: np.ndarray,
    order_qty: np.ndarray,
) -> int:
    """Conflicting decisions among one day's drafts, against the day's posted levers.

    A decision conflicts when it and another agent's lever on the same SKU work against each
    other: (1) the regular price moved on a SKU under markdown (the pricing decision, or a new
    markdown on a SKU whose price moved): the discount was sized at another price; (2) an order
    placed on a SKU under markdown lands before the oldest units on the shelf expire (lead time
    < their days left): the new units compete with the ones the markdown is clearing (the order
    decision, or the markdown decision); (3) a new markdown on a SKU whose shelf sold out the
    day before: a discount on a SKU whose supply already fell short. `price`, `markdown`,
    `order_qty` are the levers posted today; `snap` the snapshot the agents decided on.
    """
    stock = np.asarray(snap.stock_by_age)
    n = stock.shape[0]
    lead = np.asarray(snap.catalog.lead_time)
    life = np.asarray(snap.catalog.shelf_life)
    on_hand = stock.sum(axis=1) > 0
    landing = np.asarray(snap.pipeline)[:, 0] > 0
    oldest = np.where(on_hand, np.argmax(stock > 0, axis=1) + 1, np.where(landing, life, 0))
    marked = np.asarray(markdown) > 0
    moved = np.abs(np.asarray(price, dtype=float) - np.asarray(snap.price, dtype=float)) > 1e-9
    competing = marked & (np.asarray(order_qty) > 0) & (lead < oldest)
    hist = snap.history
    sold_out = (
        np.asarray(hist.stocked_out[-1], dtype=bool)
        if hist.days and hist.day[-1] == snap.day - 1
        else np.zeros(n, dtype=bool)
    )
    against = {
        "pricing_agent": marked,
        "inventory_agent": competing,
        "promotion_agent": moved | competing | sold_out,
    }
    return sum(int(against[d.agent_id][d.index]) for d in drafts if d.agent_id in against)


class Books:
    """Trailing window of DayBooks plus totals since the start."""

    def __init__(self, window: int) -> None:
        self.window = window
        self.days: deque[DayBook] = deque(maxlen=window)
        self.decision_total = 0

    def add(self, book: DayBook) -> None:
        self.days.append(book)
        self.decision_total += book.decisions

    def promotion(self) -> float | None:
        """promotion_effectiveness over the window, from the days' running counts."""
        sold = sum(b.promo_sold for b in self.days)
        lost = sum(b.promo_lost for b in self.days)
        return None if sold + lost == 0 else sold / (sold + lost)

    def collaboration(self) -> float | None:
        dec = sum(b.decisions for b in self.days)
        con = sum(b.conflicts for b in self.days)
        return None if dec == 0 else float(max(0.0, 1.0 - con / dec))

    def response_time(self, agent_id: str | None = None) -> float | None:
        xs = [s for b in self.days for a, s in b.seconds.items() if agent_id in (None, a)]
        return float(np.mean(xs)) if xs else None


def marked_down_units(
    markdown: np.ndarray, sales: np.ndarray, expired: np.ndarray, shelf_life: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per day (T,): units sold under a markdown, and units written off that had been marked down.

    Arrays (T, n), oldest row first, on consecutive days. Every unit arrives with its SKU's full
    shelf life, so the units a SKU writes off at the close of day t all arrived on day
    t - shelf_life + 1 and were on the shelf every day since: they had been marked down iff a
    markdown was posted on that SKU on one of the days t - shelf_life + 1 .. t. Rows earlier than
    that lookback count as without markdown. As running state this is the last markdown day
    per SKU.
    """
    md = np.asarray(markdown) > 0
    t = np.arange(md.shape[0])[:, None]
    last = np.maximum.accumulate(np.where(md, t, -(10**9)), axis=0)
    marked = t - last <= np.asarray(shelf_life)[None, :] - 1
    sold = np.where(md, sales, 0).sum(axis=1)
    lost = np.where(marked, expired, 0).sum(axis=1)
    return sold.astype(np.int64), lost.astype(np.int64)


def mark_day(last_markdown: np.ndarray, rec: DayView, shelf_life: np.ndarray) -> tuple[int, int]:
    """One traded day's (units sold under a markdown, write-offs of marked-down units).

    The running form of marked_down_units: `last_markdown` (per SKU, the last day a markdown
    was posted, very negative for never) is updated in place with the day's markdowns.
    """
    md = np.asarray(rec.markdown) > 0
    last_markdown[md] = rec.day
    marked = rec.day - last_markdown <= np.asarray(shelf_life) - 1
    sold = int(np.asarray(rec.sales)[md].sum(dtype=np.int64))
    lost = int(np.asarray(rec.expired)[marked].sum(dtype=np.int64))
    return sold, lost


def promotion_effectiveness(
    markdown: np.ndarray,
    sales: np.ndarray,
    expired: np.ndarray,
    shelf_life: np.ndarray,
    window: int,
) -> float | None:
    """Over the last `window` rows: units sold under a markdown / (those + the later write-offs of
    marked-down units); None when neither happened. Arrays (T, n) reach max(shelf_life) - 1
    days further back than the window so that a write-off can be traced to its markdown."""
    sold, lost = marked_down_units(markdown, sales, expired, shelf_life)
    s, w = int(sold[-window:].sum()), int(lost[-window:].sum())
    return None if s + w == 0 else s / (s + w)
