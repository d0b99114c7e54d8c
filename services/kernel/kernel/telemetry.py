"""OpenTelemetry traces: from the gateway through a service's HTTP handler, its store
commands and the outbox relay's publish, over the broker, to the consumer that handles the
event.

Tracing is off unless ``LIANDONG_OTLP_ENDPOINT`` is set (or ``LIANDONG_TRACING=true`` with a
tracer provider installed by the embedding program, as the tests do): then no SDK, no
exporter, no middleware — the OpenTelemetry API alone is a few no-op calls.

How the context travels:

* HTTP: ``FastAPIInstrumentor`` reads the incoming W3C ``traceparent``/``tracestate``
  headers (the gateway sends them), so a service's request span is a child of the gateway's.
* Store: ``MongoCommandTracer`` (a PyMongo command listener) makes a client span per MongoDB
  command; the outbox's ``AggregateCollection`` adds a span per aggregate write, which also
  covers the embedded store.
* Events: ``new_envelope`` stamps the current context into the CloudEvents envelope as the
  distributed-tracing extension attributes ``traceparent``/``tracestate``. The outbox stores
  the envelope, so ``TracingBus`` — the relay's view of the bus — can start a producer span
  that is a child of the original request, however much later the relay runs, and re-stamps
  the envelope with that span. ``traced_handler`` extracts it on the consumer side, so the
  consumer's span is a child of the producer's: one trace from click to side effect.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, Final

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import INVALID_SPAN, Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from pymongo import monitoring

from kernel.bus import Bus, DeadLetter, PublishError, SubscriptionSpec
from kernel.envelope import Envelope
from kernel.settings import Settings

__all__ = [
    "MongoCommandTracer",
    "TracingBus",
    "configure_tracing",
    "consumer_span",
    "context_from_envelope",
    "current_trace_headers",
    "instrument_app",
    "store_span",
    "tracer",
]

log = logging.getLogger(__name__)

_PROPAGATOR = TraceContextTextMapPropagator()
_INSTRUMENTATION = "liandong.kernel"
_configured_lock = threading.Lock()
_configured = False


@functools.cache
def tracer() -> trace.Tracer:
    """The kernel's tracer, looked up once: before a provider is installed it is
    OpenTelemetry's proxy, which uses the provider once one is (a process installs one at
    most once). Looking it up per span was ~1 % of a consumer's CPU (issue 21, P5)."""
    return trace.get_tracer(_INSTRUMENTATION)


def configure_tracing(settings: Settings, service: str) -> bool:
    """Install the SDK tracer provider with an OTLP/HTTP exporter when an endpoint is set.

    Returns whether tracing is on. Once per process: the global provider cannot be replaced,
    and the embedded suite runs three services in one process (the first name wins as
    ``service.name``; spans still carry ``liandong.service``).
    """
    global _configured, _mongo_spans
    if not settings.tracing_enabled:
        return False
    _mongo_spans = True
    with _configured_lock:
        if _configured or not settings.otlp_endpoint:
            # Either done already, or tracing was switched on with a provider the embedding
            # program installed itself (tests' in-memory exporter).
            return True
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
        from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

        resource = Resource.create(
            {
                "service.name": f"liandong-{service}",
                "service.namespace": "liandong",
                "deployment.environment": settings.env,
                "liandong.district": settings.district,
            }
        )
        endpoint = settings.otlp_endpoint.rstrip("/")
        if not endpoint.endswith("/v1/traces"):
            endpoint += "/v1/traces"
        provider = TracerProvider(
            resource=resource,
            # Parent-based: a request the gateway sampled stays sampled through every hop.
            sampler=ParentBased(TraceIdRatioBased(settings.trace_sample_ratio)),
        )
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
        trace.set_tracer_provider(provider)
        _configured = True
        log.info("tracing on: OTLP/HTTP to %s", endpoint)
        return True


def shutdown_tracing() -> None:
    """Flush spans still buffered (called when a service stops)."""
    provider = trace.get_tracer_provider()
    flush = getattr(provider, "force_flush", None)
    if _configured and callable(flush):
        flush(5000)


def instrument_app(app: Any) -> None:
    """Server spans for every HTTP request except the probes and the metrics scrape."""
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(
        app,
        excluded_urls="healthz,readyz,metrics",
        # One span per request is the useful grain; per-ASGI-message spans are noise.
        exclude_spans=["receive", "send"],
    )


# -- trace context in envelopes -------------------------------------------------------------


def current_trace_headers() -> dict[str, str]:
    """``traceparent`` (and ``tracestate``) of the current span; empty when there is none."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier


def context_from_envelope(envelope: Envelope) -> otel_context.Context:
    """The producer's context carried by the envelope (an empty context when it has none)."""
    carrier: dict[str, str] = {}
    if envelope.traceparent:
        carrier["traceparent"] = envelope.traceparent
    if envelope.tracestate:
        carrier["tracestate"] = envelope.tracestate
    return _PROPAGATOR.extract(carrier)


