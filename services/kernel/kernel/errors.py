"""Errors every domain raises, each with a stable code that the graph hands to clients."""

from __future__ import annotations

__all__ = [
    "Conflict",
    "DomainError",
    "Forbidden",
    "InvalidState",
    "NotFound",
    "ValidationFailed",
]


class DomainError(Exception):
    """A command was refused. ``field`` names the input at fault as a dotted path."""

    code = "DOMAIN_ERROR"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationFailed(DomainError):
    code = "VALIDATION_FAILED"


class NotFound(DomainError):
    code = "NOT_FOUND"


class Forbidden(DomainError):
    code = "FORBIDDEN"


class InvalidState(DomainError):
    """The aggregate's state does not allow this command now."""

    code = "INVALID_STATE"


class Conflict(DomainError):
    """Someone else changed the aggregate first; reload and retry."""

    code = "CONFLICT"
