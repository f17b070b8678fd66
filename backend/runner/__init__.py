"""The wall-clock loop around the Operation, and the service the API calls."""

from __future__ import annotations

from backend.runner.core import EVENTS, Runner, View
from backend.runner.service import Service

__all__ = ["EVENTS", "Runner", "Service", "View"]
