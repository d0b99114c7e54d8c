"""Tokens: signed ES256 JWTs verified against a JWKS; forged or stale ones are refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from kernel.auth import (
    MAX_LEEWAY_SECONDS,
    AuthError,
    AuthReason,
    Principal,
    TokenIssuer,
    TokenVerifier,
    ensure_dev_keys,
)
from tests.fixtures.tokens import b64url as _b64
from tests.fixtures.tokens import sign_es256 as _sign
from tests.fixtures.tokens import valid_claims

P = Principal("p1", "郑晓东", "fy-hancong", "fuyuan", ("clerk", "leader"))


@pytest.fixture
def keys(tmp_path: Path):
    dev = ensure_dev_keys(tmp_path)
    issuer = TokenIssuer(
        dev.private_key_file.read_bytes(), kid=dev.kid, issuer="liandong", audience="liandong"
    )
    verifier = TokenVerifier.from_file(dev.jwks_file, issuer="liandong", audience="liandong")
    return dev, issuer, verifier


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
    key = serialization.load_pem_private_key(dev.private_key_file.read_bytes(), password=None)
    private_jwk = json.loads(ECAlgorithm.to_jwk(key))  # type: ignore[arg-type]
    private_jwk["kid"] = "k"
    with pytest.raises(ValueError, match="public EC key"):
        TokenVerifier({"keys": [private_jwk]}, issuer="liandong", audience="liandong")


# --- one test per attack, each with its stable reason ---------------------------------------


def _now() -> int:
    return int(datetime.now(UTC).timestamp())


def _claims(**overrides: object) -> dict[str, object]:
    """A valid token's claims for P; an override of ``_DROP`` leaves that claim out."""
    drop = [name for name, value in overrides.items() if value is _DROP]
    kept = {name: value for name, value in overrides.items() if value is not _DROP}
    return valid_claims(P, drop=drop, **kept)


_DROP = object()


def _refused(verifier: TokenVerifier, token: str, reason: str, code: str = "UNAUTHENTICATED"):
    with pytest.raises(AuthError) as raised:
        verifier.verify(token)
    assert (raised.value.code, raised.value.reason) == (code, reason), str(raised.value)
    return raised.value


@pytest.mark.parametrize("alg", ["none", "None", "NONE", ""])
def test_alg_none_in_any_spelling_is_refused(keys, alg: str) -> None:
    dev, _, verifier = keys
    token = f"{_b64({'alg': alg, 'kid': dev.kid, 'typ': 'JWT'})}.{_b64(_claims())}."
    _refused(verifier, token, AuthReason.ALGORITHM)


@pytest.mark.parametrize("secret_form", ["jwk", "pem"])
def test_hs256_signed_with_the_public_key_is_refused(keys, secret_form: str) -> None:
    """Algorithm confusion: the public key (as published, or as PEM) used as an HMAC secret."""
    dev, _, verifier = keys
    jwk = json.loads(dev.jwks_file.read_text())["keys"][0]
    if secret_form == "jwk":
        secret = json.dumps(jwk).encode()
    else:
        public = ECAlgorithm.from_jwk(json.dumps(jwk))
        secret = public.public_bytes(  # type: ignore[union-attr]
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    signing_input = f"{_b64({'alg': 'HS256', 'kid': dev.kid, 'typ': 'JWT'})}.{_b64(_claims())}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    token = signing_input + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
    _refused(verifier, token, AuthReason.ALGORITHM)


@pytest.mark.parametrize("alg", ["RS256", "ES384", "ES512", "PS256", "EdDSA"])
def test_other_asymmetric_algorithms_are_refused(keys, alg: str) -> None:
    dev, _, verifier = keys
    _, body, sig = _sign(dev, _claims()).split(".")
    token = f"{_b64({'alg': alg, 'kid': dev.kid, 'typ': 'JWT'})}.{body}.{sig}"
    _refused(verifier, token, AuthReason.ALGORITHM)


def test_unknown_kid_is_refused(keys, tmp_path: Path) -> None:
    _, _, verifier = keys
    stranger = ensure_dev_keys(tmp_path / "stranger")
    _refused(verifier, _sign(stranger, _claims()), AuthReason.UNKNOWN_KEY)


def test_stranger_key_under_our_kid_fails_the_signature(keys, tmp_path: Path) -> None:
    """A key we do not hold, claiming the kid of one we do: the signature decides."""
    dev, _, verifier = keys
    stranger = ensure_dev_keys(tmp_path / "stranger")
    token = _sign(stranger, _claims(), kid=dev.kid)
    _refused(verifier, token, AuthReason.SIGNATURE)


def test_missing_kid_is_refused(keys) -> None:
    dev, _, verifier = keys
    key = serialization.load_pem_private_key(dev.private_key_file.read_bytes(), password=None)
    token = jwt.encode(_claims(), key, algorithm="ES256")  # type: ignore[arg-type]
    _refused(verifier, token, AuthReason.UNKNOWN_KEY)


@pytest.mark.parametrize(
    ("claim", "value"),
    [("agency", "fy-market"), ("roles", ["supervisor"]), ("district", "fuyuan-x"), ("exp", 2**40)],
)
def test_tampered_payload_is_refused(keys, claim: str, value: object) -> None:
    _, issuer, verifier = keys
    head, body, sig = issuer.issue(P).split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims[claim] = value
    _refused(verifier, f"{head}.{_b64(claims)}.{sig}", AuthReason.SIGNATURE)


def test_tampered_signature_is_refused(keys) -> None:
    _, issuer, verifier = keys
    head, body, sig = issuer.issue(P).split(".")
    raw = bytearray(base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4)))
    raw[5] ^= 0x01
    flipped = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    _refused(verifier, f"{head}.{body}.{flipped}", AuthReason.SIGNATURE)
    _refused(verifier, f"{head}.{body}.", AuthReason.SIGNATURE)


