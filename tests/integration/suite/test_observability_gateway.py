"""The real gateway's telemetry: its spans reach an OTLP/HTTP collector, its ``traceparent``
reaches the subgraph (whose server span becomes the gateway's child), and ``/metrics`` shows
Prometheus metrics of the traffic."""

from __future__ import annotations

import asyncio
import gzip
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind

from kernel.settings import SERVICES, Settings
from liandong.cli import mint_token
from liandong.gateway import GatewayProcess, compose_supergraph, free_port
from liandong.suite import build_suite, sdl_path
from liandong.testing.serving import LoopServer

from .test_observability import span_exporter

GATEWAY = "liandong-gateway"


class Collector:
    """A minimal OTLP/HTTP trace receiver on /v1/traces (JSON, as the gateway's exporter
    sends, or protobuf)."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str, str]] = []
        self.errors: list[str] = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                try:
                    self._receive()
                except Exception as exc:  # shown in the test's failure message
                    collector.errors.append(f"{exc!r} headers={dict(self.headers)}")
                    raise

            def _receive(self) -> None:
                body = self._body()
                if self.headers.get("content-encoding") == "gzip":
                    body = gzip.decompress(body)
                if self.path == "/v1/traces":
                    if "json" in self.headers.get("content-type", ""):
                        collector.received.extend(_from_json(json.loads(body)))
                    else:
                        message = ExportTraceServiceRequest()
                        message.ParseFromString(body)
                        collector.received.extend(_from_protobuf(message))
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def _body(self) -> bytes:
                if self.headers.get("transfer-encoding", "").lower() != "chunked":
                    return self.rfile.read(int(self.headers.get("content-length", "0")))
                chunks: list[bytes] = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                    if size == 0:
                        self.rfile.readline()
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def spans(self) -> list[tuple[str, str, str]]:
        """(service name, span name, trace id in hex) of every span received."""
        return list(self.received)


def _from_json(body: dict[str, Any]) -> list[tuple[str, str, str]]:
    found = []
    for resource_spans in body.get("resourceSpans", []):
        attributes = resource_spans.get("resource", {}).get("attributes", [])
        service = next(
            (a["value"].get("stringValue", "") for a in attributes if a["key"] == "service.name"),
            "",
        )
        for scope in resource_spans.get("scopeSpans", []):
            for span in scope.get("spans", []):
                found.append((service, span["name"], str(span["traceId"]).lower()))
    return found


def _from_protobuf(message: ExportTraceServiceRequest) -> list[tuple[str, str, str]]:
    found = []
    for resource_spans in message.resource_spans:
        service = next(
            (
                a.value.string_value
                for a in resource_spans.resource.attributes
                if a.key == "service.name"
            ),
            "",
        )
        for scope in resource_spans.scope_spans:
            for span in scope.spans:
                found.append((service, span.name, span.trace_id.hex()))
    return found


@pytest.fixture
def collector() -> Iterator[Collector]:
    c = Collector()
    yield c
    c.server.shutdown()


@pytest.mark.infra
async def test_gateway_traces_reach_the_collector_and_continue_in_the_subgraph(
    tmp_path: Path, unique_name: str, collector: Collector
) -> None:
    span_exporter()
    settings = Settings(
        data_dir=tmp_path, store="embedded", bus="memory", instance=unique_name, tracing=True
    )
    suite = await build_suite(settings, seed_demo=True)
    server = LoopServer(suite.create_app(), what="the suite")
    await server.start()
    run = tmp_path / "run"
    supergraph = compose_supergraph(
        {n: (f"{server.url}/{n}/graphql", sdl_path(n)) for n in SERVICES},
        run / "supergraph.graphql",
    )
    metrics_port = free_port()
    gateway = GatewayProcess(
        supergraph=supergraph,
        log_dir=run,
        env={
            "LIANDONG_OTLP_ENDPOINT": collector.url,
            "LIANDONG_GATEWAY_METRICS_PORT": str(metrics_port),
        },
    )
    await asyncio.to_thread(gateway.start)
    try:
        token = mint_token(settings, "fy-coord", ["coordinator"])
        async with httpx.AsyncClient(timeout=30) as client:
            response = await client.post(
                gateway.url,
                json={
                    "query": "query GatewayTraced { agencies(first: 1) { edges { node { id } } } }"
                },
                headers={"Authorization": f"Bearer {token}"},
            )
            assert response.status_code == 200, response.text
            assert response.json()["data"]["agencies"]["edges"], response.text

            # The gateway's spans arrive at the collector (batched: poll).
            # The gateway's spans arrive at the collector (batched: poll), and the subgraph's
            # request span belongs to one of the gateway's traces: the gateway propagated the
            # W3C trace context.
            def joined() -> list[ReadableSpan]:
                gateway_traces = {t for service, _, t in collector.spans() if service == GATEWAY}
                return [
                    s
                    for s in span_exporter().get_finished_spans()
                    if s.kind == SpanKind.SERVER
                    and s.context is not None
                    and f"{s.context.trace_id:032x}" in gateway_traces
                ]

            deadline = time.monotonic() + 90
            while not (server_spans := joined()):
                assert time.monotonic() < deadline, (
                    sorted({name for _, name, _ in collector.spans()}),
                    collector.errors,
                    gateway.log_tail(),
                )
                await asyncio.sleep(0.2)
            assert all(s.parent is not None and s.parent.is_remote for s in server_spans)

            # Issue 16, finding 9: not on the public port, on the metrics listener.
            public = await client.get(gateway.base_url + "/metrics")
            assert "graphql_gateway_subgraph_execute_duration" not in public.text
            metrics = await client.get(f"http://127.0.0.1:{metrics_port}/metrics")
            assert metrics.status_code == 200
            assert "graphql_gateway_subgraph_execute_duration" in metrics.text
            assert 'operationName="GatewayTraced"' in metrics.text
    finally:
        await asyncio.to_thread(gateway.stop)
        await server.stop()
