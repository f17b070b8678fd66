"""The app factory: every resource is built in the lifespan, nothing at import."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from prometheus_client import disable_created_metrics

from backend import contract
from backend.api import console_routes, errors, routes, shutdown
from backend.api.dispatch import AutoOpsApp
from backend.api.hub import Hub
from backend.bus import make_bus
from backend.config import Settings
from backend.db.engine import make_engine
from backend.logs import configure_logging
from backend.runner import Service
from backend.runner.leadership import Leadership
from backend.runner.telemetry import Telemetry

log = logging.getLogger(__name__)

DESCRIPTION = (
    "The AutoOps Retail operator API: every figure is computed from the running store, "
    "and every intervention changes what the store does."
)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; `uvicorn backend.api.app:create_app --factory` calls this with no argument."""
    settings = settings or Settings()
    configure_logging(settings.log_level, settings.log_dir)
    disable_created_metrics()  # process-wide: the *_created series only add noise to /metrics

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url, settings.database_schema)
        bus = make_bus(settings.bus_url, settings.bus_queue_size)
        await bus.connect()
        telemetry = Telemetry()
        leadership = Leadership(settings, engine, bus, telemetry)
        service = Service(leadership=leadership)
        hub = Hub(settings, service, bus, telemetry)
        leadership.on_role.append(hub.set_leading)
        leadership.on_view.append(hub.view_changed)
        await leadership.start()
        await hub.start()
        app.state.settings, app.state.service, app.state.hub = settings, service, hub
        app.state.telemetry = telemetry
        restore_signals = shutdown.install(hub, settings.ws_close_timeout)
        log.info(
            "AutoOps API up (%s): %s, %s, bus %s",
            leadership.role,
            f"day {service.view().day}" if service.ready else "waiting for the database",
            engine.url.render_as_string(hide_password=True),
            settings.bus_url,
        )
        try:
            yield
        finally:
            restore_signals()
            await hub.stop()
            await leadership.stop()
            await bus.disconnect()
            engine.dispose()
            log.info(
                "AutoOps API stopped %s",
                f"at day {service.view().day}" if service.ready else "before the database answered",
            )

    return build_app(settings, lifespan)


def build_app(settings: Settings, lifespan: Any = None) -> AutoOpsApp:
    """The routes, middleware and documents, without the resources (the contract export uses it)."""
    app = AutoOpsApp(
        title="AutoOps Retail API",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        generate_unique_id_function=contract.operation_id,
    )
    app.allow_cors(settings.cors_origins)
    errors.install(app)
    app.include_router(routes.dashboard)
    app.include_router(console_routes.console)
    app.include_router(routes.ops)
    contract.install(app, routes.dashboard.prefix)
    return app
