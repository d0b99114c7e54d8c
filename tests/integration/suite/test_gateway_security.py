"""Security at the edge, through the real gateway (Hive Gateway) and a real subgraph.

- The gateway checks every token (ES256 against the JWKS; issuer, audience, expiry, claims)
  and refuses bad ones with ``extensions.code`` UNAUTHENTICATED (and a ``reason``) before a
  subgraph is called.
- The subgraph is guarded by ``kernel.gateway_signature`` with the signature required, as in
  production: everything that reaches it through the gateway is signed (queries, mutations,
  variables of every JSON shape, subscriptions over WebSocket), anything sent to it directly
  is refused.
- Abuse limits (depth, aliases, tokens, cost, batch size) refuse with stable codes; in
  production introspection, GraphiQL and field suggestions are off.

Nothing is mocked. Needs ``gateway/node_modules`` (``scripts/infra/gateway.sh up``).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import AsyncGenerator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Final

import httpx
import pytest
import strawberry
from fastapi import FastAPI
from pydantic import SecretStr
from strawberry.fastapi import GraphQLRouter
from strawberry.types import Info
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect
from websockets.typing import Subprotocol

from kernel.auth import DevKeys, Principal, TokenIssuer, ensure_dev_keys
from kernel.gateway_signature import (
    FRESHNESS_SECONDS,
    SIGNED_AT_EXTENSION,
    WEBSOCKET_HEADER,
    GatewaySignatureMiddleware,
    install_gateway_signature,
    signed_extensions,
    stable_json,
    websocket_key,
)
from kernel.settings import Settings
from liandong.gateway import (
    GatewayError,
    GatewayProcess,
    compose_supergraph,
)
from liandong.testing.serving import ThreadServer
from tests.fixtures.gateway import request_header
from tests.fixtures.tokens import b64url as _b64
from tests.fixtures.tokens import sign_es256 as _sign_token
from tests.fixtures.tokens import valid_claims

pytestmark = pytest.mark.timeout(120)

FEDERATION_VERSION: Final = "2.9"
SECRET: Final = "test-gateway-secret"
P = Principal("p1", "郑晓东", "fy-hancong", "fuyuan", ("clerk",))

# Small limits for the limits gateway, so each test can cross one limit and no other.
LIMITS: Final = {
    "LIANDONG_GATEWAY_MAX_DEPTH": "5",
    "LIANDONG_GATEWAY_MAX_ALIASES": "3",
    "LIANDONG_GATEWAY_MAX_TOKENS": "200",
    "LIANDONG_GATEWAY_MAX_COST": "1000",
    "LIANDONG_GATEWAY_LIST_SIZE": "10",
    "LIANDONG_GATEWAY_MAX_BATCH": "2",
    "LIANDONG_GATEWAY_MAX_SUBSCRIPTIONS_PER_CONNECTION": "2",
}


# --- the subgraph --------------------------------------------------------------------------


@strawberry.federation.type(keys=["id"])
class Node:
    id: strawberry.ID

    @strawberry.field
    def name(self) -> str:
        return f"node {self.id}"

    @strawberry.field
    def parent(self) -> Node:
        return Node(id=strawberry.ID(f"{self.id}^"))

    @strawberry.field
    def children(self, first: int = 2) -> list[Node]:
        return [Node(id=strawberry.ID(f"{self.id}.{n}")) for n in range(min(first, 3))]

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Node:
        return Node(id=id)


@strawberry.input
class Filter:
    words: list[str]
    weights: list[float]
    nested: Filter | None = None


@strawberry.type
class Query:
    @strawberry.field
    def node(self, id: strawberry.ID) -> Node:
        return Node(id=id)

    @strawberry.field
    def nodes(self, first: int = 2) -> list[Node]:
        return [Node(id=strawberry.ID(str(n))) for n in range(min(first, 3))]

    @strawberry.field
    def caller(self, info: Info) -> str | None:
        return request_header(info, "authorization")

    @strawberry.field
    def echo(self, text: str, number: float, count: int, filter: Filter | None = None) -> str:
        # What the subgraph received, so the test sees values survived the signing path.
        def dump(f: Filter | None) -> Any:
            if f is None:
                return None
            return {"words": f.words, "weights": f.weights, "nested": dump(f.nested)}

        return json.dumps(
            {"text": text, "number": number, "count": count, "filter": dump(filter)},
            ensure_ascii=False,
        )


@strawberry.type
class Mutation:
    @strawberry.mutation
    def touch(self, id: strawberry.ID) -> Node:
        return Node(id=id)


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def ticks(self, n: int = 3) -> AsyncGenerator[int, None]:
        for value in range(n):
            yield value
            await asyncio.sleep(0.02)


schema = strawberry.federation.Schema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    federation_version=FEDERATION_VERSION,
)


class GuardedSubgraph(ThreadServer):
    """The subgraph behind kernel's signature middleware (required), under uvicorn."""

    def __init__(self) -> None:
        app = FastAPI()
        app.include_router(GraphQLRouter(schema), prefix="/graphql")

        @app.get("/healthz")
        async def healthz() -> dict[str, str]:
            return {"status": "ok"}

        app.add_middleware(GatewaySignatureMiddleware, secret=SECRET, required=True)
        super().__init__(app, path="/graphql", what="subgraph")


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def subgraph() -> Iterator[GuardedSubgraph]:
    running = GuardedSubgraph()
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> DevKeys:
    return ensure_dev_keys(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def issuer(keys: DevKeys) -> TokenIssuer:
    return TokenIssuer(
        keys.private_key_file.read_bytes(), kid=keys.kid, issuer="liandong", audience="liandong"
    )


@pytest.fixture(scope="module")
def supergraph(
    gateway_installed: None, subgraph: GuardedSubgraph, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    directory = tmp_path_factory.mktemp("supergraph")
    sdl = directory / "nodes.graphql"
    sdl.write_text(schema.as_str() + "\n", encoding="utf-8")
    out: Path = compose_supergraph({"nodes": (subgraph.url, sdl)}, directory / "supergraph.graphql")
    return out


def _env(keys: DevKeys, **extra: str) -> dict[str, str]:
    return {
        "LIANDONG_GATEWAY_JWKS_FILE": str(keys.jwks_file),
        "LIANDONG_GATEWAY_HMAC_SECRET": SECRET,
        "LIANDONG_DISTRICT": "fuyuan",
        **extra,
    }


@pytest.fixture(scope="module")
def gateway(
    supergraph: Path, keys: DevKeys, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayProcess]:
    """Development settings, small limits."""
    log_dir = tmp_path_factory.mktemp("gateway-limits")
    with GatewayProcess(supergraph, log_dir, env=_env(keys, **LIMITS)) as process:
        yield process


@pytest.fixture(scope="module")
def production(
    supergraph: Path, keys: DevKeys, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayProcess]:
    """Production settings, default limits."""
    log_dir = tmp_path_factory.mktemp("gateway-production")
    with GatewayProcess(supergraph, log_dir, production=True, env=_env(keys)) as process:
        yield process


# --- helpers -------------------------------------------------------------------------------


def _claims(**overrides: object) -> dict[str, object]:
    """A valid token's claims for P; an override of None leaves that claim out."""
    drop = [name for name, value in overrides.items() if value is None]
    kept = {name: value for name, value in overrides.items() if value is not None}
    return valid_claims(P, drop=drop, **kept)


def _post(url: str, body: object, token: str | None = None, **headers: str) -> tuple[int, Any]:
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    response = httpx.post(url, json=body, headers=headers, timeout=15)
    return response.status_code, response.json()


def _codes(body: Any) -> list[tuple[str | None, str | None]]:
    return [
        ((e.get("extensions") or {}).get("code"), (e.get("extensions") or {}).get("reason"))
        for e in body.get("errors") or []
    ]


# --- authentication at the gateway ---------------------------------------------------------


def test_valid_token_passes_and_reaches_the_subgraph(
    gateway: GatewayProcess, issuer: TokenIssuer
) -> None:
    token = issuer.issue(P)

    status, body = _post(gateway.url, {"query": '{ node(id: "1") { name } caller }'}, token)

    assert status == 200, body
    assert body["data"] == {"node": {"name": "node 1"}, "caller": f"Bearer {token}"}


def test_health_and_readiness_need_no_token(gateway: GatewayProcess) -> None:
    assert httpx.get(f"{gateway.base_url}/healthcheck", timeout=5).status_code == 200
    assert httpx.get(f"{gateway.base_url}/readiness", timeout=5).status_code == 200


def _attacks(keys: DevKeys, stranger: DevKeys) -> dict[str, tuple[str | None, str]]:
    """name → (Authorization header value, expected reason)."""
    good = _sign_token(keys, _claims())
    head, body, sig = good.split(".")
    jwk = json.loads(keys.jwks_file.read_text())["keys"][0]
    hs_input = f"{_b64({'alg': 'HS256', 'kid': keys.kid, 'typ': 'JWT'})}.{body}"
    hs_mac = hmac.new(json.dumps(jwk).encode(), hs_input.encode(), hashlib.sha256).digest()
    tampered = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    tampered["roles"] = ["supervisor"]
    return {
        "missing": (None, "TOKEN_MISSING"),
        "not bearer": (f"Basic {good}", "TOKEN_MALFORMED"),
        "not a jwt": ("Bearer not-a-jwt", "TOKEN_MALFORMED"),
        "alg none": (
            f"Bearer {_b64({'alg': 'none', 'kid': keys.kid})}.{body}.",
            "TOKEN_ALGORITHM_REFUSED",
        ),
        "hs256 with the public key": (
            f"Bearer {hs_input}.{base64.urlsafe_b64encode(hs_mac).rstrip(b'=').decode()}",
            "TOKEN_ALGORITHM_REFUSED",
        ),
        "unknown kid": (f"Bearer {_sign_token(stranger, _claims())}", "TOKEN_UNKNOWN_KEY"),
        "tampered payload": (f"Bearer {head}.{_b64(tampered)}.{sig}", "TOKEN_INVALID"),
        "stranger key, our kid": (
            f"Bearer {_sign_token(stranger, _claims(), kid=keys.kid)}",
            "TOKEN_INVALID",
        ),
        "expired": (
            f"Bearer {_sign_token(keys, _claims(exp=int(time.time()) - 120))}",
            "TOKEN_INVALID",
        ),
        "not yet valid": (
            f"Bearer {_sign_token(keys, _claims(nbf=int(time.time()) + 300))}",
            "TOKEN_INVALID",
        ),
        "wrong issuer": (f"Bearer {_sign_token(keys, _claims(iss='x'))}", "TOKEN_INVALID"),
        "wrong audience": (f"Bearer {_sign_token(keys, _claims(aud='x'))}", "TOKEN_INVALID"),
        "no exp": (f"Bearer {_sign_token(keys, _claims(exp=None))}", "TOKEN_CLAIMS_INVALID"),
        "no agency": (
            f"Bearer {_sign_token(keys, _claims(agency=None))}",
            "TOKEN_CLAIMS_INVALID",
        ),
    }


def test_bad_tokens_are_refused_at_the_gateway_with_stable_codes(
    gateway: GatewayProcess, keys: DevKeys, tmp_path: Path
) -> None:
    stranger = ensure_dev_keys(tmp_path / "stranger")
    outcomes = {}
    for name, (authorization, reason) in _attacks(keys, stranger).items():
        headers = {} if authorization is None else {"Authorization": authorization}
        status, body = _post(gateway.url, {"query": '{ node(id: "1") { name } }'}, **headers)
        outcomes[name] = (status, body.get("data"), _codes(body))
        assert outcomes[name] == (401, None, [("UNAUTHENTICATED", reason)]), (name, body)


def test_token_for_another_district_is_refused_at_the_gateway(
    gateway: GatewayProcess, keys: DevKeys
) -> None:
    token = _sign_token(keys, _claims(district="tongjiang"))

    status, body = _post(gateway.url, {"query": '{ node(id: "1") { name } }'}, token)

    assert (status, _codes(body)) == (403, [("WRONG_DISTRICT", "TOKEN_WRONG_DISTRICT")])


def test_gateway_takes_keys_from_a_jwks_url(
    supergraph: Path, keys: DevKeys, issuer: TokenIssuer, tmp_path: Path
) -> None:
    jwks = keys.jwks_file.read_bytes()
    fetches: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            fetches.append(self.path)
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(jwks)))
            self.end_headers()
            self.wfile.write(jwks)

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    env = _env(keys, LIANDONG_GATEWAY_JWKS_URL=f"http://127.0.0.1:{server.server_address[1]}/j")
    env["LIANDONG_GATEWAY_JWKS_FILE"] = ""
    try:
        with GatewayProcess(supergraph, tmp_path, env=env) as process:
            stranger = ensure_dev_keys(tmp_path / "stranger")
            for _ in range(3):
                status, body = _post(process.url, {"query": "{ caller }"}, issuer.issue(P))
                assert (status, body["data"]["caller"] is not None) == (200, True), body
            status, body = _post(
                process.url, {"query": "{ caller }"}, _sign_token(stranger, _claims())
            )
            assert (status, _codes(body)) == (401, [("UNAUTHENTICATED", "TOKEN_UNKNOWN_KEY")])
    finally:
        server.shutdown()
        server.server_close()
    # Cached: one fetch for the known key, at most one more for the unknown kid.
    assert 1 <= len(fetches) <= 2, fetches


