"""Prometheus metrics every service exposes at ``/metrics``.

Cheap things are counted as they happen (HTTP requests, GraphQL operations and their errors,
events consumed and their lag). Things that need a query — the outbox backlog, dead-letter
depth (asked of the broker), overdue counts per agency (逾期, asked of the store) — are
refreshed by ``MetricsSampler`` on a timer (``metrics_interval_seconds``), never per scrape,
so a scraper cannot load the store or the broker.

Metrics live in prometheus-client's default registry (with its process metrics) and carry a
``service`` label, so the embedded suite's three services share one process without clashing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from graphql import FieldNode, OperationType, get_operation_ast
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from kernel.aggregates import PENDING
from kernel.clock import Clock, system_clock
from kernel.store import Collection, Filter, StoreError
from kernel.workers import PollingWorker

__all__ = [
    "CONSUME_LAG",
    "CONTENT_TYPE_LATEST",
    "DEAD_LETTER_DEPTH",
    "EVENTS_CONSUMED",
    "GRAPHQL_ERRORS",
    "GRAPHQL_OPERATIONS",
    "HTTP_REQUESTS",
    "OUTBOX_BACKLOG",
    "OVERDUE",
    "MetricsSampler",
    "OverdueCount",
    "QueueDepths",
    "graphql_metrics_extension",
    "render",
]

log = logging.getLogger(__name__)

_LAG_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)

HTTP_REQUESTS = Counter(
    "liandong_http_requests_total",
    "HTTP requests answered, by route and status",
    ["service", "method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "liandong_http_request_duration_seconds",
    "HTTP request handling time",
    ["service", "method", "route"],
)
GRAPHQL_OPERATIONS = Counter(
    "liandong_graphql_operations_total",
    "GraphQL operations executed, by root field (the schema's name, not the client's) and type",
    ["service", "operation", "type"],
)
GRAPHQL_ERRORS = Counter(
    "liandong_graphql_errors_total",
    "GraphQL errors returned, by operation and error code (extensions.code)",
    ["service", "operation", "code"],
)
GRAPHQL_DURATION = Histogram(
    "liandong_graphql_operation_duration_seconds",
    "GraphQL operation time (parse, validate, execute)",
    ["service", "operation"],
)
EVENTS_CONSUMED = Counter(
    "liandong_events_consumed_total",
    "Events handled by this service's consumers: ok, failed (redelivered) or permanent "
    "(dead-lettered)",
    ["service", "event_type", "outcome"],
)
CONSUME_LAG = Histogram(
    "liandong_event_consume_lag_seconds",
    "Event lag at consumption: handling start minus the event's time",
    ["service", "event_type"],
    buckets=_LAG_BUCKETS,
)
EVENTS_PUBLISHED = Counter(
    "liandong_outbox_events_published_total",
    "Events the outbox relay published with a broker confirm",
    ["service"],
)
OUTBOX_BACKLOG = Gauge(
    "liandong_outbox_backlog",
    "Events committed but not yet confirmed by the broker (pending in outboxes)",
    ["service"],
)
DEAD_LETTER_DEPTH = Gauge(
    "liandong_dead_letter_depth",
    "Messages waiting in a dead-letter queue of this service",
    ["service", "queue"],
)
OVERDUE = Gauge(
    "liandong_overdue",
    "Open items past their deadline, per responsible agency",
    ["service", "kind", "agency"],
)
READY = Gauge("liandong_ready", "1 when the service reports ready, else 0", ["service"])
BUS_CONNECTED = Gauge(
    "liandong_bus_connected",
    "1 when the service's connection to the broker is up, else 0 (readiness does not "
    "depend on it while the outbox absorbs the events)",
    ["service"],
)
SAMPLED_AT = Gauge(
    "liandong_metrics_sampled_timestamp_seconds",
    "When the sampled gauges (backlog, dead letters, overdue) were last refreshed",
    ["service"],
)


def render() -> tuple[bytes, str]:
    """The exposition text and its content type."""
    return generate_latest(), CONTENT_TYPE_LATEST


# -- GraphQL ------------------------------------------------------------------------------


def graphql_metrics_extension(service: str) -> type[SchemaExtension]:
    """A strawberry extension counting operations and errors under ``service``."""

    class GraphQLMetrics(SchemaExtension):
        def on_operation(self) -> Iterator[None]:
            started = time.perf_counter()
            yield
            context = self.execution_context
            name = _operation_label(context)
            try:
                kind = context.operation_type.value
            except Exception:
                kind = "invalid"
            GRAPHQL_OPERATIONS.labels(service, name, kind).inc()
            GRAPHQL_DURATION.labels(service, name).observe(time.perf_counter() - started)
            # Strawberry may hold the same error objects in both places.
            errors = {id(e): e for e in context.pre_execution_errors or []}
            result = context.result
            if result is not None and result.errors:
                errors.update((id(e), e) for e in result.errors)
            for error in errors.values():
                code = (error.extensions or {}).get("code") or "INTERNAL"
                GRAPHQL_ERRORS.labels(service, name, str(code)).inc()

    GraphQLMetrics.__name__ = f"GraphQLMetrics_{service}"
    return GraphQLMetrics


def _operation_label(context: ExecutionContext) -> str:
    """What the operation series are labelled with: the root field the operation selects
    (``registerAgency``, ``referrals``, ``_entities``), a name from the schema, so a client
    cannot open new series by naming its operations (the operation name is the client's
    free text); ``multiple`` for several root fields, ``invalid`` for a document that did
    not parse or selects what the schema does not have."""
    try:
        document = context.graphql_document
        operation = get_operation_ast(document, context.operation_name) if document else None
    except Exception:  # the document did not parse
        return "invalid"
    if operation is None:
        return "invalid"
    schema = context.schema._schema
    root = {
        OperationType.QUERY: schema.query_type,
        OperationType.MUTATION: schema.mutation_type,
        OperationType.SUBSCRIPTION: schema.subscription_type,
    }.get(operation.operation)
    known = {*root.fields, *_META_FIELDS} if root is not None else set()
    names: set[str] = set()
    for selection in operation.selection_set.selections:
        if not isinstance(selection, FieldNode) or selection.name.value not in known:
            return "invalid"
        names.add(selection.name.value)
    return names.pop() if len(names) == 1 else "multiple"


_META_FIELDS = ("__typename", "__schema", "__type")


# -- sampled gauges -----------------------------------------------------------------------


@runtime_checkable
class QueueDepths(Protocol):
    """A bus that can tell how many messages wait in a queue (the RabbitMQ adapter)."""

    async def queue_depth(self, queue: str) -> int | None: ...


@dataclass
class OverdueCount:
    """Overdue items of one kind per responsible agency: documents of ``collection`` whose
    ``due_field`` is set and before ``clock()`` (the domain's now, kernel.clock), counted
    by ``agency_field``.

    ``due_field`` must be cleared (None) when the item no longer runs a clock — referral's
    ``open_due`` is. The store counts (``Collection.count_by``): one request per refresh,
    and only the counts come back, however many items are overdue.
    """

    kind: str
    collection: Collection
    agency_field: str
    due_field: str
    clock: Clock = system_clock
    extra_filter: Filter = field(default_factory=dict)

    async def counts(self) -> dict[str, int]:
        query: Filter = {self.due_field: {"$ne": None, "$lt": self.clock()}, **self.extra_filter}
        counts: dict[str, int] = {}
        for agency, n in (await self.collection.count_by(query, self.agency_field)).items():
            key = agency or "unknown"
            counts[key] = counts.get(key, 0) + n
        return counts


class MetricsSampler:
    """Refreshes the sampled gauges of one service on a timer (a ``PollingWorker``)."""

    def __init__(
        self,
        service: str,
        *,
        outboxes: Sequence[Collection],
        bus: Any,
        dead_letter_queues: Callable[[], Sequence[str]],
        overdue: Sequence[OverdueCount],
        interval: float,
        published: Callable[[], int],
        ready: Callable[[], Awaitable[bool]],
    ) -> None:
        self.service = service
        self._outboxes = list(outboxes)
        self._bus = bus
        self._dead_letter_queues = dead_letter_queues
        self._overdue = list(overdue)
        self._published = published
        self._published_seen = 0
        self._ready = ready
        self._agencies_seen: dict[str, set[str]] = {}
        self._interval = interval
        self._next_store_sample = 0.0  # monotonic
        self.worker = PollingWorker(f"metrics-{service}", self.run_once, interval)

    def start(self) -> None:
        self.worker.start()

    async def stop(self) -> None:
        await self.worker.stop()

    async def run_once(self) -> int:
        published = self._published()
        if published > self._published_seen:
            EVENTS_PUBLISHED.labels(self.service).inc(published - self._published_seen)
        self._published_seen = published
        # The backlog and overdue counts query the store: on a server that scans, their
        # cost grows with the collections, so they wait at least ten times as long
        # as they took, and never cost more than about a tenth of the store's time.
        if time.monotonic() >= self._next_store_sample:
            started = time.monotonic()
            await self._sample_backlog()
            await self._sample_overdue()
            took = time.monotonic() - started
            # (A hair under the interval when the queries were quick: the next tick samples.)
            self._next_store_sample = time.monotonic() + max(self._interval, 10 * took) - 0.01
        await self._sample_dead_letters()
        READY.labels(self.service).set(1 if await self._ready() else 0)
        SAMPLED_AT.labels(self.service).set(time.time())
        # Never "found work": the worker then sleeps a full interval between refreshes.
        return 0

    async def _sample_backlog(self) -> None:
        pending = 0
        for coll in self._outboxes:
            docs = await coll.find(PENDING, projection=["outbox_n"])
            pending += sum(int(d.get("outbox_n") or 0) for d in docs)
        OUTBOX_BACKLOG.labels(self.service).set(pending)

    async def _sample_dead_letters(self) -> None:
        if not isinstance(self._bus, QueueDepths):
            return
        for queue in self._dead_letter_queues():
            try:
                depth = await self._bus.queue_depth(f"{queue}.dlq")
            except Exception as exc:  # the broker is away: keep the last value, say why
                log.info("dead-letter depth of %s unavailable: %s", queue, exc)
                continue
            if depth is not None:
                DEAD_LETTER_DEPTH.labels(self.service, queue).set(depth)

    async def _sample_overdue(self) -> None:
        for item in self._overdue:
            try:
                counts = await item.counts()
            except StoreError as exc:
                log.info("overdue counts of %s unavailable: %s", item.kind, exc)
                continue
            # Agencies no longer overdue drop to 0 rather than keep their last count.
            seen = self._agencies_seen.setdefault(item.kind, set())
            for agency in seen - set(counts):
                OVERDUE.labels(self.service, item.kind, agency).set(0)
            for agency, n in counts.items():
                OVERDUE.labels(self.service, item.kind, agency).set(n)
            seen.update(counts)
