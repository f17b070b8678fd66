"""Override parameters are checked before anything is sent."""

from __future__ import annotations

from console.overrides import validate_override

SKUS = {"SKU1", "SKU2"}


def test_valid_overrides_pass() -> None:
    assert (
        validate_override("pricing_agent", {"sku": "SKU1", "price": 3.29, "hold_days": 7}, SKUS)
        == []
    )
    assert validate_override("inventory_agent", {"sku": "SKU2", "quantity": 24}, SKUS) == []
    assert (
        validate_override("promotion_agent", {"sku": "SKU1", "discount": 0.25, "days": 2}, SKUS)
        == []
    )


def test_discount_must_be_strictly_between_zero_and_point_nine() -> None:
    for bad in (0, 0.0, 0.9, 1.2, -0.1):
        problems = validate_override(
            "promotion_agent", {"sku": "SKU1", "discount": bad, "days": 2}, SKUS
        )
        assert problems == [
            f"discount: expected a discount fraction between 0 and 0.9 (both excluded), got {bad!r}"
        ]


def test_missing_and_wrong_fields_say_what_was_expected() -> None:
    assert validate_override(
        "pricing_agent", {"sku": None, "price": None, "hold_days": 7}, SKUS
    ) == ["sku: required", "price: required"]
    assert validate_override(
        "pricing_agent", {"sku": "SKU9", "price": 0.0, "hold_days": 2.5}, SKUS
    ) == [
        "sku: expected one of the store's SKUs, got 'SKU9'",
        "price: expected a price above 0, got 0.0",
        "hold_days: expected a whole number of days from 1 to 90, got 2.5",
    ]
    assert validate_override("inventory_agent", {"sku": "SKU1", "quantity": -3}, SKUS) == [
        "quantity: expected a whole number of units from 0 to 100,000, got -3"
    ]
    assert validate_override(
        "promotion_agent", {"sku": "SKU1", "discount": 0.2, "days": 91}, SKUS
    ) == ["days: expected a whole number of days from 1 to 90, got 91"]
    assert validate_override("weather_agent", {}, SKUS)[0].startswith("agent: expected one of")