def test_production_gateway_refuses_to_start_without_keys_or_secret(
    supergraph: Path, keys: DevKeys, tmp_path: Path
) -> None:
    for missing, message in [
        ("LIANDONG_GATEWAY_JWKS_FILE", "LIANDONG_GATEWAY_JWKS_FILE or LIANDONG_GATEWAY_JWKS_URL"),
        ("LIANDONG_GATEWAY_HMAC_SECRET", "LIANDONG_GATEWAY_HMAC_SECRET"),
    ]:
        env = {**_env(keys), missing: ""}
        process = GatewayProcess(
            supergraph, tmp_path / missing, production=True, env=env, startup_timeout=30
        )
        with pytest.raises(GatewayError) as raised:
            process.start()
        assert message in str(raised.value)
        assert not process.running


# --- subgraphs answer only the gateway -----------------------------------------------------


def test_subgraph_refuses_unsigned_and_wrongly_signed_requests(
    subgraph: GuardedSubgraph, issuer: TokenIssuer
) -> None:
    token = issuer.issue(P)
    query = '{ node(id: "1") { name } }'

    unsigned = _post(subgraph.url, {"query": query}, token)
    forged = _post(
        subgraph.url,
        {"query": query, "extensions": signed_extensions("not-the-secret", query)},
        token,
    )
    # A signature lifted from another request does not cover this one.
    lifted = _post(
        subgraph.url,
        {"query": query, "extensions": signed_extensions(SECRET, "{ caller }")},
        token,
    )
    batch = _post(
        subgraph.url,
        [
            {"query": query, "extensions": signed_extensions(SECRET, query)},
            {"query": query},
        ],
        token,
    )
    via_get = httpx.get(subgraph.url, params={"query": query}, timeout=10)

    assert (unsigned[0], _codes(unsigned[1])) == (401, [("GATEWAY_SIGNATURE_MISSING", None)])
    assert (forged[0], _codes(forged[1])) == (403, [("GATEWAY_SIGNATURE_INVALID", None)])
    assert (lifted[0], _codes(lifted[1])) == (403, [("GATEWAY_SIGNATURE_INVALID", None)])
    assert (batch[0], _codes(batch[1])) == (401, [("GATEWAY_SIGNATURE_MISSING", None)])
    assert via_get.status_code == 401
    # The health probe is not GraphQL and stays open.
    assert httpx.get(subgraph.url.replace("/graphql", "/healthz"), timeout=5).status_code == 200


