"""The published contract, generated from the wire models the server uses (never written by hand).

- `openapi(app)`: FastAPI's document with operation ids fit for code generators and the bearer
  scheme always declared (required only when the server runs with AUTOOPS_AUTH=jwt).
- `asyncapi()`: an AsyncAPI 3.0 document of the three streams, served at /asyncapi.json.
- `stream_schemas()`: the same message schemas as one JSON Schema bundle (TypeScript generators).

`python -m backend.contract export [DIR]` writes the three into the repository's `contract/`.
"""

from __future__ import annotations

from backend.contract.documents import (
    asyncapi,
    documents,
    install,
    openapi,
    operation_id,
    stream_schemas,
)

__all__ = ["asyncapi", "documents", "install", "openapi", "operation_id", "stream_schemas"]
