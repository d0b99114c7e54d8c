"""A service's own identity towards another service of the suite, and the one retrying GET it
makes with it (R-GRD-01: the referral service fetches a referred dispatch's photos from
coordination).

The credential is a token of the kernel's machinery (:mod:`kernel.auth`): an ES256 JWT of
the district's identity provider for :func:`kernel.auth.service_principal`, verified by the
receiving service like any token (issuer, audience, expiry, district). In production the
provider issues it and the deployment mounts it as a file (``service_token_file``, read at
each use so a renewed token is picked up); outside production, when no file is set, it is
minted from the development keys, short-lived and renewed before it expires. The receiving
service's matrix names the service role on exactly the routes it may use: anywhere else the
token is refused like a person's without rights.

The fetch retries what a brief outage looks like (no connection, a timeout, 502/503/504,
429) a bounded number of times with doubling waits, and nothing else: a refusal (401, 403,
404) is final and raised at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta
from pathlib import Path

import httpx

from kernel.auth import (
    AuthError,
    TokenIssuer,
    TokenVerifier,
    ensure_dev_keys,
    is_service,
    service_principal,
)
from kernel.settings import DEFAULT_PORTS, Settings

__all__ = [
    "FetchRefused",
    "FetchUnavailable",
    "ServiceClient",
    "ServiceCredential",
    "ServiceIdentityError",
]

log = logging.getLogger(__name__)

#: Lifetime of a development service token, and how long before its expiry it is renewed.
DEV_TOKEN_TTL = timedelta(minutes=15)
_RENEW_BEFORE_SECONDS = 60.0
#: Statuses that mean "briefly unavailable": retried.
RETRIED_STATUSES = frozenset({429, 502, 503, 504})


class FetchRefused(Exception):
    """The other service answered and refused (or has nothing): retrying will not help."""

    def __init__(self, url: str, status: int, body: str) -> None:
        super().__init__(f"GET {url} answered {status}: {body[:300]}")
        self.status = status


class FetchUnavailable(Exception):
    """The other service stayed unavailable through every attempt."""


class ServiceIdentityError(RuntimeError):
    """The service's own token is missing or not one the suite accepts as this service: the
    boot stops here, naming the setting or the file, instead of failing on first use."""


class ServiceCredential:
    """The bearer token of ``service`` (see the module docstring)."""

    def __init__(self, settings: Settings, service: str) -> None:
        self._settings = settings
        self._service = service
        self._minted: tuple[str, float] | None = None

    def token(self) -> str:
        path = self._settings.service_token_file
        if path is not None:
            return self._read(path)
        if self._settings.env == "production":
            raise RuntimeError(
                "LIANDONG_SERVICE_TOKEN_FILE is not set: in production the identity provider "
                f"issues the {self._service} service's token"
            )
        if self._minted is None or self._minted[1] - time.time() < _RENEW_BEFORE_SECONDS:
            self._minted = self._mint()
        return self._minted[0]

    def check(self, verifier: TokenVerifier) -> None:
        """At start: a token file, when set (always in production), must hold a token that
        ``verifier`` accepts (signature, issuer, audience, expiry, district) as exactly this
        service. Raises :class:`ServiceIdentityError` naming what is wrong; without the check
        a deployment would start and then dead-letter its first referred dispatch."""
        path = self._settings.service_token_file
        if path is None:
            if self._settings.env == "production":
                raise ServiceIdentityError(
                    "LIANDONG_SERVICE_TOKEN_FILE is not set: in production the identity "
                    f"provider issues the {self._service} service's token (sub and agency "
                    f"service:{self._service}, the one role {self._service}_service)"
                )
            return  # minted from the development keys at each use
        try:
            token = self._read(path)
        except (OSError, RuntimeError) as exc:
            raise ServiceIdentityError(
                f"LIANDONG_SERVICE_TOKEN_FILE={path}: cannot read the {self._service} "
                f"service's token: {exc}"
            ) from exc
        try:
            principal = verifier.verify(token)
        except AuthError as exc:
            raise ServiceIdentityError(
                f"LIANDONG_SERVICE_TOKEN_FILE={path}: the token is refused by this district's "
                f"verifier ({exc.reason}): {exc}"
            ) from exc
        if not is_service(principal, self._service):
            raise ServiceIdentityError(
                f"LIANDONG_SERVICE_TOKEN_FILE={path}: the token is not the {self._service} "
                f"service's own (sub {principal.person_id!r}, agency {principal.agency_id!r}, "
                f"roles {list(principal.roles)}; expected sub and agency "
                f"service:{self._service} with the one role {self._service}_service)"
            )

    @staticmethod
    def _read(path: Path) -> str:
        token = path.read_text().strip()
        if not token:
            raise RuntimeError(f"the service token file {path} is empty")
        return token

    def _mint(self) -> tuple[str, float]:
        s = self._settings
        if s.jwt_private_key_file is not None:
            pem, kid = s.jwt_private_key_file.read_bytes(), s.jwt_private_key_file.stem
        else:
            dev = ensure_dev_keys(s.data_dir)
            pem, kid = dev.private_key_file.read_bytes(), dev.kid
        issuer = TokenIssuer(pem, kid=kid, issuer=s.jwt_issuer, audience=s.jwt_audience)
        principal = service_principal(self._service, s.district)
        return issuer.issue(
            principal, ttl=DEV_TOKEN_TTL
        ), time.time() + DEV_TOKEN_TTL.total_seconds()


class ServiceClient:
    """GETs of another service's HTTP routes under this service's identity, retried while
    the other service is briefly unavailable."""

    def __init__(
        self,
        base_url: str,
        credential: ServiceCredential,
        *,
        attempts: int = 4,
        backoff_seconds: float = 0.5,
        timeout_seconds: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._base = base_url.rstrip("/")
        self.credential = credential
        self._attempts = max(1, attempts)
        self._backoff = backoff_seconds
        self._timeout = timeout_seconds
        self._transport = transport

    @classmethod
    def to(cls, settings: Settings, target: str, service: str) -> ServiceClient:
        """A client of ``target`` (its URL from the settings, e.g. ``coordination_url``) for
        ``service``."""
        base = getattr(settings, f"{target}_url", None) or (
            f"http://127.0.0.1:{DEFAULT_PORTS[target]}"
        )
        return cls(
            base,
            ServiceCredential(settings, service),
            attempts=settings.service_fetch_attempts,
            backoff_seconds=settings.service_fetch_backoff_seconds,
        )

    async def get_bytes(self, path: str, *, max_bytes: int) -> bytes:
        """The body of ``GET path`` (at most ``max_bytes``); FetchRefused on a refusal,
        FetchUnavailable after the last attempt."""
        url = self._base + path
        wait = self._backoff
        last = ""
        for attempt in range(1, self._attempts + 1):
            try:
                return await self._get(url, max_bytes)
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}"
            except _Retry as exc:
                last = str(exc)
            if attempt < self._attempts:
                log.warning(
                    "GET %s failed (%s); attempt %d of %d", url, last, attempt, self._attempts
                )
                await asyncio.sleep(wait)
                wait *= 2
        raise FetchUnavailable(f"GET {url} failed {self._attempts} times; last: {last}")

    async def _get(self, url: str, max_bytes: int) -> bytes:
        headers = {"Authorization": f"Bearer {self.credential.token()}"}
        async with (
            httpx.AsyncClient(transport=self._transport, timeout=self._timeout) as client,
            client.stream("GET", url, headers=headers) as response,
        ):
            if response.status_code in RETRIED_STATUSES:
                raise _Retry(f"status {response.status_code}")
            if response.status_code != 200:
                body = (await response.aread()).decode("utf-8", "replace")
                raise FetchRefused(url, response.status_code, body)
            received = bytearray()
            async for chunk in response.aiter_bytes():
                received += chunk
                if len(received) > max_bytes:
                    raise FetchRefused(url, 200, f"more than {max_bytes} bytes")
            return bytes(received)


class _Retry(Exception):
    pass