def test_subgraph_accepts_the_signature_as_python_computes_it(subgraph: GuardedSubgraph) -> None:
    query = '{ node(id: "1") { name } }'

    status, body = _post(
        subgraph.url, {"query": query, "extensions": signed_extensions(SECRET, query)}
    )

    assert (status, body) == (200, {"data": {"node": {"name": "node 1"}}})


def test_issue_16_a_signed_request_is_answered_once_and_only_while_fresh(
    subgraph: GuardedSubgraph,
) -> None:
    """Finding 9: the signature had no time or nonce, so a request captured inside the
    network could be replayed until its token expired. Now the HMAC covers the time and a
    nonce: a replay, a stale or future time, or a signature without them is refused."""
    query = '{ node(id: "1") { name } }'
    body = {"query": query, "extensions": signed_extensions(SECRET, query)}

    first = _post(subgraph.url, body)
    replay = _post(subgraph.url, body)
    now = int(time.time())
    # Just inside and just outside the window (60 s), either way.
    inside = signed_extensions(SECRET, query, signed_at=now - FRESHNESS_SECONDS + 5)
    stale = signed_extensions(SECRET, query, signed_at=now - FRESHNESS_SECONDS - 5)
    future = signed_extensions(SECRET, query, signed_at=now + FRESHNESS_SECONDS + 5)
    # The time moved forward in a captured request: the signature no longer matches.
    moved = {**signed_extensions(SECRET, query, signed_at=now - 3600), SIGNED_AT_EXTENSION: now}
    untimed = {"hmac-signature": signed_extensions(SECRET, query)["hmac-signature"]}

    assert first == (200, {"data": {"node": {"name": "node 1"}}})
    assert (replay[0], _codes(replay[1])) == (403, [("GATEWAY_SIGNATURE_REPLAYED", None)])
    assert _post(subgraph.url, {"query": query, "extensions": inside})[0] == 200
    for extensions in (stale, future):
        status, answer = _post(subgraph.url, {"query": query, "extensions": extensions})
        assert (status, _codes(answer)) == (403, [("GATEWAY_SIGNATURE_EXPIRED", None)])
    for extensions in (moved, untimed):
        status, answer = _post(subgraph.url, {"query": query, "extensions": extensions})
        assert (status, _codes(answer)) == (403, [("GATEWAY_SIGNATURE_INVALID", None)])


