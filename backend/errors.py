"""The single error tree; backend/api maps it to HTTP statuses and WebSocket close codes."""

from __future__ import annotations


class AutoOpsError(Exception):
    """Base of every error this project raises on purpose."""


class UnknownAgent(AutoOpsError):
    def __init__(self, agent_id: str, known: tuple[str, ...] = ()) -> None:
        self.agent_id = agent_id
        expected = ", ".join(known) if known else "a known agent id"
        super().__init__(f"unknown agent {agent_id!r}: expected one of {expected}")


class UnknownAction(AutoOpsError):
    def __init__(self, action: str, known: tuple[str, ...] = ()) -> None:
        self.action = action
        expected = ", ".join(known) if known else "a known action"
        super().__init__(f"unknown action {action!r}: expected one of {expected}")


class UnknownSku(AutoOpsError):
    def __init__(self, sku: object) -> None:
        self.sku = sku
        super().__init__(f"parameters.sku: expected a SKU id of this store, got {sku!r}")


class InvalidOverride(AutoOpsError):
    def __init__(self, field: str, expected: str, got: object) -> None:
        self.field = field
        self.expected = expected
        self.got = got
        super().__init__(f"parameters.{field}: expected {expected}, got {got!r}")


class NotAuthenticated(AutoOpsError):
    """No token, or a token that is malformed, expired or wrongly signed (HTTP 401, WS 1008).
    `token_given` is False when the request carried no credentials at all."""

    def __init__(self, message: str, *, token_given: bool = True) -> None:
        self.token_given = token_given
        super().__init__(message)


class Forbidden(AutoOpsError):
    """A valid token whose role may not do this (HTTP 403, WS 1008)."""

    def __init__(self, role: str, needed: str, what: str) -> None:
        self.role = role
        self.needed = needed
        super().__init__(f"{what} needs the role {needed!r} or higher; this token has {role!r}")
