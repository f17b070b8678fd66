"""Measurement aid: the app with the cyclic garbage collector off (GC_MODE=off) or its
long-lived objects frozen after start-up and every 10 s (GC_MODE=freeze); never deployed.

    PYTHONPATH=bench/results/prototype BENCH_APP_FACTORY=gc_app:create_app GC_MODE=off \\
        python -m bench.fanout --clients 2000 --sides app --app-env AUTOOPS_DAY_SECONDS=3600
"""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from backend.api.app import create_app as create_real_app

MODE = os.environ.get("GC_MODE", "off")


def create_app() -> Any:
    app = create_real_app()
    real_lifespan = app.router.lifespan_context

    async def freezer() -> None:
        while True:  # move what survived into the permanent generation the collector skips
            await asyncio.sleep(10)
            gc.freeze()

    @asynccontextmanager
    async def lifespan(app_: Any) -> AsyncIterator[Any]:
        async with real_lifespan(app_) as state:
            task = None
            if MODE == "off":
                gc.disable()
            else:
                gc.freeze()
                task = asyncio.create_task(freezer())
            try:
                yield state
            finally:
                if task is not None:
                    task.cancel()

    app.router.lifespan_context = lifespan
    return app