def _messaging_attributes(envelope: Envelope) -> dict[str, str]:
    return {
        "messaging.system": "rabbitmq",
        "messaging.message.id": envelope.id,
        "messaging.destination.name": envelope.routing_key,
        "cloudevents.event_type": envelope.type,
        "liandong.district": envelope.district,
        "liandong.correlation_id": envelope.correlationid,
    }


@contextmanager
def consumer_span(envelope: Envelope, queue: str) -> Iterator[Span]:
    """The current span while a consumer handles ``envelope``: a child of the producer's."""
    parent = context_from_envelope(envelope)
    with tracer().start_as_current_span(
        f"process {envelope.type}",
        context=parent,
        kind=SpanKind.CONSUMER,
        attributes={**_messaging_attributes(envelope), "messaging.consumer.group.name": queue},
    ) as span:
        yield span


def store_span(operation: str, collection: str) -> AbstractContextManager[Span]:
    """A client span around one store operation (whatever the store adapter).

    With tracing off in this process nothing is started: OpenTelemetry's no-op span still
    cost ~6 µs per commit (making it current and restoring the context), ~2 % of the outbox
    path's CPU (issue 21, P3)."""
    if not _mongo_spans:
        return _NO_SPAN
    return tracer().start_as_current_span(
        f"store.{operation} {collection}",
        kind=SpanKind.CLIENT,
        attributes={"db.operation.name": operation, "db.collection.name": collection},
    )


_NO_SPAN: Final = nullcontext(INVALID_SPAN)


class TracingBus:
    """The outbox relay's view of the bus: a producer span per envelope, each a child of the
    context the envelope was created in, and the envelope re-stamped with that span so the
    consumer continues from the publish."""

    def __init__(self, inner: Bus) -> None:
        self.inner = inner

    async def start(self) -> None:
        await self.inner.start()

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        spans: dict[str, Span] = {}
        stamped: list[Envelope] = []
        for envelope in envelopes:
            span = tracer().start_span(
                f"publish {envelope.type}",
                context=context_from_envelope(envelope),
                kind=SpanKind.PRODUCER,
                attributes=_messaging_attributes(envelope),
            )
            spans[envelope.id] = span
            carrier: dict[str, str] = {}
            _PROPAGATOR.inject(carrier, context=trace.set_span_in_context(span))
            stamped.append(
                envelope.model_copy(
                    update={
                        "traceparent": carrier.get("traceparent", envelope.traceparent),
                        "tracestate": carrier.get("tracestate", envelope.tracestate),
                    }
                )
            )
        failed: set[str] = set()
        try:
            await self.inner.publish(stamped)
        except PublishError as exc:
            failed = set(exc.failed_ids) or set(spans)
            raise
        except BaseException:
            failed = set(spans)
            raise
        finally:
            for event_id, span in spans.items():
                if event_id in failed:
                    span.set_status(Status(StatusCode.ERROR, "not confirmed by the broker"))
                span.end()

    async def subscribe(self, spec: SubscriptionSpec) -> None:
        await self.inner.subscribe(spec)

    async def dead_letters(self, queue: str, *, limit: int = 100) -> list[DeadLetter]:
        return await self.inner.dead_letters(queue, limit=limit)

    def is_healthy(self) -> bool:
        return self.inner.is_healthy()

    async def close(self) -> None:
        await self.inner.close()


# -- MongoDB commands -----------------------------------------------------------------------

# Off until ``configure_tracing`` finds tracing on; checked first thing by the listener and
# by ``store_span``.
_mongo_spans = False


class MongoCommandTracer(monitoring.CommandListener):
    """A client span per MongoDB command. PyMongo calls ``started`` in the task that sends the
    command, so the current span (the request's or the consumer's) is the parent."""

    _SKIP = frozenset({"hello", "ismaster", "isMaster", "ping", "saslStart", "saslContinue"})

    def __init__(self) -> None:
        self._spans: dict[tuple[Any, int], Span] = {}

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if not _mongo_spans or event.command_name in self._SKIP:
            return
        command: Mapping[str, Any] = event.command
        collection = command.get(event.command_name)
        attributes = {
            "db.system.name": "mongodb",
            "db.namespace": event.database_name,
            "db.operation.name": event.command_name,
        }
        if isinstance(collection, str):
            attributes["db.collection.name"] = collection
        span = tracer().start_span(
            f"mongodb.{event.command_name}"
            + (f" {collection}" if isinstance(collection, str) else ""),
            kind=SpanKind.CLIENT,
            attributes=attributes,
        )
        self._spans[(event.connection_id, event.request_id)] = span

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        span = self._spans.pop((event.connection_id, event.request_id), None)
        if span is not None:
            span.end()

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        span = self._spans.pop((event.connection_id, event.request_id), None)
        if span is not None:
            span.set_status(Status(StatusCode.ERROR, str(event.failure.get("errmsg", ""))))
            span.end()


# PyMongo copies the global listeners into each client when it is built, and the stores are
# opened before any service runtime exists; so the listener is registered when the kernel's
# runtime is imported, and stays idle (one flag test per command) while tracing is off.
monitoring.register(MongoCommandTracer())
