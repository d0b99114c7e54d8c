"""The Ed25519 key notify signs the record's checkpoints with (issue 16, finding 8).

Production names the private key (``LIANDONG_AUDIT_SIGNING_KEY_FILE``, PEM, a mounted secret
shared by every notify replica; escrow it with the district's other keys, docs/operations.md).
Elsewhere a key is generated once in the data directory. The public key verifies; give it
to the justice bureau and to whoever runs ``liandong audit verify``
(``LIANDONG_AUDIT_VERIFY_KEY_FILE``). A checkpoint names its key by ``key_id`` (the first 16
hex digits of the SHA-256 of the raw public key), so after a rotation it is clear which
public key an older checkpoint needs.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from kernel.settings import Settings
from notify.domain.record import Checkpoint

__all__ = ["CheckpointSigner", "CheckpointVerifier", "load_signer", "load_verifier"]

DEV_KEY_FILE = "audit-signing-key.pem"


def _key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


class CheckpointVerifier:
    def __init__(self, public: Ed25519PublicKey) -> None:
        self.public = public
        self.key_id = _key_id(public)

    def verifies(self, checkpoint: Checkpoint) -> bool:
        if checkpoint.key_id != self.key_id:
            return False
        try:
            self.public.verify(base64.b64decode(checkpoint.signature), checkpoint.signed_bytes())
        except (InvalidSignature, ValueError):
            return False
        return True


class CheckpointSigner:
    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        self.verifier = CheckpointVerifier(private.public_key())
        self.key_id = self.verifier.key_id

    def sign(self, checkpoint: Checkpoint) -> Checkpoint:
        signature = base64.b64encode(self._private.sign(checkpoint.signed_bytes())).decode()
        return Checkpoint(
            checkpoint.district,
            checkpoint.seq,
            checkpoint.head,
            checkpoint.checkpointed_at,
            key_id=self.key_id,
            signature=signature,
        )


def _private_key_path(settings: Settings) -> Path:
    path = settings.audit_signing_key_file
    if path is not None:
        return path
    if settings.env == "production":
        raise ValueError(
            "LIANDONG_AUDIT_SIGNING_KEY_FILE must be set in production (an Ed25519 private "
            "key in PEM, shared by every notify replica) to sign the record's checkpoints"
        )
    path = settings.data_dir / DEV_KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(
                Ed25519PrivateKey.generate().private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
    return path


def load_signer(settings: Settings) -> CheckpointSigner:
    """The configured key; outside production one generated in the data directory."""
    key = serialization.load_pem_private_key(_private_key_path(settings).read_bytes(), None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the audit signing key must be an Ed25519 private key (PEM)")
    return CheckpointSigner(key)


def load_verifier(settings: Settings) -> CheckpointVerifier:
    """``LIANDONG_AUDIT_VERIFY_KEY_FILE`` when set, else the signing key's public half."""
    if settings.audit_verify_key_file is not None:
        key = serialization.load_pem_public_key(settings.audit_verify_key_file.read_bytes())
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("the audit verify key must be an Ed25519 public key (PEM)")
        return CheckpointVerifier(key)
    return load_signer(settings).verifier
