"""Domain errors: the kernel's, re-exported for this service's domain code."""

from kernel.errors import Conflict, DomainError, Forbidden, InvalidState, NotFound, ValidationFailed

__all__ = ["Conflict", "DomainError", "Forbidden", "InvalidState", "NotFound", "ValidationFailed"]