def test_issue_16_the_gateway_signs_each_request_afresh(
    gateway: GatewayProcess, issuer: TokenIssuer
) -> None:
    """The same query twice through the gateway: two fresh signatures, both answered."""
    token = issuer.issue(P)
    answers = [_post(gateway.url, {"query": '{ node(id: "5") { name } }'}, token) for _ in "ab"]
    assert answers == [(200, {"data": {"node": {"name": "node 5"}}})] * 2


ECHO = """
query($text: String!, $number: Float!, $count: Int!, $filter: Filter) {
  echo(text: $text, number: $number, count: $count, filter: $filter)
}"""


@pytest.mark.parametrize(
    "variables",
    [
        {"text": "plain", "number": 1.5, "count": 3},
        {"text": '抚远 "引号" \\ \n\t\u2028 </script> 😀 \x01', "number": 0.1, "count": -7},
        {"text": "", "number": 1e21, "count": 0, "filter": None},
        {"text": "x", "number": 1e-7, "count": 2**31 - 1},
        {"text": "x", "number": 123456789.125, "count": 1},
        {"text": "x", "number": 2.0, "count": 1},  # JavaScript writes 2, not 2.0
        {"text": "x", "number": 5e-324, "count": 1},
        {"text": "x", "number": -0.000001, "count": 1},
        {
            "text": "nested",
            "number": 3.25,
            "count": 1,
            "filter": {
                "words": ["乙", "甲", "a", "B"],
                "weights": [1, 0.5, 1e100, -2.5e-8],
                "nested": {"words": [], "weights": [7]},
            },
        },
    ],
)
def test_variables_of_every_shape_survive_signing_through_the_gateway(
    gateway: GatewayProcess, issuer: TokenIssuer, variables: dict[str, Any]
) -> None:
    """The subgraph recomputes the gateway's HMAC from the JSON it received: strings with
    escapes and non-BMP characters, JavaScript's number formatting, nested input objects."""
    status, body = _post(gateway.url, {"query": ECHO, "variables": variables}, issuer.issue(P))

    assert status == 200, body
    assert "errors" not in body, body
    echoed = json.loads(body["data"]["echo"])
    assert echoed["text"] == variables["text"]
    assert echoed["number"] == variables["number"]


