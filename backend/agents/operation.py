"""The Operation: live store, shadow baseline store, the three agents, levers, KPIs and alerts.

The shadow store trades the same catalog and demand draws under the competent baseline
(backend/sim/baseline.py, its safety factors tuned once at construction); paused or failed
agents' levers in the live store follow the same rule.

The only object the runner talks to (docs/interfaces.md). Not thread-safe: the runner
serialises every call. Checkpoints are the state as named arrays plus a small JSON tree
(state.py) behind a version header; the stores' per-day rows can be kept apart and stored a day
at a time (export_state(ring=False), ring_rows). They are trusted local state of this backend,
never accepted from clients.
"""

from __future__ import annotations

import json
import logging
import pickle
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import numpy as np

from backend.agents import metrics, state
from backend.agents.conditions import agent_conditions, store_conditions
from backend.agents.freshness import FreshPicks
from backend.agents.inventory import STOCKOUT_PENALTY, WASTE_AVERSION, InventoryAgent
from backend.agents.levers import Holds, validate
from backend.agents.outcomes import Outcomes
from backend.agents.plan import Draft
from backend.agents.policy import coordinate, make_agents
from backend.agents.promotion import PromotionAgent
from backend.agents.records import (
    AGENT_IDS,
    AGENT_NAMES,
    AgentStats,
    AgentStatus,
    Condition,
    DayReport,
    Decision,
    StoreEvent,
)
from backend.errors import UnknownAgent
from backend.sim import kpis
from backend.sim.baseline import baseline_actions, tune
from backend.sim.catalog import make_catalog
from backend.sim.ledger import RING, Ledger
from backend.sim.store import Actions, Store

log = logging.getLogger(__name__)

MAGIC = b"AUTOOPS-OPERATION"
VERSION = 2
LEGACY_VERSION = 1  # a pickle of the object graph, still read
NEVER = -(10**9)  # "no markdown yet" in last_markdown
STORES = ("live", "baseline")
SHORT = {"pricing_agent": "pricing", "inventory_agent": "inventory", "promotion_agent": "promotion"}
LEVER_NAME = {
    "pricing_agent": "prices",
    "inventory_agent": "orders",
    "promotion_agent": "markdowns",
}

__all__ = [
    "AGENT_IDS",
    "AGENT_NAMES",
    "AgentStatus",
    "AgentStats",
    "Condition",
    "DayReport",
    "Decision",
    "Operation",
    "StoreEvent",
]


