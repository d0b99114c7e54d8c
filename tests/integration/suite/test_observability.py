"""Observability (issue 7): one trace from the caller through a mutation, its store write, the
relay's publish and the consumers' handling; Prometheus metrics with real values after
traffic; log lines tagged with service, district, correlation and trace ids.

Spans are collected with the OpenTelemetry SDK's in-memory exporter on the process's tracer
provider; each test filters by the trace id it sent, so the tests share the provider safely.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from prometheus_client.parser import text_string_to_metric_families

from kernel.envelope import Envelope, EventPayload, new_envelope
from kernel.logs import ContextFilter, bind, configure_logging
from kernel.settings import Settings
from liandong.cli import mint_token
from liandong.suite import Suite, build_suite
from tests.fixtures.settings import drop_databases, server_settings
from tests.infra import Server

_exporter: InMemorySpanExporter | None = None


def span_exporter() -> InMemorySpanExporter:
    """An in-memory exporter on the global SDK provider (installed once per process)."""
    global _exporter
    if _exporter is None:
        provider = trace.get_tracer_provider()
        if not isinstance(provider, TracerProvider):
            provider = TracerProvider()
            trace.set_tracer_provider(provider)
        _exporter = InMemorySpanExporter()
        provider.add_span_processor(SimpleSpanProcessor(_exporter))
    return _exporter


async def eventually(
    check: Callable[[], Awaitable[bool]] | Callable[[], bool], within: float = 90.0
) -> None:
    deadline = time.monotonic() + within
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s")
        await asyncio.sleep(0.1)


def register_agency(agency_id: str) -> dict[str, Any]:
    return {
        "query": "mutation($input: RegisterAgencyInput!) { registerAgency(input: $input) "
        "{ __typename ... on UserError { code field message } } }",
        "operationName": None,
        "variables": {
            "input": {
                "id": agency_id,
                "name": "观测测试局",
                "kind": "DEPARTMENT",
                "liaisons": [{"name": "观测联络员", "phone": "0454-5420999"}],
            }
        },
    }


@asynccontextmanager
async def started_suite(settings: Settings) -> AsyncIterator[tuple[Suite, httpx.AsyncClient]]:
    suite = await build_suite(settings, seed_demo=True)
    await suite.start()
    app = suite.create_app()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://suite")
    try:
        yield suite, client
    finally:
        await client.aclose()
        await suite.stop()


def spans_of(trace_id: int) -> list[ReadableSpan]:
    return [
        s
        for s in span_exporter().get_finished_spans()
        if s.context is not None and s.context.trace_id == trace_id
    ]


async def mutation_under_trace(
    client: httpx.AsyncClient, settings: Settings, agency_id: str
) -> tuple[int, int]:
    """Send one registerAgency as the gateway would, with a ``traceparent``; return the
    trace id and the gateway's span id."""
    trace_id = int(uuid.uuid4().hex, 16)
    parent_span = int(uuid.uuid4().hex[:16], 16)
    token = mint_token(settings, "fy-coord", ["coordinator"])
    response = await client.post(
        "/coordination/graphql",
        json=register_agency(agency_id),
        headers={
            "Authorization": f"Bearer {token}",
            "traceparent": f"00-{trace_id:032x}-{parent_span:016x}-01",
            "x-correlation-id": f"corr-{agency_id}",
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["registerAgency"]["__typename"] == "Agency", response.text
    assert response.headers["x-correlation-id"] == f"corr-{agency_id}"
    return trace_id, parent_span


def consumer_groups(spans: list[ReadableSpan]) -> set[str]:
    """The last word of each consuming queue (``referral``, ``notify``, ``webhooks``...)."""
    return {
        str((s.attributes or {}).get("messaging.consumer.group.name")).rsplit(".", 1)[-1]
        for s in spans
        if s.kind == SpanKind.CONSUMER
    }


def trace_complete(trace_id: int) -> bool:
    spans = spans_of(trace_id)
    # Referral and notify both keep an agency directory from the registration; over the
    # in-process bus the producer span ends last (publish returns once handlers are done).
    return consumer_groups(spans) >= {"referral", "notify"} and any(
        s.kind == SpanKind.PRODUCER for s in spans
    )


def assert_one_trace(trace_id: int, gateway_span: int, *, mongo: bool) -> None:
    spans = spans_of(trace_id)
    by_kind: dict[SpanKind, list[ReadableSpan]] = {}
    for s in spans:
        by_kind.setdefault(s.kind, []).append(s)
    names = sorted(s.name for s in spans)
    server = [s for s in by_kind.get(SpanKind.SERVER, []) if s.parent is not None]
    # The service's request span continues the gateway's trace: its parent is the caller's span.
    assert any(s.parent is not None and s.parent.span_id == gateway_span for s in server), names
    writes = [s for s in spans if s.name.startswith("store.") and "agencies" in s.name]
    assert writes, names
    publishes = [
        s for s in by_kind.get(SpanKind.PRODUCER, []) if s.name == "publish agency.registered.v1"
    ]
    assert len(publishes) == 1, names
    consumers = [
        s for s in by_kind.get(SpanKind.CONSUMER, []) if s.name == "process agency.registered.v1"
    ]
    # Referral and notify both keep an agency directory from this event.
    assert consumer_groups(consumers) >= {"referral", "notify"}, names
    # Each consumer's span is a child of the producer's span, not merely in the same trace.
    publish_id = publishes[0].context.span_id if publishes[0].context else None
    assert all(s.parent is not None and s.parent.span_id == publish_id for s in consumers)
    if mongo:
        # PyMongo's command listener: the request's insert, and the consumers' own writes
        # as children of their consumer spans.
        assert any(s.name == "mongodb.insert agencies" for s in spans), names
        consumer_ids = {c.context.span_id for c in consumers if c.context is not None}
        assert any(
            s.name.startswith("mongodb.")
            and s.parent is not None
            and s.parent.span_id in consumer_ids
            for s in spans
        ), names


def metric_samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


# -- embedded topology ----------------------------------------------------------------------


async def test_one_trace_from_mutation_to_consumers_embedded(
    tmp_path: Path, unique_name: str
) -> None:
    span_exporter()
    settings = Settings(
        data_dir=tmp_path,
        store="embedded",
        bus="memory",
        instance=unique_name,
        tracing=True,
        metrics_interval_seconds=0.2,
    )
    async with started_suite(settings) as (_suite, client):
        trace_id, gateway_span = await mutation_under_trace(client, settings, "fy-obs-embedded")
        await eventually(lambda: trace_complete(trace_id))
        assert_one_trace(trace_id, gateway_span, mongo=False)


async def test_metrics_expose_traffic_backlog_and_overdue(tmp_path: Path, unique_name: str) -> None:
    settings = Settings(
        data_dir=tmp_path,
        store="embedded",
        bus="memory",
        instance=unique_name,
        metrics_interval_seconds=0.2,
    )
    async with started_suite(settings) as (suite, client):
        # Counters are per process (the embedded suite's services share it): compare with
        # what was counted before this test's traffic.
        before = metric_samples((await client.get("/coordination/metrics")).text)
        published_before = value(
            before, "liandong_outbox_events_published_total", service="coordination"
        )
        token = mint_token(settings, "fy-coord", ["coordinator"])
        auth = {"Authorization": f"Bearer {token}"}
        body = register_agency("fy-obs-metrics")
        body["query"] = body["query"].replace("mutation(", "mutation RegisterForMetrics(")
        ok = await client.post("/coordination/graphql", json=body, headers=auth)
        assert ok.json()["data"]["registerAgency"]["__typename"] == "Agency"
        anonymous = await client.post(
            "/coordination/graphql",
            json={
                "query": "query AgenciesForMetrics { agencies(first: 1) { edges { node { id } } } }"
            },
        )
        assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        print("errors", anonymous.json()["errors"])

        # Overdue referrals per receiver come from the store: two past due at fy-market, one
        # at fy-ecology, one not yet due and one without a running clock (not counted).
        referrals = suite.services["referral"].runtime.store.collection("referrals")
        now = suite.services["referral"].runtime.overdue[0].clock()  # the domain's clock
        for doc_id, receiver, due in (
            ("obs-1", "fy-market", now - timedelta(days=2)),
            ("obs-2", "fy-market", now - timedelta(hours=1)),
            ("obs-3", "fy-ecology", now - timedelta(days=9)),
            ("obs-4", "fy-ecology", now + timedelta(days=3)),
            ("obs-5", "fy-market", None),
        ):
            await referrals.insert_one({"_id": doc_id, "receiver_id": receiver, "open_due": due})
        # An event committed but not yet relayed is backlog: stop referral's relay first.
        referral_runtime = suite.services["referral"].runtime
        await referral_runtime.relay.stop()
        complaints = referral_runtime.aggregates[1]

        class Noted(EventPayload):
            event_type = "observability.noted.v1"

        await complaints.insert(
            {"_id": "obs-complaint"},
            [new_envelope(Noted(), district="fuyuan", service="referral") for _ in range(3)],
        )

        async def scraped() -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
            response = await client.get("/referral/metrics")
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/plain")
            return metric_samples(response.text)

        async def sampled() -> bool:
            s = await scraped()
            return (
                value(s, "liandong_overdue", service="referral", agency="fy-market") == 2
                and value(s, "liandong_outbox_backlog", service="referral") == 3
                # Coordination's sampler has seen its relay publish the registration.
                and value(s, "liandong_outbox_events_published_total", service="coordination")
                > published_before
            )

        await eventually(sampled)
        s = await scraped()
        assert (
            value(s, "liandong_overdue", service="referral", kind="referral", agency="fy-ecology")
            == 1
        )
        # Operations are labelled by their root field (a name from the schema): the client's
        # operation names open no series of their own (issue 16, finding 9).
        registered = {"service": "coordination", "operation": "registerAgency", "type": "mutation"}
        assert (
            value(s, "liandong_graphql_operations_total", **registered)
            - value(before, "liandong_graphql_operations_total", **registered)
            == 1
        )
        refused = {"service": "coordination", "operation": "agencies", "code": "UNAUTHENTICATED"}
        assert value(s, "liandong_graphql_errors_total", **refused) - value(
            before, "liandong_graphql_errors_total", **refused
        ) == len(anonymous.json()["errors"])
        assert not [k for k in s if ("operation", "RegisterForMetrics") in k[1]]
        assert not [k for k in s if ("operation", "AgenciesForMetrics") in k[1]]
        assert (
            value(
                s,
                "liandong_http_requests_total",
                service="coordination",
                route="/graphql",
                status="200",
            )
            >= 2
        )
        # Referral and notify consumed the registration; its lag was observed.
        for consumer in ("referral", "notify"):
            assert (
                value(
                    s,
                    "liandong_events_consumed_total",
                    service=consumer,
                    event_type="agency.registered.v1",
                    outcome="ok",
                )
                >= 1
            )
            assert (
                value(
                    s,
                    "liandong_event_consume_lag_seconds_count",
                    service=consumer,
                    event_type="agency.registered.v1",
                )
                >= 1
            )
        assert (
            value(s, "liandong_outbox_events_published_total", service="coordination")
            > published_before
        )
        assert value(s, "liandong_ready", service="referral") == 1
        ready = (await client.get("/referral/readyz")).json()
        assert ready["ready"] is True and ready["draining"] is False


# -- production topology: RabbitMQ and MongoDB ---------------------


@pytest.mark.infra
async def test_one_trace_and_dead_letter_depth_over_rabbitmq(
    tmp_path: Path, unique_name: str, mongo_server: Server, rabbitmq_server: Server
) -> None:
    span_exporter()
    settings = server_settings(
        tmp_path,
        unique_name,
        mongo_server,
        rabbitmq_server,
        tracing=True,
        metrics_interval_seconds=0.2,
    )
    try:
        async with started_suite(settings) as (suite, client):
            trace_id, gateway_span = await mutation_under_trace(client, settings, "fy-obs-rabbit")
            await eventually(lambda: trace_complete(trace_id))
            assert_one_trace(trace_id, gateway_span, mongo=True)

            # A body that is no CloudEvent is dead-lettered by referral's consumer; the
            # depth gauge reads it from the broker.
            import aio_pika

            connection = await aio_pika.connect(settings.amqp_url)
            async with connection:
                channel = await connection.channel()
                exchange = await channel.get_exchange(settings.exchange)
                await exchange.publish(
                    aio_pika.Message(b"not an event"),
                    routing_key="fuyuan.coordination.agency.registered.v1",
                )
            queue = settings.queue_name("referral")

            async def dead_lettered() -> bool:
                text = (await client.get("/referral/metrics")).text
                return (
                    value(
                        metric_samples(text),
                        "liandong_dead_letter_depth",
                        service="referral",
                        queue=queue,
                    )
                    == 1
                )

            await eventually(dead_lettered)
            assert suite.services["referral"].runtime.started
    finally:
        await drop_databases(settings)


# -- logs -----------------------------------------------------------------------------------


def test_json_log_lines_carry_service_district_correlation_and_trace(
    capsys: pytest.CaptureFixture[str],
) -> None:
    span_exporter()
    handler = configure_logging(district="hualong", service="referral", fmt="json")
    try:
        log = logging.getLogger("tests.observability")
        with (
            bind(correlation_id="corr-42"),
            trace.get_tracer("t").start_as_current_span("s") as span,
        ):
            log.warning("分派 %s", "r-1")
        ctx = span.get_span_context()
        # Outside any span, an incoming traceparent still ties the line to its trace.
        with bind(traceparent="00-" + "ab" * 16 + "-" + "cd" * 8 + "-01", service="notify"):
            log.warning("plain")
    finally:
        logging.getLogger().removeHandler(handler)
    lines = [
        json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")
    ]
    first, second = lines[-2], lines[-1]
    assert first["message"] == "分派 r-1" and first["level"] == "WARNING"
    assert first["service"] == "referral" and first["district"] == "hualong"
    assert first["correlation_id"] == "corr-42"
    assert first["trace_id"] == f"{ctx.trace_id:032x}" and first["span_id"] == f"{ctx.span_id:016x}"
    assert second["service"] == "notify" and second["trace_id"] == "ab" * 16
    assert second["correlation_id"] == "-"


def test_plain_log_lines_never_fail_on_missing_context() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    assert ContextFilter("fuyuan").filter(record)
    assert (
        logging.Formatter("%(service)s %(district)s %(correlation_id)s %(trace_id)s").format(record)
        == "- fuyuan - -"
    )


def test_new_envelope_carries_the_current_trace_and_correlation() -> None:
    span_exporter()

    class Pinged(EventPayload):
        event_type = "observability.pinged.v1"

    with bind(correlation_id="corr-7"), trace.get_tracer("t").start_as_current_span("req") as span:
        envelope = new_envelope(Pinged(), district="fuyuan", service="referral")
    ctx = span.get_span_context()
    assert envelope.correlationid == "corr-7"
    # W3C version, trace id, parent id; the flags are the SDK's (sampled, maybe "random").
    assert envelope.traceparent is not None
    assert envelope.traceparent.startswith(f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-")
    # The wire form keeps both extension attributes (CloudEvents distributed tracing).
    again = Envelope.from_json_bytes(envelope.to_json_bytes())
    assert again.traceparent == envelope.traceparent and again.correlationid == "corr-7"
    # Outside a request nothing is invented: the event starts its own correlation.
    bare = new_envelope(Pinged(), district="fuyuan", service="referral")
    assert bare.traceparent is None and bare.correlationid == bare.id