def test_mutation_and_batch_through_the_gateway_are_signed(
    gateway: GatewayProcess, issuer: TokenIssuer
) -> None:
    token = issuer.issue(P)

    status, body = _post(gateway.url, {"query": 'mutation { touch(id: "9") { name } }'}, token)
    batch_status, batch = _post(
        gateway.url,
        [{"query": '{ node(id: "1") { name } }'}, {"query": '{ node(id: "2") { name } }'}],
        token,
    )

    assert (status, body) == (200, {"data": {"touch": {"name": "node 9"}}})
    assert batch_status == 200
    assert [item["data"] for item in batch] == [
        {"node": {"name": "node 1"}},
        {"node": {"name": "node 2"}},
    ]


def test_stable_json_writes_numbers_as_javascript_does() -> None:
    assert stable_json({"b": 1, "a": [2.0, 0.1, 1e21, 1e-7, 1e-6, -0.0, 5e-324]}) == (
        '{"a":[2,0.1,1e+21,1e-7,0.000001,0,5e-324],"b":1}'
    )
    assert stable_json(123456789012345678901) == "123456789012345680000"
    assert stable_json({"é": 1, "z": 2, "😀": 3, "\uffff": 4}) == (
        '{"z":2,"é":1,"😀":3,"\uffff":4}'  # UTF-16 order: the surrogate pair sorts before U+FFFF
    )