class Operation:
    """A store run by the agents next to its competent-baseline twin on the same demand draws."""

    def __init__(
        self, n_skus: int = 50, seed: int = 0, window_days: int = 28, stockout_window_days: int = 7
    ) -> None:
        for name, v, lo in (
            ("window_days", window_days, 1),
            ("stockout_window_days", stockout_window_days, 1),
        ):
            if isinstance(v, bool) or not isinstance(v, int) or v < lo:
                raise ValueError(f"{name}: expected an integer >= {lo}, got {v!r}")
        catalog = make_catalog(n_skus, seed)
        self.seed = seed
        self.window = window_days
        self.stockout_window = stockout_window_days
        self.live = Store(catalog, seed)
        # The shadow store is read for its totals and last week's profit: a short ring will do.
        self.baseline = Store(catalog, seed, history_days=max(7, window_days))
        self.baseline_z, self.baseline_clearance = tune(catalog, seed)
        self.public = catalog.public()
        self.sku_index = {str(s): i for i, s in enumerate(self.public.sku)}
        self.agents = make_agents(self.public, seed)
        self.status = {a: AgentStatus.ACTIVE for a in AGENT_IDS}
        self.errors: dict[str, str] = {}
        self.epoch = {a: 0 for a in AGENT_IDS}
        self.counts = {a: 0 for a in AGENT_IDS}
        self.activity = {a: "Waiting for the first trading day" for a in AGENT_IDS}
        self.last_time: dict[str, datetime | None] = {a: None for a in AGENT_IDS}
        self.holds = Holds.empty(catalog.n)
        self.books = metrics.Books(window_days)
        self.outcomes = Outcomes()
        self.today_orders = np.zeros(catalog.n, dtype=np.int64)
        self.last_markdown = np.full(catalog.n, NEVER, dtype=np.int64)

    @property
    def day(self) -> int:
        return self.live.day

    # -- the trading day -------------------------------------------------------------------------
    def run_day(self, now: datetime) -> DayReport:
        """Agents decide, both stores trade the day, outcomes due are resolved."""
        live, day = self.live, self.live.day
        active = {a for a in AGENT_IDS if self.status[a] is AgentStatus.ACTIVE}
        seen = [getattr(self.agents[a], "seen_day", -1) for a in active]
        need = max([1] + [day - 1 - s for s in seen])
        snap = live.snapshot(history_days=min(need, live.ledger.history_days))
        standing = baseline_actions(live, self.baseline_z, self.baseline_clearance)
        dp = coordinate(snap, standing, self.agents, active, self.holds.locks(day))
        live.apply(Actions(price=dp.price, markdown=dp.markdown, order_qty=dp.order_qty))
        self.baseline.apply(
            baseline_actions(self.baseline, self.baseline_z, self.baseline_clearance)
        )
        events = [self._fail(a, exc) for a, exc in dp.errors.items()]
        decisions: list[Decision] = []
        drafts_all = []
        for a in AGENT_IDS:
            drafts = dp.drafts.get(a, [])
            drafts_all += drafts
            for k, d in enumerate(drafts):
                decisions.append(
                    Decision(
                        id=f"d{day:06d}-{SHORT[a]}-{k:04d}",
                        agent_id=a,
                        timestamp=now,
                        day=day,
                        action_type=d.action_type,
                        sku=str(self.public.sku[d.index]),
                        parameters=d.parameters,
                        rationale=d.rationale,
                        confidence_score=float(min(max(d.confidence, 0.0), 1.0)),
                        expected_outcome=d.expected,
                        outcome=None,
                    )
                )
                self.outcomes.expect(decisions[-1].id, a, self.epoch[a], d)
            if a in active and a not in dp.errors:
                self.counts[a] += len(drafts)
                self.activity[a] = _activity(a, day, drafts)
                if drafts:
                    self.last_time[a] = now
        promos = [
            d for d in decisions if d.action_type in ("markdown_application", "promotion_creation")
        ]
        if promos:
            events.append(
                StoreEvent(
                    kind="promotion_started",
                    agent_id="promotion_agent",
                    sku=promos[0].sku if len(promos) == 1 else None,
                    message=f"{len(promos)} markdown(s) posted on day {day}: "
                    + ", ".join(f"{d.sku} {d.parameters['discount']:.0%}" for d in promos[:5]),
                    data={"skus": [d.sku for d in promos], "count": len(promos)},
                )
            )
        book = metrics.DayBook(
            decisions=len(decisions),
            conflicts=metrics.count_conflicts(
                drafts_all, snap, dp.price, dp.markdown, dp.order_qty
            ),
            seconds=dict(dp.seconds),
        )
        rec = live.step()
        self.baseline.step()
        book.promo_sold, book.promo_lost = metrics.mark_day(
            self.last_markdown, rec, self.public.shelf_life
        )
        self.books.add(book)
        self.today_orders = np.zeros(self.public.n, dtype=np.int64)
        updates = self.outcomes.resolve(rec, self.epoch)
        return DayReport(
            day=day, timestamp=now, decisions=decisions, outcomes=updates, events=events
        )

    def _fail(self, agent_id: str, exc: BaseException) -> StoreEvent:
        self.status[agent_id] = AgentStatus.ERROR
        self.errors[agent_id] = f"{type(exc).__name__}: {exc}"
        self.activity[agent_id] = f"Failed on day {self.day}: {self.errors[agent_id]}"
        return StoreEvent(
            kind="agent_error",
            agent_id=agent_id,
            sku=None,
            message=f"{AGENT_NAMES[agent_id]} failed and its lever fell back to the "
            f"standing rule: {self.errors[agent_id]}",
            data={"error": self.errors[agent_id], "day": self.day},
        )

    # -- levers ----------------------------------------------------------------------------------
    def _check(self, agent_id: str) -> None:
        if agent_id not in AGENT_IDS:
            raise UnknownAgent(agent_id, AGENT_IDS)

    def pause(self, agent_id: str) -> str:
        self._check(agent_id)
        self.status[agent_id] = AgentStatus.PAUSED
        self.activity[agent_id] = (
            f"Paused on day {self.day}; {LEVER_NAME[agent_id]} follow the standing rule"
        )
        return (
            f"{AGENT_NAMES[agent_id]} paused; its {LEVER_NAME[agent_id]} follow the standing rule"
        )

    def resume(self, agent_id: str) -> str:
        self._check(agent_id)
        was = self.status[agent_id]
        self.status[agent_id] = AgentStatus.ACTIVE
        self.errors.pop(agent_id, None)
        self.activity[agent_id] = f"Resumed on day {self.day}"
        return f"{AGENT_NAMES[agent_id]} resumed (was {was.value})"

    def reset(self, agent_id: str) -> str:
        self._check(agent_id)
        fresh = make_agents(self.public, self.seed)[agent_id]
        fresh.seen_day = self.day - 1  # forget the past: learn from the next traded day on
        self.agents[agent_id] = fresh
        self.epoch[agent_id] += 1
        self.outcomes.reset(agent_id)
        self.counts[agent_id] = 0
        self.last_time[agent_id] = None
        self.status[agent_id] = AgentStatus.ACTIVE
        self.errors.pop(agent_id, None)
        self.activity[agent_id] = f"Reset on day {self.day}; learning from scratch"
        return f"{AGENT_NAMES[agent_id]} reset: learning and counters cleared, active"

    def override(self, agent_id: str, parameters: dict[str, Any]) -> str:
        """Apply an operator value now and hold it; the agent leaves that SKU's lever alone."""
        self._check(agent_id)
        v = validate(agent_id, parameters, self.sku_index, self.public.list_price)
        until = self.holds.set(agent_id, v, self.day)
        i = v["index"]
        price, markdown = self.live.price.copy(), self.live.markdown.copy()
        if agent_id == "pricing_agent":
            price[i] = v["price"]
            msg = f"price of {v['sku']} set to {v['price']:.2f} through day {until}"
        elif agent_id == "promotion_agent":
            markdown[i] = v["discount"]
            msg = f"markdown of {v['sku']} set to {v['discount']:.0%} through day {until}"
        else:
            self.today_orders[i] = v["quantity"]
            msg = f"order of {v['quantity']} units of {v['sku']} placed on day {until}"
        self.live.apply(Actions(price=price, markdown=markdown, order_qty=self.today_orders.copy()))
        return f"{AGENT_NAMES[agent_id]} override: {msg}"

    # -- reads -----------------------------------------------------------------------------------
    def kpis(self) -> dict[str, float | int | None]:
        """The contract's ten system_metrics fields (definitions in docs/agents.md); None where
        a ratio's denominator is still zero (no markdown, decision or timing in the window)."""
        out: dict[str, float | int | None] = kpis.store_kpis(
            self.live.ledger,
            self.baseline.ledger,
            self.live.catalog,
            self.window,
            self.stockout_window,
        )
        out["promotion_effectiveness"] = self.books.promotion()
        out["agent_collaboration_score"] = self.books.collaboration()
        out["decision_count"] = int(self.books.decision_total)
        out["response_time_avg"] = self.books.response_time()
        return out

    def agent_stats(self) -> list[AgentStats]:
        out = []
        for a in AGENT_IDS:
            out.append(
                AgentStats(
                    agent_id=a,
                    name=AGENT_NAMES[a],
                    status=self.status[a],
                    current_activity=self.activity[a],
                    last_decision_time=self.last_time[a],
                    decisions_count=self.counts[a],
                    success_rate=self.outcomes.success_rate(a),
                    avg_response_time=self.books.response_time(a),
                    interval_coverage=self.outcomes.coverage(a),
                )
            )
        return out

    def sku_rows(self, index: Iterable[int] | None = None) -> list[dict[str, Any]]:
        """The shelf per SKU, for every SKU or for those at `index` (in that order)."""
        c, s = self.public, self.live
        stock = s.stock_by_age
        on_hand = stock.sum(axis=1)
        oldest = np.argmax(stock > 0, axis=1)
        on_order = s.pipeline.sum(axis=1)
        until = self.holds.until(self.day)
        rows = []
        for i in range(c.n) if index is None else index:
            nz = np.flatnonzero(stock[i])
            rows.append(
                {
                    "sku": str(c.sku[i]),
                    "name": str(c.name[i]),
                    "category": str(c.category[i]),
                    "price": round(float(s.price[i]), 2),
                    "markdown_price": (
                        round(float(s.price[i] * (1 - s.markdown[i])), 2)
                        if s.markdown[i] > 0
                        else None
                    ),
                    "cost": round(float(c.unit_cost[i]), 2),
                    "stock": int(on_hand[i]),
                    "stock_by_age": {int(k + 1): int(stock[i, k]) for k in nz},
                    "days_to_expiry": int(oldest[i] + 1) if on_hand[i] > 0 else None,
                    "on_order": int(on_order[i]),
                    "override_until": int(until[i]) if until[i] >= 0 else None,
                }
            )
        return rows

    def conditions(self) -> list[Condition]:
        s, led = self.live, self.live.ledger
        last = led.last()
        model = self.agents["inventory_agent"].model
        forecast = model.mean_demand(s.price * (1 - s.markdown), s.weekday)
        expired = led.day_sums("expired", self.window)
        p7 = float(led.window("profit", 7).sum()) if led.days else 0.0
        b7 = float(self.baseline.ledger.window("profit", 7).sum()) if led.days else 0.0
        out = store_conditions(
            self.public, last, s.stock_by_age, s.pipeline[:, 0], forecast, expired, p7, b7
        )
        return out + agent_conditions(self.status, self.errors)

    # -- checkpoint ------------------------------------------------------------------------------
    def export_state(self, ring: bool = True) -> tuple[object, dict[str, np.ndarray]]:
        """(tree, arrays), copied: safe to encode after the caller lets go of the Operation.

        ring=False leaves the stores' per-day rows out; ring_rows() hands them over a day at a
        time and from_bytes(rows=...) puts them back.
        """

        def skip(obj: object, name: str) -> bool:
            return (obj is self and name == "sku_index") or (
                not ring and isinstance(obj, Ledger) and name in RING
            )

        return state.flatten(self, skip)

    @staticmethod
    def encode(tree: object, arrays: dict[str, np.ndarray]) -> bytes:
        return state.pack(tree, arrays, prefix=MAGIC + bytes([VERSION]))

    @staticmethod
    def encode_rows(rows: dict[str, np.ndarray]) -> bytes:
        return state.pack(None, rows)

    @staticmethod
    def decode_rows(data: bytes) -> dict[str, np.ndarray]:
        return state.unpack(data)[1]

    def to_bytes(self) -> bytes:
        return self.encode(*self.export_state())

    def ring_rows(self, first: int = 0) -> dict[str, np.ndarray]:
        """The stores' rows of days first.. that their ledgers still hold (copies)."""
        out: dict[str, np.ndarray] = {}
        for name in STORES:
            rows = getattr(self, name).ledger.rows(first)
            out |= {f"{name}/{k}": v for k, v in rows.items()}
        return out

    @staticmethod
    def rows_kept_apart(data: bytes) -> bool:
        """True when a checkpoint needs the ring rows stored beside it (export_state(ring=False))."""
        if _version(data) != VERSION:
            return False
        body = memoryview(data)[len(MAGIC) + 1 :]
        tree = json.loads(bytes(body[8 : 8 + int.from_bytes(body[:8], "little")]))["tree"]
        return "_arrays" not in tree["fields"]["live"]["fields"]["ledger"]["fields"]

    @classmethod
    def from_bytes(cls, data: bytes, rows: list[dict[str, np.ndarray]] | None = None) -> Operation:
        """Rebuild from to_bytes() or encode(); `rows` are ring_rows() batches, oldest first."""
        version = _version(data)
        if version == LEGACY_VERSION:
            return cls._from_pickle(bytes(data[len(MAGIC) + 1 :]))
        if version != VERSION:
            raise ValueError(f"checkpoint: expected version {VERSION}, got {version!r}")
        op = state.unflatten(*state.unpack(memoryview(data)[len(MAGIC) + 1 :]))
        if not isinstance(op, cls):
            raise ValueError(f"checkpoint: expected an Operation, got {type(op).__name__}")
        op.sku_index = {str(s): i for i, s in enumerate(op.public.sku)}
        _upgrade(op)
        for name in STORES:
            ledger = getattr(op, name).ledger
            if not hasattr(ledger, "_arrays"):
                ledger.put_rows({"day_index": np.zeros(0, dtype=np.int64)})  # an empty ring
                for batch in rows or ():
                    ledger.put_rows(
                        {
                            k[len(name) + 1 :]: v
                            for k, v in batch.items()
                            if k.startswith(name + "/")
                        }
                    )
        return op

    @classmethod
    def _from_pickle(cls, payload: bytes) -> Operation:
        saved = pickle.loads(payload)
        op = cls.__new__(cls)
        op.__dict__.update(saved)
        op.live, op.baseline = Store.from_state(saved["live"]), Store.from_state(saved["baseline"])
        _upgrade(op)
        if not hasattr(op, "last_markdown"):  # running counts started after this checkpoint
            led, life = op.live.ledger, np.asarray(op.public.shelf_life)
            reach = op.window + int(life.max()) - 1
            md = led.window("markdown", reach)
            sold, lost = metrics.marked_down_units(
                md, led.window("sales", reach), led.window("expired", reach), life
            )
            for book, s_, l_ in zip(reversed(op.books.days), sold[::-1], lost[::-1]):
                book.promo_sold, book.promo_lost = int(s_), int(l_)
            days = led.window("day", reach)[:, None]
            op.last_markdown = np.where(md > 0, days, NEVER).max(axis=0, initial=NEVER)
        return op


