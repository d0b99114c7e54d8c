"""In-process adapter of the bus port, for the embedded topology (one process, no servers).

It keeps the semantics of the RabbitMQ adapter where they matter to the code above it:

* ``publish`` hands each envelope to every subscription whose bindings match its routing key
  (AMQP topic patterns) and returns once the handlers are done with it. That makes delivery
  durable by construction: the outbox relay removes events from the store only after
  ``publish`` returns, so a crash in between just republishes them (at least once).
* Envelopes travel as their wire bytes (``to_json_bytes``) and are parsed per subscription,
  so handlers see exactly what they would read from RabbitMQ, never share one mutable
  ``data`` dict, and a malformed body is dead-lettered as on the broker.
* Per subscription, messages are handled one at a time in publish order (a lock each).
* A handler exception is retried with a short backoff, up to ``max_deliveries`` deliveries in
  all, then the message is dead-lettered with the reason; ``PermanentError`` dead-letters at
  once. Handler failures never make ``publish`` raise: they are the consumer's business, as on
  a real broker. ``publish`` raises ``PublishError`` only for envelopes it could not hand over
  because the bus is closed (the relay keeps and retries them).
* Events no binding matches are kept in an "unrouted" list, like the RabbitMQ adapter's
  alternate exchange, so nothing disappears silently.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from kernel.bus import (
    BusError,
    DeadLetter,
    PermanentError,
    PublishError,
    SubscriptionSpec,
    topic_matches,
)
from kernel.envelope import Envelope, EnvelopeError

__all__ = ["UNROUTED_QUEUE", "MemoryBus"]

log = logging.getLogger(__name__)

#: ``DeadLetter.queue`` of the events returned by ``MemoryBus.unrouted()``.
UNROUTED_QUEUE = "unrouted"

# The subscriptions whose handler the current task is running. A handler that publishes to
# its own subscription would otherwise wait forever for the lock it holds.
_handling: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar(
    "liandong_memory_bus_handling", default=frozenset()
)


class _Closed(Exception):
    """The bus closed before a message could be handed to a subscription."""


@dataclass
class _Subscription:
    spec: SubscriptionSpec
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def matches(self, routing_key: str) -> bool:
        return any(topic_matches(pattern, routing_key) for pattern in self.spec.bindings)


class MemoryBus:
    """The event bus inside one process.

    ``retry_backoff`` is the pause before the second delivery of a failed message (it grows
    linearly with each attempt). ``close_timeout`` bounds how long ``close()`` waits for
    handlers in flight. ``max_kept`` bounds each dead-letter list and the unrouted list, so a
    long-running embedded process cannot grow without limit; when a list is full the oldest
    entry is dropped with an error in the log.
    """

    def __init__(
        self,
        *,
        retry_backoff: float = 0.005,
        close_timeout: float = 10.0,
        max_kept: int = 100_000,
    ) -> None:
        self._retry_backoff = retry_backoff
        self._close_timeout = close_timeout
        self._max_kept = max_kept
        self._subscriptions: dict[str, _Subscription] = {}
        self._dead: dict[str, deque[DeadLetter]] = {}
        self._unrouted: deque[DeadLetter] = deque()
        self._inflight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._background: set[asyncio.Task[None]] = set()
        self._closing = False

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Nothing to connect; idempotent. Raises BusError once the bus is closed."""
        if self._closing:
            raise BusError("the bus is closed")

    def is_healthy(self) -> bool:
        """True until ``close()``."""
        return not self._closing

    async def close(self) -> None:
        """Stop taking messages and wait (bounded) for handlers in flight to finish."""
        self._closing = True
        try:
            await asyncio.wait_for(self._idle.wait(), timeout=self._close_timeout)
        except TimeoutError:
            log.warning(
                "close(): %d handlers still running after %.1fs",
                self._inflight,
                self._close_timeout,
            )
        for task in list(self._background):
            task.cancel()
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    # -- publishing ------------------------------------------------------------------------

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        """Deliver each envelope to every matching subscription and wait for the handlers.

        Raises ``PublishError`` listing the envelopes not handed over because the bus is (or
        became) closed; handler failures are retried or dead-lettered, never raised here.
        """
        # Serialize first, as the RabbitMQ adapter does: an unencodable payload is a
        # programming error raised as is, before anything is delivered.
        encoded = [
            (envelope.id, envelope.routing_key, envelope.to_json_bytes()) for envelope in envelopes
        ]
        if self._closing:
            raise PublishError("the bus is closed", [eid for eid, _, _ in encoded])
        failed: list[str] = []
        for event_id, routing_key, body in encoded:
            if self._closing or not await self._route(routing_key, body):
                failed.append(event_id)
        if failed:
            raise PublishError(f"the bus closed; {len(failed)} events not delivered", failed)

    async def publish_raw(self, routing_key: str, body: bytes) -> None:
        """Deliver raw bytes as if another system had put them on the bus (they need not be
        a valid envelope: subscriptions dead-letter what they cannot parse)."""
        if self._closing or not await self._route(routing_key, body):
            raise PublishError("the bus is closed")

    async def _route(self, routing_key: str, body: bytes) -> bool:
        """Hand ``body`` to every matching subscription; False when the bus closed first."""
        targets = [sub for sub in self._subscriptions.values() if sub.matches(routing_key)]
        if not targets:
            self._keep(
                self._unrouted,
                DeadLetter(
                    envelope=_parse_or_none(body),
                    raw=body,
                    reason=f"unrouted: no binding matched {routing_key}",
                    queue=UNROUTED_QUEUE,
                ),
            )
            return True
        results = await asyncio.gather(
            *(self._deliver(sub, body) for sub in targets), return_exceptions=True
        )
        for result in results:
            if isinstance(result, _Closed):
                return False
            if isinstance(result, BaseException):
                raise result
        return True

    async def _deliver(self, sub: _Subscription, body: bytes) -> None:
        if sub.spec.queue in _handling.get():
            # Published from inside this subscription's own handler (the architecture says to
            # go through the outbox, but a deadlock is never the right answer): deliver it
            # after the current message, in a task with a fresh context.
            task = asyncio.create_task(
                self._deliver_later(sub, body), context=contextvars.Context()
            )
            self._background.add(task)
            task.add_done_callback(self._background.discard)
            return
        async with sub.lock:
            if self._closing:
                raise _Closed
            self._inflight += 1
            self._idle.clear()
            try:
                await self._handle(sub, body)
            finally:
                self._inflight -= 1
                if self._inflight == 0:
                    self._idle.set()

    async def _deliver_later(self, sub: _Subscription, body: bytes) -> None:
        try:
            await self._deliver(sub, body)
        except _Closed:
            log.error(
                "bus closed before a message published from a handler of %s was delivered",
                sub.spec.queue,
            )

    async def _handle(self, sub: _Subscription, body: bytes) -> None:
        spec = sub.spec
        try:
            envelope = Envelope.from_json_bytes(body)
        except EnvelopeError as exc:
            self._dead_letter(spec.queue, None, body, str(exc))
            return
        last: Exception | None = None
        for attempt in range(1, spec.max_deliveries + 1):
            if attempt > 1:
                await asyncio.sleep(self._retry_backoff * (attempt - 1))
                if self._closing:
                    # Not handled, not dead-lettered: publish() reports it and the relay
                    # retries it, as the broker would redeliver it to the next consumer.
                    raise _Closed
            token = _handling.set(_handling.get() | {spec.queue})
            try:
                await spec.handler(envelope)
            except PermanentError as exc:
                self._dead_letter(spec.queue, envelope, body, str(exc) or type(exc).__name__)
                return
            except Exception as exc:
                last = exc
                log.warning(
                    "handler of %s failed on event %s (delivery %d of %d): %s",
                    spec.queue,
                    envelope.id,
                    attempt,
                    spec.max_deliveries,
                    exc,
                    exc_info=True,
                )
                continue
            finally:
                _handling.reset(token)
            return
        self._dead_letter(
            spec.queue,
            envelope,
            body,
            f"delivery_limit: delivered {spec.max_deliveries} times; "
            f"last error: {type(last).__name__}: {last}",
        )

    # -- dead letters and unrouted events --------------------------------------------------

    def _dead_letter(self, queue: str, envelope: Envelope | None, body: bytes, reason: str) -> None:
        log.info("dead-lettered a message of %s: %s", queue, reason)
        self._keep(
            self._dead.setdefault(queue, deque()),
            DeadLetter(envelope=envelope, raw=body, reason=reason, queue=queue),
        )

    def _keep(self, kept: deque[DeadLetter], letter: DeadLetter) -> None:
        if len(kept) >= self._max_kept:
            dropped = kept.popleft()
            log.error(
                "dropping the oldest kept message of %s (limit %d reached)",
                dropped.queue,
                self._max_kept,
            )
        kept.append(letter)

    async def dead_letters(self, queue: str, *, limit: int = 100) -> list[DeadLetter]:
        """Return and remove up to ``limit`` dead-lettered messages of ``queue``."""
        return _take(self._dead.get(queue), limit)

    async def unrouted(self, *, limit: int = 100) -> list[DeadLetter]:
        """Return and remove up to ``limit`` events no binding matched (``reason`` starts
        with ``"unrouted"``)."""
        return _take(self._unrouted, limit)

    # -- consuming -------------------------------------------------------------------------

    async def subscribe(self, spec: SubscriptionSpec) -> None:
        """Start delivering matching events to ``spec.handler`` (from the next publish on)."""
        if spec.max_deliveries < 1:
            raise ValueError("max_deliveries must be at least 1")
        if self._closing:
            raise BusError("the bus is closed")
        if spec.queue in self._subscriptions:
            raise BusError(f"already subscribed to {spec.queue!r} on this bus")
        self._subscriptions[spec.queue] = _Subscription(spec)


def _take(kept: deque[DeadLetter] | None, limit: int) -> list[DeadLetter]:
    taken: list[DeadLetter] = []
    while kept and len(taken) < limit:
        taken.append(kept.popleft())
    return taken


def _parse_or_none(body: bytes) -> Envelope | None:
    try:
        return Envelope.from_json_bytes(body)
    except EnvelopeError:
        return None
