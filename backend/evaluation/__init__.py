"""Offline evaluations of the agents: the store evaluation and the published perishable benchmark."""

import json
from typing import Any


def write_json(path: str | None, summary: Any) -> None:
    """Write an evaluation's summary as indented JSON to `path` (nothing when it is None)."""
    if path:
        with open(path, "w") as fh:
            json.dump(summary, fh, indent=2)
