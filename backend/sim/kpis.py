"""Store-side KPIs (defined in README.md, "The KPIs"), pure functions of ledgers. Windowed sums run over the
ledger's per-day totals (Ledger.day_sums), so a day's KPIs cost the window's days, not its
SKU-days.

Totals run from the start of the run; windows are the trailing `window` traded days (fewer at
the start). `baseline` is the ledger of the shadow store run on the same catalog and seed by
the standing rule (same demand draws). A ratio whose denominator is zero is undefined and is
returned as None (served as null), never as a stand-in number:
- inventory_turnover: None before the first day and when no stock was held in the window.
- waste_reduction_percentage: 100 x (1 - expired / expired_baseline), negative when the live
  store wastes more; None while the baseline has wasted nothing.
- price_optimization_score: None when nothing was priced (no day yet, or no stock on any shelf
  in the window).
"""

from __future__ import annotations

import numpy as np

from backend.sim.catalog import Catalog
from backend.sim.ledger import Ledger

DAYS_PER_YEAR = 365.0


def total_revenue(ledger: Ledger) -> float:
    """Sum of effective price x units sold since the start (currency)."""
    return float(ledger.totals["revenue"])


def total_profit(ledger: Ledger) -> float:
    """Revenue - cogs - holding - disposal since the start (currency)."""
    return ledger.profit


def inventory_turnover(ledger: Ledger, window: int = 28) -> float | None:
    """Annualised cost of goods sold / mean closing inventory at cost, over the window (1/year)."""
    _check_window(window)
    cogs = ledger.window("cogs", window)
    if cogs.size == 0:
        return None
    mean_inventory = float(ledger.window("inventory_value", window).mean())
    if mean_inventory <= 0.0:
        return None
    return float(cogs.sum()) * DAYS_PER_YEAR / cogs.size / mean_inventory


def stockout_incidents(ledger: Ledger, window: int = 7) -> int:
    """SKU-days the shelf was emptied (units sold == units available, an empty shelf
    included), over the window: what a store sees, not the hidden demand."""
    _check_window(window)
    return int(ledger.day_sums("stocked_out", window).sum())


def waste_reduction_percentage(
    ledger: Ledger, baseline: Ledger, window: int | None = None
) -> float | None:
    """100 x (1 - expired units / baseline expired units), since the start (or over a window).

    The two ledgers must cover the same days (same catalog, seed and day).
    """
    if ledger.days != baseline.days:
        raise ValueError(
            f"baseline: expected a ledger of the same {ledger.days} days, got {baseline.days}"
        )
    if window is None:
        live, base = ledger.totals["units_expired"], baseline.totals["units_expired"]
    else:
        _check_window(window)
        live = int(ledger.window("expired", window).sum())
        base = int(baseline.window("expired", window).sum())
    if base == 0:
        return None
    return 100.0 * (1.0 - live / base)


def price_optimization_score(ledger: Ledger, catalog: Catalog, window: int = 28) -> float | None:
    """Expected profit at posted prices / at the true optimal prices for the same stock; 0..1.

    Summed over the SKU-days of the window (economics.expected_profit under the true model;
    each day is computed once, on first request, and its totals kept in the ledger, so the
    window sums one number a day).
    """
    _check_window(window)
    if catalog.n != ledger.n:
        raise ValueError(f"catalog: expected the ledger's {ledger.n} SKUs, got {catalog.n}")
    posted, best = ledger.price_score_sums(catalog, window)
    if best <= 0.0:
        return None
    return float(np.clip(posted / best, 0.0, 1.0))


def waste_rate(ledger: Ledger) -> float:
    """Expired / received units since the start (0 before anything is received)."""
    received = ledger.totals["units_received"]
    return ledger.totals["units_expired"] / received if received else 0.0


def fill_rate(ledger: Ledger) -> float:
    """Units sold / units demanded since the start (hidden demand; 1 when nothing was asked)."""
    demanded = ledger.totals["units_demanded"]
    return ledger.totals["units_sold"] / demanded if demanded else 1.0


def store_kpis(
    ledger: Ledger, baseline: Ledger, catalog: Catalog, window: int = 28, stockout_window: int = 7
) -> dict[str, float | int | None]:
    """The six store-side system_metrics fields, unrounded (None where undefined)."""
    return {
        "total_revenue": total_revenue(ledger),
        "total_profit": total_profit(ledger),
        "inventory_turnover": inventory_turnover(ledger, window),
        "stockout_incidents": stockout_incidents(ledger, stockout_window),
        "waste_reduction_percentage": waste_reduction_percentage(ledger, baseline),
        "price_optimization_score": price_optimization_score(ledger, catalog, window),
    }


def _check_window(window: int) -> None:
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1:
        raise ValueError(f"window: expected an integer >= 1 (days), got {window!r}")
