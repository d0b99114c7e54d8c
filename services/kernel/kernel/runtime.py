"""The pieces one service runs with, started and stopped in one place.

A service's ``bootstrap()`` builds a ``ServiceRuntime`` from adapters (chosen by the
composition root: ``liandong serve`` for production, ``liandong up`` for the embedded suite)
plus its own handlers; the API, the event consumer and the outbox relay all run from it.

Graceful shutdown (SIGTERM from Kubernetes or compose):

1. ``begin_drain`` at once: ``/readyz`` answers 503 (the load balancer stops sending work) and
   the consumers are cancelled (no new deliveries; handlers in flight go on).
2. After ``drain_delay_seconds`` the HTTP server is told to exit: it closes its listener and
   lets requests in flight finish.
3. ``stop``: wait for the consumers' handlers to finish and ack, stop the workers, let the
   relay finish its batch and make one last pass (publishing what the last requests and
   handlers committed), then close the bus and the store.

Nothing is lost if the process is killed half way: unacked deliveries return to the queue and
committed events stay in the outbox for the next relay.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import signal
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import Any, Protocol, runtime_checkable

from kernel.auth import TokenVerifier
from kernel.bus import Bus, PermanentError, SubscriptionSpec
from kernel.envelope import Envelope
from kernel.logs import bind
from kernel.metrics import (
    BUS_CONNECTED,
    CONSUME_LAG,
    EVENTS_CONSUMED,
    MetricsSampler,
    OverdueCount,
)
from kernel.outbox import AggregateCollection, OutboxRelay
from kernel.settings import Settings
from kernel.store import DocumentStore, StoreError
from kernel.telemetry import TracingBus, configure_tracing, consumer_span, shutdown_tracing
from kernel.workers import Worker

__all__ = ["OverdueCount", "ServiceRuntime"]

log = logging.getLogger(__name__)

#: Bound on the relay's last pass at shutdown; what it cannot publish stays in the outbox.
_FINAL_RELAY_PASS_SECONDS = 10.0


@runtime_checkable
class _StopsConsuming(Protocol):
    """A bus that can stop its consumers and wait for their handlers while staying connected
    (the RabbitMQ adapter; the in-process bus runs handlers inside ``publish``)."""

    async def stop_consuming(self) -> None: ...


@dataclass
class ServiceRuntime:
    name: str
    settings: Settings
    store: DocumentStore
    bus: Bus
    verifier: TokenVerifier
    aggregates: list[AggregateCollection] = field(default_factory=list)
    subscriptions: list[SubscriptionSpec] = field(default_factory=list)
    startup: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    #: Run at ``quiesce`` after the workers, before the store closes (e.g. change streams).
    shutdown: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    owns_bus: bool = True
    run_relay: bool = True
    run_consumers: bool = True
    workers: list[Worker] = field(default_factory=list)
    run_workers: bool = True
    #: Overdue counts per agency this service publishes as the ``liandong_overdue`` gauge.
    overdue: list[OverdueCount] = field(default_factory=list)
    relay: OutboxRelay = field(init=False)
    started: bool = field(default=False, init=False)
    draining: bool = field(default=False, init=False)
    metrics: MetricsSampler = field(init=False)
    _previous_sigterm: Any = field(default=None, init=False)
    _sigterm_installed: bool = field(default=False, init=False)
    _drain_task: asyncio.Task[None] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        configure_tracing(self.settings, self.name)
        # The relay publishes through a tracing view of the bus when tracing is on, so each
        # publish is a span in the trace of the request that committed the event.
        relay_bus: Bus = TracingBus(self.bus) if self.settings.tracing_enabled else self.bus
        self.relay = OutboxRelay(
            [a.collection for a in self.aggregates],
            relay_bus,
            owner=f"{self.name}-{id(self):x}",
            lease=timedelta(seconds=self.settings.relay_lease_seconds),
            interval=self.settings.relay_interval_seconds,
            sweep_interval=self.settings.relay_sweep_seconds,
        )
        for aggregate in self.aggregates:
            self.relay.attach(aggregate)
        self.metrics = MetricsSampler(
            self.name,
            outboxes=[a.collection for a in self.aggregates],
            bus=self.bus,
            dead_letter_queues=lambda: [spec.queue for spec in self.subscriptions],
            overdue=self.overdue,
            interval=self.settings.metrics_interval_seconds,
            published=lambda: self.relay.stats.published,
            ready=self._is_ready,
        )

    async def start(self) -> None:
        if self.started:
            return
        self.draining = False
        if self.owns_bus:
            await self.bus.start()
        for aggregate in self.aggregates:
            await aggregate.ensure_indexes()
        for hook in self.startup:
            await hook()
        if self.run_consumers:
            for spec in self.subscriptions:
                await self.bus.subscribe(self._instrumented(spec))
        if self.run_relay:
            self.relay.start()
        if self.run_workers:
            for worker in self.workers:
                worker.start()
        self.metrics.start()
        self.started = True
        log.info("%s started (district %s)", self.name, self.settings.district)

    def _instrumented(self, spec: SubscriptionSpec) -> SubscriptionSpec:
        """The subscription with its handler wrapped: a consumer span continuing the
        producer's trace, log lines tagged with the event's correlation id, the lag and the
        outcome counted."""
        inner = spec.handler
        service = self.name

        async def handle(envelope: Envelope) -> None:
            lag = (datetime.now(UTC) - envelope.time).total_seconds()
            CONSUME_LAG.labels(service, envelope.type).observe(max(lag, 0.0))
            outcome = "ok"
            try:
                with (
                    bind(
                        correlation_id=envelope.correlationid,
                        service=service,
                        traceparent=envelope.traceparent,
                    ),
                    consumer_span(envelope, spec.queue),
                ):
                    await inner(envelope)
            except PermanentError:
                outcome = "permanent"
                raise
            except BaseException:
                outcome = "failed"
                raise
            finally:
                EVENTS_CONSUMED.labels(service, envelope.type, outcome).inc()

        return dataclasses.replace(spec, handler=handle)

    async def begin_drain(self) -> None:
        """Stop taking new work at once: readiness turns false and consumers are cancelled
        (their handlers in flight finish and ack; undelivered messages stay queued)."""
        if self.draining:
            return
        self.draining = True
        log.info("%s draining: not ready, consumers stopping", self.name)
        if self.owns_bus and self.run_consumers and isinstance(self.bus, _StopsConsuming):
            await self.bus.stop_consuming()

    async def stop(self) -> None:
        """Drain consumers, stop workers, finish the relay's batch plus one last pass, close
        connections."""
        await self.quiesce()
        await self.close()

    async def quiesce(self) -> None:
        """Everything ``stop`` does before closing the bus and the store: no work of this
        service runs afterwards. The embedded suite quiesces every service, then closes the
        shared bus (waiting for deliveries in flight), and only then the stores."""
        self._restore_sigterm()
        if not self.started:
            return
        if self._drain_task is not None:
            with contextlib.suppress(Exception):
                await self._drain_task
        await self.begin_drain()
        # Workers before the store: their last pass still needs it.
        if self.run_workers:
            for worker in self.workers:
                await worker.stop()
        for hook in self.shutdown:
            await hook()
        await self.metrics.stop()
        if self.run_relay:
            await self.relay.stop()
        if self.run_relay and self.owns_bus:
            # Requests and handlers that finished during the drain committed events after
            # the relay's last pass: publish them now rather than leave them to a replica.
            # Only on a bus of our own: on the embedded suite's shared bus the consumers may
            # already be stopped; the events wait in the (durable) outbox for the next start.
            try:
                published = await asyncio.wait_for(
                    self.relay.run_once(), timeout=_FINAL_RELAY_PASS_SECONDS
                )
                if published:
                    log.info("%s: relay published %d events on shutdown", self.name, published)
            except Exception as exc:
                log.warning(
                    "%s: last relay pass failed, events stay in the outbox: %r", self.name, exc
                )

    async def close(self) -> None:
        """Close the bus (when this service owns it) and the store; after ``quiesce``."""
        if not self.started:
            return
        if self.owns_bus:
            await self.bus.close()
        await self.store.close()
        self.started = False
        shutdown_tracing()

    async def _is_ready(self) -> bool:
        return bool((await self.readiness())["ready"])

    async def readiness(self) -> dict[str, Any]:
        """Whether the store answers, the service started and is not draining.

        The bus is not required (issue 19): a request commits its events to the outbox,
        which the relay publishes once the broker is back, so a RabbitMQ blip must not take
        every pod out of the load balancer. The service stays ready while the outbox
        absorbs it — fewer than ``ready_max_outbox_backlog`` aggregates waiting — and the
        broker's state is a metric (``liandong_bus_connected``) with its own alert.
        """
        checks: dict[str, Any] = {}
        try:
            await asyncio.wait_for(self.store.ping(), timeout=3)
            checks["store"] = "ok"
        except (StoreError, TimeoutError, OSError) as exc:
            checks["store"] = f"unavailable: {exc}"
        bus_ok = self.bus.is_healthy()
        BUS_CONNECTED.labels(self.name).set(1 if bus_ok else 0)
        checks["bus"] = "ok" if bus_ok else "unavailable"
        absorbing = bus_ok
        limit = self.settings.ready_max_outbox_backlog
        if not bus_ok and checks["store"] == "ok" and limit > 0:
            try:
                backlog = await asyncio.wait_for(self.relay.backlog(), timeout=3)
            except (StoreError, TimeoutError, OSError) as exc:
                checks["outbox"] = f"unavailable: {exc}"
            else:
                checks["outbox"] = {"backlog": backlog, "limit": limit}
                absorbing = backlog < limit
        checks["draining"] = self.draining
        checks["ready"] = (
            self.started and not self.draining and checks["store"] == "ok" and absorbing
        )
        return checks

    # -- SIGTERM ------------------------------------------------------------------------

    def drain_on_sigterm(self) -> None:
        """Put ``begin_drain`` in front of the current SIGTERM handler (the HTTP server's).

        Called once the server runs (uvicorn installs its handler before the app starts).
        The server's handler is called ``drain_delay_seconds`` later, so that a load balancer
        polling ``/readyz`` stops routing here before the listener closes.
        """
        if threading.current_thread() is not threading.main_thread() or self._sigterm_installed:
            return
        loop = asyncio.get_running_loop()
        previous = signal.getsignal(signal.SIGTERM)

        def on_sigterm(signum: int, frame: FrameType | None) -> None:
            # A signal handler runs between two bytecodes of the main thread: hand over to
            # the event loop instead of doing anything here.
            loop.call_soon_threadsafe(self._start_drain_then, previous, signum, frame)

        signal.signal(signal.SIGTERM, on_sigterm)
        self._previous_sigterm = previous
        self._sigterm_installed = True

    def _start_drain_then(self, previous: Any, signum: int, frame: FrameType | None) -> None:
        async def drain_then_exit() -> None:
            try:
                await self.begin_drain()
            finally:
                if self.settings.drain_delay_seconds > 0:
                    await asyncio.sleep(self.settings.drain_delay_seconds)
                self._restore_sigterm()
                if callable(previous):
                    previous(signum, frame)
                elif previous != signal.SIG_IGN:
                    signal.raise_signal(signum)

        self._drain_task = asyncio.create_task(drain_then_exit(), name=f"{self.name}-drain")

    def _restore_sigterm(self) -> None:
        if self._sigterm_installed:
            with contextlib.suppress(ValueError):  # not the main thread any more
                signal.signal(signal.SIGTERM, self._previous_sigterm)
            self._sigterm_installed = False
