"""The console's reads on the real app: per-category figures, pages of SKUs."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.support import wait_until

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


def preview_body(row: dict, factor: float, hold: int = 3) -> dict:
    price = round(row["price"] * factor, 2)
    return {
        "action": "override",
        "parameters": {"sku": row["sku"], "price": price, "hold_days": hold},
    }


def test_a_preview_changes_nothing_and_the_override_keeps_it(traded: TestClient) -> None:
    row = traded.get(f"{API}/store/skus").json()[0]
    url = f"{API}/agents/pricing_agent/intervention/preview"
    first = traded.post(url, json=preview_body(row, 1.2))
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["sku"] == row["sku"] and body["horizon_days"] == 3
    assert len(body["with_override"]["daily"]) == 3
    dearer = traded.post(url, json=preview_body(row, 1.6)).json()
    assert (
        dearer["with_override"]["total"]["units_sold"]["mean"]
        < body["with_override"]["total"]["units_sold"]["mean"]
    )
    assert traded.get(f"{API}/interventions").json() == []  # nothing recorded
    served = next(r for r in traded.get(f"{API}/store/skus").json() if r["sku"] == row["sku"])
    assert served["override_until"] is None  # nothing applied
    applied = traded.post(
        f"{API}/agents/pricing_agent/intervention", json={**preview_body(row, 1.2), "reason": "r"}
    )
    assert applied.status_code == 200
    record = traded.get(f"{API}/interventions").json()[0]
    assert record["preview"]["sku"] == row["sku"] and record["realised"] is None
    last = record["preview"]["last_day"]
    wait_until(
        lambda: traded.get(f"{API}/metrics/current").json()["day"] > last, what="the hold's end"
    )
    record = traded.get(f"{API}/interventions").json()[0]
    assert record["realised"]["first_day"] == record["preview"]["first_day"]
    assert record["realised"]["units_sold"] >= 0


def test_preview_refuses_what_it_cannot_preview(traded: TestClient) -> None:
    url = f"{API}/agents/pricing_agent/intervention/preview"
    r = traded.post(url, json={"action": "pause"})
    assert r.status_code == 400 and r.json()["error"] == "NotPreviewable"
    r = traded.post(url, json={"action": "override", "parameters": {"sku": "SKU000000"}})
    assert r.status_code == 400 and r.json()["error"] == "UnknownSku"
    r = traded.post(f"{API}/agents/nobody/intervention/preview", json={"action": "override"})
    assert r.status_code == 404
    paths = traded.get("/openapi.json").json()["paths"]
    assert paths[url.replace("pricing_agent", "{agent_id}")]["post"]["operationId"] == (
        "postInterventionPreview"
    )


def test_replay_serves_a_past_day_from_the_database(traded: TestClient) -> None:
    wait_until(lambda: traded.get(f"{API}/metrics/current").json()["day"] >= 5, what="five days")
    held = traded.get(f"{API}/replay").json()
    assert held["first_day"] == 0 and held["last_day"] >= 4 and held["retention_days"] == 365
    day = traded.get(f"{API}/replay/2").json()
    history = traded.get(f"{API}/metrics/history").json()
    assert day["system_metrics"] == next(h for h in history if h["day"] == 2)["system_metrics"]
    assert all(d["day"] == 2 for d in day["decisions"])
    assert day["decisions_total"] == len(day["decisions"])
    recent = traded.get(f"{API}/decisions/recent", params={"limit": 500}).json()
    assert sorted(d["id"] for d in day["decisions"]) == sorted(
        d["id"] for d in recent if d["day"] == 2
    )
    gone = traded.get(f"{API}/replay/100000")
    assert gone.status_code == 404 and "expected a traded day from 0 to" in gone.json()["detail"]
    assert traded.get(f"{API}/replay/-1").status_code == 422
