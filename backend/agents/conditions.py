"""Alert conditions that hold now, aggregated so that many SKUs raise one alert, not a flood.

Per kind, up to PER_SKU_LIMIT affected SKUs give one condition each (key "kind:SKU"); more give
a single "kind:many" condition naming the count and the worst few.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from backend.agents.records import AGENT_NAMES, AgentStatus, Condition
from backend.agents.views import CatalogView, DayView

PER_SKU_LIMIT = 3


def _per_kind(
    kind: str,
    title: str,
    severity: str,
    idx: np.ndarray,
    sku: np.ndarray,
    name: np.ndarray,
    describe: Callable[[int], str],
    many_severity: str | None = None,
) -> list[Condition]:
    """`idx`: the affected SKUs' indices, worst first; only the few named are described."""
    if len(idx) == 0:
        return []
    named = [int(i) for i in idx[:PER_SKU_LIMIT]]
    if len(idx) <= PER_SKU_LIMIT:
        return [
            Condition(
                key=f"{kind}:{sku[i]}",
                severity=severity,
                title=title,
                message=f"{sku[i]} {name[i]}: {describe(i)}",
                agent_id=None,
                sku=str(sku[i]),
            )
            for i in named
        ]
    listed = "; ".join(f"{sku[i]} {describe(i)}" for i in named)
    return [
        Condition(
            key=f"{kind}:many",
            severity=many_severity or severity,
            title=title,
            message=f"{len(idx)} SKUs, worst: {listed}",
            agent_id=None,
            sku=None,
        )
    ]


def store_conditions(
    catalog: CatalogView,
    last: DayView | None,
    stock_by_age: np.ndarray,
    arriving: np.ndarray,
    forecast: np.ndarray,
    expired_window: np.ndarray,
    profit7: float,
    base_profit7: float,
) -> list[Condition]:
    """Conditions from the last traded day (`last`, a DayRecord or None) and the shelf now.

    forecast: expected units per SKU on the next trading day at the posted prices;
    expired_window: (T,) units written off per day over the trailing window, last day last.
    """
    out: list[Condition] = []
    if last is None:
        return out
    sku, name = np.asarray(catalog.sku), np.asarray(catalog.name)
    n = len(sku)
    so = np.flatnonzero(last.stocked_out)
    # worst first: the most forecast demand the emptied shelf could not serve (demand is hidden)
    so = so[np.argsort(-(forecast[so] - last.sales[so]), kind="stable")]
    out += _per_kind(
        "stockout",
        "Stock-out",
        "warning",
        so,
        sku,
        name,
        lambda i: f"sold out on day {last.day} after {int(last.sales[i])} units",
        "error" if len(so) > 0.1 * n else "warning",
    )
    on_hand = stock_by_age.sum(axis=1)
    cover = (on_hand + arriving) / np.maximum(forecast, 1e-9)
    low = np.flatnonzero((cover < 0.5) & (forecast >= 1.0))
    low = low[np.argsort(cover[low], kind="stable")]
    out += _per_kind(
        "low_cover",
        "Low stock cover",
        "warning",
        low,
        sku,
        name,
        lambda i: f"{int(on_hand[i] + arriving[i])} units against a forecast of {forecast[i]:.1f}",
    )
    exp = stock_by_age[:, 0]
    risky = np.flatnonzero(exp > np.maximum(forecast, 1.0))
    risky = risky[np.argsort(-(exp[risky] - forecast[risky]), kind="stable")]
    out += _per_kind(
        "expiring",
        "Units expiring",
        "info",
        risky,
        sku,
        name,
        lambda i: (
            f"{int(exp[i])} units reach end of life at the next close, forecast sales "
            f"{forecast[i]:.1f}"
        ),
    )
    eff = last.price * (1.0 - last.markdown)
    below = np.flatnonzero((eff < catalog.unit_cost) & (last.sales > 0))
    out += _per_kind(
        "margin",
        "Selling below cost",
        "info",
        below,
        sku,
        name,
        lambda i: f"sold at {eff[i]:.2f} against cost {catalog.unit_cost[i]:.2f}",
    )
    if base_profit7 > 0 and profit7 < base_profit7:
        out.append(
            Condition(
                key="margin:store",
                severity="warning",
                title="Margin erosion",
                message=(
                    f"profit over the last 7 days {profit7:.2f} is below the "
                    f"standing-rule store's {base_profit7:.2f}"
                ),
                agent_id=None,
                sku=None,
            )
        )
    if len(expired_window) >= 7:
        today, past = float(expired_window[-1]), float(np.mean(expired_window[:-1]))
        if today >= 10 and today > 2.0 * past:
            out.append(
                Condition(
                    key="waste_spike",
                    severity="warning",
                    title="Waste spike",
                    message=(
                        f"{today:.0f} units written off on day {last.day}, "
                        f"{today / max(past, 1e-9):.1f}x the trailing mean {past:.1f}"
                    ),
                    agent_id=None,
                    sku=None,
                )
            )
    return out


def agent_conditions(status: dict[str, AgentStatus], errors: dict[str, str]) -> list[Condition]:
    """One condition per paused or failed agent."""
    out = []
    for a, s in status.items():
        if s is AgentStatus.PAUSED:
            out.append(
                Condition(
                    key=f"agent_paused:{a}",
                    severity="warning",
                    title=f"{AGENT_NAMES[a]} paused",
                    message=f"{AGENT_NAMES[a]} is paused; its lever follows the standing rule",
                    agent_id=a,
                    sku=None,
                )
            )
        elif s is AgentStatus.ERROR:
            out.append(
                Condition(
                    key=f"agent_error:{a}",
                    severity="error",
                    title=f"{AGENT_NAMES[a]} failed",
                    message=(
                        f"{AGENT_NAMES[a]} raised {errors.get(a, 'an error')}; "
                        "its lever follows the standing rule until resume or reset"
                    ),
                    agent_id=a,
                    sku=None,
                )
            )
    return out