def _upgrade(op: Operation) -> None:
    """Fill in what checkpoints written before the competent baseline and the fresh-pick
    estimates lack: the baseline's tuned settings (retuned: deterministic for the catalog and
    seed), unlearned estimates and the inventory agent's default objective weights."""
    if not hasattr(op, "baseline_z"):
        op.baseline_z, op.baseline_clearance = tune(op.live.catalog, op.seed)
    promo = op.agents.get("promotion_agent")
    if isinstance(promo, PromotionAgent) and not hasattr(promo, "fresh"):
        promo.fresh = FreshPicks()
    inv = op.agents.get("inventory_agent")
    if isinstance(inv, InventoryAgent):
        if not hasattr(inv, "fresh"):
            inv.fresh = FreshPicks()
        if not hasattr(inv, "stockout_penalty"):
            inv.stockout_penalty, inv.waste_aversion = STOCKOUT_PENALTY, WASTE_AVERSION
            inv.lost_sales = False
        if not hasattr(inv, "supply"):
            inv.supply, inv.supply_day = None, -1


def _version(data: bytes) -> int | None:
    if not isinstance(data, (bytes, bytearray, memoryview)) or bytes(data[: len(MAGIC)]) != MAGIC:
        head = (
            bytes(data[: len(MAGIC)])
            if isinstance(data, (bytes, bytearray, memoryview))
            else type(data).__name__
        )
        raise ValueError(f"checkpoint: expected bytes starting with {MAGIC!r}, got {head!r}")
    return data[len(MAGIC)] if len(data) > len(MAGIC) else None


def _activity(agent_id: str, day: int, drafts: list[Draft]) -> str:
    if not drafts:
        return f"Day {day}: reviewed every SKU, no change needed"
    if agent_id == "pricing_agent":
        steps = [d.parameters["new_price"] / d.parameters["old_price"] - 1 for d in drafts]
        return f"Day {day}: {len(drafts)} price change(s), mean step {100 * np.mean(steps):+.1f}%"
    if agent_id == "inventory_agent":
        units = sum(d.parameters["order_qty"] for d in drafts)
        return (
            f"Day {day}: {len(drafts)} order-up-to level change(s), {units} units ordered on them"
        )
    return (
        f"Day {day}: {len(drafts)} markdown(s), mean discount "
        f"{100 * np.mean([d.parameters['discount'] for d in drafts]):.0f}%"
    )