def test_signature_settings_production_requires_the_secret() -> None:
    for settings in (
        Settings(env="production"),
        Settings(env="development", gateway_signature_required=True),
    ):
        with pytest.raises(ValueError, match="LIANDONG_GATEWAY_HMAC_SECRET"):
            install_gateway_signature(FastAPI(), settings)
    guarded = FastAPI()
    install_gateway_signature(
        guarded, Settings(env="production", gateway_hmac_secret=SecretStr(SECRET))
    )
    open_ = FastAPI()
    install_gateway_signature(open_, Settings(env="development"))

    assert [m.cls for m in guarded.user_middleware] == [GatewaySignatureMiddleware]
    assert guarded.user_middleware[0].kwargs == {"secret": SECRET, "required": True}
    assert open_.user_middleware == []


def _subscribe(
    url: str, headers: dict[str, str], query: str, init: dict[str, str] | None = None
) -> list[Any]:
    ws_url = url.replace("http://", "ws://", 1)
    with connect(
        ws_url,
        subprotocols=[Subprotocol("graphql-transport-ws")],
        additional_headers=headers,
        open_timeout=10,
        close_timeout=5,
        proxy=None,
    ) as socket:
        socket.send(json.dumps({"type": "connection_init", "payload": init or {}}))
        assert json.loads(socket.recv(timeout=10))["type"] == "connection_ack"
        socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
        received: list[Any] = []
        while True:
            message = json.loads(socket.recv(timeout=15))
            if message["type"] == "complete":
                return received
            received.append(message["payload"])


def test_subscriptions_through_the_gateway_carry_the_gateway_key(
    gateway: GatewayProcess, issuer: TokenIssuer
) -> None:
    events = _subscribe(
        gateway.url, {"Authorization": f"Bearer {issuer.issue(P)}"}, "subscription { ticks }"
    )

    assert events == [{"data": {"ticks": n}} for n in range(3)]


def test_subscription_without_a_token_is_refused_by_the_gateway(gateway: GatewayProcess) -> None:
    events = _subscribe(gateway.url, {}, "subscription { ticks }")

    assert len(events) == 1 and "data" not in events[0], events
    assert _codes(events[0]) == [("UNAUTHENTICATED", "TOKEN_MISSING")]


def test_subscription_token_in_the_connection_init_payload(
    gateway: GatewayProcess, issuer: TokenIssuer
) -> None:
    """Browsers cannot set headers on a WebSocket: graphql-ws clients send the token in
    connection_init's payload, which the gateway reads as well."""
    token = issuer.issue(P)

    good = _subscribe(
        gateway.url, {}, "subscription { ticks(n: 2) }", {"Authorization": f"Bearer {token}"}
    )
    bad = _subscribe(gateway.url, {}, "subscription { ticks }", {"Authorization": "Bearer x"})

    assert good == [{"data": {"ticks": n}} for n in range(2)]
    assert _codes(bad[0]) == [("UNAUTHENTICATED", "TOKEN_MALFORMED")]


