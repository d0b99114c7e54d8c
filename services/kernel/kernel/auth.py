"""Authentication context: signed JWTs carrying person, agency, district and roles.

Tokens are ES256-signed JWTs. Services verify them against a JWKS (public keys only, from a
file or the identity provider's URL) and check issuer, audience, expiry and not-before with a
bounded leeway. The gateway checks every token too (gateway/gateway.config.ts) and forwards
the client's ``Authorization`` header; every subgraph verifies it again, so a request that
reaches a subgraph some other way gains nothing. In development a key pair
is generated once under the data directory so ``liandong token`` can mint tokens.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

__all__ = [
    "ROLES",
    "SERVICE_ROLES",
    "AuthError",
    "AuthReason",
    "KeySource",
    "Principal",
    "TokenIssuer",
    "TokenVerifier",
    "accept_service_identity",
    "ensure_dev_keys",
    "is_service",
    "service_principal",
]

ALGORITHM = "ES256"
ROLES = (
    "clerk",
    "leader",
    "legal_reviewer",
    "liaison",
    "coordinator",
    "supervisor",
    "government",
    "judicial_observer",
    "bureau_system",
    "grid_member",
    "referral_service",
)
#: Roles the identity provider issues to a service, never to a person (a service identity,
#: :func:`service_principal`): each is accepted only where a matrix row names it.
SERVICE_ROLES = frozenset({"referral_service"})


class AuthReason:
    """Why a token was refused: stable, machine-readable, finer than the GraphQL code.

    Clients branch on the GraphQL ``code`` (UNAUTHENTICATED, WRONG_DISTRICT); the reason is
    for logs, audits and tests, and tells an operator which check failed without exposing
    anything an attacker does not already know about the token they sent.
    """

    MISSING = "TOKEN_MISSING"
    MALFORMED = "TOKEN_MALFORMED"
    ALGORITHM = "TOKEN_ALGORITHM_REFUSED"
    UNKNOWN_KEY = "TOKEN_UNKNOWN_KEY"
    SIGNATURE = "TOKEN_SIGNATURE_INVALID"
    EXPIRED = "TOKEN_EXPIRED"
    NOT_YET_VALID = "TOKEN_NOT_YET_VALID"
    ISSUER = "TOKEN_ISSUER_INVALID"
    AUDIENCE = "TOKEN_AUDIENCE_INVALID"
    CLAIMS = "TOKEN_CLAIMS_INVALID"
    DISTRICT = "TOKEN_WRONG_DISTRICT"
    KEYS_UNAVAILABLE = "TOKEN_KEYS_UNAVAILABLE"
    SERVICE = "TOKEN_SERVICE_IDENTITY_NOT_ACCEPTED"


class AuthError(Exception):
    """A token is missing, malformed, expired, or signed by an unknown key.

    ``code`` is stable for clients: UNAUTHENTICATED, WRONG_DISTRICT or FORBIDDEN; ``reason``
    (an :class:`AuthReason` value) names the check that failed.
    """

    def __init__(
        self, message: str, code: str = "UNAUTHENTICATED", reason: str = AuthReason.MALFORMED
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class Principal:
    """Who is acting: a person of an agency in a district, with roles."""

    person_id: str
    person_name: str
    agency_id: str
    district: str
    roles: tuple[str, ...] = field(default_factory=tuple)

    def has_role(self, role: str) -> bool:
        return role in self.roles

    def claims(self) -> dict[str, Any]:
        return {
            "sub": self.person_id,
            "name": self.person_name,
            "agency": self.agency_id,
            "district": self.district,
            "roles": list(self.roles),
        }


def service_principal(service: str, district: str) -> Principal:
    """The identity of a service of the suite (e.g. the referral service fetching a referred
    dispatch's photos from coordination, R-GRD-01): no person, no agency of the directory,
    one role ``<service>_service``. Minted by the district's identity provider (in
    development from the dev keys, :mod:`kernel.service_identity`)."""
    who = f"service:{service}"
    return Principal(who, f"{service} service", who, district, (f"{service}_service",))


def is_service(principal: Principal, service: str) -> bool:
    """Whether ``principal`` is exactly the service identity of ``service``: its subject,
    agency and single role all say so (a person's token carrying the role as one of several,
    or naming an agency, is not a service)."""
    who = f"service:{service}"
    return (
        principal.person_id == who
        and principal.agency_id == who
        and principal.roles == (f"{service}_service",)
    )


def accept_service_identity(principal: Principal, services: frozenset[str] = frozenset()) -> None:
    """Refuse (FORBIDDEN) a token carrying a service role anywhere but where one of
    ``services`` is accepted, and there unless it is exactly that service's identity: the graph
    and every other route refuse service identities (and a token mixing a service role with
    a person's) before any handler runs."""
    if not SERVICE_ROLES & set(principal.roles):
        return
    if any(is_service(principal, s) for s in services):
        return
    raise AuthError(
        "a service identity is accepted only on the routes made for it",
        code="FORBIDDEN",
        reason=AuthReason.SERVICE,
    )


# Clock skew is a property of machines, not of tokens: a few seconds in practice, and a
# generous leeway quietly extends every token's life by as much. Refuse configurations that
# would turn the expiry check into a formality.
MAX_LEEWAY_SECONDS = 300

# Claims every accepted token carries. PyJWT checks the registered ones (and their types);
# Liandong's own are checked when the principal is built.
_REQUIRED_REGISTERED = ["exp", "iat", "nbf", "sub", "iss", "aud"]
#: How many verified tokens a verifier remembers (then it forgets them all and starts over).
VERIFIED_CACHE_SIZE = 4096


def _public_ec_key(jwk: dict[str, Any]) -> ec.EllipticCurvePublicKey:
    """The P-256 public key of a JWK, or ValueError.

    Only public EC keys on P-256 are accepted: a private key in a JWKS is a deployment
    mistake, and any other key type (RSA, or an ``oct`` secret) would let a token pick a
    different algorithm family than the one the keys were issued for.
    """
    if jwk.get("kty") != "EC" or "d" in jwk:
        raise ValueError(f"JWKS key {jwk.get('kid')!r} must be a public EC key")
    if jwk.get("crv") != "P-256":
        raise ValueError(f"JWKS key {jwk.get('kid')!r} must be on curve P-256 (ES256)")
    if jwk.get("alg") not in (None, ALGORITHM):
        raise ValueError(f"JWKS key {jwk.get('kid')!r} is for {jwk.get('alg')!r}, not ES256")
    if not jwk.get("kid"):
        raise ValueError("every JWKS key needs a 'kid'")
    key = ECAlgorithm.from_jwk(json.dumps(jwk))
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise ValueError(f"JWKS key {jwk.get('kid')!r} must be a public EC key")
    return key


class KeySource(Protocol):
    """Where the verifier finds the public key for a ``kid`` (None: no such key)."""

    def key_for(self, kid: str) -> ec.EllipticCurvePublicKey | None: ...


class _StaticKeys:
    """A JWKS read once (a file, or a dict in tests); rotating keys means restarting."""

    def __init__(self, jwks: dict[str, Any]) -> None:
        self._keys = {str(jwk.get("kid")): _public_ec_key(jwk) for jwk in jwks.get("keys", [])}
        if not self._keys:
            raise ValueError("JWKS has no keys")

    def key_for(self, kid: str) -> ec.EllipticCurvePublicKey | None:
        return self._keys.get(kid)


class _RemoteKeys:
    """A JWKS served by the identity provider, through PyJWT's :class:`jwt.PyJWKClient`.

    The fetched key set is cached for ``ttl`` seconds. A token whose ``kid`` is not in the
    cache (a key the provider has just rotated in) forces one refresh, but at most once per
    ``refresh_interval`` seconds, so a stream of tokens with made-up ``kid`` values cannot turn
    every request into a call to the identity provider. The fetch is synchronous (urllib) and
    bounded by ``timeout``; it happens only on expiry or an unknown key.
    """

    def __init__(self, url: str, *, ttl: float, refresh_interval: float, timeout: float) -> None:
        self._client = jwt.PyJWKClient(
            url,
            cache_jwk_set=True,
            lifespan=ttl,
            cooldown_duration=refresh_interval,
            timeout=timeout,
        )

    def key_for(self, kid: str) -> ec.EllipticCurvePublicKey | None:
        try:
            found = self._client.get_signing_key(kid)
        except jwt.PyJWKClientConnectionError as exc:
            raise AuthError(
                f"the signing keys cannot be fetched: {exc}",
                reason=AuthReason.KEYS_UNAVAILABLE,
            ) from exc
        except jwt.PyJWKClientError:
            return None
        except jwt.PyJWKSetError as exc:
            raise AuthError(
                f"the identity provider's key set is unusable: {exc}",
                reason=AuthReason.KEYS_UNAVAILABLE,
            ) from exc
        key = found.key
        # The provider may publish keys for other clients (RSA, other curves, private keys
        # by mistake); for Liandong a kid naming one of those is as good as unknown.
        if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1":
            return key
        return None


class TokenVerifier:
    """Verifies tokens against a JWKS; keys are chosen by ``kid``.

    Checks, in order: the header parses and names ES256 (so ``alg=none`` and HS256 signed
    with the public key as an HMAC secret never reach a key); the ``kid`` is a known P-256
    public key; the signature; issuer, audience, expiry, not-before and issued-at with at
    most ``leeway`` seconds of clock skew; Liandong's own claims (``agency``, ``district``,
    ``roles``) and, when ``district`` is given, that the token is for this district.
    """

    def __init__(
        self,
        jwks: dict[str, Any] | None = None,
        *,
        issuer: str,
        audience: str,
        leeway: int = 30,
        district: str | None = None,
        keys: KeySource | None = None,
    ):
        if keys is None:
            if jwks is None:
                raise ValueError("TokenVerifier needs a JWKS")
            keys = _StaticKeys(jwks)
        if not 0 <= leeway <= MAX_LEEWAY_SECONDS:
            raise ValueError(
                f"token leeway must be between 0 and {MAX_LEEWAY_SECONDS} seconds, got {leeway}"
            )
        if not issuer or not audience:
            raise ValueError("token issuer and audience must be set")
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway
        self._district = district
        # Tokens already verified: token → (principal, kid, key, nbf, exp). A client sends
        # the same token with every request for hours; the ES256 check and the decoding
        # were ~8 % of a referral read's CPU (issue 21, P6 profile). A hit still checks the
        # time window and that the signing key is still published.
        self._verified: dict[str, tuple[Principal, str, Any, float, float]] = {}

    @classmethod
    def from_file(
        cls,
        path: Path,
        *,
        issuer: str,
        audience: str,
        leeway: int = 30,
        district: str | None = None,
    ) -> TokenVerifier:
        try:
            jwks = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"cannot read JWKS {path}: {exc}") from exc
        return cls(jwks, issuer=issuer, audience=audience, leeway=leeway, district=district)

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        issuer: str,
        audience: str,
        leeway: int = 30,
        district: str | None = None,
        ttl: float = 300.0,
        refresh_interval: float = 30.0,
        timeout: float = 5.0,
    ) -> TokenVerifier:
        """Keys from the identity provider's JWKS endpoint, cached ``ttl`` seconds, refreshed
        on an unknown ``kid`` at most once per ``refresh_interval`` seconds."""
        if not url.startswith(("https://", "http://")):
            raise ValueError(f"JWKS URL must be http(s), got {url!r}")
        keys = _RemoteKeys(url, ttl=ttl, refresh_interval=refresh_interval, timeout=timeout)
        return cls(
            None, issuer=issuer, audience=audience, leeway=leeway, district=district, keys=keys
        )

    def verify(self, token: str) -> Principal:
        cached = self._verified.get(token)
        if cached is not None:
            principal, kid, key, not_before, expires = cached
            now = time.time()
            if (
                not_before - self._leeway <= now <= expires + self._leeway
                and self._keys.key_for(kid) == key
            ):
                return principal
            del self._verified[token]  # verified again below, with the reason it fails
        principal, kid, key, claims = self._verify(token)
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            self._verified.clear()
        nbf = claims.get("nbf", claims.get("iat", 0))
        self._verified[token] = (principal, kid, key, float(nbf), float(claims["exp"]))
        return principal

    def _verify(self, token: str) -> tuple[Principal, str, Any, dict[str, Any]]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise AuthError(f"malformed token: {exc}", reason=AuthReason.MALFORMED) from exc
        if header.get("alg") != ALGORITHM:
            raise AuthError(
                f"token algorithm {header.get('alg')!r} is not accepted (only {ALGORITHM})",
                reason=AuthReason.ALGORITHM,
            )
        kid = header.get("kid")
        key = self._keys.key_for(kid) if isinstance(kid, str) and kid else None
        if key is None:
            raise AuthError(f"token signed by unknown key {kid!r}", reason=AuthReason.UNKNOWN_KEY)
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=[ALGORITHM],
                issuer=self._issuer,
                audience=self._audience,
                leeway=self._leeway,
                options={"require": _REQUIRED_REGISTERED},
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthError("token expired", reason=AuthReason.EXPIRED) from exc
        except jwt.ImmatureSignatureError as exc:
            raise AuthError(f"token not yet valid: {exc}", reason=AuthReason.NOT_YET_VALID) from exc
        except jwt.InvalidIssuerError as exc:
            raise AuthError(f"invalid token: {exc}", reason=AuthReason.ISSUER) from exc
        except jwt.InvalidAudienceError as exc:
            raise AuthError(f"invalid token: {exc}", reason=AuthReason.AUDIENCE) from exc
        except jwt.InvalidSignatureError as exc:
            raise AuthError(f"invalid token: {exc}", reason=AuthReason.SIGNATURE) from exc
        except jwt.MissingRequiredClaimError as exc:
            raise AuthError(f"invalid token: {exc}", reason=AuthReason.CLAIMS) from exc
        except jwt.DecodeError as exc:
            raise AuthError(f"invalid token: {exc}", reason=AuthReason.MALFORMED) from exc
        except jwt.PyJWTError as exc:
            raise AuthError(f"invalid token: {exc}", reason=AuthReason.CLAIMS) from exc
        principal = self._principal(claims)
        if self._district is not None and principal.district != self._district:
            raise AuthError(
                f"this deployment serves district {self._district!r}; the token is for "
                f"{principal.district!r}",
                code="WRONG_DISTRICT",
                reason=AuthReason.DISTRICT,
            )
        return principal, str(kid), key, claims

    @staticmethod
    def _principal(claims: dict[str, Any]) -> Principal:
        def text(name: str) -> str:
            value = claims.get(name)
            if not isinstance(value, str) or not value.strip():
                raise AuthError(
                    f"token lacks the claim {name!r} (a non-empty string)",
                    reason=AuthReason.CLAIMS,
                )
            return value

        roles = claims.get("roles", [])
        # A bare string would otherwise become a tuple of its letters.
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise AuthError(
                "token claim 'roles' must be a list of strings", reason=AuthReason.CLAIMS
            )
        name = claims.get("name", claims.get("sub"))
        return Principal(
            person_id=text("sub"),
            person_name=str(name) if name is not None else text("sub"),
            agency_id=text("agency"),
            district=text("district"),
            roles=tuple(roles),
        )

    def verify_header(self, authorization: str | None) -> Principal:
        """Verify an ``Authorization: Bearer <token>`` header value."""
        if not authorization:
            raise AuthError(
                "no Authorization header: send 'Authorization: Bearer <token>'",
                reason=AuthReason.MISSING,
            )
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError(
                "Authorization header must be 'Bearer <token>'", reason=AuthReason.MALFORMED
            )
        return self.verify(token.strip())


