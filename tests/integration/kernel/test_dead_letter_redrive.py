"""Issue 19: the dead-letter redrive the runbook (docs/operations.md) describes, on the real
broker: messages a handler failed on go back to their queue only (not to the other
subscribers of the routing key), without the dead-letter headers, and are handled once the
handler is fixed."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import aio_pika
import pytest

from kernel.adapters.rabbit_bus import RabbitBus
from kernel.bus import PermanentError, SubscriptionSpec
from kernel.envelope import Envelope

pytestmark = [pytest.mark.timeout(60), pytest.mark.infra]


def _envelope(n: int) -> Envelope:
    event_id = str(uuid.uuid4())
    return Envelope(
        id=event_id,
        source="/liandong/fuyuan/referral",
        type="referral.sent.v1",
        time=datetime.now(UTC),
        data={"n": n},
        district="fuyuan",
        correlationid=event_id,
        service="referral",
    )


@pytest.fixture
async def bus(rabbitmq_server: Any, unique_name: str) -> AsyncIterator[RabbitBus]:
    made = RabbitBus(rabbitmq_server.url, exchange=unique_name, confirm_timeout=5.0)
    yield made
    await made.close()


async def test_issue_19_dead_letters_are_redriven_to_their_queue_only(
    bus: RabbitBus, unique_name: str
) -> None:
    broken = True
    handled: list[int] = []
    other: list[int] = []

    async def handler(envelope: Envelope) -> None:
        if broken:
            raise PermanentError("bug 42: cannot read n")
        handled.append(envelope.data["n"])

    async def bystander(envelope: Envelope) -> None:
        other.append(envelope.data["n"])

    queue = f"{unique_name}.a"
    await bus.subscribe(SubscriptionSpec(queue=queue, bindings=["fuyuan.#"], handler=handler))
    await bus.subscribe(
        SubscriptionSpec(queue=f"{unique_name}.b", bindings=["fuyuan.#"], handler=bystander)
    )
    await bus.publish([_envelope(n) for n in range(3)])

    async def until(condition: Any) -> None:
        deadline = time.monotonic() + 15
        while not condition():
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)

    await until(lambda: len(other) == 3)
    depth: list[int | None] = [None]

    async def dlq_depth() -> int | None:
        depth[0] = await bus.queue_depth(f"{queue}.dlq")
        return depth[0]

    deadline = time.monotonic() + 15
    while await dlq_depth() != 3:
        assert time.monotonic() < deadline, depth
        await asyncio.sleep(0.1)
    broken = False  # the fix is rolled out
    assert await bus.redrive(queue) == 3
    await until(lambda: sorted(handled) == [0, 1, 2])
    assert await bus.queue_depth(f"{queue}.dlq") == 0
    await asyncio.sleep(0.3)
    assert sorted(other) == [0, 1, 2]  # the other subscriber got each event once
    assert await bus.redrive(queue) == 0


async def test_issue_16_a_forged_dead_letter_is_not_redriven(
    bus: RabbitBus, unique_name: str
) -> None:
    """Issue 16 (finding 7): a redrive does not exempt an event from the routing-key check.
    An event whose body disagrees with the key it travelled with (a notify user publishing
    under its own key an envelope claiming referral) is dead-lettered as forged; the
    operator's redrive leaves it in the ``.dlq`` instead of delivering it through the default
    exchange, where the consumer used to check only the envelope. Genuine letters beside it
    (parked by the consumer, or by the broker with the key in ``x-death``) are moved; the
    queue's dead-letter exchange is its own, ``<queue>.dlx``."""
    handled: list[int] = []

    async def handler(envelope: Envelope) -> None:
        handled.append(envelope.data["n"])

    queue = f"{unique_name}.a"
    await bus.subscribe(SubscriptionSpec(queue=queue, bindings=["fuyuan.#"], handler=handler))
    forged = _envelope(7)  # claims referral (which publishes referral.sent.v1)
    genuine = _envelope(8)
    by_broker = _envelope(9)  # parked by the broker's delivery limit: the key is in x-death
    connection = await aio_pika.connect(bus._url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        main = await channel.get_exchange(unique_name, ensure=False)
        await main.publish(
            aio_pika.Message(forged.to_json_bytes(), message_id=forged.id),
            routing_key="fuyuan.notify.referral.sent.v1",
        )
        # A letter the consumer itself parked (as its dead-lettering does): genuine.
        dlx = await channel.get_exchange(f"{queue}.dlx", ensure=False)
        await dlx.publish(
            aio_pika.Message(
                genuine.to_json_bytes(),
                message_id=genuine.id,
                headers={"x-liandong-routing-key": genuine.routing_key},
            ),
            routing_key=f"{queue}.dlq",
        )
        await dlx.publish(
            aio_pika.Message(
                by_broker.to_json_bytes(),
                message_id=by_broker.id,
                headers={
                    "x-first-death-reason": "delivery_limit",
                    "x-first-death-queue": queue,
                    "x-death": [
                        {
                            "queue": queue,
                            "reason": "delivery_limit",
                            "count": 1,
                            "exchange": unique_name,
                            "routing-keys": [by_broker.routing_key],
                        }
                    ],
                },
            ),
            routing_key=f"{queue}.dlq",
        )
    deadline = time.monotonic() + 15
    while await bus.queue_depth(f"{queue}.dlq") != 3:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)
    assert await bus.redrive(queue) == 2
    deadline = time.monotonic() + 15
    while sorted(handled) != [8, 9]:
        assert time.monotonic() < deadline, handled
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    assert sorted(handled) == [8, 9]
    kept = await bus.dead_letters(queue)
    assert [d.envelope.id for d in kept if d.envelope] == [forged.id]
    assert kept[0].reason.startswith("forged:"), kept[0].reason
