"""What RabbitMQ keeps aside, read back and redriven (issue 19): each subscription's
dead-letter queue ``<queue>.dlq`` and the alternate exchange's ``<exchange>.unrouted``. A
mixin of :class:`kernel.adapters.rabbit_bus.RabbitBus`, which owns the connection."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from typing import Any

import aio_pika
import aiormq
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection, DeliveryMode

from kernel.bus import DeadLetter
from kernel.consumer import ForgedSourceError, check_source
from kernel.envelope import Envelope, EnvelopeError

log = logging.getLogger(__name__)

#: Header carrying the reason of a message dead-lettered by this adapter (not the broker).
REASON_HEADER = "x-liandong-reason"
_QUEUE_HEADER = "x-liandong-queue"
#: Header carrying the routing key a dead letter first travelled with on the main exchange.
ROUTING_KEY_HEADER = "x-liandong-routing-key"

# Errors that mean "the channel or connection under this operation is gone". They are what a
# reconnect produces; anything else is a bug we want to see.
_CHANNEL_GONE: tuple[type[BaseException], ...] = (
    aiormq.exceptions.AMQPError,
    ConnectionError,
    RuntimeError,
)


def dead_letter_exchange(queue: str) -> str:
    """The dead-letter exchange of ``queue``: its own, inside its service's permitted names
    (issue 16: a shared one let any service's user plant letters in another's ``.dlq``)."""
    return f"{queue}.dlx"


class ParkedMessages:
    """Reading back and redriving parked messages over the bus's own connection."""

    _connection: AbstractRobustConnection | None
    _confirm_timeout: float
    unrouted_name: str

    async def start(self) -> None:
        raise NotImplementedError

    async def dead_letters(self, queue: str, *, limit: int = 100) -> list[DeadLetter]:
        """Read and acknowledge up to ``limit`` messages of ``<queue>.dlq``."""
        return [
            self._to_dead_letter(queue, message)
            for message in await self._drain(f"{queue}.dlq", limit)
        ]

    async def redrive(self, queue: str, *, limit: int = 1000) -> int:
        """Move up to ``limit`` messages of ``<queue>.dlq`` back to ``queue`` (issue 19: after
        the fix of what made a handler fail). Each goes to the queue alone, through the
        default exchange, never to the other subscribers of its routing key; the reason
        headers are dropped; it is acked in the dead-letter queue only once the broker
        confirmed the copy. Returns how many were moved. Consumers are idempotent, and
        check the event's source and district again.

        A redriven event is not exempt from the routing-key check (issue 16): each copy
        carries the key it first travelled with (recorded by our dead-lettering, or the
        broker's ``x-death``) and the consumer compares it with the envelope. A letter whose
        envelope is unreadable, disagrees with that key or names a service that does not
        publish its type is not moved: it stays in the ``.dlq`` (logged) for the operator.

        The default exchange needs rights no service's user holds (``deploy/rabbitmq``):
        run it with the district's administrator credentials."""
        await self.start()
        connection = self._connection
        assert connection is not None
        channel = await connection.channel(publisher_confirms=True)
        moved = 0
        try:
            source = await channel.get_queue(f"{queue}.dlq", ensure=False)
            await channel.get_queue(queue, ensure=False)  # it must exist
            while moved < limit:
                message = await source.get(no_ack=False, fail=False, timeout=self._confirm_timeout)
                if message is None:
                    break
                travelled = _travelled(message)
                refusal = _refusal(message.body, travelled)
                if refusal is not None:
                    # Held unacked on this channel until it closes, so the loop moves on.
                    log.warning("not redriving a dead letter of %s: %s", queue, refusal)
                    continue
                headers = {
                    k: v
                    for k, v in (message.headers or {}).items()
                    if k not in {REASON_HEADER, _QUEUE_HEADER}
                    and not k.startswith("x-death")
                    and not k.startswith("x-first-death")
                    and not k.startswith("x-last-death")
                }
                headers[ROUTING_KEY_HEADER] = travelled
                await channel.default_exchange.publish(
                    aio_pika.Message(
                        message.body,
                        headers=headers,
                        content_type=message.content_type,
                        delivery_mode=DeliveryMode.PERSISTENT,
                        message_id=message.message_id,
                        correlation_id=message.correlation_id,
                        type=message.type,
                        timestamp=message.timestamp,
                        app_id=message.app_id,
                    ),
                    routing_key=queue,
                    mandatory=True,
                    timeout=self._confirm_timeout,
                )
                await message.ack()
                moved += 1
        finally:
            with contextlib.suppress(*_CHANNEL_GONE):
                await channel.close()
        return moved

    async def unrouted(self, *, limit: int = 100) -> list[DeadLetter]:
        """Read and acknowledge up to ``limit`` events kept by the alternate exchange because
        no queue was bound for them (``reason`` is ``"unrouted"``)."""
        return [
            DeadLetter(
                envelope=_parse_or_none(message.body),
                raw=message.body,
                reason=f"unrouted: no binding matched {message.routing_key}",
                queue=self.unrouted_name,
            )
            for message in await self._drain(self.unrouted_name, limit)
        ]

    async def _drain(self, queue_name: str, limit: int) -> list[AbstractIncomingMessage]:
        await self.start()
        connection = self._connection
        assert connection is not None
        # A short-lived channel: a missing queue closes the channel it was asked on.
        channel = await connection.channel(publisher_confirms=False)
        messages: list[AbstractIncomingMessage] = []
        try:
            queue = await channel.get_queue(queue_name, ensure=False)
            while len(messages) < limit:
                message = await queue.get(no_ack=False, fail=False, timeout=self._confirm_timeout)
                if message is None:
                    break
                messages.append(message)
                await message.ack()
        except aiormq.exceptions.ChannelNotFoundEntity:
            return messages
        finally:
            with contextlib.suppress(*_CHANNEL_GONE):
                await channel.close()
        return messages

    def _to_dead_letter(self, queue: str, message: AbstractIncomingMessage) -> DeadLetter:
        return DeadLetter(
            envelope=_parse_or_none(message.body),
            raw=message.body,
            reason=_reason(message.headers or {}),
            queue=queue,
        )