def test_issue_16_subscriptions_per_connection_are_capped(
    gateway: GatewayProcess, issuer: TokenIssuer
) -> None:
    """Finding 9: one client WebSocket could run any number of subscriptions (each holds a
    connection to a subgraph). The limits gateway allows 2: the third is refused with
    SUBSCRIPTION_LIMIT_EXCEEDED while two run; once one ends, another may start."""
    ws_url = gateway.url.replace("http://", "ws://", 1)
    token = issuer.issue(P)
    with connect(
        ws_url,
        subprotocols=[Subprotocol("graphql-transport-ws")],
        open_timeout=10,
        close_timeout=5,
        proxy=None,
    ) as socket:
        socket.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        )
        assert json.loads(socket.recv(timeout=10))["type"] == "connection_ack"

        def subscribe(op_id: str, n: int) -> None:
            query = f"subscription {{ ticks(n: {n}) }}"
            socket.send(json.dumps({"id": op_id, "type": "subscribe", "payload": {"query": query}}))

        def until(op_id: str, kinds: set[str]) -> dict[str, Any]:
            while True:
                message = json.loads(socket.recv(timeout=15))
                if message.get("id") == op_id and message["type"] in kinds:
                    return message  # type: ignore[no-any-return]

        subscribe("a", 100_000)  # long-running
        until("a", {"next"})
        subscribe("b", 100_000)
        until("b", {"next"})
        subscribe("c", 1)
        refused = until("c", {"next", "error", "complete"})
        payload = refused["payload"]
        errors = payload if isinstance(payload, list) else payload.get("errors", [])
        assert [e["extensions"]["code"] for e in errors] == ["SUBSCRIPTION_LIMIT_EXCEEDED"], refused
        socket.send(json.dumps({"id": "a", "type": "complete"}))
        time.sleep(0.5)
        subscribe("d", 1)
        assert until("d", {"next", "error"})["type"] == "next"


def test_subgraph_websocket_refused_without_or_with_a_wrong_gateway_key(
    subgraph: GuardedSubgraph,
) -> None:
    """Issue 16, finding 9: the key was one constant HMAC, so a key read off the wire opened
    subscriptions for ever. Now each carries a time and a nonce: used once, while fresh."""
    key = websocket_key(SECRET)
    old = websocket_key(SECRET, signed_at=int(time.time()) - FRESHNESS_SECONDS - 5)
    for headers in (
        {},
        {WEBSOCKET_HEADER: websocket_key("not-the-secret")},
        {WEBSOCKET_HEADER: old},
        {WEBSOCKET_HEADER: "v1-constant-key"},
    ):
        with pytest.raises(InvalidStatus) as raised:
            _subscribe(subgraph.url, headers, "subscription { ticks }")
        assert raised.value.response.status_code == 403
    # The right key opens it (what the gateway sends)…
    events = _subscribe(subgraph.url, {WEBSOCKET_HEADER: key}, "subscription { ticks(n: 1) }")
    assert events == [{"data": {"ticks": 0}}]
    # …once: the same key again is a replay.
    with pytest.raises(InvalidStatus) as raised:
        _subscribe(subgraph.url, {WEBSOCKET_HEADER: key}, "subscription { ticks(n: 1) }")
    assert raised.value.response.status_code == 403


# --- abuse limits --------------------------------------------------------------------------


def _refusal(gateway: GatewayProcess, token: str, body: object) -> tuple[int, Any]:
    status, answer = _post(gateway.url, body, token)
    codes = (
        [c for item in answer for c in _codes(item)] if isinstance(answer, list) else _codes(answer)
    )
    return status, [code for code, _ in codes]


def test_a_normal_query_passes_the_limits(gateway: GatewayProcess, issuer: TokenIssuer) -> None:
    query = '{ a: node(id: "1") { name parent { name } } b: nodes { name children { id } } }'

    status, body = _post(gateway.url, {"query": query}, issuer.issue(P))

    assert status == 200 and "errors" not in body, body


def test_too_deep_a_query_is_refused(gateway: GatewayProcess, issuer: TokenIssuer) -> None:
    ok = '{ node(id: "1") { parent { parent { parent { name } } } } }'  # depth 5
    deep = '{ node(id: "1") { parent { parent { parent { parent { name } } } } } }'  # 6
    fragment = (
        '{ node(id: "1") { ...P } } fragment P on Node { parent { parent { parent { parent '
        "{ name } } } } }"
    )
    token = issuer.issue(P)

    assert _post(gateway.url, {"query": ok}, token)[0] == 200
    assert _refusal(gateway, token, {"query": deep}) == (400, ["DEPTH_LIMIT_EXCEEDED"])
    assert _refusal(gateway, token, {"query": fragment}) == (400, ["DEPTH_LIMIT_EXCEEDED"])


