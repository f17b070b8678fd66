"""Page logic under AppTest, with the REST client and the listener replaced by fakes."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from console.kpis import KPIS, NOT_KNOWN
from console.listener import LinkState

from .conftest import FakeApi, FakeListener

APP = str(Path(__file__).resolve().parents[2] / "console" / "app.py")


def run_app(page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30).run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_overview_shows_every_kpi_with_its_definition_and_delta(
    live: tuple[FakeApi, FakeListener],
) -> None:
    at = run_app()
    tiles = {m.label: m for m in at.metric[:10]}
    for kpi in KPIS:
        assert kpi.label in tiles, kpi.label
        assert tiles[kpi.label].proto.help == kpi.definition
    # the last fed point is i=39: revenue 1000 + 3900; the reference 60 s earlier is i=9
    assert tiles["Revenue"].value == "4,900.00"
    assert tiles["Revenue"].delta == "+3,000.00"
    assert tiles["Agent response time"].value == "13.5 ms"
    assert len(at.get("plotly_chart")) == 3
    assert any("Live" in m.value for m in at.markdown)


def test_sidebar_shows_the_sim_day_from_the_live_stream(live: tuple[FakeApi, FakeListener]) -> None:
    _, listener = live
    listener.feed(
        "live",
        {
            "type": "metrics_update",
            "timestamp": "2026-11-28T10:01:00Z",
            "seq": 1,
            "data": {"day": 12, "active_alerts_count": 2, "agent_statuses": []},
        },
    )
    at = run_app()
    assert "Sim day 12 · 2 active alert(s)" in [c.value for c in at.sidebar.caption]


def test_unknown_success_rate_is_shown_as_not_yet_known(live: tuple[FakeApi, FakeListener]) -> None:
    at = run_app()
    rates = [m.value for m in at.metric if m.label == "Success"]
    assert rates == ["92.3 %", NOT_KNOWN, "92.3 %"]


def test_null_metric_is_not_yet_known_never_a_number(
    fake_api: FakeApi, fake_listener: FakeListener
) -> None:
    fake_listener.feed(
        "metrics",
        {
            "type": "metrics_stream",
            "timestamp": "2026-11-28T10:00:00Z",
            "data": {"total_revenue": 10.0, "response_time_avg": None},
        },
    )
    at = run_app()
    tiles = {m.label: m.value for m in at.metric}
    assert tiles["Agent response time"] == NOT_KNOWN
    assert tiles["Price optimisation"] == NOT_KNOWN
    assert tiles["Revenue"] == "10.00"


def test_pause_asks_for_confirmation_then_shows_the_agent_paused(
    live: tuple[FakeApi, FakeListener],
) -> None:
    api, _ = live
    at = run_app()
    at.button(key="pause_pricing_agent").click().run()
    assert api.calls == []  # nothing sent before confirmation
    assert at.text_area(key="reason_pricing_agent_pause").value
    at.button(key="confirm_pricing_agent_pause").click().run()
    assert api.calls == [
        ("intervene", ("pricing_agent", "pause", "Pause from the operator console", None))
    ]
    assert any("Pause Pricing Agent" in s.value and "i1" in s.value for s in at.success)
    assert any("Pricing Agent" in m.value and "Paused" in m.value for m in at.markdown)
    assert at.button(key="pause_pricing_agent").disabled


def test_reset_requires_a_reason(live: tuple[FakeApi, FakeListener]) -> None:
    api, _ = live
    at = run_app()
    at.button(key="reset_inventory_agent").click().run()
    assert at.text_area(key="reason_inventory_agent_reset").value == ""
    at.button(key="confirm_inventory_agent_reset").click().run()
    assert api.calls == []
    assert any("reason is required" in e.value for e in at.error)
    at.text_area(key="reason_inventory_agent_reset").input("stuck on bad demand estimates").run()
    at.button(key="confirm_inventory_agent_reset").click().run()
    assert api.calls[-1][1][:3] == ("inventory_agent", "reset", "stuck on bad demand estimates")


def test_down_backend_is_a_clear_message_not_a_traceback(
    fake_api: FakeApi, fake_listener: FakeListener
) -> None:
    fake_api.down = True
    for page in (
        None,
        "views/decisions.py",
        "views/store.py",
        "views/alerts.py",
        "views/audit.py",
        "views/override.py",
    ):
        at = run_app(page)
        assert any("unreachable" in e.value for e in at.error), page


def test_badge_says_unreachable_and_the_tiles_say_they_are_stale(
    fake_api: FakeApi, fake_listener: FakeListener
) -> None:
    fake_listener.feed_metrics(0)
    fake_listener.mark(LinkState.UNREACHABLE)
    at = run_app()
    assert any("Backend unreachable" in m.value for m in at.markdown)
    assert any("last figures received" in w.value for w in at.warning)
    fake_listener.mark(LinkState.LIVE)
    at.run()
    assert not any("last figures received" in w.value for w in at.warning)


def test_pausing_live_updates_freezes_the_tiles(live: tuple[FakeApi, FakeListener]) -> None:
    _, listener = live
    at = run_app()
    at.toggle(key="live_paused").set_value(True).run()
    listener.feed_metrics(100)
    at.run()
    assert {m.label: m.value for m in at.metric}["Revenue"] == "4,900.00"
    at.toggle(key="live_paused").set_value(False).run()
    assert {m.label: m.value for m in at.metric}["Revenue"] == "11,000.00"


def test_decisions_filter_by_agent_and_type_and_offer_csv(
    live: tuple[FakeApi, FakeListener],
) -> None:
    at = run_app("views/decisions.py")
    table = at.dataframe[0].value
    assert len(table) == 4 and {"rationale", "confidence_score"} <= set(table.columns)
    at.multiselect(key="decision_agents").set_value(["pricing_agent"]).run()
    assert set(at.dataframe[0].value["agent"]) == {"Pricing Agent"}
    assert len(at.dataframe[0].value) == 2
    at.multiselect(key="decision_agents").set_value([]).run()
    at.multiselect(key="decision_types").set_value(["inventory_restock"]).run()
    assert list(at.dataframe[0].value["action_type"]) == ["inventory_restock"]
    assert at.get("download_button")


def sku_table(at: AppTest):
    return next(d.value for d in at.dataframe if "sku" in d.value.columns)


def test_store_lists_every_sku_with_stock_by_age(live: tuple[FakeApi, FakeListener]) -> None:
    at = run_app("views/store.py")
    table = sku_table(at)
    assert list(table["sku"]) == ["SKU100001", "SKU100002"]
    assert table.set_index("sku").loc["SKU100001", "stock_by_age_text"] == "1d 4 · 2d 6"
    assert round(table.set_index("sku").loc["SKU100001", "markdown_pct"]) == 20
    assert table.set_index("sku").loc["SKU100002", "override_until"] == "day 14"


def test_alerts_are_grouped_by_severity_and_can_be_acknowledged_and_resolved(
    live: tuple[FakeApi, FakeListener],
) -> None:
    api, _ = live
    at = run_app("views/alerts.py")
    headers = [h.value for h in at.subheader]
    assert headers.index("Critical (1)") < headers.index("Warning (1)")
    at.button(key="ack_stockout:SKU100001").click().run()
    at.button(key="resolve_agent_error:pricing_agent").click().run()
    assert api.calls == [
        ("acknowledge", "stockout:SKU100001"),
        ("resolve", "agent_error:pricing_agent"),
    ]
    assert any("resolved" in s.value for s in at.success)


def test_audit_shows_the_intervention_log(live: tuple[FakeApi, FakeListener]) -> None:
    api, _ = live
    api.intervene("promotion_agent", "pause", "holiday check")
    at = run_app("views/audit.py")
    row = at.dataframe[0].value.iloc[0]
    assert (row["agent"], row["action"], row["reason"], row["who"]) == (
        "Promotion Agent",
        "pause",
        "holiday check",
        "127.0.0.1",
    )


def test_override_is_validated_before_sending(live: tuple[FakeApi, FakeListener]) -> None:
    api, _ = live
    at = run_app("views/override.py")
    at.selectbox(key="promotion_agent_sku").set_value("SKU100001")
    at.button[2].click().run()  # the promotion form's submit, without a discount
    assert api.calls == []
    assert any("discount: required" in e.value for e in at.error)


def test_override_is_confirmed_sent_and_a_refusal_shown_plainly(
    live: tuple[FakeApi, FakeListener],
) -> None:
    api, _ = live
    at = run_app("views/override.py")
    at.selectbox(key="pricing_agent_sku").set_value("SKU100002")
    at.number_input[0].set_value(1.09)
    at.button[0].click().run()
    assert api.calls == []
    at.text_area(key="reason_pricing_agent_override").input("competitor price match").run()
    api.refuse = "parameters.price: expected a price above cost 0.8, got 0.5"
    at.button(key="confirm_pricing_agent_override").click().run()
    assert any("expected a price above cost" in e.value for e in at.error)
    api.refuse = None
    at.button(key="confirm_pricing_agent_override").click().run()
    assert api.calls[-1] == (
        "intervene",
        (
            "pricing_agent",
            "override",
            "competitor price match",
            {"sku": "SKU100002", "price": 1.09, "hold_days": 7},
        ),
    )
    assert any("Override Pricing Agent" in s.value for s in at.success)


def test_store_pages_and_filters_on_the_backend(live: tuple[FakeApi, FakeListener]) -> None:
    api, _ = live
    at = run_app("views/store.py")
    assert ("store_skus", (0, 100, None, None)) in api.reads  # one page, never the whole store
    at.selectbox(key="store_category").set_value("dairy").run()
    assert list(sku_table(at)["sku"]) == ["SKU100002"]
    at.text_input(key="store_q").input("sourdough").run()
    assert api.reads[-1] == ("store_skus", (0, 100, "dairy", "sourdough"))
    assert any("No SKU matches" in i.value for i in at.info)


def test_category_totals_show_agents_against_baseline(live: tuple[FakeApi, FakeListener]) -> None:
    for page in (None, "views/store.py"):
        at = run_app(page)
        table = next(d.value for d in at.dataframe if "category" in d.value.columns)
        row = table.set_index("category").loc["bakery"]
        assert (row["profit_live"], row["profit_baseline"], row["profit_diff"]) == (120, 80, 40)
        assert (row["units_wasted_live"], row["units_wasted_baseline"]) == (4, 11)


def preview_table(at: AppTest):
    return next(d.value for d in at.dataframe if "figure" in d.value.columns).set_index("figure")


def test_override_dialog_previews_both_arms_and_follows_the_value(
    live: tuple[FakeApi, FakeListener],
) -> None:
    api, _ = live
    at = run_app("views/override.py")
    at.selectbox(key="pricing_agent_sku").set_value("SKU100002")
    at.number_input[0].set_value(2.0)
    at.button[0].click().run()
    assert api.reads[-1] == (
        "preview",
        ("pricing_agent", {"sku": "SKU100002", "price": 2.0, "hold_days": 7}),
    )
    table = preview_table(at)
    assert table.loc["Units sold", "With the override"] == "15 (12–18)"
    assert table.loc["Units sold", "Without it"] == "30 (24–36)"
    at.number_input(key="dialog_pricing_agent_price").set_value(4.0).run()
    assert preview_table(at).loc["Units sold", "With the override"] == "8 (6–9)"
    assert api.calls == []  # a preview sends nothing that changes the store
    at.text_area(key="reason_pricing_agent_override").input("test the price").run()
    at.button(key="confirm_pricing_agent_override").click().run()
    assert api.calls[-1][1][3] == {"sku": "SKU100002", "price": 4.0, "hold_days": 7}


def test_audit_sets_each_preview_against_what_happened(live: tuple[FakeApi, FakeListener]) -> None:
    api, _ = live
    params = {"sku": "SKU100002", "price": 2.0, "hold_days": 3}
    api.intervene("pricing_agent", "override", "deal", params)
    api.log[-1]["preview"] = api.preview("pricing_agent", params)
    api.log[-1]["realised"] = {
        "first_day": 12,
        "last_day": 14,
        "units_sold": 20,
        "revenue": 40.0,
        "profit": 9.0,
        "units_expired": 1,
        "stockout_days": 0,
    }
    at = run_app("views/audit.py")
    row = next(d.value for d in at.dataframe if "units_sold_expected" in d.value.columns).iloc[0]
    assert row["units_sold_expected"] == "15.0 (12.0–18.0)"
    assert (row["units_sold_realised"], bool(row["units_sold_inside"])) == (20, False)
    assert any("0 of 1" in c.value for c in at.caption)
