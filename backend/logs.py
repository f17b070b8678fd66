"""Logging set up once, at the entry point: one line per event, JSON when not on a terminal."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from pythonjsonlogger.json import JsonFormatter

WEBSOCKET_LOGGERS = ("backend.api.hub",)
_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s"


def _ours(handler: logging.Handler) -> bool:
    return getattr(handler, "_autoops", False)


def _mark(handler: logging.Handler) -> logging.Handler:
    handler._autoops = True  # type: ignore[attr-defined]
    return handler


def configure_logging(level: str, log_dir: Path, stream: object = None) -> None:
    """Root handler on stderr at `level`; WebSocket events also go to log_dir/websocket.log.

    Idempotent: calling it again (a second app in one process) replaces what it installed.
    """
    out = stream or sys.stderr
    for logger in (logging.getLogger(), *map(logging.getLogger, WEBSOCKET_LOGGERS)):
        for handler in [h for h in logger.handlers if _ours(h)]:
            logger.removeHandler(handler)
            handler.close()
    on_terminal = hasattr(out, "isatty") and out.isatty()
    console = logging.StreamHandler(out)  # type: ignore[arg-type]
    console.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
        if on_terminal
        else JsonFormatter(_FIELDS)
    )
    root = logging.getLogger()
    root.addHandler(_mark(console))
    root.setLevel(level)
    log_dir.mkdir(parents=True, exist_ok=True)
    ws_file = logging.FileHandler(log_dir / "websocket.log", encoding="utf-8")
    ws_file.setFormatter(JsonFormatter(_FIELDS))
    for name in WEBSOCKET_LOGGERS:
        logging.getLogger(name).addHandler(_mark(ws_file))
