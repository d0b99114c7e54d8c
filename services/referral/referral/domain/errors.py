"""Domain errors: the kernel's, re-exported for this service's domain code, and the few this
service's clients branch on by a code of their own."""

from kernel.errors import Conflict, DomainError, Forbidden, InvalidState, NotFound, ValidationFailed

__all__ = [
    "Conflict",
    "DomainError",
    "Forbidden",
    "InvalidState",
    "MaterialContentMissing",
    "NotFound",
    "SigningKeyMissing",
    "ValidationFailed",
]


class MaterialContentMissing(InvalidState):
    """R-REF-02: a material of the referral is a record only (no stored content), or its
    stored content is gone or no longer what the server hashed when it was stored."""

    code = "MATERIAL_CONTENT_MISSING"


class SigningKeyMissing(InvalidState):
    """R-REF-12: the sending agency has no signing key in this deployment."""

    code = "SIGNING_KEY_MISSING"