class TokenIssuer:
    """Mints tokens with a private EC key (development and tests; production tokens come from
    the district's identity provider)."""

    def __init__(self, private_key_pem: bytes, *, kid: str, issuer: str, audience: str):
        self._key = serialization.load_pem_private_key(private_key_pem, password=None)
        self._kid = kid
        self._issuer = issuer
        self._audience = audience

    def issue(self, principal: Principal, *, ttl: timedelta = timedelta(hours=8)) -> str:
        now = datetime.now(UTC)
        claims = principal.claims() | {
            "iss": self._issuer,
            "aud": self._audience,
            "iat": now,
            "nbf": now,
            "exp": now + ttl,
            "jti": str(uuid.uuid4()),
        }
        return jwt.encode(claims, self._key, algorithm=ALGORITHM, headers={"kid": self._kid})  # type: ignore[arg-type]


@dataclass(frozen=True)
class DevKeys:
    private_key_file: Path
    jwks_file: Path
    kid: str


def ensure_dev_keys(data_dir: Path) -> DevKeys:
    """Generate (once) a development ES256 key pair under ``data_dir/keys``.

    The services of a development or test topology start together on one data directory, and
    each calls this: the pair is created under an exclusive lock on ``keys/.lock`` and looked
    for again once the lock is held, so exactly one process generates it and every other one
    (and the token minter) reads that same pair. Both files are written to a temporary name
    and renamed, the JWKS first: a reader that finds both files finds a complete, final pair.
    """
    keys_dir = data_dir / "keys"
    private_file = keys_dir / "dev-signing-key.pem"
    jwks_file = keys_dir / "dev-jwks.json"
    found = _existing_dev_keys(private_file, jwks_file)
    if found is not None:
        return found
    keys_dir.mkdir(parents=True, exist_ok=True)
    with (keys_dir / ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            found = _existing_dev_keys(private_file, jwks_file)
            if found is not None:
                return found
            key = ec.generate_private_key(ec.SECP256R1())
            kid = "dev-" + uuid.uuid4().hex[:8]
            pem = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            public_jwk = json.loads(ECAlgorithm.to_jwk(key.public_key()))
            public_jwk.update({"kid": kid, "use": "sig", "alg": ALGORITHM})
            _write_replacing(jwks_file, json.dumps({"keys": [public_jwk]}, indent=2).encode())
            _write_replacing(private_file, pem, mode=0o600)
            return DevKeys(private_file, jwks_file, kid)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _existing_dev_keys(private_file: Path, jwks_file: Path) -> DevKeys | None:
    if private_file.exists() and jwks_file.exists():
        kid = json.loads(jwks_file.read_text())["keys"][0]["kid"]
        return DevKeys(private_file, jwks_file, kid)
    return None


def _write_replacing(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.chmod(mode)
    tmp.replace(path)