def test_too_many_aliases_are_refused(gateway: GatewayProcess, issuer: TokenIssuer) -> None:
    aliases = " ".join(f'a{n}: node(id: "{n}") {{ name }}' for n in range(4))
    token = issuer.issue(P)

    assert _refusal(gateway, token, {"query": "{ " + aliases + " }"}) == (
        400,
        ["ALIAS_LIMIT_EXCEEDED"],
    )
    three = " ".join(f'a{n}: node(id: "{n}") {{ name }}' for n in range(3))
    assert _post(gateway.url, {"query": "{ " + three + " }"}, token)[0] == 200


def test_too_many_tokens_are_refused(gateway: GatewayProcess, issuer: TokenIssuer) -> None:
    query = '{ node(id: "1") { ' + "name " * 200 + "} }"

    status, codes = _refusal(gateway, issuer.issue(P), {"query": query})

    # A limit crossed while parsing is a request error: GraphQL over HTTP answers those
    # with 200 under application/json.
    assert (status, codes) == (200, ["TOKEN_LIMIT_EXCEEDED"])


def test_too_costly_a_query_is_refused(gateway: GatewayProcess, issuer: TokenIssuer) -> None:
    # Lists count as their `first` (else its default in the schema, else LIST_SIZE):
    # 10 + 100 fits in 1000, 10 + 100 + 1000 does not.
    cheap = "{ nodes(first: 10) { children(first: 10) { id } } }"
    costly = "{ nodes(first: 10) { children(first: 10) { children(first: 10) { id } } } }"
    token = issuer.issue(P)

    assert _post(gateway.url, {"query": cheap}, token)[0] == 200
    status, codes = _refusal(gateway, token, {"query": costly})
    assert codes == ["COST_ESTIMATED_TOO_EXPENSIVE"], (status, codes)


def test_too_big_a_batch_is_refused(gateway: GatewayProcess, issuer: TokenIssuer) -> None:
    batch = [{"query": '{ node(id: "1") { name } }'}] * 3

    status, codes = _refusal(gateway, issuer.issue(P), batch)

    assert codes == ["BATCH_LIMIT_EXCEEDED"]
    assert status == 413


# --- production settings -------------------------------------------------------------------


def test_production_refuses_introspection_and_graphiql(
    production: GatewayProcess, issuer: TokenIssuer
) -> None:
    token = issuer.issue(P)

    body = _post(production.url, {"query": "{ __schema { queryType { name } } }"}, token)[1]
    typed = _post(production.url, {"query": '{ __type(name: "Node") { name } }'}, token)[1]
    page = httpx.get(production.url, headers={"accept": "text/html"}, timeout=10)

    assert body.get("data") is None
    assert "introspection has been disabled" in json.dumps(body["errors"])
    assert "introspection has been disabled" in json.dumps(typed["errors"])
    assert not page.headers.get("content-type", "").startswith("text/html")
    # An ordinary query still passes there, with the default limits.
    assert _post(production.url, {"query": '{ node(id: "1") { name } }'}, token) == (
        200,
        {"data": {"node": {"name": "node 1"}}},
    )


def test_production_refuses_anonymous_requests(production: GatewayProcess) -> None:
    status, body = _post(production.url, {"query": '{ node(id: "1") { name } }'})

    assert (status, _codes(body)) == (401, [("UNAUTHENTICATED", "TOKEN_MISSING")])


def test_field_suggestions_only_outside_production(
    gateway: GatewayProcess, production: GatewayProcess, issuer: TokenIssuer
) -> None:
    token = issuer.issue(P)
    query = '{ node(id: "1") { nam } }'

    development = json.dumps(_post(gateway.url, {"query": query}, token)[1])
    produced = json.dumps(_post(production.url, {"query": query}, token)[1])

    assert "Did you mean" in development
    assert "Did you mean" not in produced
    assert "Cannot query field" in produced
