"""Conditions the runner and its reads raise, under the project's single error base."""

from __future__ import annotations

from backend.errors import AutoOpsError


class AgentMismatch(AutoOpsError):
    def __init__(self, path_agent: str, body_agent: str) -> None:
        super().__init__(
            f"body agent_id: expected {path_agent!r} (the agent in the path) or no "
            f"agent_id, got {body_agent!r}"
        )


class UnknownAlert(AutoOpsError):
    def __init__(self, alert_id: str) -> None:
        self.alert_id = alert_id
        super().__init__(
            f"unknown alert {alert_id!r}: expected the id of a stored alert "
            "(see /api/dashboard/alerts/active)"
        )


class AlertConflict(AutoOpsError):
    def __init__(self, alert_id: str, expected: str, status: str) -> None:
        super().__init__(f"alert {alert_id!r}: expected {expected}, got status {status!r}")


class NotReady(AutoOpsError):
    def __init__(self, what: str) -> None:
        super().__init__(f"not ready: {what}")


class CheckpointIncompatible(AutoOpsError):
    def __init__(self, day: int, cause: Exception) -> None:
        super().__init__(
            f"the stored checkpoint of day {day} cannot be loaded ({cause!r}); "
            "expected a checkpoint written by this version: point DATABASE_URL at a "
            "fresh database to start a new run"
        )


class InterventionTimedOut(NotReady):
    """The leader did not apply it in time; it is expired and will never apply."""

    def __init__(self, intervention_id: str, seconds: float) -> None:
        super().__init__(
            f"intervention {intervention_id} was not applied by the store's runner within "
            f"{seconds:g} s; it has been withdrawn and will never apply: retry"
        )


class InterventionRejected(AutoOpsError):
    """The runner refused the intervention (its parameters do not fit the store)."""
