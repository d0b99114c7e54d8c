"""Tokens: signed ES256 JWTs verified against a JWKS; forged or stale ones are refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kernel.auth import AuthError, Principal, TokenIssuer, TokenVerifier, ensure_dev_keys

P = Principal("p1", "郑晓东", "fy-hancong", "fuyuan", ("clerk", "leader"))


@pytest.fixture
def keys(tmp_path: Path):
    dev = ensure_dev_keys(tmp_path)
    issuer = TokenIssuer(
        dev.private_key_file.read_bytes(), kid=dev.kid, issuer="liandong", audience="liandong"
    )
    verifier = TokenVerifier.from_file(dev.jwks_file, issuer="liandong", audience="liandong")
    return dev, issuer, verifier


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_valid_token_carries_person_agency_district_roles(keys) -> None:
    _, issuer, verifier = keys
    assert verifier.verify_header("Bearer " + issuer.issue(P)) == P


def test_dev_keys_are_generated_once(tmp_path: Path) -> None:
    first = ensure_dev_keys(tmp_path)
    second = ensure_dev_keys(tmp_path)
    assert first == second
    assert "d" not in json.loads(first.jwks_file.read_text())["keys"][0]


def test_expired_token_refused(keys) -> None:
    _, issuer, verifier = keys
    token = issuer.issue(P, ttl=timedelta(seconds=-120))
    with pytest.raises(AuthError, match="expired"):
        verifier.verify(token)


def test_wrong_audience_refused(keys) -> None:
    dev, _, verifier = keys
    other = TokenIssuer(
        dev.private_key_file.read_bytes(), kid=dev.kid, issuer="liandong", audience="elsewhere"
    )
    with pytest.raises(AuthError, match="invalid token"):
        verifier.verify(other.issue(P))


def test_alg_none_refused(keys) -> None:
    dev, _, verifier = keys
    now = int(datetime.now(UTC).timestamp())
    claims = {
        **P.claims(),
        "iss": "liandong",
        "aud": "liandong",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    }
    token = f"{_b64({'alg': 'none', 'kid': dev.kid})}.{_b64(claims)}."
    with pytest.raises(AuthError, match="not accepted"):
        verifier.verify(token)


def test_algorithm_confusion_refused(keys) -> None:
    """An HS256 token 'signed' with the public key as the HMAC secret must not pass."""
    dev, _, verifier = keys
    public = json.dumps(json.loads(dev.jwks_file.read_text())["keys"][0]).encode()
    now = int(datetime.now(UTC).timestamp())
    claims = {
        **P.claims(),
        "iss": "liandong",
        "aud": "liandong",
        "iat": now,
        "nbf": now,
        "exp": now + 300,
    }
    # Built by hand: PyJWT itself refuses to use a JWK as an HMAC secret.
    signing_input = f"{_b64({'alg': 'HS256', 'kid': dev.kid, 'typ': 'JWT'})}.{_b64(claims)}"
    mac = hmac.new(public, signing_input.encode(), hashlib.sha256).digest()
    token = signing_input + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
    with pytest.raises(AuthError, match="not accepted"):
        verifier.verify(token)


def test_unknown_key_and_tampering_refused(keys, tmp_path: Path) -> None:
    _, issuer, verifier = keys
    stranger = ensure_dev_keys(tmp_path / "other")
    forged = TokenIssuer(
        stranger.private_key_file.read_bytes(),
        kid=stranger.kid,
        issuer="liandong",
        audience="liandong",
    )
    with pytest.raises(AuthError, match="unknown key"):
        verifier.verify(forged.issue(P))
    head, body, sig = issuer.issue(P).split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["agency"] = "fy-market"
    with pytest.raises(AuthError, match="invalid token"):
        verifier.verify(f"{head}.{_b64(claims)}.{sig}")


def test_missing_or_malformed_header(keys) -> None:
    _, _, verifier = keys
    with pytest.raises(AuthError, match="no Authorization"):
        verifier.verify_header(None)
    with pytest.raises(AuthError, match="Bearer"):
        verifier.verify_header("Basic abc")
    with pytest.raises(AuthError, match="malformed"):
        verifier.verify("not-a-jwt")


def test_jwks_with_private_key_is_a_deployment_error(keys) -> None:
    dev, _, _ = keys
    from cryptography.hazmat.primitives import serialization
    from jwt.algorithms import ECAlgorithm

    key = serialization.load_pem_private_key(dev.private_key_file.read_bytes(), password=None)
    private_jwk = json.loads(ECAlgorithm.to_jwk(key))  # type: ignore[arg-type]
    private_jwk["kid"] = "k"
    with pytest.raises(ValueError, match="public EC key"):
        TokenVerifier({"keys": [private_jwk]}, issuer="liandong", audience="liandong")