def test_expired_beyond_leeway_refused_within_leeway_accepted(keys) -> None:
    dev, _, verifier = keys  # leeway 30 s
    now = _now()
    _refused(verifier, _sign(dev, _claims(exp=now - 90, iat=now - 900)), AuthReason.EXPIRED)
    assert verifier.verify(_sign(dev, _claims(exp=now - 5, iat=now - 900))) == P


def test_not_yet_valid_beyond_leeway_refused_within_leeway_accepted(keys) -> None:
    dev, _, verifier = keys
    now = _now()
    _refused(verifier, _sign(dev, _claims(nbf=now + 120)), AuthReason.NOT_YET_VALID)
    _refused(verifier, _sign(dev, _claims(iat=now + 120)), AuthReason.NOT_YET_VALID)
    assert verifier.verify(_sign(dev, _claims(nbf=now + 5))) == P


def test_wrong_issuer_refused(keys) -> None:
    dev, _, verifier = keys
    _refused(verifier, _sign(dev, _claims(iss="someone-else")), AuthReason.ISSUER)


def test_wrong_audience_refused_with_reason(keys) -> None:
    dev, _, verifier = keys
    _refused(verifier, _sign(dev, _claims(aud="another-app")), AuthReason.AUDIENCE)
    # A list of audiences passes only if ours is among them.
    _refused(verifier, _sign(dev, _claims(aud=["a", "b"])), AuthReason.AUDIENCE)
    assert verifier.verify(_sign(dev, _claims(aud=["a", "liandong"]))) == P


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat", "sub", "iss", "aud", "agency", "district"])
def test_missing_claim_refused(keys, claim: str) -> None:
    dev, _, verifier = keys
    _refused(verifier, _sign(dev, _claims(**{claim: _DROP})), AuthReason.CLAIMS)


@pytest.mark.parametrize(
    ("claim", "value", "reason"),
    [
        ("roles", "clerk", AuthReason.CLAIMS),  # would otherwise become roles c, l, e, r, k
        ("roles", [1, 2], AuthReason.CLAIMS),
        ("agency", "", AuthReason.CLAIMS),
        ("district", 7, AuthReason.CLAIMS),
        ("exp", "soon", AuthReason.MALFORMED),  # PyJWT reports a non-numeric time as undecodable
    ],
)
def test_ill_typed_claim_refused(keys, claim: str, value: object, reason: str) -> None:
    dev, _, verifier = keys
    error = _refused(verifier, _sign(dev, _claims(**{claim: value})), reason)
    assert claim in str(error)


