"""Per-category figures of a store's ledger: where the agents help and where they hurt.

Pure functions of a ledger (its ring of per-SKU day records) and the public catalog. Money
follows the ledger's identities per SKU-day: revenue = effective price x units sold, cost of
goods = unit cost x units sold, holding = holding rate x unit cost x closing stock, disposal =
(unit cost + disposal fee) x units written off; profit = revenue - the three costs, so the
categories of a period add up to the store's figures of that period. Fill rate is units sold /
units demanded (the demand is the store's own record, as in the store-side KPIs); None for a
category that was asked for nothing in the period.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from backend.sim.ledger import Ledger

FIGURES = ("revenue", "profit", "units_sold", "units_wasted", "fill_rate", "stockout_sku_days")


def category_figures(
    ledger: Ledger, catalog: Any, days: int | None = None
) -> dict[str, dict[str, float | int | None]]:
    """Figures per category over the last `days` traded days held (all held if None).

    `catalog` needs category, unit_cost, disposal_fee and holding_rate (a PublicCatalog will do).
    """
    names, index = np.unique(np.asarray(catalog.category).astype(str), return_inverse=True)
    k = len(names)

    def by_category(per_sku: np.ndarray) -> np.ndarray:
        return np.bincount(index, weights=per_sku, minlength=k)

    cost = np.asarray(catalog.unit_cost, dtype=float)
    fee = np.asarray(catalog.disposal_fee, dtype=float)
    price = ledger.window("price", days) * (1.0 - ledger.window("markdown", days))
    sales = ledger.window("sales", days).astype(float)
    expired = ledger.window("expired", days).astype(float)
    closing = ledger.window("closing_stock", days).astype(float)
    demand = ledger.window("demand", days).astype(float)
    revenue = by_category((price * sales).sum(axis=0))
    sold = by_category(sales.sum(axis=0))
    wasted = by_category(expired.sum(axis=0))
    holding = float(catalog.holding_rate) * by_category(cost * closing.sum(axis=0))
    profit = revenue - by_category(cost * sales.sum(axis=0)) - holding
    profit -= by_category((cost + fee) * expired.sum(axis=0))
    demanded = by_category(demand.sum(axis=0))
    stockouts = by_category(ledger.window("stocked_out", days).sum(axis=0).astype(float))
    return {
        str(names[c]): {
            "revenue": float(revenue[c]),
            "profit": float(profit[c]),
            "units_sold": int(round(sold[c])),
            "units_wasted": int(round(wasted[c])),
            "fill_rate": float(sold[c] / demanded[c]) if demanded[c] > 0 else None,
            "stockout_sku_days": int(round(stockouts[c])),
        }
        for c in range(k)
    }


def by_category(live: Ledger, baseline: Ledger, catalog: Any, window: int) -> dict[str, Any]:
    """The live store against its baseline twin per category, over every day held and over the
    trailing `window` days. `since_start_days` says how many days the first period covers: all
    traded days while the ledger's ring still holds them, its length after that."""
    if live.days != baseline.days:
        raise ValueError(
            f"baseline: expected a ledger of the same {live.days} days, got {baseline.days}"
        )
    held = min(live.days, live.history_days)
    periods = {
        "since_start": (
            category_figures(live, catalog),
            category_figures(baseline, catalog),
        ),
        "window": (
            category_figures(live, catalog, window),
            category_figures(baseline, catalog, window),
        ),
    }
    names, counts = np.unique(np.asarray(catalog.category).astype(str), return_counts=True)
    skus = {str(name): int(count) for name, count in zip(names, counts, strict=True)}
    return {
        "day": live.days,
        "window_days": min(window, held),
        "since_start_days": held,
        "covers_since_start": held == live.days,
        "categories": [
            {
                "category": name,
                "skus": skus[name],
                **{
                    period: {"live": figs[0][name], "baseline": figs[1][name]}
                    for period, figs in periods.items()
                },
            }
            for name in sorted(skus)
        ],
    }
