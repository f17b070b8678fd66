"""Client-side checks of override parameters, mirroring the backend's rules, before sending."""

from __future__ import annotations

import math
from typing import Any

OVERRIDE_FIELDS = {
    "pricing_agent": ("sku", "price", "hold_days"),
    "inventory_agent": ("sku", "quantity"),
    "promotion_agent": ("sku", "discount", "days"),
}


MAX_DAYS = 90  # the backend holds an override for at most 90 sim days
MAX_QUANTITY = 100_000  # and orders at most this many units in one override


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def validate_override(agent_id: str, params: dict, known_skus: set[str] | None = None) -> list[str]:
    """Problems with `params` for `agent_id`'s override, each saying what was expected; [] if fine."""
    if agent_id not in OVERRIDE_FIELDS:
        return [f"agent: expected one of {', '.join(OVERRIDE_FIELDS)}, got {agent_id!r}"]
    problems = []
    missing = [f for f in OVERRIDE_FIELDS[agent_id] if params.get(f) in (None, "")]
    problems += [f"{f}: required" for f in missing]
    sku = params.get("sku")
    if sku not in (None, "") and known_skus is not None and sku not in known_skus:
        problems.append(f"sku: expected one of the store's SKUs, got {sku!r}")
    checks = {
        "price": (_is_real, lambda v: v > 0, "a price above 0"),
        "hold_days": (
            _is_int,
            lambda v: 1 <= v <= MAX_DAYS,
            f"a whole number of days from 1 to {MAX_DAYS}",
        ),
        "quantity": (
            _is_int,
            lambda v: 0 <= v <= MAX_QUANTITY,
            f"a whole number of units from 0 to {MAX_QUANTITY:,}",
        ),
        "discount": (
            _is_real,
            lambda v: 0 < v < 0.9,
            "a discount fraction between 0 and 0.9 (both excluded)",
        ),
        "days": (
            _is_int,
            lambda v: 1 <= v <= MAX_DAYS,
            f"a whole number of days from 1 to {MAX_DAYS}",
        ),
    }
    for name in OVERRIDE_FIELDS[agent_id]:
        if name == "sku" or name in missing:
            continue
        kind_ok, range_ok, expected = checks[name]
        value = params[name]
        if not (kind_ok(value) and range_ok(value)):
            problems.append(f"{name}: expected {expected}, got {value!r}")
    return problems
