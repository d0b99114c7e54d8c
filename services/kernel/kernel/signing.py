"""Electronic signatures of issued documents (电子签名): one signing key per issuing body,
signatures over a document's stored bytes that anyone holding the body's public key can check.

Algorithm: ECDSA over NIST P-256 with SHA-256 (``ECDSA-P256-SHA256``), DER-encoded signature,
through ``cryptography`` (already the project's dependency for tokens). Chinese government
e-seals (电子印章, GM/T 0031) use SM2 with SM3, but ``cryptography`` has no SM2, and the
Python SM2 packages are pure-Python, unaudited and little maintained (``gmssl`` 3.2.2, last
released 2023); the e-seal format also needs a certificate from a licensed CA that a
district's deployment does not have. Every signature names its algorithm, so an SM2
signer can be added beside this one when a province's e-seal platform is connected. The
choice is recorded in docs/security.md.

What is signed is the document's bytes exactly as stored (a letter's PDF): the signature
verifies with the standard tools, e.g. ``openssl dgst -sha256 -verify key.pem -signature
letter.sig letter.pdf`` (with the DER signature decoded from base64).

Keys
    A directory with one PKCS#8 PEM private key per body, ``<holder>.pem`` (in production
    mounted from a secret, ``LIANDONG_LETTER_SIGNING_KEYS_DIR``). Outside production a key
    missing from the directory is generated on first use (``O_EXCL``, so processes sharing a
    data directory end up with one key per body). In production a missing key is an error:
    the deployment, not the service, creates keys. The key id is the first 16 hex digits of
    the SHA-256 of the public key (DER SubjectPublicKeyInfo).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import os
import re
from collections.abc import AsyncIterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

if TYPE_CHECKING:  # the settings (pydantic) load with the services, not with the CLI's verify
    from kernel.settings import Settings

__all__ = [
    "ALGORITHM",
    "PublicKey",
    "SigningKeyError",
    "SigningKeys",
    "Verification",
    "key_id",
    "load_public_key",
    "load_signing_keys",
    "verify_bytes",
    "verify_detached",
    "verify_digest",
]

ALGORITHM = "ECDSA-P256-SHA256"
_HOLDER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


class SigningKeyError(Exception):
    """No usable signing key for a body (missing in production, unreadable, wrong curve)."""


@dataclass(frozen=True)
class PublicKey:
    holder: str
    key_id: str
    algorithm: str
    pem: str


@dataclass(frozen=True)
class Verification:
    """The outcome of checking a signature; ``reason`` says why it failed ("" when valid)."""

    valid: bool
    reason: str = ""


def key_id(public: ec.EllipticCurvePublicKey) -> str:
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()[:16]


def load_public_key(pem: bytes | str) -> ec.EllipticCurvePublicKey:
    """A P-256 public key from PEM (a private key's PEM gives its public half)."""
    data = pem.encode() if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        try:
            key = serialization.load_pem_private_key(data, password=None).public_key()
        except (ValueError, TypeError) as exc:
            raise SigningKeyError(f"not a PEM public or private key: {exc}") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise SigningKeyError("the key is not an EC P-256 (secp256r1) key")
    return key


def verify_digest(
    public: ec.EllipticCurvePublicKey, sha256_hex: str, signature_b64: str
) -> Verification:
    """Check a signature against the SHA-256 of the signed bytes."""
    try:
        signature = base64.b64decode(signature_b64, validate=True)
        digest = bytes.fromhex(sha256_hex)
    except (binascii.Error, ValueError):
        return Verification(False, "the signature or digest is not well-formed")
    try:
        public.verify(signature, digest, ec.ECDSA(Prehashed(hashes.SHA256())))
    except InvalidSignature:
        return Verification(False, "the signature does not match these bytes and this key")
    return Verification(True)


def verify_bytes(
    public: ec.EllipticCurvePublicKey, data: bytes, signature_b64: str
) -> Verification:
    return verify_digest(public, hashlib.sha256(data).hexdigest(), signature_b64)


def verify_detached(
    data: bytes, signature: Mapping[str, Any], public_pem: bytes | str
) -> Verification:
    """A document's bytes against its detached signature (the JSON a service hands out:
    ``algorithm``, ``key_id``, ``letter_sha256`` or ``sha256``, ``signature``) and the
    signer's public key obtained independently (never from the signature itself)."""
    if signature.get("algorithm") != ALGORITHM:
        return Verification(False, f"unknown algorithm {signature.get('algorithm')!r}")
    try:
        public = load_public_key(public_pem)
    except SigningKeyError as exc:
        return Verification(False, str(exc))
    if signature.get("key_id") and signature["key_id"] != key_id(public):
        return Verification(
            False,
            f"signed with key {signature['key_id']}, not with this public key ({key_id(public)})",
        )
    actual = hashlib.sha256(data).hexdigest()
    signed = str(signature.get("letter_sha256") or signature.get("sha256") or "")
    if actual != signed:
        return Verification(False, f"the file has SHA-256 {actual}; the signed one has {signed}")
    return verify_digest(public, actual, str(signature.get("signature", "")))


async def sha256_of(chunks: AsyncIterable[bytes]) -> str:
    digest = hashlib.sha256()
    async for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


class SigningKeys:
    """The signing keys of the bodies this deployment issues documents for."""

    def __init__(self, directory: Path, *, generate_missing: bool) -> None:
        self.directory = directory
        self.generate_missing = generate_missing
        self._cache: dict[str, ec.EllipticCurvePrivateKey] = {}

    def _path(self, holder: str) -> Path:
        if not _HOLDER.match(holder):
            raise SigningKeyError(f"{holder!r} cannot name a signing key")
        return self.directory / f"{holder}.pem"

    def private_key(self, holder: str) -> ec.EllipticCurvePrivateKey:
        cached = self._cache.get(holder)
        if cached is not None:
            return cached
        path = self._path(holder)
        if not path.exists():
            if not self.generate_missing:
                raise SigningKeyError(
                    f"no signing key for {holder!r}: the deployment must provide "
                    f"{path.name} in {self.directory} (LIANDONG_LETTER_SIGNING_KEYS_DIR)"
                )
            _create_once(path)
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (OSError, ValueError, TypeError) as exc:
            raise SigningKeyError(f"the signing key of {holder!r} cannot be read: {exc}") from exc
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
            raise SigningKeyError(f"the signing key of {holder!r} is not an EC P-256 key")
        self._cache[holder] = key
        return key

    def public_key(self, holder: str) -> PublicKey:
        public = self.private_key(holder).public_key()
        pem = public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode("ascii")
        return PublicKey(holder, key_id(public), ALGORITHM, pem)

    def holders(self) -> list[str]:
        """The bodies whose keys are in the directory."""
        if not self.directory.is_dir():
            return []
        return sorted(p.stem for p in self.directory.glob("*.pem") if _HOLDER.match(p.stem))

    def sign_digest(self, holder: str, sha256_hex: str) -> tuple[str, str]:
        """(key id, base64 DER signature) of the bytes whose SHA-256 is ``sha256_hex``."""
        key = self.private_key(holder)
        signature = key.sign(bytes.fromhex(sha256_hex), ec.ECDSA(Prehashed(hashes.SHA256())))
        return key_id(key.public_key()), base64.b64encode(signature).decode("ascii")


def _create_once(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    # link() fails when another process placed its key first: theirs stands.
    with contextlib.suppress(FileExistsError):
        os.link(tmp, path)
    tmp.unlink()


def load_signing_keys(settings: Settings) -> SigningKeys:
    """The configured key directory; outside production, keys generated on first use under
    the data directory. Raises ValueError in production without a directory."""
    directory = settings.letter_signing_keys_dir
    production = settings.env == "production"
    if directory is None:
        if production:
            raise ValueError(
                "LIANDONG_LETTER_SIGNING_KEYS_DIR must be set in production (a directory with "
                "one PEM P-256 private key per agency, <agency id>.pem, shared by every "
                "referral replica) to sign transfer letters (R-REF-12)"
            )
        directory = settings.data_dir / "keys" / "letters"
    return SigningKeys(directory, generate_missing=not production)
