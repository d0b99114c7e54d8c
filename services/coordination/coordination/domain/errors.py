"""Domain errors: the kernel's, re-exported for this service's domain code."""

from kernel.errors import DomainError, Forbidden, InvalidState, NotFound, ValidationFailed

__all__ = ["DomainError", "Forbidden", "InvalidState", "NotFound", "ValidationFailed"]
