"""Consumer side helpers: route envelopes to handlers, refuse foreign districts, and keep
read models idempotent by construction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from kernel.bus import Handler, PermanentError, SubscriptionSpec
from kernel.envelope import Envelope, EnvelopeError
from kernel.settings import Settings
from kernel.store import Collection, DuplicateKeyError

__all__ = ["EventRouter", "subscription", "upsert_versioned"]

EventHandler = Callable[[Envelope], Awaitable[None]]


class EventRouter:
    """A bus handler that dispatches by event type.

    Events of another district are refused (dead-lettered with the reason): a deployment
    serves one district and must never act on another's data. Event types nobody here
    handles are acknowledged and ignored, so a producer can add event types freely.
    """

    def __init__(self, district: str) -> None:
        self.district = district
        self._routes: dict[str, EventHandler] = {}

    def on(self, event_type: str, handler: EventHandler) -> EventRouter:
        if event_type in self._routes:
            raise ValueError(f"two handlers for {event_type}")
        self._routes[event_type] = handler
        return self

    @property
    def event_types(self) -> list[str]:
        return sorted(self._routes)

    def bindings(self) -> list[str]:
        """Topic patterns for the handled types, this district only."""
        return [f"{self.district}.*.{t}" for t in self.event_types]

    def subscription(self, settings: Settings, service: str) -> SubscriptionSpec:
        """The service's durable subscription: its queue, bound to the types handled here."""
        return subscription(settings, settings.queue_name(service), self.bindings(), self)

    async def __call__(self, envelope: Envelope) -> None:
        if envelope.district != self.district:
            raise PermanentError(
                f"event {envelope.id} belongs to district {envelope.district!r}; "
                f"this deployment serves {self.district!r}"
            )
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
