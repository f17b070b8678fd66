"""The wall-clock loop around the Operation, and the service the API calls."""

from __future__ import annotations

from backend.runner.core import Runner, View, events_channel
from backend.runner.service import Service

__all__ = ["Runner", "Service", "View", "events_channel"]
