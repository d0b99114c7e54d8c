"""RabbitMQ adapter of the bus port (aio-pika).

Topology, all durable so that a broker restart loses nothing:

* ``<exchange>`` — the topic exchange every service publishes to. Its alternate exchange
  ``<exchange>.unrouted`` (fanout) feeds the quorum queue ``<exchange>.unrouted``: an event
  nobody has bound yet is kept there instead of being dropped, and publishing never stalls on
  it. With that in place, a mandatory *return* means the topology is broken (the unrouted
  queue is gone) and is reported as a failure.
* per subscription, the quorum queue ``spec.queue`` with dead-letter arguments pointing at
  its own direct exchange ``<queue>.dlx``, which routes ``<queue>.dlq`` to the quorum queue of
  that name. One dead-letter exchange per queue (issue 16): its name is inside the owning
  service's RabbitMQ permissions (``deploy/render_rabbitmq.py``), so no other service's user
  can write a dead letter into this queue's ``.dlq`` (the broker's own dead-lettering needs no
  user's permission; declaring the queue needs write on its dead-letter exchange).

Publishing uses publisher confirms with the mandatory flag and keeps a window of outstanding
confirms instead of awaiting each message in turn (the confirm round trip dominates otherwise).

Consumption uses manual acks. Handlers run in tasks owned by this adapter rather than the ones
aio-pika creates per delivery: aio-pika cancels its tasks when the channel closes, which would
interrupt a handler half way through its side effects whenever the connection drops. Ours
run to completion; settling the message on the dead channel then fails harmlessly and the
broker redelivers it (delivery is at least once; handlers are idempotent).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Any

import aio_pika
import aiormq
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustChannel,
    AbstractRobustConnection,
    DeliveryMode,
    ExchangeType,
)

from kernel.adapters.rabbit_parked import (
    _CHANNEL_GONE,
    _QUEUE_HEADER,
    REASON_HEADER,
    ROUTING_KEY_HEADER,
    ParkedMessages,
    _text,
    dead_letter_exchange,
)
from kernel.bus import BusError, PermanentError, PublishError, SubscriptionSpec
from kernel.envelope import CONTENT_TYPE, Envelope, EnvelopeError

__all__ = ["REASON_HEADER", "RabbitBus"]

log = logging.getLogger(__name__)

# AMQP long strings have no small limit, but a stack-trace-sized reason helps nobody.
_MAX_REASON = 2000

_GONE_OR_TIMED_OUT: tuple[type[BaseException], ...] = (*_CHANNEL_GONE, TimeoutError)


@dataclass
class _Subscription:
    spec: SubscriptionSpec
    channel: AbstractChannel
    queue: AbstractQueue
    consumer_tag: str


class RabbitBus(ParkedMessages):
    """The event bus on RabbitMQ, through one robust aio-pika connection.

    ``url`` is an AMQP URL (``amqp://user:pass@host:5672/vhost``). ``exchange`` names the
    topic exchange. ``confirm_timeout`` bounds the wait for each publisher confirm (and for
    the channel to come back while reconnecting). ``reconnect_interval`` is the pause between
    reconnection attempts, ``publish_window`` the number of confirms kept outstanding, and
    ``close_timeout`` how long ``close()`` waits for handlers in flight.
    """

    def __init__(
        self,
        url: str,
        *,
        exchange: str = "liandong.events",
        confirm_timeout: float = 10.0,
        reconnect_interval: float = 1.0,
        publish_window: int = 256,
        close_timeout: float = 10.0,
    ) -> None:
        if publish_window < 1:
            raise ValueError("publish_window must be at least 1")
        self._url = url
        self.exchange_name = exchange
        self.unrouted_name = f"{exchange}.unrouted"
        self._confirm_timeout = confirm_timeout
        self._reconnect_interval = reconnect_interval
        self._window = publish_window
        self._close_timeout = close_timeout

        self._connection: AbstractRobustConnection | None = None
        self._publish_channel: AbstractChannel | None = None
        self._subscriptions: dict[str, _Subscription] = {}
        self._inflight: set[asyncio.Task[None]] = set()
        self._start_lock = asyncio.Lock()
        self._reconnections = 0
        self._closing = False
        self._consuming_stopped = False

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect and declare the exchanges and the unrouted queue; idempotent."""
        async with self._start_lock:
            if self._closing:
                raise BusError("the bus is closed")
            if self._connection is not None:
                return
            connection = await aio_pika.connect_robust(
                self._url,
                reconnect_interval=self._reconnect_interval,
                client_properties={"connection_name": f"liandong bus {self.exchange_name}"},
            )
            try:
                # on_return_raises makes a mandatory return fail the publish() awaiting it
                # instead of resolving it with the returned message.
                channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
                await self._declare_exchanges(channel)
                unrouted = await channel.declare_queue(
                    self.unrouted_name, durable=True, arguments={"x-queue-type": "quorum"}
                )
                await unrouted.bind(self.unrouted_name)
            except BaseException:
                await connection.close()
                raise
            connection.reconnect_callbacks.add(self._on_reconnected)
            self._connection = connection
            self._publish_channel = channel

    def _on_reconnected(self, _connection: AbstractRobustConnection | None, /) -> None:
        self._reconnections += 1
        log.info("reconnected to RabbitMQ (%d reconnections so far)", self._reconnections)

    @property
    def reconnections(self) -> int:
        """How many times the connection was lost and restored (for metrics and tests)."""
        return self._reconnections

    async def _declare_exchanges(self, channel: AbstractChannel) -> AbstractExchange:
        """Declare the main exchange and its alternate on ``channel``; return the main one.

        Declared on every channel that binds to them, so that a robust channel restoring its
        bindings after a broker restart finds them even before the other channels are back.
        """
        await channel.declare_exchange(self.unrouted_name, ExchangeType.FANOUT, durable=True)
        main = await channel.declare_exchange(
            self.exchange_name,
            ExchangeType.TOPIC,
            durable=True,
            arguments={"alternate-exchange": self.unrouted_name},
        )
        return main

    def is_healthy(self) -> bool:
        """True when the connection is up and the publishing channel is open."""
        connection = self._connection
        channel = self._publish_channel
        return (
            not self._closing
            and connection is not None
            and not connection.is_closed
            and connection.connected.is_set()
            and channel is not None
            and not channel.is_closed
        )

    async def close(self) -> None:
        """Cancel consumers, wait (bounded) for handlers in flight, then disconnect.

        Handlers still running after ``close_timeout`` are cancelled; their messages were not
        acknowledged, so the broker redelivers them to the next consumer.
        """
        if self._closing:
            return
        await self.stop_consuming()
        self._closing = True
        if self._connection is not None:
            await self._connection.close()
        self._subscriptions.clear()

    async def stop_consuming(self) -> None:
        """Cancel every consumer and wait (bounded by ``close_timeout``) for the handlers in
        flight to finish and settle; the connection stays up, so the outbox relay can still
        publish its last batch (graceful shutdown, ``kernel.runtime``).

        Messages the broker had already pushed but no handler took are left unacked; the
        broker requeues them when the channel closes.
        """
        if self._consuming_stopped:
            return
        self._consuming_stopped = True
        for sub in self._subscriptions.values():
            with contextlib.suppress(*_CHANNEL_GONE, asyncio.TimeoutError):
                await sub.queue.cancel(sub.consumer_tag, timeout=self._confirm_timeout)
        if self._inflight:
            _, pending = await asyncio.wait(set(self._inflight), timeout=self._close_timeout)
            for task in pending:
                task.cancel()
            if pending:
                log.warning("cancelled %d handlers still running at shutdown", len(pending))
                await asyncio.gather(*pending, return_exceptions=True)

    async def queue_depth(self, queue: str) -> int | None:
        """Messages ready in ``queue`` (a passive declare), or None when it does not exist.
        Used for the dead-letter depth gauge (``kernel.metrics``)."""
        await self.start()
        connection = self._connection
        assert connection is not None
        # A short-lived channel: a missing queue closes the channel it was asked on.
        channel = await connection.channel(publisher_confirms=False)
        try:
            declared = await channel.declare_queue(queue, passive=True)
            result = declared.declaration_result
            return int(result.message_count or 0)
        except aiormq.exceptions.ChannelNotFoundEntity:
            return None
        finally:
            with contextlib.suppress(*_CHANNEL_GONE):
                await channel.close()

    # -- publishing ------------------------------------------------------------------------

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        """Publish ``envelopes`` and wait for every confirm.

        Raises ``PublishError`` whose ``failed_ids`` lists each envelope that was nacked,
        returned, timed out or lost with the connection; the others were confirmed. A failed
        envelope may still have reached the broker (a lost confirm is not a nack), so a retry
        can deliver it twice: consumers are idempotent.
        """
        if not envelopes:
            return
        # Serialize before sending anything: a payload that cannot be encoded is a programming
        # error, raised as is, not a delivery failure to retry.
        messages: dict[str, tuple[str, bytes, aiormq.spec.Basic.Properties]] = {}
        for envelope in envelopes:
            # aiormq matches a mandatory return to its publish by message_id, so one id must
            # not be outstanding twice; a repeated id is the same event, sent once.
            if envelope.id not in messages:
                messages[envelope.id] = (
                    envelope.routing_key,
                    envelope.to_json_bytes(),
                    self._properties(envelope),
                )
        all_ids = list(messages)
        if self._closing:
            raise PublishError("the bus is closed", all_ids)
        try:
            await self.start()
        except Exception as exc:
            raise PublishError(f"cannot connect to RabbitMQ: {exc}", all_ids) from exc
        channel = self._publish_channel
        assert channel is not None
        exchange = self.exchange_name
        window = asyncio.Semaphore(self._window)

        async def publish_one(
            message_id: str, routing_key: str, body: bytes, properties: aiormq.spec.Basic.Properties
        ) -> str:
            async with window:
                try:
                    # One bound covers waiting for a reconnecting channel and the confirm
                    # (no second timer inside aiormq: issue 21, P3).
                    async with asyncio.timeout(self._confirm_timeout):
                        # What aio-pika's Exchange.publish does, without building its Message
                        # (its attribute checks were 5 % of the outbox path's CPU, issue 21):
                        # the robust channel's current aiormq channel, waiting while it
                        # reconnects.
                        underlay = await channel.get_underlay_channel()
                        result = await underlay.basic_publish(
                            body,
                            exchange=exchange,
                            routing_key=routing_key,
                            properties=properties,
                            mandatory=True,
                        )
                except _GONE_OR_TIMED_OUT as exc:
                    return f"{message_id}: {type(exc).__name__}: {exc}"
                if not isinstance(result, aiormq.spec.Basic.Ack):
                    return f"{message_id}: returned by the broker (unroutable)"
                return ""

        results = await asyncio.gather(
            *(publish_one(mid, *message) for mid, message in messages.items())
        )
        failures = [(mid, why) for mid, why in zip(all_ids, results, strict=True) if why]
        if failures:
            raise PublishError(
                f"{len(failures)} of {len(all_ids)} events not confirmed; first: {failures[0][1]}",
                [mid for mid, _ in failures],
            )

    @staticmethod
    def _properties(envelope: Envelope) -> aiormq.spec.Basic.Properties:
        """The AMQP properties of ``envelope``'s message (pinned by the bus contract's
        ``test_rabbitmq_message_carries_the_envelope_in_its_amqp_properties``)."""
        return aiormq.spec.Basic.Properties(
            content_type=CONTENT_TYPE,
            delivery_mode=DeliveryMode.PERSISTENT.value,
            message_id=envelope.id,
            correlation_id=envelope.correlationid,
            message_type=envelope.type,
            # The event's own time, not the send time: a republished event keeps its stamp.
            timestamp=envelope.time,
            app_id=envelope.source,
            headers={},
        )

    # -- consuming -------------------------------------------------------------------------

    async def subscribe(self, spec: SubscriptionSpec) -> None:
        """Declare ``spec.queue`` (quorum, bounded redelivery, dead-letter queue), bind it and
        start consuming into ``spec.handler`` with ``spec.prefetch`` messages in flight."""
        if spec.max_deliveries < 1:
            raise ValueError("max_deliveries must be at least 1")
        if spec.queue in self._subscriptions:
            raise BusError(f"already subscribed to {spec.queue!r} on this bus")
        await self.start()
        connection = self._connection
        assert connection is not None
        dlq_name = f"{spec.queue}.dlq"
        # One channel per subscription: prefetch is per channel, and a channel error in one
        # subscription must not stop the others.
        channel = await connection.channel(publisher_confirms=False)
        try:
            await channel.set_qos(prefetch_count=spec.prefetch)
            exchange = await self._declare_exchanges(channel)
            dlx = await channel.declare_exchange(
                dead_letter_exchange(spec.queue), ExchangeType.DIRECT, durable=True
            )
            dlq = await channel.declare_queue(
                dlq_name, durable=True, arguments={"x-queue-type": "quorum"}
            )
            await dlq.bind(dlx, routing_key=dlq_name)
            channel, queue = await self._declare_consumer_queue(connection, channel, spec)
            for pattern in spec.bindings:
                await queue.bind(exchange, routing_key=pattern)

            async def on_message(message: AbstractIncomingMessage) -> None:
                self._on_message(spec, message)

            tag = await queue.consume(on_message, no_ack=False)
        except BaseException:
            with contextlib.suppress(*_CHANNEL_GONE):
                await channel.close()
            raise
        self._subscriptions[spec.queue] = _Subscription(spec, channel, queue, tag)

    async def _declare_consumer_queue(
        self,
        connection: AbstractRobustConnection,
        channel: AbstractRobustChannel,
        spec: SubscriptionSpec,
    ) -> tuple[AbstractRobustChannel, AbstractQueue]:
        """Declare ``spec.queue`` with only what cannot be a policy (issue 19, item 1).

        The tunable settings (``delivery-limit``, ``overflow``, ``dead-letter-strategy``,
        ``max-length``) come from the broker policy ``liandong-consumers`` rendered with the
        deployment (``deploy/render_rabbitmq.py``), so an operator changes them with no
        redeclaration. Kept as arguments: the queue type (a policy cannot set it) and the
        dead-letter exchange and routing key, which follow from the exchange's and the queue's
        names (one policy cannot name a routing key per queue).

        A queue declared by an older release with the tunables as arguments makes this
        declaration fail (PRECONDITION_FAILED); it is then used as it is, on a new channel,
        and a warning names the migration (docs/operations.md, "Queue arguments").
        """
        try:
            queue = await channel.declare_queue(
                spec.queue,
                durable=True,
                arguments={
                    "x-queue-type": "quorum",
                    "x-dead-letter-exchange": dead_letter_exchange(spec.queue),
                    "x-dead-letter-routing-key": f"{spec.queue}.dlq",
                },
            )
        except aiormq.exceptions.ChannelPreconditionFailed as exc:
            log.warning(
                "queue %s was declared with other arguments (%s); using it as it is. Its own "
                "arguments override the broker policy until it is recreated "
                "(docs/operations.md, 'Queue arguments')",
                spec.queue,
                exc,
            )
            with contextlib.suppress(*_CHANNEL_GONE):
                await channel.close()
            channel = await connection.channel(publisher_confirms=False)
            await channel.set_qos(prefetch_count=spec.prefetch)
            await self._declare_exchanges(channel)
            queue = await channel.declare_queue(spec.queue, passive=True)
        return channel, queue

    def _on_message(self, spec: SubscriptionSpec, message: AbstractIncomingMessage) -> None:
        if self._closing or self._consuming_stopped:
            # Delivered between stop_consuming() and the consumer's cancel: leave it unacked,
            # the broker requeues it when the channel closes.
            return
        task = asyncio.create_task(self._handle(spec, message))
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    async def _handle(self, spec: SubscriptionSpec, message: AbstractIncomingMessage) -> None:
        try:
            envelope = Envelope.from_json_bytes(message.body)
        except EnvelopeError as exc:
            await self._dead_letter(spec, message, str(exc))
            return
        travelled = self._original_routing_key(message)
        if travelled is not None and travelled != envelope.routing_key:
            # The broker checked the routing key against the publisher's user (topic
            # permissions); a body naming another district, service or type is forged.
            await self._dead_letter(
                spec,
                message,
                f"forged: event {envelope.id} travelled as {travelled!r} but its "
                f"envelope says {envelope.routing_key!r}",
            )
            return
        try:
            await spec.handler(envelope)
        except PermanentError as exc:
            await self._dead_letter(spec, message, str(exc) or type(exc).__name__)
            return
        except Exception as exc:
            # The subscription's own limit (the broker counts earlier deliveries in
            # x-delivery-count); the policy's delivery-limit stays the broker's backstop.
            count = (message.headers or {}).get("x-delivery-count")
            delivered = (count if isinstance(count, int) else 0) + 1
            if delivered >= spec.max_deliveries:
                reason = f"delivery_limit: delivered {delivered} times; last error: {exc!r}"
                await self._dead_letter(spec, message, reason)
                return
            log.warning(
                "handler of %s failed on event %s (%s); requeued",
                spec.queue,
                envelope.id,
                exc,
                exc_info=True,
            )
            # The broker counts this return against x-delivery-limit and dead-letters the
            # message once the limit is reached.
            await self._settle(message.nack(requeue=True), message, "nack")
            return
        await self._settle(message.ack(), message, "ack")

    def _original_routing_key(self, message: AbstractIncomingMessage) -> str | None:
        """The routing key ``message`` was published with on the main exchange.

        Delivered through the main exchange, its own (the broker checked it against the
        publisher's topic permissions). Delivered otherwise (an operator's redrive through
        the default exchange, which no service's user may write to), the key the redrive
        recorded from the dead letter (``rabbit_parked.redrive``): a redriven event is checked
        against the key it first travelled with, never exempt (issue 16). None for what came
        otherwise with no record (a shovel, say): the envelope checks alone apply."""
        if message.exchange == self.exchange_name:
            return message.routing_key
        recorded = (message.headers or {}).get(ROUTING_KEY_HEADER)
        return _text(recorded) if recorded is not None else None

    async def _dead_letter(
        self, spec: SubscriptionSpec, message: AbstractIncomingMessage, reason: str
    ) -> None:
        """Our own dead-lettering (the broker's would lose the reason): publish the original
        body to the queue's dead-letter exchange with the reason and the routing key it
        first travelled with, wait for the confirm, then ack the original."""
        channel = self._publish_channel
        assert channel is not None
        dlx = await channel.get_exchange(dead_letter_exchange(spec.queue), ensure=False)
        headers: dict[str, Any] = dict(message.headers or {})
        headers[REASON_HEADER] = reason[:_MAX_REASON]
        headers[_QUEUE_HEADER] = spec.queue
        headers[ROUTING_KEY_HEADER] = (
            self._original_routing_key(message) or message.routing_key or ""
        )
        dead = aio_pika.Message(
            message.body,
            headers=headers,
            content_type=message.content_type,
            delivery_mode=DeliveryMode.PERSISTENT,
            message_id=message.message_id,
            correlation_id=message.correlation_id,
            type=message.type,
            timestamp=message.timestamp,
            app_id=message.app_id,
        )
        try:
            async with asyncio.timeout(self._confirm_timeout):
                result = await dlx.publish(
                    dead,
                    f"{spec.queue}.dlq",
                    mandatory=True,
                    timeout=self._confirm_timeout,
                )
            confirmed = isinstance(result, aiormq.spec.Basic.Ack)
        except _GONE_OR_TIMED_OUT as exc:
            log.warning("could not dead-letter a message of %s: %s", spec.queue, exc)
            confirmed = False
        if confirmed:
            log.info("dead-lettered a message of %s: %s", spec.queue, reason)
            await self._settle(message.ack(), message, "ack")
        else:
            # Not kept anywhere yet: give it back; the delivery limit still bounds the loop.
            await self._settle(message.nack(requeue=True), message, "nack")

    @staticmethod
    async def _settle(op: Awaitable[None], message: AbstractIncomingMessage, what: str) -> None:
        # After a reconnect the delivery's channel is gone and so is its delivery tag; the
        # broker has already requeued the message and will deliver it again.
        try:
            await op
        except _CHANNEL_GONE as exc:
            log.info(
                "could not %s message %s (%s: %s); the broker will redeliver it",
                what,
                message.message_id,
                type(exc).__name__,
                exc,
            )
