"""The console's reads on the real app: per-category figures, pages of SKUs."""

from __future__ import annotations

from fastapi.testclient import TestClient

API = "/api/dashboard"


def test_by_category_is_served_and_documented(traded: TestClient) -> None:
    body = traded.get(f"{API}/metrics/by-category").json()
    assert body["day"] >= 3 and body["covers_since_start"] is True
    names = [c["category"] for c in body["categories"]]
    assert names == sorted(names) and sum(c["skus"] for c in body["categories"]) == 20
    current = traded.get(f"{API}/metrics/current").json()
    if current["day"] == body["day"]:  # the same store state: the categories add up to it
        total = sum(c["since_start"]["live"]["revenue"] for c in body["categories"])
        assert abs(total - current["system_metrics"]["total_revenue"]) < 1e-6
    spec = traded.get("/openapi.json").json()["paths"][f"{API}/metrics/by-category"]["get"]
    assert spec["operationId"] == "getMetricsByCategory"
    assert spec["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "MetricsByCategory"
    )


def test_store_skus_pages_and_filters(traded: TestClient) -> None:
    everything = traded.get(f"{API}/store/skus", params={"limit": 1000})
    assert everything.headers["x-total-count"] == "20"
    rows = everything.json()
    page = traded.get(f"{API}/store/skus", params={"offset": 5, "limit": 4})
    assert page.headers["x-total-count"] == "20"
    assert [r["sku"] for r in page.json()] == [r["sku"] for r in rows[5:9]]
    category = rows[0]["category"]
    same = traded.get(f"{API}/store/skus", params={"category": category})
    expected = [r["sku"] for r in rows if r["category"] == category]
    assert [r["sku"] for r in same.json()] == expected
    assert same.headers["x-total-count"] == str(len(expected))
    word = rows[3]["name"].split()[0].upper()  # any case
    found = traded.get(f"{API}/store/skus", params={"q": word}).json()
    assert rows[3]["sku"] in {r["sku"] for r in found}
    assert all(word.lower() in (r["name"] + r["sku"]).lower() for r in found)
    by_id = traded.get(f"{API}/store/skus", params={"q": rows[7]["sku"].lower()}).json()
    assert [r["sku"] for r in by_id] == [rows[7]["sku"]]


def test_store_skus_refuses_bad_queries_saying_what_was_expected(traded: TestClient) -> None:
    bad = traded.get(f"{API}/store/skus", params={"category": "toys"})
    assert bad.status_code == 422 and "'bakery'" in bad.json()["detail"]
    for params in ({"limit": 0}, {"limit": 1001}, {"offset": -1}, {"q": "x" * 101}):
        r = traded.get(f"{API}/store/skus", params=params)
        assert r.status_code == 422, params
        assert "expected" in r.json()["detail"]
