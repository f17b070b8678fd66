"""Close every WebSocket client with 1001 before the server drops connections on SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from backend.api.hub import Hub

log = logging.getLogger(__name__)


def install(hub: Hub, timeout: float) -> Callable[[], None]:
    """Chain a handler in front of the server's; returns a function that takes it out again.

    uvicorn closes open WebSockets with 1012 before the lifespan shutdown runs, so the
    contract's 1001 has to be sent when the signal arrives. Only the main thread can do this.
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    loop = asyncio.get_running_loop()
    previous: dict[int, Any] = {}
    pending: set[asyncio.Task[None]] = set()

    def chain(sig: int, frame: FrameType | None) -> None:
        prev = previous.get(sig)
        if callable(prev):
            prev(sig, frame)
        elif prev == signal.SIG_DFL:
            signal.signal(sig, signal.SIG_DFL)
            signal.raise_signal(sig)

    async def close_then_chain(sig: int, frame: FrameType | None) -> None:
        try:
            await asyncio.wait_for(hub.close_all(), timeout=timeout)
        except Exception as exc:
            log.warning("closing WebSocket clients on shutdown did not finish: %r", exc)
        finally:
            chain(sig, frame)

    def handler(sig: int, frame: FrameType | None) -> None:
        if hub.shutting_down:  # a second signal: no more waiting
            chain(sig, frame)
            return
        hub.shutting_down = True
        log.info("signal %d: closing WebSocket clients with 1001", sig)

        def start() -> None:
            task = loop.create_task(close_then_chain(sig, frame))
            pending.add(task)
            task.add_done_callback(pending.discard)

        loop.call_soon_threadsafe(start)

    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.getsignal(sig)
        signal.signal(sig, handler)

    def restore() -> None:
        for sig, prev in previous.items():
            if signal.getsignal(sig) is handler:
                signal.signal(sig, prev if prev is not None else signal.SIG_DFL)

    return restore
