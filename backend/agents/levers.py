"""Operator overrides: validation with named errors, and the holds they put on each lever."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from backend.agents.policy import Locks
from backend.errors import InvalidOverride, UnknownSku

PRICE_BAND = (0.2, 5.0)  # an override price must lie in this band around the list price
MAX_HOLD_DAYS = 90
MAX_QUANTITY = 100_000
FIELDS = {
    "pricing_agent": ("sku", "price", "hold_days"),
    "inventory_agent": ("sku", "quantity"),
    "promotion_agent": ("sku", "discount", "days"),
}


def _int_field(params: dict[str, Any], name: str, lo: int, hi: int) -> int:
    v = params.get(name)
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or not lo <= int(v) <= hi:
        raise InvalidOverride(name, f"an integer from {lo} to {hi}", v)
    return int(v)


def _number(params: dict[str, Any], name: str) -> float | None:
    v = params.get(name)
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        return None
    v = float(v)
    return v if math.isfinite(v) else None


def validate(
    agent_id: str, params: object, sku_index: dict[str, int], list_price: np.ndarray
) -> dict[str, Any]:
    """Checked override values for the agent's lever; raises UnknownSku or InvalidOverride."""
    if not isinstance(params, dict):
        raise InvalidOverride("*", f"an object with fields {', '.join(FIELDS[agent_id])}", params)
    for key in params:
        if key not in FIELDS[agent_id]:
            raise InvalidOverride(
                str(key),
                f"no such field ({agent_id} takes {', '.join(FIELDS[agent_id])})",
                params[key],
            )
    sku = params.get("sku")
    if not isinstance(sku, str) or not sku:
        raise InvalidOverride("sku", "a SKU id string such as 'SKU123456'", sku)
    if sku not in sku_index:
        raise UnknownSku(sku)
    i = sku_index[sku]
    out: dict[str, Any] = {"sku": sku, "index": i}
    if agent_id == "pricing_agent":
        lo, hi = PRICE_BAND[0] * list_price[i], PRICE_BAND[1] * list_price[i]
        p = _number(params, "price")
        if p is None or p <= 0 or not lo <= p <= hi:
            raise InvalidOverride(
                "price",
                f"a finite number > 0 within {PRICE_BAND[0]}x..{PRICE_BAND[1]}x "
                f"the list price ({lo:.2f}..{hi:.2f})",
                params.get("price"),
            )
        out["price"] = round(p, 2)
        out["hold_days"] = _int_field(params, "hold_days", 1, MAX_HOLD_DAYS)
    elif agent_id == "inventory_agent":
        out["quantity"] = _int_field(params, "quantity", 0, MAX_QUANTITY)
    else:
        d = _number(params, "discount")
        if d is None or not 0.0 < d < 0.9:
            raise InvalidOverride(
                "discount", "a fraction with 0 < discount < 0.9", params.get("discount")
            )
        out["discount"] = d
        out["days"] = _int_field(params, "days", 1, MAX_HOLD_DAYS)
    return out


@dataclass
class Holds:
    """Per-SKU override values and the last day (inclusive) each holds; -1 = none."""

    price: np.ndarray
    price_until: np.ndarray
    markdown: np.ndarray
    markdown_until: np.ndarray
    order: np.ndarray
    order_day: np.ndarray

    @classmethod
    def empty(cls, n: int) -> Holds:
        neg = np.full(n, -1, dtype=np.int64)
        return cls(
            np.zeros(n),
            neg.copy(),
            np.zeros(n),
            neg.copy(),
            np.zeros(n, dtype=np.int64),
            neg.copy(),
        )

    def set(self, agent_id: str, v: dict[str, Any], day: int) -> int:
        """Record an override made before trading `day`; returns the last day it holds."""
        i = v["index"]
        if agent_id == "pricing_agent":
            self.price[i], self.price_until[i] = v["price"], day + v["hold_days"] - 1
            return int(self.price_until[i])
        if agent_id == "promotion_agent":
            self.markdown[i], self.markdown_until[i] = v["discount"], day + v["days"] - 1
            return int(self.markdown_until[i])
        self.order[i], self.order_day[i] = v["quantity"], day
        return day

    def locks(self, day: int) -> Locks:
        return Locks(
            price=self.price_until >= day,
            price_value=self.price.copy(),
            markdown=self.markdown_until >= day,
            markdown_value=self.markdown.copy(),
            order_qty=self.order_day == day,
            order_value=self.order.copy(),
        )

    def until(self, day: int) -> np.ndarray:
        """Last day any override holds per SKU, or -1."""
        u = np.maximum(
            np.where(self.price_until >= day, self.price_until, -1),
            np.where(self.markdown_until >= day, self.markdown_until, -1),
        )
        return np.maximum(u, np.where(self.order_day == day, self.order_day, -1))