def _travelled(message: AbstractIncomingMessage) -> str | None:
    """The routing key a dead letter first travelled with: ours, else the broker's x-death."""
    headers = message.headers or {}
    ours = headers.get(ROUTING_KEY_HEADER)
    if ours:
        return _text(ours)
    deaths = headers.get("x-death")
    if isinstance(deaths, list) and deaths and isinstance(deaths[0], Mapping):
        keys = deaths[0].get("routing-keys")
        if isinstance(keys, list) and keys:
            return _text(keys[0])
    return None


def _refusal(body: bytes, travelled: str | None) -> str | None:
    """Why a dead letter must not be redriven, or None."""
    envelope = _parse_or_none(body)
    if envelope is None:
        return "its body is not an event envelope"
    if travelled != envelope.routing_key:
        return (
            f"event {envelope.id} travelled as {travelled!r} but its envelope says "
            f"{envelope.routing_key!r}"
        )
    try:
        check_source(envelope)
    except ForgedSourceError as exc:
        return str(exc)
    return None


def _parse_or_none(body: bytes) -> Envelope | None:
    try:
        return Envelope.from_json_bytes(body)
    except EnvelopeError:
        return None


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _reason(headers: Mapping[str, Any]) -> str:
    """The reason a message was dead-lettered: ours when we did it, else the broker's."""
    ours = headers.get(REASON_HEADER)
    if ours is not None:
        return _text(ours)
    first = headers.get("x-first-death-reason")
    if first is None:
        return "unknown: no dead-letter headers"
    first_reason = _text(first)
    source = _text(headers.get("x-first-death-queue", "?"))
    if first_reason == "delivery_limit":
        return f"delivery_limit: redelivery limit of queue {source} reached"
    deaths = headers.get("x-death")
    count = ""
    if isinstance(deaths, list) and deaths and isinstance(deaths[0], Mapping):
        count = f" (x-death count {deaths[0].get('count')})"
    return f"{first_reason}: dead-lettered by the broker from queue {source}{count}"
