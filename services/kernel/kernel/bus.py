"""Bus port: publish CloudEvents envelopes and consume them, with two adapters.

Adapters: ``kernel.adapters.rabbit_bus`` (RabbitMQ through aio-pika) and
``kernel.adapters.memory_bus`` (in-process, for the embedded topology). Both pass
``tests/contract/test_bus_contract.py``.

Semantics both adapters keep:

* ``publish`` returns only when every envelope is confirmed (RabbitMQ: publisher confirm,
  routed to at least one queue or explicitly unroutable; in-process: handed to every matching
  subscription). It raises ``PublishError`` when any envelope was not confirmed; the caller
  (the outbox relay) then keeps those events and tries again later.
* Routing key is ``<district>.<service>.<event type>`` (``Envelope.routing_key``); bindings
  use AMQP topic patterns (``*`` one word, ``#`` zero or more words).
* Delivery is at least once. A handler that returns acknowledges the message. A handler that
  raises ``PermanentError`` sends the message straight to the dead-letter queue with the
  reason; any other exception makes it redelivered, up to ``max_deliveries`` in all, then
  dead-lettered.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from kernel.envelope import Envelope

Handler = Callable[[Envelope], Awaitable[None]]

__all__ = [
    "Bus",
    "BusError",
    "DeadLetter",
    "Handler",
    "PermanentError",
    "PublishError",
    "SubscriptionSpec",
    "topic_matches",
]


class BusError(Exception):
    """Base class of the bus port's errors."""


class PublishError(BusError):
    """Some envelopes were not confirmed by the broker."""

    def __init__(self, message: str, failed_ids: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.failed_ids = list(failed_ids)


class PermanentError(Exception):
    """Raised by a handler for a message that can never be processed (bad payload, foreign
    district): the message is dead-lettered at once with this error's text as the reason."""


@dataclass(frozen=True)
class SubscriptionSpec:
    """A named, durable subscription.

    ``queue`` names the queue (RabbitMQ: a quorum queue of that name, with a dead-letter
    queue ``<queue>.dlq``). ``bindings`` are topic patterns over routing keys.
    """

    queue: str
    bindings: Sequence[str]
    handler: Handler
    prefetch: int = 64
    max_deliveries: int = 5
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DeadLetter:
    """A dead-lettered message as read back from a dead-letter queue."""

    envelope: Envelope | None
    raw: bytes
    reason: str
    queue: str


class Bus(Protocol):
    """A connection to the event bus."""

    async def start(self) -> None:
        """Connect and declare the exchange(s); idempotent."""

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        """Publish and wait for every confirm; raise PublishError listing what failed."""

    async def subscribe(self, spec: SubscriptionSpec) -> None:
        """Declare the queue and its bindings and start consuming into ``spec.handler``."""

    async def dead_letters(self, queue: str, *, limit: int = 100) -> list[DeadLetter]:
        """Read (and remove) up to ``limit`` dead-lettered messages of ``queue``."""

    def is_healthy(self) -> bool:
        """True when connected and able to publish."""

    async def close(self) -> None:
        """Stop consuming, wait for handlers in flight, and disconnect."""


def topic_matches(pattern: str, routing_key: str) -> bool:
    """AMQP topic matching: ``*`` matches exactly one word, ``#`` zero or more words."""
    pat = pattern.split(".")
    key = routing_key.split(".")
    # reachable[j]: the pattern words seen so far can consume exactly key[:j]. One pass per
    # pattern word keeps this linear in len(pattern) * len(key), however many "#" there are.
    reachable = [True] + [False] * len(key)
    for word in pat:
        nxt = [False] * (len(key) + 1)
        if word == "#":
            seen = False
            for j in range(len(key) + 1):
                seen = seen or reachable[j]
                nxt[j] = seen
        else:
            for j in range(len(key)):
                if reachable[j] and (word == "*" or word == key[j]):
                    nxt[j + 1] = True
        reachable = nxt
    return reachable[len(key)]
