"""The published documents: current with the code, served by the app, fit for code generators."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft7Validator, Draft202012Validator

from backend import schemas
from backend.api.app import create_app
from backend.contract.__main__ import main
from backend.contract.documents import render_all
from tests.api.support import fast_settings
from tests.contract.check import CONTRACT, document


def test_the_checked_in_contract_is_what_the_code_generates() -> None:
    for name, text in render_all().items():
        checked_in = (CONTRACT / name).read_text(encoding="utf-8")
        assert checked_in == text, f"contract/{name} is stale: run `python -m backend.contract export`"


def test_check_fails_on_a_stale_copy_and_export_fixes_it(tmp_path: Path, capsys) -> None:
    assert main(["export", str(tmp_path)]) == 0
    assert main(["check", str(tmp_path)]) == 0
    (tmp_path / "asyncapi.json").write_text("{}\n")
    assert main(["check", str(tmp_path)]) == 1
    assert "asyncapi.json" in capsys.readouterr().err


def test_the_app_serves_both_documents_as_checked_in(tmp_path: Path) -> None:
    with TestClient(create_app(fast_settings(tmp_path, auth="off"))) as client:
        assert client.get("/openapi.json").json() == document("openapi.json")
        assert client.get("/asyncapi.json").json() == document("asyncapi.json")


def test_operations_have_generator_friendly_ids_descriptions_and_real_error_bodies() -> None:
    spec = document("openapi.json")
    ops = {op["operationId"]: op for methods in spec["paths"].values() for op in methods.values()}
    assert {"getAgentsStatus", "postAgentIntervention", "getMetricsCurrent"} <= set(ops)
    for op_id, op in ops.items():
        assert op.get("description"), f"{op_id} has no description"
    for op_id in ("getAgentsStatus", "getMetricsCurrent", "getStoreSkus"):
        assert "503" in ops[op_id]["responses"], op_id
    for op_id in ("postAlertAcknowledge", "postAlertResolve"):
        body = ops[op_id]["responses"]["422"]["content"]["application/json"]["schema"]
        assert body == {"$ref": "#/components/schemas/ValidationErrorBody"}
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_every_response_model_has_an_example_that_is_valid() -> None:
    spec = document("openapi.json")
    components = spec["components"]["schemas"]
    bodies = set()
    for methods in spec["paths"].values():
        for op in methods.values():
            for response in op["responses"].values():
                schema = response.get("content", {}).get("application/json", {}).get("schema", {})
                ref = schema.get("$ref") or schema.get("items", {}).get("$ref")
                if ref:
                    bodies.add(ref.rsplit("/", 1)[-1])
    assert {"AgentStatus", "DashboardMetrics", "ErrorBody", "ValidationErrorBody"} <= bodies
    for name in bodies:
        schema = components[name]
        assert schema.get("examples"), f"{name} has no example"
        model = getattr(schemas, name)
        for example in schema["examples"]:
            model.model_validate(example)


def test_closed_sets_are_enums_and_type_is_required_in_every_message() -> None:
    defs = document("ws-messages.schema.json")["$defs"]
    assert defs["SystemEvent"]["properties"]["event"]["enum"] == list(schemas.EventName.__args__)
    decision = document("openapi.json")["components"]["schemas"]["Decision"]
    assert decision["properties"]["action_type"]["enum"] == list(schemas.ActionType.__args__)
    for name, schema in defs.items():
        if "type" in schema.get("properties", {}) and "const" in schema["properties"]["type"]:
            assert "type" in schema["required"], name
            if name != "Ping":
                assert "epoch" in schema["required"], name


def test_asyncapi_lists_the_three_channels_and_both_metrics_update_bodies() -> None:
    spec = document("asyncapi.json")
    assert spec["asyncapi"] == "3.0.0"
    channels = spec["channels"]
    assert {c["address"] for c in channels.values()} == {
        "/live-updates",
        "/agents/{agent_id}/status",
        "/metrics/real-time",
    }
    assert channels["agentStatus"]["parameters"]["agent_id"]["enum"] == [
        "pricing_agent",
        "inventory_agent",
        "promotion_agent",
    ]
    live = set(channels["liveUpdates"]["messages"])
    realtime = set(channels["realtimeMetrics"]["messages"])
    assert "liveMetricsUpdate" in live and "realtimeMetricsUpdate" in realtime
    assert "realtimeMetricsUpdate" not in live
    assert set(spec["info"]["x-close-codes"]) >= {"4004", "1008", "1001", "1006", "1013"}
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    # the AsyncAPI Schema Object is draft 7 plus a string discriminator: nothing else in it
    text = json.dumps(spec["components"]["schemas"])
    assert '"discriminator": {' not in text
    for schema in spec["components"]["schemas"].values():
        Draft7Validator.check_schema(schema)
    Draft202012Validator.check_schema(document("ws-messages.schema.json"))


@pytest.mark.parametrize("name", ["openapi.json", "asyncapi.json", "ws-messages.schema.json"])
def test_the_documents_name_no_machine_path(name: str) -> None:
    assert "/work/" not in (CONTRACT / name).read_text(encoding="utf-8")
