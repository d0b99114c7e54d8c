"""Consumer side helpers: route envelopes to handlers, refuse foreign districts and forged
sources, and keep read models idempotent by construction.

Who may emit what (issue 16, finding 7): every event type has one publishing service
(``kernel.contracts.event_sources``, generated with the AsyncAPI catalogue). The broker lets
each service's RabbitMQ user publish only the routing keys ``<district>.<service>.#``
(``deploy/rabbitmq``), the RabbitMQ adapter refuses a message whose routing key disagrees with
its envelope, and ``check_source`` here refuses an envelope whose ``service`` (or ``source``)
is not its type's publisher. A process holding one service's credentials can therefore not
make another service's event (``dispute.ruled.v1`` reassigning a referral, say) act anywhere.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from kernel.bus import Handler, PermanentError, SubscriptionSpec
from kernel.contracts.event_sources import EVENT_SOURCES
from kernel.envelope import Envelope, EnvelopeError
from kernel.settings import Settings
from kernel.store import Collection, DuplicateKeyError

__all__ = ["EventRouter", "ForgedSourceError", "check_source", "subscription", "upsert_versioned"]


class ForgedSourceError(PermanentError):
    """An event names a service that does not publish its type: dead-lettered, never handled."""


def check_source(
    envelope: Envelope, sources: Mapping[str, tuple[str, ...]] = EVENT_SOURCES
) -> None:
    """Refuse ``envelope`` unless its ``service`` and ``source`` are one of its type's
    publishers (a few types, e.g. ``deadline.moved.v1``, have more than one).

    Types nobody registered pass (they are ignored by routers anyway; a producer may add
    types before the consumers know them). Raises ``ForgedSourceError`` otherwise.
    """
    owners = sources.get(envelope.type)
    if owners is None:
        return
    if envelope.service not in owners or envelope.source != (
        f"/liandong/{envelope.district}/{envelope.service}"
    ):
        allowed = ", ".join(f"/liandong/{envelope.district}/{o}" for o in owners)
        raise ForgedSourceError(
            f"event {envelope.id} ({envelope.type}) claims service {envelope.service!r} and "
            f"source {envelope.source!r}; only {allowed} publish {envelope.type}"
        )


EventHandler = Callable[[Envelope], Awaitable[None]]


def in_turn(*handlers: EventHandler) -> EventHandler:
    """One handler running ``handlers`` one after the other (each must be idempotent: a
    failure of a later one redelivers the event to all)."""

    async def run(envelope: Envelope) -> None:
        for handler in handlers:
            await handler(envelope)

    return run


class EventRouter:
    """A bus handler that dispatches by event type.

    Events of another district are refused (dead-lettered with the reason): a deployment
    serves one district and must never act on another's data. So are events whose envelope
    names a service other than the one that publishes their type (``check_source``). Event
    types nobody here handles are acknowledged and ignored, so a producer can add event types
    freely.
    """

    def __init__(
        self, district: str, sources: Mapping[str, tuple[str, ...]] = EVENT_SOURCES
    ) -> None:
        self.district = district
        self.sources = sources
        self._routes: dict[str, EventHandler] = {}

    def on(self, event_type: str, handler: EventHandler) -> EventRouter:
        if event_type in self._routes:
            raise ValueError(f"two handlers for {event_type}")
        if event_type not in self.sources:
            raise ValueError(
                f"no service publishes {event_type}: add it to a service's published events "
                "and run `uv run python -m liandong.asyncapi`"
            )
        self._routes[event_type] = handler
        return self

    @property
    def event_types(self) -> list[str]:
        return sorted(self._routes)

    def bindings(self) -> list[str]:
        """Routing keys of the handled types, this district only, each from its publishers:
        a message another service's user managed to route otherwise never reaches the queue."""
        return [f"{self.district}.{s}.{t}" for t in self.event_types for s in self.sources[t]]

    def subscription(self, settings: Settings, service: str) -> SubscriptionSpec:
        """The service's durable subscription: its queue, bound to the types handled here."""
        return subscription(settings, settings.queue_name(service), self.bindings(), self)

    async def __call__(self, envelope: Envelope) -> None:
        if envelope.district != self.district:
            raise PermanentError(
                f"event {envelope.id} belongs to district {envelope.district!r}; "
                f"this deployment serves {self.district!r}"
            )
        check_source(envelope, self.sources)
        handler = self._routes.get(envelope.type)
        if handler is None:
            return
        try:
            await handler(envelope)
        except EnvelopeError as exc:
            raise PermanentError(str(exc)) from exc


def subscription(
    settings: Settings, queue: str, bindings: Sequence[str], handler: Handler
) -> SubscriptionSpec:
    """A durable subscription with the deployment's prefetch and delivery limit."""
    return SubscriptionSpec(
        queue=queue,
        bindings=bindings,
        handler=handler,
        prefetch=settings.consumer_prefetch,
        max_deliveries=settings.consumer_max_deliveries,
    )


async def upsert_versioned(
    collection: Collection, doc_id: str, source_version: int, fields: Mapping[str, Any]
) -> bool:
    """Write a read-model document unless a version at least as new is already there.

    Returns True when written. Redelivered or out-of-order events are harmless: an older or
    equal ``source_version`` matches nothing, and the upsert then collides on ``_id``.
    """
    try:
        await collection.update_one(
            {
                "_id": doc_id,
                "$or": [
                    {"source_version": {"$lt": source_version}},
                    {"source_version": {"$exists": False}},
                ],
            },
            {"$set": {**fields, "source_version": source_version}},
            upsert=True,
        )
    except DuplicateKeyError:
        return False
    return True
