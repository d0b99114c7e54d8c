"""Webhook signing secrets encrypted at rest (Fernet: AES-128-CBC with HMAC-SHA256, from
``cryptography``).

An HMAC signature needs the secret itself, so it cannot be stored hashed like a password;
it is stored encrypted instead, with a key that is not in the database: a dump or a backup
of notify's database then reveals no subscriber's secret. The key file holds one Fernet key
per line; the first encrypts, all decrypt, so a key is rotated by putting a new one first
(``rotate`` re-encrypts what is stored).

Production names the key file (``LIANDONG_WEBHOOK_SECRET_KEY_FILE``, a mounted secret shared
by every notify replica); elsewhere a key is generated once in the data directory.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from kernel.settings import Settings

DEV_KEY_FILE = "webhook-secrets.key"


class SecretBoxError(ValueError):
    """A stored secret cannot be decrypted with the configured keys."""


class SecretBox:
    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise ValueError("the webhook secret key file holds no key")
        try:
            self._fernet = MultiFernet([Fernet(k) for k in keys])
        except ValueError as exc:
            raise ValueError(f"a webhook secret key is not a Fernet key: {exc}") from None

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode("ascii")

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode()
        except (InvalidToken, UnicodeError) as exc:
            raise SecretBoxError(
                "a webhook secret cannot be decrypted with the configured keys"
            ) from exc

    def rotate(self, sealed: str) -> str:
        """The same secret sealed with the first (newest) key."""
        try:
            return self._fernet.rotate(sealed.encode("ascii")).decode("ascii")
        except InvalidToken as exc:
            raise SecretBoxError(
                "a webhook secret cannot be decrypted with the configured keys"
            ) from exc

    @classmethod
    def from_file(cls, path: Path) -> SecretBox:
        lines = path.read_text(encoding="ascii").splitlines()
        return cls([line.strip().encode() for line in lines if line.strip()])


def load_secret_box(settings: Settings) -> SecretBox:
    """The configured key file; outside production a generated one in the data directory.
    Raises ValueError in production without a key file."""
    path = settings.webhook_secret_key_file
    if path is None:
        if settings.env == "production":
            raise ValueError(
                "LIANDONG_WEBHOOK_SECRET_KEY_FILE must be set in production (a file with a "
                "Fernet key, shared by every notify replica) to encrypt webhook secrets"
            )
        path = settings.data_dir / DEV_KEY_FILE
        _create_once(path)
    return SecretBox.from_file(path)


def _create_once(path: Path) -> None:
    """Create the key file unless it exists; O_EXCL so concurrent processes sharing the data
    directory end up with one key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(Fernet.generate_key() + b"\n")
