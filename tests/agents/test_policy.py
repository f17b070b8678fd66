"""Daily coordination on the real store: order of the agents and the standing-rule fallback."""

from __future__ import annotations

import numpy as np

from backend.agents.policy import ORDER, Locks, coordinate, make_agents
from backend.sim.catalog import make_catalog
from backend.sim.store import Actions, Store


def trade(store: Store, agents: dict, active: set[str], days: int) -> None:
    for _ in range(days):
        snap = store.snapshot(history_days=1)
        dp = coordinate(snap, store.standing_actions(), agents, active)
        store.apply(Actions(price=dp.price, markdown=dp.markdown, order_qty=dp.order_qty))
        store.step()


def test_order_is_markdowns_then_prices_then_orders() -> None:
    assert ORDER == ("promotion_agent", "pricing_agent", "inventory_agent")


def test_no_active_agent_means_exactly_the_standing_rule() -> None:
    store = Store(make_catalog(15, 3), 3)
    agents = make_agents(store.catalog.public(), 3)
    trade(store, agents, set(agents), 10)
    snap = store.snapshot(history_days=1)
    standing = store.standing_actions()
    dp = coordinate(snap, standing, agents, set())
    assert np.array_equal(dp.price, standing.price)
    assert np.array_equal(dp.markdown, standing.markdown)
    assert np.array_equal(dp.order_qty, standing.order_qty)
    assert dp.drafts == {} and dp.seconds == {}


def test_pricing_never_raises_a_price_the_promotion_agent_marked_down() -> None:
    store = Store(make_catalog(30, 4), 4)
    agents = make_agents(store.catalog.public(), 4)
    seen = 0
    for _ in range(40):
        snap = store.snapshot(history_days=1)
        dp = coordinate(snap, store.standing_actions(), agents, set(agents))
        under = dp.markdown > 0
        seen += int(under.sum())
        assert np.all(dp.price[under] <= snap.price[under] + 1e-9)
        store.apply(Actions(price=dp.price, markdown=dp.markdown, order_qty=dp.order_qty))
        store.step()
    assert seen > 0


def test_inventory_orders_for_the_markdown_it_is_told_about() -> None:
    store = Store(make_catalog(20, 5), 5)
    agents = make_agents(store.catalog.public(), 5)
    trade(store, agents, set(agents), 15)
    snap = store.snapshot(history_days=1)
    n = len(snap.price)
    plain = coordinate(snap, store.standing_actions(), agents, {"inventory_agent"})
    locks = Locks.none(n)
    locks.markdown[:] = True
    locks.markdown_value[:] = 0.5  # everything half price today
    deep = coordinate(snap, store.standing_actions(), agents, {"inventory_agent"}, locks)
    assert deep.order_qty.sum() > plain.order_qty.sum()
    assert np.all(deep.markdown == 0.5)


def test_agents_never_beat_the_hindsight_upper_bound() -> None:
    from backend.sim.oracle import profit_upper_bound

    catalog = make_catalog(12, 6)
    store = Store(catalog, 6)
    agents = make_agents(catalog.public(), 6)
    trade(store, agents, set(agents), 40)
    assert 0 < store.ledger.profit <= profit_upper_bound(catalog, 6, 40)
