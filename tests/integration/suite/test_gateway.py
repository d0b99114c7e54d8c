"""The real federation gateway (Hive Gateway) in front of two real strawberry subgraphs.

Nothing is mocked: two tiny federation subgraphs run under uvicorn on free loopback ports,
their SDL is exported to files, ``compose_supergraph`` composes them without contacting them,
and ``GatewayProcess`` runs ``hive-gateway`` on the result. The subgraphs mirror the two
topologies: ``things`` is mounted under a prefix (``/things/graphql``, as in the embedded
one-process suite) and ``echo`` at ``/graphql`` (as a service of its own).

The development gateway here is started without a JWKS, so it leaves token checks to the
subgraphs and forwards whatever Authorization header it gets (what these tests look at); the
gateway's own token checks, signatures and limits are in test_gateway_security.py.

Needs ``gateway/node_modules``: ``scripts/infra/gateway.sh up``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, Iterator
from pathlib import Path
from typing import Any, Final

import httpx
import pytest
import strawberry
from fastapi import FastAPI
from strawberry.fastapi import GraphQLRouter
from strawberry.types import Info
from websockets.sync.client import connect
from websockets.typing import Subprotocol

from kernel.auth import DevKeys, Principal, TokenIssuer, ensure_dev_keys
from liandong.gateway import (
    CompositionError,
    GatewayError,
    GatewayProcess,
    compose_supergraph,
)
from liandong.testing.serving import ThreadServer
from tests.fixtures.gateway import request_header

# Each test, its fixtures' setup included, stays well under a minute.
pytestmark = pytest.mark.timeout(60)

# Strawberry's default federation version (2.11) is newer than the composer accepts.
FEDERATION_VERSION: Final = "2.9"


# --- subgraph "things": owns Thing, streams a subscription -----------------------------


@strawberry.federation.type(keys=["id"])
class Thing:
    id: strawberry.ID
    name: str

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Thing:
        return Thing(id=id, name=f"thing {id}")


@strawberry.type
class ThingsQuery:
    @strawberry.field
    def thing(self, id: strawberry.ID) -> Thing:
        return Thing(id=id, name=f"thing {id}")


@strawberry.type
class ThingsSubscription:
    @strawberry.subscription
    async def countdown(self, start: int = 3) -> AsyncGenerator[int, None]:
        for value in range(start, 0, -1):
            yield value
            await asyncio.sleep(0.05)

    @strawberry.subscription
    async def caller(self, info: Info) -> AsyncGenerator[str, None]:
        # What the subgraph saw on the gateway's WebSocket to it.
        yield f"{request_header(info, 'authorization')}|{request_header(info, 'x-correlation-id')}"


things_schema = strawberry.federation.Schema(
    query=ThingsQuery,
    subscription=ThingsSubscription,
    federation_version=FEDERATION_VERSION,
)


# --- subgraph "echo": extends Thing with fields that echo the request headers -----------


@strawberry.federation.type(name="Thing", keys=["id"])
class EchoThing:
    id: strawberry.ID

    @strawberry.field
    def authorization(self, info: Info) -> str | None:
        return request_header(info, "authorization")

    @strawberry.field
    def correlation_id(self, info: Info) -> str | None:
        return request_header(info, "x-correlation-id")

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> EchoThing:
        return EchoThing(id=id)


@strawberry.type
class EchoQuery:
    @strawberry.field
    def echo_alive(self) -> bool:
        return True


echo_schema = strawberry.federation.Schema(
    query=EchoQuery, types=[EchoThing], federation_version=FEDERATION_VERSION
)


# --- subgraph "clash": cannot compose with "things" (Thing.id has another type) ----------


@strawberry.federation.type(name="Thing", keys=["id"])
class ClashThing:
    id: int
    weight: float

    @classmethod
    def resolve_reference(cls, id: int) -> ClashThing:
        return ClashThing(id=id, weight=1.0)


@strawberry.type
class ClashQuery:
    @strawberry.field
    def heaviest(self) -> ClashThing:
        return ClashThing(id=1, weight=9.0)


clash_schema = strawberry.federation.Schema(query=ClashQuery, federation_version=FEDERATION_VERSION)


# --- running the subgraphs ----------------------------------------------------------------


class Subgraph(ThreadServer):
    """A strawberry schema served by uvicorn in a thread of the test process."""

    def __init__(self, schema: strawberry.federation.Schema, path: str) -> None:
        app = FastAPI()
        app.include_router(GraphQLRouter(schema), prefix=path)
        super().__init__(app, path=path, what="subgraph")
        self.schema = schema

    def export_sdl(self, path: Path) -> Path:
        path.write_text(self.schema.as_str() + "\n", encoding="utf-8")
        return path


@pytest.fixture(scope="module")
def subgraphs() -> Iterator[dict[str, Subgraph]]:
    running = {
        "things": Subgraph(things_schema, "/things/graphql"),
        "echo": Subgraph(echo_schema, "/graphql"),
    }
    started: list[Subgraph] = []
    try:
        for subgraph in running.values():
            subgraph.start()
            started.append(subgraph)
        yield running
    finally:
        for subgraph in started:
            subgraph.stop()


@pytest.fixture(scope="module")
def supergraph(
    gateway_installed: None,
    subgraphs: dict[str, Subgraph],
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    directory = tmp_path_factory.mktemp("supergraph")
    out: Path = compose_supergraph(
        {
            name: (subgraph.url, subgraph.export_sdl(directory / f"{name}.graphql"))
            for name, subgraph in subgraphs.items()
        },
        directory / "supergraph.graphql",
    )
    return out


@pytest.fixture(scope="module")
def gateway(supergraph: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    with GatewayProcess(supergraph, tmp_path_factory.mktemp("gateway-dev")) as process:
        yield process


@pytest.fixture(scope="module")
def dev_keys(tmp_path_factory: pytest.TempPathFactory) -> DevKeys:
    return ensure_dev_keys(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def production_gateway(
    supergraph: Path, dev_keys: DevKeys, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayProcess]:
    # Production will not start without the keys that sign tokens and the subgraph-signing
    # secret (tests/integration/suite/test_gateway_security.py covers both).
    env = {
        "LIANDONG_GATEWAY_JWKS_FILE": str(dev_keys.jwks_file),
        "LIANDONG_GATEWAY_HMAC_SECRET": "test-secret",
    }
    log_dir = tmp_path_factory.mktemp("gateway-prod")
    with GatewayProcess(supergraph, log_dir, production=True, env=env) as process:
        yield process


def _bearer(keys: DevKeys) -> dict[str, str]:
    issuer = TokenIssuer(
        keys.private_key_file.read_bytes(), kid=keys.kid, issuer="liandong", audience="liandong"
    )
    principal = Principal("p1", "测试", "fy-hancong", "fuyuan", ("clerk",))
    return {"Authorization": f"Bearer {issuer.issue(principal)}"}


def _query(
    gateway: GatewayProcess, query: str, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    response = httpx.post(gateway.url, json={"query": query}, headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _sse_events(
    gateway: GatewayProcess, query: str, headers: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """Subscribe with server-sent events and collect every `next` payload until `complete`."""
    events: list[dict[str, Any]] = []
    request_headers = {"accept": "text/event-stream", **(headers or {})}
    with (
        httpx.Client(timeout=httpx.Timeout(10, read=15)) as client,
        client.stream(
            "POST", gateway.url, json={"query": query}, headers=request_headers
        ) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        event = ""
        for line in response.iter_lines():
            if line.startswith("event:"):
                event = line.removeprefix("event:").strip()
                if event == "complete":
                    break
            elif line.startswith("data:") and event == "next":
                events.append(json.loads(line.removeprefix("data:").strip()))
    return events


# --- tests --------------------------------------------------------------------------------


def test_cross_subgraph_query_answers_fields_of_both(gateway: GatewayProcess) -> None:
    body = _query(gateway, '{ thing(id: "7") { id name authorization } echoAlive }')

    assert body == {
        "data": {
            "thing": {"id": "7", "name": "thing 7", "authorization": None},
            "echoAlive": True,
        }
    }


def test_authorization_and_correlation_id_reach_the_subgraph(gateway: GatewayProcess) -> None:
    headers = {"Authorization": "Bearer token-for-test", "X-Correlation-Id": "corr-42"}

    body = _query(gateway, '{ thing(id: "1") { authorization correlationId } }', headers)

    assert body == {
        "data": {"thing": {"authorization": "Bearer token-for-test", "correlationId": "corr-42"}}
    }
    # And nothing sticks to the gateway's connections for the next caller.
    anonymous = _query(gateway, '{ thing(id: "1") { authorization correlationId } }')
    assert anonymous == {"data": {"thing": {"authorization": None, "correlationId": None}}}


def test_subgraphs_that_do_not_compose_raise_composition_error(
    gateway_installed: None, subgraphs: dict[str, Subgraph], tmp_path: Path
) -> None:
    things = subgraphs["things"]
    clash = Subgraph(clash_schema, "/graphql")  # never started: composition reads files only

    with pytest.raises(CompositionError) as raised:
        compose_supergraph(
            {
                "things": (things.url, things.export_sdl(tmp_path / "things.graphql")),
                "clash": (clash.url, clash.export_sdl(tmp_path / "clash.graphql")),
            },
            tmp_path / "supergraph.graphql",
        )

    assert 'Type of field "Thing.id" is incompatible across subgraphs' in str(raised.value)
    assert any("Thing.id" in error for error in raised.value.errors)
    assert not (tmp_path / "supergraph.graphql").exists()


def test_a_gateway_that_cannot_start_fails_with_its_log(
    gateway_installed: None, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.graphql"
    broken.write_text("type Query { broken: \n", encoding="utf-8")
    process = GatewayProcess(broken, tmp_path, startup_timeout=30)

    with pytest.raises(GatewayError) as raised:
        process.start()

    assert "Syntax Error" in str(raised.value)  # the gateway's own message, from its log
    assert str(process.log_path) in str(raised.value)
    assert not process.running


def test_graphiql_and_introspection_in_development(gateway: GatewayProcess) -> None:
    page = httpx.get(gateway.url, headers={"accept": "text/html"}, timeout=10)

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "<html" in page.text.lower()
    body = _query(gateway, "{ __schema { queryType { name } } }")
    assert body == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


def test_no_graphiql_nor_introspection_in_production(
    production_gateway: GatewayProcess, dev_keys: DevKeys
) -> None:
    page = httpx.get(production_gateway.url, headers={"accept": "text/html"}, timeout=10)
    headers = _bearer(dev_keys)

    assert not page.headers.get("content-type", "").startswith("text/html")
    assert page.status_code != 200
    body = _query(production_gateway, "{ __schema { queryType { name } } }", headers)
    assert "data" not in body or body["data"] is None
    assert "introspection has been disabled" in json.dumps(body["errors"])
    # Ordinary queries still work there.
    assert _query(production_gateway, '{ thing(id: "2") { name } }', headers) == {
        "data": {"thing": {"name": "thing 2"}}
    }


def test_subscription_streams_through_the_gateway(gateway: GatewayProcess) -> None:
    events = _sse_events(gateway, "subscription { countdown(start: 3) }")

    assert events == [{"data": {"countdown": n}} for n in (3, 2, 1)]


def test_subscription_carries_the_callers_headers(gateway: GatewayProcess) -> None:
    headers = {"Authorization": "Bearer sub-token", "X-Correlation-Id": "corr-sub"}

    events = _sse_events(gateway, "subscription { caller }", headers)

    assert events == [{"data": {"caller": "Bearer sub-token|corr-sub"}}]


def test_supergraph_records_the_given_endpoints(
    supergraph: Path, subgraphs: dict[str, Subgraph]
) -> None:
    text = supergraph.read_text(encoding="utf-8")

    for name, subgraph in subgraphs.items():
        assert f'@join__graph(name: "{name}", url: "{subgraph.url}")' in text


def test_subscription_over_graphql_ws_to_the_gateway(gateway: GatewayProcess) -> None:
    """Clients that speak graphql-transport-ws (as browsers' graphql-ws does) get the same,
    and the headers of their upgrade request are forwarded like those of a POST."""
    url = gateway.url.replace("http://", "ws://", 1)
    with connect(
        url,
        subprotocols=[Subprotocol("graphql-transport-ws")],
        additional_headers={"Authorization": "Bearer ws-token", "X-Correlation-Id": "corr-ws"},
        open_timeout=10,
        close_timeout=5,
        proxy=None,
    ) as socket:
        socket.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(socket.recv(timeout=10))["type"] == "connection_ack"

        def subscribe(operation_id: str, query: str) -> list[dict[str, Any]]:
            socket.send(
                json.dumps({"id": operation_id, "type": "subscribe", "payload": {"query": query}})
            )
            received: list[dict[str, Any]] = []
            while True:
                message = json.loads(socket.recv(timeout=15))
                assert message.get("id") == operation_id, message
                if message["type"] == "complete":
                    return received
                assert message["type"] == "next", message
                received.append(message["payload"])

        countdown = subscribe("1", "subscription { countdown(start: 3) }")
        caller = subscribe("2", "subscription { caller }")

    assert countdown == [{"data": {"countdown": n}} for n in (3, 2, 1)]
    assert caller == [{"data": {"caller": "Bearer ws-token|corr-ws"}}]
