"""The one module that knows uvicorn's internals: a broadcast's frame written straight to a
subscriber's transport, serialised once for all.

The Procfile runs uvicorn with its sans-I/O `websockets` protocol. Behind the raw ASGI `send` of
such a connection, with no extension negotiated (per-message deflate off), a server-to-client
text frame is the same bytes for every subscriber, so the hub frames a broadcast once and writes
it to each caught-up subscriber's transport (`DirectWriter`).

Anything else is the plain ASGI path, and needs nothing from here: another server, uvicorn with
another WebSocket implementation or with an extension negotiated, or a uvicorn whose internals
are not the ones this module was written against (`writer_for` answers None). The hub then sends
every message through the connection's ASGI `send`: the same messages in the same order, framed
per client by the server.
"""

from __future__ import annotations

from typing import Any

from starlette.types import Send
from websockets.frames import Frame, Opcode
from websockets.protocol import State

try:
    from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
except ImportError:  # not uvicorn, or a uvicorn without that protocol: the plain ASGI path
    WebSocketsSansIOProtocol = None  # type: ignore[assignment,misc]


# The scope's entries read only until the session starts (routing, credentials, origin).
RELEASED_SCOPE_KEYS = ("headers", "state", "asgi", "extensions", "subprotocols", "raw_path")


class DirectWriter:
    """A subscriber's uvicorn connection, for frames written without its ASGI `send`."""

    __slots__ = ("proto",)

    def __init__(self, proto: WebSocketsSansIOProtocol) -> None:
        self.proto = proto

    def release_handshake(self) -> None:
        """Drop what the handshake left that uvicorn keeps for the connection's life but never
        reads once the handshake is complete: its request's and response's headers, and the
        scope's headers, state, extensions and the like (a few KiB for every subscriber). The
        scope keeps what uvicorn's logging and the hub read later (`client`, `path`,
        `query_string`)."""
        proto = self.proto
        if proto.handshake_complete:
            # websockets' parser keeps the request for the connection's life too (a local of its
            # generator), so its headers are emptied, not only let go
            for message in (proto.request, proto.response):
                if message is not None:
                    message.headers.clear()
            proto.request = None  # type: ignore[assignment]
            proto.response = None  # type: ignore[assignment]
            for key in RELEASED_SCOPE_KEYS:
                proto.scope.pop(key, None)  # type: ignore[misc]

    def open(self) -> bool:
        """The conditions under which uvicorn's own `send` would write a data frame at once."""
        proto = self.proto
        return (
            proto.writable.is_set()
            and not proto.close_sent
            and proto.initial_response is None
            and proto.conn.state is State.OPEN
            and not proto.transport.is_closing()
        )

    def write(self, frame: bytes) -> None:
        """Write a frame made by `text_frame`; raises if the transport went away."""
        self.proto.transport.write(frame)


def writer_for(send: Send) -> DirectWriter | None:
    """The direct writer behind an ASGI `send`, or None when frames must go through `send`."""
    proto: Any = getattr(send, "__self__", None)
    if (
        WebSocketsSansIOProtocol is not None
        and type(proto) is WebSocketsSansIOProtocol
        and not proto.conn.extensions
    ):
        return DirectWriter(proto)
    return None


def text_frame(text: str) -> bytes:
    """A server-to-client text frame (unmasked, no extension), the same bytes for every client."""
    return Frame(Opcode.TEXT, text.encode()).serialize(mask=False)
