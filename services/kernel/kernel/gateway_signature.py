"""Subgraphs answer GraphQL only from the gateway (网关签名校验).

The gateway (Hive Gateway, ``hmacSignature`` in gateway/gateway.config.ts) signs every query
and mutation it sends to a subgraph: ``extensions["hmac-signature"]`` is the base64
HMAC-SHA256, under a secret shared with the services (``LIANDONG_GATEWAY_HMAC_SECRET``), of
the stable JSON (keys sorted, no spaces, as the npm package json-stable-stringify writes it) of
``{"query": ..., "variables": ...}`` (``variables`` left out when empty). Hive Gateway signs
subscriptions too, but strawberry's WebSocket server drops a subscribe message's
``extensions``; so the gateway's WebSocket upgrade request carries instead a key derived from
the secret (:func:`websocket_key`) in the ``x-liandong-gateway-key`` header.

:class:`GatewaySignatureMiddleware` checks both in front of a service's ``/graphql``:

- required (always in production): a request without a signature is refused with 401 and
  ``GATEWAY_SIGNATURE_MISSING``; a WebSocket without the key is refused at the handshake;
- optional (development default): unsigned requests pass, so ``curl`` to a subgraph works;
- either way, a signature that does not match is refused with 403 and
  ``GATEWAY_SIGNATURE_INVALID``.

The signature binds the operation and its variables, not the caller: the caller is proven by
the token, which every subgraph verifies itself.

Replays (issue 16, finding 9): the gateway also puts the time it signed
(``extensions["liandong-signed-at"]``, Unix seconds) and a random nonce
(``extensions["liandong-nonce"]``) in every operation, and the HMAC covers them: the signed
content is the stable JSON above, a newline, the time, a newline, the nonce. A service refuses
a signature older or newer than :data:`FRESHNESS_SECONDS` (``GATEWAY_SIGNATURE_EXPIRED``) and a
nonce it has already seen within that window (``GATEWAY_SIGNATURE_REPLAYED``); a signature
without them does not match. The WebSocket key is made the same way for every connection
(:func:`websocket_key` with a time and a nonce), no longer one constant value. Nonces are
remembered per process: a request captured inside the network can still be replayed once
to each *other* replica of the service within the window (a minute), not for the token's life.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import re
import secrets
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from starlette.applications import Starlette
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kernel.settings import Settings

__all__ = [
    "FRESHNESS_SECONDS",
    "HMAC_EXTENSION",
    "NONCE_EXTENSION",
    "SIGNED_AT_EXTENSION",
    "WEBSOCKET_HEADER",
    "GatewaySignatureMiddleware",
    "NonceCache",
    "SignatureCheck",
    "check_operation",
    "install_gateway_signature",
    "sign",
    "signature_required",
    "signed_content",
    "signed_extensions",
    "stable_json",
    "websocket_key",
]

HMAC_EXTENSION = "hmac-signature"
SIGNED_AT_EXTENSION = "liandong-signed-at"
NONCE_EXTENSION = "liandong-nonce"
WEBSOCKET_HEADER = "x-liandong-gateway-key"
# Domain separation: the WebSocket key is not an HMAC of anything a client could have sent.
_WEBSOCKET_CONTEXT = b"liandong-gateway-websocket-v2"
#: How far a signature's time may lie from the service's clock (either way), in seconds.
FRESHNESS_SECONDS = 60
_NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")

MISSING = "GATEWAY_SIGNATURE_MISSING"
INVALID = "GATEWAY_SIGNATURE_INVALID"
EXPIRED = "GATEWAY_SIGNATURE_EXPIRED"
REPLAYED = "GATEWAY_SIGNATURE_REPLAYED"
TOO_LARGE = "REQUEST_TOO_LARGE"
# A GraphQL request body, read whole before its signature can be checked: the gateway's own
# limits (tokens, batch size) keep real operations far below this.
MAX_BODY_BYTES = 1 << 20


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


def _websocket_mac(secret: str, signed_at: int, nonce: str) -> str:
    content = _WEBSOCKET_CONTEXT + f"\n{signed_at}\n{nonce}".encode()
    return hmac.new(secret.encode(), content, hashlib.sha256).hexdigest()


def websocket_key(secret: str, signed_at: int | None = None, nonce: str | None = None) -> str:
    """The value of ``x-liandong-gateway-key`` on one of the gateway's WebSockets to a
    subgraph: ``v2.<unix seconds>.<nonce>.<hex HMAC>`` (a fresh time and nonce by default)."""
    at = int(time.time()) if signed_at is None else signed_at
    once = new_nonce() if nonce is None else nonce
    return f"v2.{at}.{once}.{_websocket_mac(secret, at, once)}"


class NonceCache:
    """Nonces seen within the freshness window, so a signed request is answered once."""

    def __init__(
        self, window: float = FRESHNESS_SECONDS, clock: Callable[[], float] = time.time
    ) -> None:
        self.window = window
        self.clock = clock
        self._seen: dict[str, float] = {}
        self._next_prune = 0.0

    def first_use(self, nonce: str) -> bool:
        """True the first time ``nonce`` is seen within the window (and remembers it)."""
        now = self.clock()
        if now >= self._next_prune:
            self._seen = {n: t for n, t in self._seen.items() if t > now}
            self._next_prune = now + self.window / 4
        if nonce in self._seen:
            return False
        # Kept while a signature carrying it could still be fresh.
        self._seen[nonce] = now + 2 * self.window
        return True

    def fresh(self, signed_at: int) -> bool:
        return abs(self.clock() - signed_at) <= self.window


def _js_number(value: float) -> str:
    """``String(value)`` as JavaScript writes it (ECMAScript Number::toString)."""
    if not math.isfinite(value):
        return "null"  # JSON.stringify's choice; JSON itself cannot carry them anyway
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    # repr() is the shortest round-tripping form, as in JavaScript; only the layout differs.
    digits_tuple = Decimal(repr(abs(value))).normalize().as_tuple()
    digits = "".join(str(d) for d in digits_tuple.digits)
    exponent = int(digits_tuple.exponent)
    k, n = len(digits), exponent + len(digits)
    if k <= n <= 21:
        body = digits + "0" * (n - k)
    elif 0 < n <= 21:
        body = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        body = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
        body = f"{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"
    return sign + body


def stable_json(value: Any) -> str:
    """JSON as json-stable-stringify writes it: keys sorted by UTF-16 code units, no spaces,
    numbers as JavaScript prints them (the gateway parsed them as doubles)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value) if abs(value) <= 2**53 else _js_number(float(value))
    if isinstance(value, float):
        return _js_number(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ",".join(stable_json(item) for item in value) + "]"
    if isinstance(value, Mapping):
        keys = sorted((str(k) for k in value), key=lambda k: k.encode("utf-16-be", "surrogatepass"))
        return "{" + ",".join(f"{stable_json(k)}:{stable_json(value[k])}" for k in keys) + "}"
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def signed_content(query: str, variables: Mapping[str, Any] | None) -> bytes:
    """What the gateway signs for one operation."""
    content: dict[str, Any] = {"query": query}
    if variables:
        content["variables"] = variables
    return stable_json(content).encode("utf-8", "surrogatepass")


def _timed_content(
    query: str, variables: Mapping[str, Any] | None, signed_at: int, nonce: str
) -> bytes:
    return signed_content(query, variables) + f"\n{signed_at}\n{nonce}".encode()


def sign(
    secret: str,
    query: str,
    variables: Mapping[str, Any] | None = None,
    *,
    signed_at: int,
    nonce: str,
) -> str:
    """The signature the gateway would put in ``extensions["hmac-signature"]``."""
    content = _timed_content(query, variables, signed_at, nonce)
    mac = hmac.new(secret.encode(), content, hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def signed_extensions(
    secret: str,
    query: str,
    variables: Mapping[str, Any] | None = None,
    *,
    signed_at: int | None = None,
    nonce: str | None = None,
) -> dict[str, Any]:
    """The ``extensions`` the gateway sends with one operation (tests, tools): signed now
    with a fresh nonce unless given."""
    at = int(time.time()) if signed_at is None else signed_at
    once = new_nonce() if nonce is None else nonce
    return {
        HMAC_EXTENSION: sign(secret, query, variables, signed_at=at, nonce=once),
        SIGNED_AT_EXTENSION: at,
        NONCE_EXTENSION: once,
    }


class SignatureCheck:
    """The outcome of checking one request: None when it may pass, else why not."""

    def __init__(self, code: str, message: str, status: int) -> None:
        self.code = code
        self.message = message
        self.status = status


def check_operation(
    operation: Any,
    *,
    secret: str | None,
    required: bool,
    nonces: NonceCache | None = None,
) -> SignatureCheck | None:
    """Check one GraphQL-over-HTTP operation (a decoded JSON body, or one item of a batch);
    ``nonces`` refuses a replay (a fresh cache per call when not given)."""
    extensions = operation.get("extensions") if isinstance(operation, dict) else None
    signature = extensions.get(HMAC_EXTENSION) if isinstance(extensions, dict) else None
    if signature is None:
        if required:
            return SignatureCheck(
                MISSING,
                "this service answers GraphQL only through the gateway: the request is not "
                "signed by it",
                401,
            )
        return None
    if secret is None:
        # Signed by a gateway whose secret this service was not given (development only:
        # production requires the secret): nothing to check it against.
        return None
    query = operation.get("query")
    variables = operation.get("variables")
    assert isinstance(extensions, dict)
    signed_at = extensions.get(SIGNED_AT_EXTENSION)
    nonce = extensions.get(NONCE_EXTENSION)
    mismatch = SignatureCheck(INVALID, "the gateway signature does not match the request", 403)
    if not isinstance(signature, str) or not isinstance(query, str):
        return mismatch
    if variables is not None and not isinstance(variables, dict):
        return mismatch
    # A signature without its time and nonce is an old or a made-up one.
    if isinstance(signed_at, bool) or not isinstance(signed_at, int):
        return mismatch
    if not isinstance(nonce, str) or not _NONCE.match(nonce):
        return mismatch
    try:
        given = base64.b64decode(signature, validate=True)
        expected = hmac.new(
            secret.encode(), _timed_content(query, variables, signed_at, nonce), hashlib.sha256
        ).digest()
    except (binascii.Error, ValueError, TypeError, UnicodeError):
        return mismatch
    if not hmac.compare_digest(given, expected):
        return mismatch
    seen = nonces or NonceCache()
    if not seen.fresh(signed_at):
        return SignatureCheck(
            EXPIRED,
            f"the gateway signed this request more than {seen.window:g} s from now",
            403,
        )
    if not seen.first_use(nonce):
        return SignatureCheck(REPLAYED, "this signed request was already answered (a replay)", 403)
    return None


def _is_graphql_path(scope: Scope) -> bool:
    # Services serve /graphql; the embedded suite mounts them under /<service>/graphql.
    path: str = scope.get("path", "")
    return path.rstrip("/").endswith("/graphql")


class GatewaySignatureMiddleware:
    """ASGI middleware refusing GraphQL requests not signed by the gateway (see module doc).

    Only ``/graphql`` is guarded: health and readiness probes, and the services' plain HTTP
    routes (file downloads, letters), authenticate on their own.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        secret: str | None,
        required: bool,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        if required and not secret:
            raise ValueError(
                "gateway signatures are required but LIANDONG_GATEWAY_HMAC_SECRET is not set"
            )
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.secret = secret
        self.required = required
        self.nonces = NonceCache()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and _is_graphql_path(scope):
            if not self._websocket_allowed(scope):
                # Closing before accepting makes the server answer the handshake with 403.
                await send({"type": "websocket.close", "code": 4403})
                return
        elif scope["type"] == "http" and _is_graphql_path(scope):
            await self._http(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _websocket_allowed(self, scope: Scope) -> bool:
        given = None
        for name, value in scope.get("headers", []):
            if name.decode("latin-1").lower() == WEBSOCKET_HEADER:
                given = value.decode("latin-1")
        if given is None:
            return not self.required
        if self.secret is None:
            return True  # development without a secret: nothing to compare with
        parts = given.split(".")
        if len(parts) != 4 or parts[0] != "v2" or not parts[1].isdigit():
            return False
        signed_at, nonce = int(parts[1]), parts[2]
        if not _NONCE.match(nonce):
            return False
        expected = _websocket_mac(self.secret, signed_at, nonce)
        if not hmac.compare_digest(parts[3], expected):
            return False
        return self.nonces.fresh(signed_at) and self.nonces.first_use(nonce)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("method") != "POST":
            if self.required:
                await _refuse(
                    send,
                    SignatureCheck(
                        MISSING,
                        "this service answers GraphQL only through the gateway (signed POST)",
                        401,
                    ),
                )
                return
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                # Refused as soon as it is too large, declared length or not (chunked): the
                # rest is never read into memory.
                await _refuse(
                    send,
                    SignatureCheck(
                        TOO_LARGE,
                        f"a GraphQL request body may have at most {self.max_body_bytes} bytes",
                        413,
                    ),
                )
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        problem = self._check_body(b"".join(chunks))
        if problem is not None:
            await _refuse(send, problem)
            return

        replay = iter(messages)

        async def replayed() -> Message:
            # The body was consumed here; hand the same messages to the app, then whatever
            # comes next (a disconnect) from the server.
            for message in replay:
                return message
            return await receive()

        await self.app(scope, replayed, send)

    def _check_body(self, body: bytes) -> SignatureCheck | None:
        try:
            decoded = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            decoded = None
        operations = decoded if isinstance(decoded, list) else [decoded]
        if not operations:
            operations = [None]
        for operation in operations:
            problem = check_operation(
                operation, secret=self.secret, required=self.required, nonces=self.nonces
            )
            if problem is not None:
                return problem
        return None


async def _refuse(send: Send, problem: SignatureCheck) -> None:
    body = json.dumps(
        {
            "data": None,
            "errors": [{"message": problem.message, "extensions": {"code": problem.code}}],
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": problem.status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def signature_required(settings: Settings) -> bool:
    """Whether unsigned GraphQL is refused: as configured, else only in production."""
    if settings.gateway_signature_required is not None:
        return settings.gateway_signature_required
    return settings.env == "production"


def install_gateway_signature(app: Starlette, settings: Settings) -> None:
    """Guard ``app``'s GraphQL endpoint as ``settings`` say; production without the secret
    is a deployment error and stops the service from starting."""
    secret = settings.gateway_hmac_secret
    required = signature_required(settings)
    if required and secret is None:
        raise ValueError(
            "LIANDONG_GATEWAY_HMAC_SECRET must be set: "
            + (
                "production services answer GraphQL only through the signing gateway"
                if settings.env == "production"
                else "LIANDONG_GATEWAY_SIGNATURE_REQUIRED is on"
            )
        )
    if secret is None:
        return
    app.add_middleware(
        GatewaySignatureMiddleware,
        secret=secret.get_secret_value(),
        required=required,
    )
