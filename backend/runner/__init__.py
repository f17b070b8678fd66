"""The Runner around the Operation, its units (clock, day, persistence, interventions,
events), and the service the API calls."""

from __future__ import annotations

from backend.runner.facade import Service
from backend.runner.loop import Runner, View, events_channel

__all__ = ["Runner", "Service", "View", "events_channel"]