def test_wrong_district_refused_with_its_own_code(keys) -> None:
    dev, _, _ = keys
    verifier = TokenVerifier.from_file(
        dev.jwks_file, issuer="liandong", audience="liandong", district="fuyuan"
    )
    _refused(
        verifier, _sign(dev, _claims(district="tongjiang")), AuthReason.DISTRICT, "WRONG_DISTRICT"
    )
    assert verifier.verify(_sign(dev, _claims())) == P


def test_missing_header_has_its_reason(keys) -> None:
    _, _, verifier = keys
    with pytest.raises(AuthError) as raised:
        verifier.verify_header(None)
    assert raised.value.reason == AuthReason.MISSING
    with pytest.raises(AuthError) as raised:
        verifier.verify_header("Bearer ")
    assert raised.value.reason == AuthReason.MALFORMED


@pytest.mark.parametrize("leeway", [-1, MAX_LEEWAY_SECONDS + 1])
def test_leeway_is_bounded(keys, leeway: int) -> None:
    dev, _, _ = keys
    with pytest.raises(ValueError, match="leeway"):
        TokenVerifier.from_file(
            dev.jwks_file, issuer="liandong", audience="liandong", leeway=leeway
        )


def _rsa_jwk() -> dict[str, object]:
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    return {**json.loads(RSAAlgorithm.to_jwk(key)), "kid": "rsa-1"}


def _p384_jwk() -> dict[str, object]:
    key = ec.generate_private_key(ec.SECP384R1()).public_key()
    return {**json.loads(ECAlgorithm.to_jwk(key)), "kid": "p384-1"}


