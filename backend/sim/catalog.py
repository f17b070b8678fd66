"""The store's catalog: per-SKU parameters drawn from ranges grounded in published retail figures.

Choices the design leaves open, and why:
- Category mix 10% bakery, 20% dairy, 25% produce, 15% meat, 30% ambient: a fresh-led
  neighbourhood supermarket (bakery is a small share of units, dry grocery the largest).
- Bakery shelf life 1 day for a third of lines (in-store fresh bread and pastries, baked the
  same day: lead time 0), 2 days for the rest (packaged and part-baked lines).
- Lead time 0-2 days, bakery 0-1: bread is baked in store or delivered overnight, and a
  one-day product ordered two days ahead is not how any bakery department runs.
- List prices log-uniform per category, ending in 9 (psychological price points); the unit
  cost follows from a markup on cost (MARKUP), so the Lerner price lands at 0.80-1.26 of list.
- Own-price elasticity uniform in [-3.5, -2.0] (Lerner gross margins 29-50%, the range of
  grocery gross margins; around the meta-analytic mean of about -2.6).
- Base demand lognormal, median 5/day, log-sd 0.8 (long right tail of fast movers), clipped to
  [2, 60] as the design asks.
- Demand noise: gamma shock (mean 1, shape k) times Poisson, i.e. negative binomial with
  CV^2 = 1/mu + 1/k. One k = 20 for all SKUs gives CV 0.5 at the median base demand (5/day),
  about 0.73 for the slowest movers (2/day) and 0.26 for the fastest (60/day): the CV of
  daily sales falls with volume in real stores (variance grows faster than the mean but
  slower than its square), which a per-SKU CV of exactly 0.5 would contradict.
- Weekday multipliers: a common weekly shape (Saturday peak, Tuesday trough, typical of
  grocery footfall) with a 5% per-SKU lognormal jitter, renormalised to mean 1 per SKU.
- Disposal fee per written-off unit: a few pence of collection, landfill/compost tax and
  handling; more for meat (animal by-product disposal).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from backend.sim.arrays import FloatArray, IntArray, StrArray

CATEGORIES: tuple[str, ...] = ("bakery", "dairy", "produce", "meat", "ambient")
CATEGORY_SHARE = np.array([0.10, 0.20, 0.25, 0.15, 0.30])
PRICE_RANGE = {
    "bakery": (1.0, 4.5),
    "dairy": (0.9, 5.5),
    "produce": (0.7, 4.0),
    "meat": (2.5, 12.0),
    "ambient": (0.8, 7.0),
}
SHELF_LIFE = {
    "bakery": (2, 3),
    "dairy": (3, 7),
    "produce": (2, 3),
    "meat": (2, 5),
    "ambient": (180, 180),
}
BAKERY_ONE_DAY_SHARE = 0.1
LEAD_TIME_MAX = {"bakery": 1, "dairy": 2, "produce": 2, "meat": 2, "ambient": 2}
DISPOSAL_FEE = {"bakery": 0.05, "dairy": 0.08, "produce": 0.05, "meat": 0.15, "ambient": 0.05}
WEEKDAY_SHAPE = np.array([0.88, 0.85, 0.90, 0.95, 1.08, 1.25, 1.09])  # Monday first
HOLDING_RATE = 0.002
ELASTICITY_RANGE = (-3.5, -2.0)
# List price = unit cost x category markup x a per-SKU jitter: the grocer prices from cost.
# With elasticities in ELASTICITY_RANGE the profit-maximising (Lerner) markup e / (1 + e) runs
# from 1.4 to 2.0; a markup of 1.67 (list gross margin 40%) at +-5% puts the Lerner price at
# 0.80-1.26 of the list price: lists near, not far from, what the demand would bear.
MARKUP = {c: 1.67 for c in ("bakery", "dairy", "produce", "meat", "ambient")}
MARKUP_JITTER = (0.95, 1.05)
FRESH_SHARE = 0.15
TARGET_CV = 0.5
MEDIAN_DEMAND = 5.0

_PRODUCTS: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    "bakery": [
        ("Sourdough Loaf", ("400g", "800g")),
        ("Baguette", ("250g", "400g")),
        ("Ciabatta", ("300g",)),
        ("Rye Bread", ("500g", "750g")),
        ("Brioche Buns", ("4 pack", "6 pack")),
        ("Croissants", ("4 pack", "6 pack")),
        ("Bagels", ("5 pack",)),
        ("Wholemeal Loaf", ("800g",)),
        ("Focaccia", ("350g",)),
        ("Pain au Chocolat", ("4 pack",)),
        ("Cinnamon Rolls", ("4 pack",)),
        ("Muffins", ("4 pack",)),
        ("Dinner Rolls", ("6 pack", "12 pack")),
        ("Pitta Bread", ("6 pack",)),
        ("Batch Loaf", ("800g",)),
        ("Scones", ("4 pack",)),
        ("Danish Pastries", ("2 pack",)),
        ("English Muffins", ("6 pack",)),
        ("Tortilla Wraps", ("8 pack",)),
        ("Crumpets", ("6 pack",)),
    ],
    "dairy": [
        ("Greek Yogurt", ("500g", "1kg")),
        ("Whole Milk", ("1L", "2L")),
        ("Semi-Skimmed Milk", ("1L", "2L")),
        ("Cheddar", ("200g", "400g")),
        ("Butter", ("250g",)),
        ("Double Cream", ("300ml",)),
        ("Cottage Cheese", ("300g",)),
        ("Mozzarella", ("125g",)),
        ("Natural Yogurt", ("500g",)),
        ("Kefir", ("500ml",)),
        ("Creme Fraiche", ("200ml",)),
        ("Soured Cream", ("300ml",)),
        ("Halloumi", ("250g",)),
        ("Brie", ("200g",)),
        ("Skyr", ("450g",)),
        ("Fromage Frais", ("6 pack",)),
        ("Custard", ("500g",)),
        ("Ricotta", ("250g",)),
        ("Mascarpone", ("250g",)),
        ("Single Cream", ("300ml",)),
    ],
    "produce": [
        ("Bananas", ("5 pack", "1kg")),
        ("Gala Apples", ("6 pack", "1kg")),
        ("Strawberries", ("227g", "400g")),
        ("Blueberries", ("150g", "300g")),
        ("Baby Spinach", ("200g",)),
        ("Cherry Tomatoes", ("250g", "500g")),
        ("Avocados", ("2 pack", "4 pack")),
        ("Broccoli", ("350g",)),
        ("Carrots", ("1kg",)),
        ("Red Peppers", ("3 pack",)),
        ("Cucumber", ("each",)),
        ("Iceberg Lettuce", ("each",)),
        ("Mushrooms", ("250g", "400g")),
        ("Raspberries", ("150g",)),
        ("Green Beans", ("220g",)),
        ("Courgettes", ("500g",)),
        ("Seedless Grapes", ("500g",)),
        ("Lemons", ("4 pack",)),
        ("Asparagus", ("250g",)),
        ("Mixed Salad", ("120g",)),
    ],
    "meat": [
        ("Chicken Breast Fillets", ("300g", "600g")),
        ("Beef Mince", ("500g", "750g")),
        ("Pork Sausages", ("6 pack", "12 pack")),
        ("Lamb Chops", ("400g",)),
        ("Sirloin Steak", ("225g",)),
        ("Chicken Thighs", ("1kg",)),
        ("Back Bacon", ("240g",)),
        ("Pork Loin Steaks", ("450g",)),
        ("Diced Beef", ("400g",)),
        ("Turkey Mince", ("500g",)),
        ("Whole Chicken", ("1.5kg",)),
        ("Salmon Fillets", ("2 pack", "4 pack")),
        ("Cod Fillets", ("280g",)),
        ("Ham Slices", ("120g",)),
        ("Beef Burgers", ("4 pack",)),
        ("Chicken Wings", ("1kg",)),
        ("Lamb Mince", ("500g",)),
        ("Pork Belly", ("600g",)),
        ("Duck Breasts", ("2 pack",)),
        ("Chorizo", ("225g",)),
    ],
    "ambient": [
        ("Basmati Rice", ("1kg", "2kg")),
        ("Penne Pasta", ("500g", "1kg")),
        ("Spaghetti", ("500g",)),
        ("Chopped Tomatoes", ("400g", "4 pack")),
        ("Baked Beans", ("415g", "4 pack")),
        ("Cornflakes", ("500g",)),
        ("Porridge Oats", ("1kg",)),
        ("Peanut Butter", ("340g",)),
        ("Strawberry Jam", ("454g",)),
        ("Olive Oil", ("500ml", "1L")),
        ("Ground Coffee", ("227g",)),
        ("Tea Bags", ("80 pack", "160 pack")),
        ("Chickpeas", ("400g",)),
        ("Tuna Chunks", ("4 pack",)),
        ("Honey", ("340g",)),
        ("Dark Chocolate", ("100g",)),
        ("Granola", ("500g",)),
        ("Tomato Ketchup", ("460g",)),
        ("Sea Salt Crisps", ("150g",)),
        ("Coconut Milk", ("400ml",)),
    ],
}
_QUALIFIERS: dict[str, tuple[str, ...]] = {
    "bakery": (
        "",
        "Artisan",
        "Stoneground",
        "Seeded",
        "Rustic",
        "Organic",
        "Multigrain",
        "Stone-Baked",
        "Spelt",
        "Gluten-Free",
        "All-Butter",
        "Farmhouse",
    ),
    "dairy": (
        "",
        "Organic",
        "Farmhouse",
        "Light",
        "Alpine",
        "Jersey",
        "Free-From",
        "Creamy",
        "Lactose-Free",
        "Grass-Fed",
        "Low-Fat",
        "Luxury",
    ),
    "produce": (
        "",
        "Organic",
        "Loose",
        "Sweet",
        "British",
        "Ripe & Ready",
        "Vine-Ripened",
        "Baby",
        "Family Pack",
        "Farm-Fresh",
        "Seasonal",
        "Heritage",
    ),
    "meat": (
        "",
        "Free-Range",
        "Outdoor-Bred",
        "Organic",
        "Grass-Fed",
        "Lean",
        "Corn-Fed",
        "Butcher's Choice",
        "Dry-Aged",
        "Smoked",
        "Oak-Smoked",
        "Marinated",
    ),
    "ambient": (
        "",
        "Organic",
        "Classic",
        "Premium",
        "Value",
        "Fairtrade",
        "Family",
        "Everyday",
        "Finest",
        "Simply",
        "Original",
        "Select",
    ),
}
# Brand prefixes only come in when a category needs more names than qualifier x product x size.
_BRANDS = (
    "Oakfield",
    "Bramble & Co",
    "Northgate",
    "Sunvale",
    "Kestrel",
    "Millbrook",
    "Greystone",
    "Hollow Farm",
    "Riverbend",
    "Copperleaf",
    "Fernhill",
    "Ashdown",
    "Larkspur",
    "Whitmore",
    "Thistledown",
    "Elmstead",
    "Briarwood",
    "Cresswell",
    "Dunmore",
    "Fairhaven",
)

PUBLIC_FIELDS = (
    "sku",
    "name",
    "category",
    "list_price",
    "unit_cost",
    "shelf_life",
    "lead_time",
    "holding_rate",
    "disposal_fee",
)


@dataclass(frozen=True, eq=False)
class PublicCatalog:
    """What an agent may know about the catalog: no demand parameters."""

    sku: StrArray
    name: StrArray
    category: StrArray
    list_price: FloatArray
    unit_cost: FloatArray
    shelf_life: IntArray
    lead_time: IntArray
    holding_rate: float
    disposal_fee: FloatArray

    @property
    def n(self) -> int:
        return int(self.sku.shape[0])


@dataclass(frozen=True, eq=False)
class Catalog:
    """Every per-SKU array has length n; the fields after disposal_fee are the hidden truth."""

    sku: StrArray
    name: StrArray
    category: StrArray
    list_price: FloatArray
    unit_cost: FloatArray
    shelf_life: IntArray
    lead_time: IntArray
    holding_rate: float
    disposal_fee: FloatArray
    elasticity: FloatArray
    base_demand: FloatArray
    weekday: FloatArray
    dispersion: FloatArray
    fresh_share: float

    @property
    def n(self) -> int:
        return int(self.sku.shape[0])

    @property
    def max_shelf_life(self) -> int:
        return int(self.shelf_life.max())

    @property
    def max_lead_time(self) -> int:
        return int(self.lead_time.max())

    def rows(self, index: np.ndarray) -> Catalog:
        """The catalog restricted to the SKUs at `index` (which may repeat a SKU)."""
        return Catalog(
            **{
                f.name: (v[index] if isinstance(v := getattr(self, f.name), np.ndarray) else v)
                for f in dataclasses.fields(self)
            }
        )

    def public(self) -> PublicCatalog:
        return PublicCatalog(**{f: _copy(getattr(self, f)) for f in PUBLIC_FIELDS})

    def to_dict(self) -> dict[str, Any]:
        return {f.name: _copy(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Catalog:
        names = {f.name for f in dataclasses.fields(cls)}
        if set(data) != names:
            raise ValueError(f"catalog state: expected fields {sorted(names)}, got {sorted(data)}")
        return cls(**{k: _copy(v) for k, v in data.items()})


def _copy(value: Any) -> Any:
    return value.copy() if isinstance(value, np.ndarray) else value


def _category_counts(n: int) -> IntArray:
    """Largest-remainder apportionment of n SKUs to the category shares (deterministic)."""
    raw = CATEGORY_SHARE * n
    counts: IntArray = np.floor(raw).astype(np.int64)
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[: n - counts.sum()]] += 1
    return counts


def _names_for(category: str, count: int, rng: np.random.Generator) -> list[str]:
    base = [
        f"{q} {p}".strip() + f" {s}"
        for q in _QUALIFIERS[category]
        for p, sizes in _PRODUCTS[category]
        for s in sizes
    ]
    pool = base if count <= len(base) else base + [f"{b} {x}" for b in _BRANDS for x in base]
    if count > len(pool):  # beyond every brand of every product (a 20,000+ SKU store): ranges
        branded = list(pool)
        ranges = range(2, 2 + -(-(count - len(pool)) // len(branded)))
        pool += [f"{x}, range {k}" for k in ranges for x in branded]
    return [pool[i] for i in rng.choice(len(pool), size=count, replace=False)]


def make_catalog(n_skus: int = 50, seed: int = 0) -> Catalog:
    """Draw a catalog of n_skus SKUs; the same (n_skus, seed) always gives the same catalog."""
    if isinstance(n_skus, bool) or not isinstance(n_skus, (int, np.integer)) or n_skus < 1:
        raise ValueError(f"n_skus: expected an integer >= 1, got {n_skus!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed: expected an integer >= 0, got {seed!r}")
    n = int(n_skus)
    rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(101,)))
    counts = _category_counts(n)
    cat_idx = np.repeat(np.arange(len(CATEGORIES)), counts)
    category = np.array(CATEGORIES, dtype=object)[cat_idx].astype(str)
    names: list[str] = []
    for c, k in zip(CATEGORIES, counts):
        names += _names_for(c, int(k), rng)
    sku = np.char.add("SKU", (rng.choice(900_000, size=n, replace=False) + 100_000).astype(str))

    lo = np.array([PRICE_RANGE[c][0] for c in CATEGORIES])[cat_idx]
    hi = np.array([PRICE_RANGE[c][1] for c in CATEGORIES])[cat_idx]
    raw = np.exp(rng.uniform(np.log(lo), np.log(hi)))
    list_price = np.round(np.maximum(np.round(raw, 1) - 0.01, 0.49), 2)
    markup = np.array([MARKUP[c] for c in CATEGORIES])[cat_idx]
    unit_cost = np.round(list_price / (markup * rng.uniform(*MARKUP_JITTER, size=n)), 4)

    sl_lo = np.array([SHELF_LIFE[c][0] for c in CATEGORIES])[cat_idx]
    sl_hi = np.array([SHELF_LIFE[c][1] for c in CATEGORIES])[cat_idx]
    shelf_life = rng.integers(sl_lo, sl_hi + 1).astype(np.int64)
    bakery = cat_idx == CATEGORIES.index("bakery")
    one_day = rng.random(int(bakery.sum())) < BAKERY_ONE_DAY_SHARE
    shelf_life[bakery] = np.where(one_day, 1, shelf_life[bakery])
    lead_hi = np.array([LEAD_TIME_MAX[c] for c in CATEGORIES])[cat_idx]
    lead_time = rng.integers(0, lead_hi + 1).astype(np.int64)
    lead_time[shelf_life == 1] = 0
    disposal_fee = np.array([DISPOSAL_FEE[c] for c in CATEGORIES])[cat_idx]

    elasticity = rng.uniform(*ELASTICITY_RANGE, size=n)
    base_demand = np.clip(MEDIAN_DEMAND * np.exp(rng.normal(0.0, 0.8, size=n)), 2.0, 60.0)
    weekday = WEEKDAY_SHAPE[None, :] * np.exp(rng.normal(0.0, 0.05, size=(n, 7)))
    weekday /= weekday.mean(axis=1, keepdims=True)
    dispersion = np.full(n, 1.0 / (TARGET_CV**2 - 1.0 / MEDIAN_DEMAND))

    return Catalog(
        sku=sku,
        name=np.array(names),
        category=category,
        list_price=list_price,
        unit_cost=unit_cost,
        shelf_life=shelf_life,
        lead_time=lead_time,
        holding_rate=HOLDING_RATE,
        disposal_fee=disposal_fee,
        elasticity=elasticity,
        base_demand=base_demand,
        weekday=weekday,
        dispersion=dispersion,
        fresh_share=FRESH_SHARE,
    )
