"""Per-category figures of a store's ledger: where the agents help and where they hurt.

Pure functions of a ledger (its per-SKU running sums and its ring of day records) and the
public catalog. Money
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

from backend.sim.ledger import SKU_TOTALS, Ledger

# Units each store must have written off before their waste is compared: below it, a
# percentage swings between +100% and -75% on a handful of units.
MIN_WASTE_UNITS = 30

FIGURES = ("revenue", "profit", "units_sold", "units_wasted", "fill_rate", "stockout_sku_days")


def sku_sums(ledger: Ledger, days: int | None = None) -> dict[str, np.ndarray]:
    """Per-SKU sums of the SKU_TOTALS fields: since the start (None), or over the last `days`."""
    if days is None:
        return ledger.sku_totals
    price = ledger.window("price", days) * (1.0 - ledger.window("markdown", days))
    out = {"revenue": (price * ledger.window("sales", days)).sum(axis=0)}
    for f in SKU_TOTALS[1:]:
        out[f] = ledger.window(f, days).sum(axis=0, dtype=np.float64)
    return out


def category_figures(sums: dict[str, np.ndarray], catalog: Any) -> dict[str, dict[str, Any]]:
    """Figures per category from per-SKU sums (sku_sums). `catalog` needs category, unit_cost,
    disposal_fee and holding_rate (a PublicCatalog will do)."""
    names, index = np.unique(np.asarray(catalog.category).astype(str), return_inverse=True)
    k = len(names)

    def per_category(per_sku: np.ndarray) -> np.ndarray:
        return np.bincount(index, weights=per_sku, minlength=k)

    cost = np.asarray(catalog.unit_cost, dtype=float)
    fee = np.asarray(catalog.disposal_fee, dtype=float)
    sales, expired = sums["sales"], sums["expired"]
    revenue = per_category(sums["revenue"])
    sold = per_category(sales)
    wasted = per_category(expired)
    holding = float(catalog.holding_rate) * per_category(cost * sums["closing_stock"])
    profit = revenue - per_category(cost * sales) - holding - per_category((cost + fee) * expired)
    demanded = per_category(sums["demand"])
    stockouts = per_category(sums["stocked_out"])
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


def comparable_from(live: Ledger, baseline: Ledger, minimum: int = MIN_WASTE_UNITS) -> int | None:
    """The first traded day after which both stores had written off `minimum` units since the
    start (a store's first day held if it got there before its ledger's ring); None until then."""
    days = []
    for ledger in (live, baseline):
        daily = ledger.window("expired").sum(axis=1, dtype=np.int64)
        before = int(ledger.totals["units_expired"]) - int(daily.sum())  # days the ring dropped
        reached = before + np.cumsum(daily) >= minimum
        if not reached.any():
            return None
        days.append(int(ledger.window("day")[np.argmax(reached)]))
    return max(days)


def by_category(live: Ledger, baseline: Ledger, catalog: Any, window: int) -> dict[str, Any]:
    """The live store against its baseline twin per category, since the start and over the
    trailing `window` days. `since_start_days` says how many days the first period covers."""
    if live.days != baseline.days:
        raise ValueError(
            f"baseline: expected a ledger of the same {live.days} days, got {baseline.days}"
        )
    held = min(live.days, live.history_days, baseline.history_days)  # days both rings hold
    # since the start from the running sums; a store restored from a checkpoint made before
    # they were kept has only its ring, and then both stores are compared over the days held
    whole = all(getattr(led, "sku_totals", None) is not None for led in (live, baseline))
    since = live.days if whole else held
    periods = {
        "since_start": [
            category_figures(sku_sums(led, None if whole else held), catalog)
            for led in (live, baseline)
        ],
        "window": [
            category_figures(sku_sums(led, min(window, held)), catalog) for led in (live, baseline)
        ],
    }
    names, counts = np.unique(np.asarray(catalog.category).astype(str), return_counts=True)
    skus = {str(name): int(count) for name, count in zip(names, counts, strict=True)}
    return {
        "day": live.days,
        "window_days": min(window, held),
        "since_start_days": since,
        "covers_since_start": since == live.days,
        "waste_min_units": MIN_WASTE_UNITS,
        "waste_comparable_from_day": comparable_from(live, baseline),
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