@pytest.mark.parametrize(
    ("jwk", "message"),
    [
        (_rsa_jwk, "public EC key"),
        (_p384_jwk, "P-256"),
        (lambda: {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"}, "public EC key"),
    ],
)
def test_jwks_with_keys_of_another_family_is_a_deployment_error(jwk, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TokenVerifier({"keys": [jwk()]}, issuer="liandong", audience="liandong")


# --- keys from the identity provider's URL -------------------------------------------------


class _JwksServer:
    """A loopback HTTP server serving a JWKS that the test can swap, counting fetches."""

    def __init__(self, jwks: dict[str, object]) -> None:
        self.jwks = jwks
        self.fetches = 0
        server_self = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server_self.fetches += 1
                body = json.dumps(server_self.jwks).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                return

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/jwks.json"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def jwks_server(keys) -> Iterator[_JwksServer]:
    dev, _, _ = keys
    server = _JwksServer(json.loads(dev.jwks_file.read_text()))
    yield server
    server.close()


def test_jwks_url_keys_are_fetched_once_and_cached(keys, jwks_server: _JwksServer) -> None:
    _, issuer, _ = keys
    verifier = TokenVerifier.from_url(jwks_server.url, issuer="liandong", audience="liandong")

    for _ in range(5):
        assert verifier.verify(issuer.issue(P)) == P

    assert jwks_server.fetches == 1


def test_jwks_url_unknown_kid_refreshes_at_most_once_per_interval(
    keys, jwks_server: _JwksServer, tmp_path: Path
) -> None:
    dev, issuer, _ = keys
    verifier = TokenVerifier.from_url(
        jwks_server.url, issuer="liandong", audience="liandong", refresh_interval=0
    )
    assert verifier.verify(issuer.issue(P)) == P
    assert jwks_server.fetches == 1
    # The provider rotates a new key in: the first token with its kid forces a refresh.
    rotated = ensure_dev_keys(tmp_path / "rotated")
    jwks_server.jwks = {
        "keys": [
            *json.loads(dev.jwks_file.read_text())["keys"],
            *json.loads(rotated.jwks_file.read_text())["keys"],
        ]
    }
    assert verifier.verify(_sign(rotated, _claims())) == P
    assert jwks_server.fetches == 2

    # With a refresh interval, a flood of made-up kids costs the provider nothing more.
    guarded = TokenVerifier.from_url(
        jwks_server.url, issuer="liandong", audience="liandong", refresh_interval=3600
    )
    assert guarded.verify(issuer.issue(P)) == P
    before = jwks_server.fetches
    for n in range(20):
        _refused(guarded, _sign(dev, _claims(), kid=f"made-up-{n}"), AuthReason.UNKNOWN_KEY)
    assert jwks_server.fetches == before


def test_jwks_url_skips_keys_of_other_families(keys, jwks_server: _JwksServer) -> None:
    dev, issuer, _ = keys
    jwks_server.jwks = {"keys": [_rsa_jwk(), *json.loads(dev.jwks_file.read_text())["keys"]]}
    verifier = TokenVerifier.from_url(jwks_server.url, issuer="liandong", audience="liandong")
    assert verifier.verify(issuer.issue(P)) == P
    _refused(verifier, _sign(dev, _claims(), kid="rsa-1"), AuthReason.UNKNOWN_KEY)


def test_jwks_url_unreachable_refuses_with_keys_unavailable(keys) -> None:
    _, issuer, _ = keys
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    verifier = TokenVerifier.from_url(
        f"http://127.0.0.1:{port}/jwks.json", issuer="liandong", audience="liandong", timeout=2
    )
    _refused(verifier, issuer.issue(P), AuthReason.KEYS_UNAVAILABLE)


def test_jwks_url_must_be_http() -> None:
    with pytest.raises(ValueError, match="http"):
        TokenVerifier.from_url("file:///etc/passwd", issuer="liandong", audience="liandong")


def test_dev_keys_created_once_when_processes_race(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Services of the production topology start together on one data directory: each must
    end with the one key pair that the others and the token minter use. A process that
    generated its own pair and lost the race used to verify against a key nobody signed
    with (TOKEN_UNKNOWN_KEY). Key generation is slowed so that every racer is inside it at
    once, as on a busy machine."""
    real = ec.generate_private_key

    def slow(curve: Any) -> Any:
        time.sleep(0.2)
        return real(curve)

    monkeypatch.setattr("kernel.auth.ec.generate_private_key", slow)
    racers = 6
    barrier = threading.Barrier(racers)
    results: list[tuple[str, bytes, bytes]] = []

    def race() -> None:
        barrier.wait()
        dev = ensure_dev_keys(tmp_path)
        results.append((dev.kid, dev.private_key_file.read_bytes(), dev.jwks_file.read_bytes()))

    threads = [threading.Thread(target=race) for _ in range(racers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(results) == racers
    assert len({r for r in results}) == 1, {kid for kid, _, _ in results}
    final = ensure_dev_keys(tmp_path)
    assert results[0][0] == final.kid
    # The private key on disk signs what the JWKS on disk verifies.
    issuer = TokenIssuer(
        final.private_key_file.read_bytes(), kid=final.kid, issuer="liandong", audience="liandong"
    )
    verifier = TokenVerifier.from_file(final.jwks_file, issuer="liandong", audience="liandong")
    assert verifier.verify_header("Bearer " + issuer.issue(P)) == P


class _MutableKeys:
    """A key source whose keys a test withdraws (a rotation at the identity provider)."""

    def __init__(self, jwks_file: Path) -> None:
        jwks = json.loads(jwks_file.read_text())
        self.keys = {str(k["kid"]): ECAlgorithm.from_jwk(json.dumps(k)) for k in jwks["keys"]}

    def key_for(self, kid: str) -> Any:
        return self.keys.get(kid)


def test_a_verified_token_is_remembered_until_it_expires(keys) -> None:
    """Issue 21 (P6): a token verified once is not verified again at every request, but a
    remembered token still expires at its ``exp`` (here with no leeway)."""
    dev, _, _ = keys
    verifier = TokenVerifier.from_file(
        dev.jwks_file, issuer="liandong", audience="liandong", leeway=0
    )
    exp = _now() + 1
    token = _sign(dev, _claims(exp=exp))
    assert verifier.verify(token) == P
    assert verifier.verify(token) == P  # remembered
    time.sleep(max(0.0, exp - time.time()) + 1.05)
    _refused(verifier, token, AuthReason.EXPIRED)


def test_a_remembered_token_is_refused_once_its_key_is_withdrawn(keys) -> None:
    """Issue 21 (P6): remembering a verified token never outlives its signing key."""
    dev, _, _ = keys
    source = _MutableKeys(dev.jwks_file)
    verifier = TokenVerifier(issuer="liandong", audience="liandong", keys=source)
    token = _sign(dev, _claims())
    assert verifier.verify(token) == P
    source.keys.clear()
    _refused(verifier, token, AuthReason.UNKNOWN_KEY)
