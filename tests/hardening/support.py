"""Helpers for the hardening tests: reading a close code off a real WebSocket."""

from __future__ import annotations

import asyncio

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed


async def close_code(ws: ClientConnection, timeout: float = 15.0) -> tuple[int | None, str]:
    """Read until the server closes; the code and reason it sent."""
    try:
        async with asyncio.timeout(timeout):
            while True:
                await ws.recv()
    except ConnectionClosed as closed:
        return (closed.rcvd.code, closed.rcvd.reason) if closed.rcvd else (None, "")
    raise AssertionError("unreachable")
