"""The daily coordination: promotion posts markdowns, pricing sets prices on the stock that
remains, inventory orders on both plans. Absent, paused or failed agents leave their lever on
the store's standing rule. Used by the Operation and by the offline evaluation alike."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np

from backend.agents.demand import LEVEL_DRIFT
from backend.agents.inventory import InventoryAgent
from backend.agents.plan import Draft, Plan
from backend.agents.pricing import PricingAgent
from backend.agents.promotion import PromotionAgent
from backend.agents.views import CatalogView, HistoryView, LeversView, SnapshotView

log = logging.getLogger(__name__)

ORDER = ("promotion_agent", "pricing_agent", "inventory_agent")
LEVER = {"promotion_agent": "markdown", "pricing_agent": "price", "inventory_agent": "order_qty"}
AgentType = PricingAgent | InventoryAgent | PromotionAgent


def make_agents(
    catalog: CatalogView, seed: int, level_drift: float = LEVEL_DRIFT
) -> dict[str, AgentType]:
    """Fresh agents (no learning yet) for a public catalog; `level_drift` is their demand
    models' daily drift of the log level (DemandModel; 0: a level that does not move)."""
    lp, cat = np.asarray(catalog.list_price, dtype=float), np.asarray(catalog.category)
    agents: dict[str, AgentType] = {
        "pricing_agent": PricingAgent(lp, cat, seed),
        "inventory_agent": InventoryAgent(lp, cat, seed),
        "promotion_agent": PromotionAgent(lp, cat, seed),
    }
    for agent in agents.values():
        agent.model.level_drift = level_drift
    return agents


def catch_up(agent: AgentType, history: HistoryView) -> int:
    """Feed the agent every observed day it has not seen yet; returns how many."""
    seen = getattr(agent, "seen_day", -1)
    rows = np.flatnonzero(np.asarray(history.day) > seen)
    for r in rows.tolist():
        agent.learn(
            int(history.weekday[r]),
            history.effective_price[r],
            history.sales[r],
            history.stocked_out[r],
            history.expired[r],
        )
    if rows.size:
        agent.seen_day = int(history.day[rows[-1]])
    return int(rows.size)


@dataclass
class Locks:
    """Operator overrides in force today: a mask and the value per lever."""

    price: np.ndarray
    price_value: np.ndarray
    markdown: np.ndarray
    markdown_value: np.ndarray
    order_qty: np.ndarray
    order_value: np.ndarray

    @classmethod
    def none(cls, n: int) -> Locks:
        z = np.zeros(n, dtype=bool)
        return cls(z, np.zeros(n), z.copy(), np.zeros(n), z.copy(), np.zeros(n, dtype=np.int64))


@dataclass
class DayPlan:
    """The result of a day's coordination."""

    price: np.ndarray
    markdown: np.ndarray
    order_qty: np.ndarray
    drafts: dict[str, list[Draft]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    errors: dict[str, BaseException] = field(default_factory=dict)


def coordinate(
    snap: SnapshotView,
    standing: LeversView,
    agents: dict[str, AgentType],
    active: set[str],
    locks: Locks | None = None,
) -> DayPlan:
    """Run the active agents in the daily order on one snapshot; never raises for an agent."""
    n = len(snap.price)
    locks = locks or Locks.none(n)
    plan = Plan(
        price=np.asarray(snap.price, dtype=float).copy(),
        markdown=np.zeros(n),
        order_qty=np.zeros(n, dtype=np.int64),
        markdown_units=np.zeros(n),
    )
    fallback = {
        "pricing_agent": np.asarray(standing.price, dtype=float),
        "promotion_agent": np.asarray(standing.markdown, dtype=float),
        "inventory_agent": np.asarray(standing.order_qty, dtype=np.int64),
    }
    lock_of = {
        "pricing_agent": (locks.price, locks.price_value),
        "promotion_agent": (locks.markdown, locks.markdown_value),
        "inventory_agent": (locks.order_qty, locks.order_value),
    }
    out = DayPlan(price=plan.price, markdown=plan.markdown, order_qty=plan.order_qty)
    for agent_id in ORDER:
        mask, value = lock_of[agent_id]
        lever = LEVER[agent_id]
        setattr(
            plan,
            lever,
            np.where(mask, value, getattr(plan, lever)).astype(getattr(plan, lever).dtype),
        )
        if agent_id in active:
            agent = agents[agent_id]
            saved = getattr(plan, lever).copy()
            t0 = time.perf_counter()
            try:
                catch_up(agent, snap.history)
                out.drafts[agent_id] = agent.decide(snap, plan, mask)
            except Exception as exc:  # noqa: BLE001 - one failing agent must not stop the store
                log.exception("agent %s failed on day %d", agent_id, snap.day)
                out.errors[agent_id] = exc
                setattr(plan, lever, saved)
            out.seconds[agent_id] = time.perf_counter() - t0
            if agent_id not in out.errors:
                continue
        setattr(
            plan,
            lever,
            np.where(mask, value, fallback[agent_id]).astype(getattr(plan, lever).dtype),
        )
    out.price, out.markdown, out.order_qty = plan.price, plan.markdown, plan.order_qty
    return out
