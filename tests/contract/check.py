"""Validate what the server sent against the published documents in contract/ (jsonschema)."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

CONTRACT = Path(__file__).resolve().parents[2] / "contract"
FORMATS = FormatChecker()  # date-time is checked (rfc3339-validator)


@cache
def document(name: str) -> dict[str, Any]:
    return json.loads((CONTRACT / name).read_text(encoding="utf-8"))


def _validator(schema: dict[str, Any], components: dict[str, Any]) -> Draft202012Validator:
    # the refs are "#/components/schemas/X": give the schema the document's components as root
    return Draft202012Validator({**schema, "components": components}, format_checker=FORMATS)


def _errors(validator: Draft202012Validator, body: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(body)]


@cache
def _operations() -> list[tuple[re.Pattern[str], str, dict[str, Any]]]:
    ops = []
    for path, methods in document("openapi.json")["paths"].items():
        pattern = re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$")
        for method, op in methods.items():
            ops.append((pattern, method.upper(), op))
    return ops


def rest_problems(method: str, path: str, status: int, content_type: str, body: bytes) -> list[str]:
    """Why a REST response does not match openapi.json; [] when it does or the path is not an
    operation of the API (a 404 for an unknown path, say)."""
    op = next((o for p, m, o in _operations() if m == method and p.match(path)), None)
    if op is None:
        return []
    declared = op["responses"].get(str(status))
    if declared is None:
        return [f"{method} {path} answered {status}, which the document does not declare"]
    if not content_type.startswith("application/json"):
        return [] if "application/json" not in declared.get("content", {}) else [
            f"{method} {path} {status}: expected JSON, got {content_type}"
        ]
    schema = declared.get("content", {}).get("application/json", {}).get("schema")
    if schema is None:
        return [f"{method} {path} {status}: JSON body without a declared schema"]
    validator = _response_validator(json.dumps(schema, sort_keys=True))
    return [f"{method} {path} {status}: {e}" for e in _errors(validator, json.loads(body))]


@cache
def _response_validator(schema: str) -> Draft202012Validator:
    return _validator(json.loads(schema), document("openapi.json")["components"])


@cache
def _stream_validator(channel: str) -> Draft202012Validator:
    """The union of the messages the AsyncAPI document lists for `channel` (server -> client)."""
    spec = document("asyncapi.json")
    op = next(
        o for o in spec["operations"].values()
        if o["action"] == "send" and o["channel"]["$ref"] == f"#/channels/{channel}"
    )
    payloads = []
    for ref in op["messages"]:
        key = ref["$ref"].rsplit("/", 1)[-1]
        payloads.append(spec["components"]["messages"][key]["payload"])
    return _validator({"oneOf": payloads}, spec["components"])


def frame_problems(channel: str, message: Any) -> list[str]:
    return _errors(_stream_validator(channel), message)


def sent_types(channel: str) -> set[str]:
    """The `type` values of every message the document says the server sends on `channel`."""
    spec = document("asyncapi.json")
    op = spec["operations"][f"send{channel[0].upper()}{channel[1:]}"]
    keys = [ref["$ref"].rsplit("/", 1)[-1] for ref in op["messages"]]
    return {spec["components"]["messages"][k]["title"] for k in keys}
