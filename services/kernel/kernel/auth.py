"""Authentication context: signed JWTs carrying person, agency, district and roles.

Tokens are ES256-signed JWTs. Services verify them against a JWKS (public keys only) and
check issuer, audience, expiry and not-before with a bounded leeway. The gateway forwards the
client's ``Authorization`` header; every subgraph verifies it again. In development a key pair
is generated once under the data directory so ``liandong token`` can mint tokens.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

__all__ = [
    "ROLES",
    "AuthError",
    "Principal",
    "TokenIssuer",
    "TokenVerifier",
    "ensure_dev_keys",
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
)


class AuthError(Exception):
    """A token is missing, malformed, expired, or signed by an unknown key.

    ``code`` is stable for clients: UNAUTHENTICATED or FORBIDDEN.
    """

    def __init__(self, message: str, code: str = "UNAUTHENTICATED") -> None:
        super().__init__(message)
        self.code = code


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


class TokenVerifier:
    """Verifies tokens against a JWKS; keys are chosen by ``kid``."""

    def __init__(self, jwks: dict[str, Any], *, issuer: str, audience: str, leeway: int = 30):
        self._keys: dict[str, Any] = {}
        for jwk in jwks.get("keys", []):
            if jwk.get("kty") != "EC" or "d" in jwk:
                # Public EC keys only: a private key in a JWKS is a deployment mistake, and
                # other key types would open the door to algorithm confusion.
                raise ValueError(f"JWKS key {jwk.get('kid')!r} must be a public EC key")
            self._keys[jwk["kid"]] = ECAlgorithm.from_jwk(json.dumps(jwk))
        if not self._keys:
            raise ValueError("JWKS has no keys")
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway

    @classmethod
    def from_file(
        cls, path: Path, *, issuer: str, audience: str, leeway: int = 30
    ) -> TokenVerifier:
        try:
            jwks = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"cannot read JWKS {path}: {exc}") from exc
        return cls(jwks, issuer=issuer, audience=audience, leeway=leeway)

    def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise AuthError(f"malformed token: {exc}") from exc
        if header.get("alg") != ALGORITHM:
            raise AuthError(f"token algorithm {header.get('alg')!r} is not accepted")
        key = self._keys.get(str(header.get("kid")))
        if key is None:
            raise AuthError(f"token signed by unknown key {header.get('kid')!r}")
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=[ALGORITHM],
                issuer=self._issuer,
                audience=self._audience,
                leeway=self._leeway,
                options={"require": ["exp", "iat", "nbf", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthError("token expired") from exc
        except jwt.PyJWTError as exc:
            raise AuthError(f"invalid token: {exc}") from exc
        try:
            return Principal(
                person_id=str(claims["sub"]),
                person_name=str(claims.get("name", claims["sub"])),
                agency_id=str(claims["agency"]),
                district=str(claims["district"]),
                roles=tuple(str(r) for r in claims.get("roles", [])),
            )
        except KeyError as exc:
            raise AuthError(f"token lacks the claim {exc.args[0]!r}") from exc

    def verify_header(self, authorization: str | None) -> Principal:
        """Verify an ``Authorization: Bearer <token>`` header value."""
        if not authorization:
            raise AuthError("no Authorization header: send 'Authorization: Bearer <token>'")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError("Authorization header must be 'Bearer <token>'")
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
    """Generate (once) a development ES256 key pair under ``data_dir/keys``."""
    keys_dir = data_dir / "keys"
    private_file = keys_dir / "dev-signing-key.pem"
    jwks_file = keys_dir / "dev-jwks.json"
    if private_file.exists() and jwks_file.exists():
        kid = json.loads(jwks_file.read_text())["keys"][0]["kid"]
        return DevKeys(private_file, jwks_file, kid)
    keys_dir.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    kid = "dev-" + uuid.uuid4().hex[:8]
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_jwk = json.loads(ECAlgorithm.to_jwk(key.public_key()))
    public_jwk.update({"kid": kid, "use": "sig", "alg": ALGORITHM})
    tmp = private_file.with_suffix(".tmp")
    tmp.write_bytes(pem)
    tmp.chmod(0o600)
    tmp.replace(private_file)
    jwks_file.write_text(json.dumps({"keys": [public_jwk]}, indent=2))
    return DevKeys(private_file, jwks_file, kid)
