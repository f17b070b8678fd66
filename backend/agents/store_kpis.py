"""Store-side KPIs of the live store against its standing-rule twin (DESIGN.md, "KPIs")."""

from __future__ import annotations

import numpy as np

from backend.sim.store import Store, demand_rate

GRID = np.geomspace(0.5, 4.0, 43)


def price_efficiency(store: Store, days: int) -> float:
    """Expected profit at posted prices / at the best grid prices, true model, same stock; 0..1."""
    c = store.catalog
    led = store.ledger
    if led.days == 0:
        return 0.0
    wd = led.window("weekday", days)
    eff = led.window("price", days) * (1.0 - led.window("markdown", days))
    avail = led.window("available", days).astype(float)
    num = den = 0.0
    for t in range(len(wd)):
        mu = demand_rate(c, int(wd[t]), eff[t])
        num += float(((eff[t] - c.unit_cost) * np.minimum(mu, avail[t])).sum())
        grid = c.list_price[:, None] * GRID[None, :]
        mu_g = (c.base_demand * c.weekday[:, int(wd[t])])[:, None] * GRID[None, :] ** c.elasticity[:, None]
        best = ((grid - c.unit_cost[:, None]) * np.minimum(mu_g, avail[t][:, None])).max(axis=1)
        den += float(np.maximum(best, 0.0).sum())
    return 0.0 if den <= 0 else float(np.clip(num / den, 0.0, 1.0))


def store_kpis(live: Store, baseline: Store, window: int, stockout_window: int) -> dict:
    """total_revenue, total_profit, inventory_turnover, stockout_incidents,
    waste_reduction_percentage and price_optimization_score."""
    led = live.ledger
    tot = led.summary()
    out: dict = {"total_revenue": round(float(tot["revenue"]), 2),
                 "total_profit": round(float(tot["profit"]), 2)}
    if led.days:
        cogs = float(led.window("cogs", window).sum())
        inv = float(led.window("inventory_value", window).mean())
        days = min(led.days, window)
        out["inventory_turnover"] = round(cogs * 365.0 / days / inv, 3) if inv > 0 else 0.0
        out["stockout_incidents"] = int(led.window("stocked_out", stockout_window).sum())
    else:
        out["inventory_turnover"] = 0.0
        out["stockout_incidents"] = 0
    base_waste = float(baseline.ledger.totals["units_expired"])
    waste = float(led.totals["units_expired"])
    out["waste_reduction_percentage"] = round(100.0 * (1.0 - waste / base_waste), 2) if base_waste > 0 else 0.0
    out["price_optimization_score"] = round(price_efficiency(live, window), 4)
    return out
