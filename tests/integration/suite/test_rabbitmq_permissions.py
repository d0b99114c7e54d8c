"""Issue 16, findings 7 and 2 (AMQP part), against the real broker: the rendered
``rabbitmq-users.sh`` provisions one user per service and read-only bureau users, and the
broker then refuses what they must not do; what it lets through, the consumers refuse.

The script runs with ``rabbitmqctl`` (as the tests' broker is local) in a fresh virtual host
with user names of this test only (``tests/rabbit_users.py``); both are deleted afterwards.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import aio_pika
import aiormq
import pytest

from kernel.adapters.rabbit_bus import RabbitBus
from kernel.bus import DeadLetter, PublishError, SubscriptionSpec
from kernel.consumer import EventRouter
from kernel.envelope import Envelope
from tests.rabbit_users import PASSWORDS, Broker, rendered_users

pytestmark = [pytest.mark.timeout(180), pytest.mark.infra]


@pytest.fixture(scope="module")
def broker(rabbitmq_server: Any) -> Iterator[Broker]:
    with rendered_users(rabbitmq_server) as provisioned:
        yield provisioned


def _envelope(service: str, event_type: str, **data: Any) -> Envelope:
    event_id = str(uuid.uuid4())
    return Envelope(
        id=event_id,
        source=f"/liandong/fuyuan/{service}",
        type=event_type,
        time=datetime.now(UTC),
        data=data,
        district="fuyuan",
        correlationid=event_id,
        service=service,
    )


@pytest.fixture
async def buses(broker: Broker) -> AsyncIterator[dict[str, RabbitBus]]:
    made = {
        s: RabbitBus(broker.url(s, p), confirm_timeout=5.0, reconnect_interval=0.5)
        for s, p in PASSWORDS.items()
    }
    try:
        yield made
    finally:
        for bus in made.values():
            await bus.close()


async def test_issue_16_a_service_user_publishes_its_own_keys_only(
    buses: dict[str, RabbitBus],
) -> None:
    """Finding 7: the referral service's credentials cannot publish coordination's
    ``dispute.ruled.v1`` (routing key ``fuyuan.coordination.dispute.ruled.v1``); its own
    keys go through. Failed before: every service shared one unrestricted user."""
    referral = buses["referral"]
    await referral.publish([_envelope("referral", "referral.sent.v1")])
    with pytest.raises(PublishError):
        await referral.publish([_envelope("coordination", "dispute.ruled.v1")])
    # A key of another district is refused too.
    foreign = _envelope("referral", "referral.sent.v1").model_copy(update={"district": "hualong"})
    with pytest.raises(PublishError):
        await buses["referral"].publish([foreign])
    # The owner publishes it.
    await buses["coordination"].publish([_envelope("coordination", "dispute.ruled.v1")])


async def _dead_letters(bus: RabbitBus, queue: str, count: int) -> list[DeadLetter]:
    letters: list[DeadLetter] = []
    deadline = time.monotonic() + 15
    while len(letters) < count and time.monotonic() < deadline:
        letters += await bus.dead_letters(queue)
        await asyncio.sleep(0.1)
    return letters


async def test_issue_16_what_the_broker_lets_through_the_consumer_refuses(
    broker: Broker, buses: dict[str, RabbitBus]
) -> None:
    """Finding 7: a message published under referral's own key but claiming to be
    coordination's ``dispute.ruled.v1`` (forged body), or a ``dispute.ruled.v1`` naming
    referral as its source, is dead-lettered with the reason and never handled."""
    handled: list[Envelope] = []

    async def record(envelope: Envelope) -> None:
        handled.append(envelope)

    router = EventRouter("fuyuan").on("dispute.ruled.v1", record)
    queue = "liandong.fuyuan.notify.forgery"
    notify = buses["notify"]
    # Bound to the whole district, as notify's record is: only the checks stop a forgery.
    await notify.subscribe(SubscriptionSpec(queue=queue, bindings=["fuyuan.#"], handler=router))
    # 1. A body that disagrees with its (permitted) routing key.
    forged_body = _envelope("coordination", "dispute.ruled.v1", referral_id="r-1")
    connection = await aio_pika.connect(broker.url("referral", PASSWORDS["referral"]))
    async with connection:
        channel = await connection.channel()
        exchange = await channel.get_exchange("liandong.events", ensure=False)
        await exchange.publish(
            aio_pika.Message(forged_body.to_json_bytes(), message_id=forged_body.id),
            routing_key="fuyuan.referral.referral.sent.v1",
        )
    # 2. Referral's own key, but a type only coordination publishes.
    await buses["referral"].publish([_envelope("referral", "dispute.ruled.v1", referral_id="r-2")])
    # 3. The real thing is handled.
    genuine = _envelope("coordination", "dispute.ruled.v1", referral_id="r-3")
    await buses["coordination"].publish([genuine])
    letters = await _dead_letters(notify, queue, 2)
    reasons = [letter.reason for letter in letters]
    assert len(reasons) == 2, reasons
    assert any("forged" in r and "fuyuan.referral.referral.sent.v1" in r for r in reasons)
    assert any("only /liandong/fuyuan/coordination publish" in r for r in reasons)
    deadline = time.monotonic() + 10
    while not handled and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert [e.id for e in handled] == [genuine.id]


async def test_issue_16_the_broker_dead_letters_into_the_queues_own_exchange(
    buses: dict[str, RabbitBus],
) -> None:
    """Finding 7, the dead-letter exchange per queue: under notify's rendered user (whose
    permissions name its own ``<queue>.dlx`` and no shared dead-letter exchange), a queue is
    declared with ``x-dead-letter-exchange: <queue>.dlx`` and the broker's own
    dead-lettering (the ``liandong-consumers`` policy's delivery limit, our subscription's
    limit set out of reach) still lands the message in its ``.dlq``: the broker needs no
    user's write permission to dead-letter."""
    attempts: list[str] = []

    async def crash(envelope: Envelope) -> None:
        attempts.append(envelope.id)
        raise RuntimeError("crash loop")

    queue = "liandong.fuyuan.notify.backstop"
    notify = buses["notify"]
    await notify.subscribe(
        SubscriptionSpec(
            queue=queue, bindings=["fuyuan.referral.#"], handler=crash, max_deliveries=100
        )
    )
    event = _envelope("referral", "referral.sent.v1")
    await buses["referral"].publish([event])
    letters = await _dead_letters(notify, queue, 1)
    assert [x.envelope.id for x in letters if x.envelope] == [event.id]
    assert letters[0].reason.startswith("delivery_limit"), letters[0].reason
    assert 1 < len(attempts) < 100


async def _try_bind(broker: Broker, user: str, password: str, key: str) -> bool:
    connection = await aio_pika.connect(broker.url(user, password))
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(f"bureau.{user.removeprefix('bureau-')}.q")
        try:
            await queue.bind("liandong.events", routing_key=key)
        except aiormq.exceptions.ChannelAccessRefused:
            return False
        return True


async def test_issue_16_a_bureau_binds_only_what_its_profile_may_read(
    broker: Broker, buses: dict[str, RabbitBus]
) -> None:
    """Finding 2 (AMQP): the police's user may bind the public directory but neither the
    whole district (``fuyuan.#``) nor a referral; the justice bureau (supervising) binds
    referrals but not the complainant notices that carry a phone number; neither publishes."""
    await buses["referral"].start()  # the exchanges exist
    police = ("bureau-fy-police", "pw-police")
    justice = ("bureau-fy-justice", "pw-justice")
    assert await _try_bind(broker, *police, "fuyuan.coordination.agency.registered.v1")
    assert not await _try_bind(broker, *police, "fuyuan.#")
    assert not await _try_bind(broker, *police, "fuyuan.referral.referral.sent.v1")
    assert await _try_bind(broker, *justice, "fuyuan.referral.referral.sent.v1")
    assert not await _try_bind(
        broker, *justice, "fuyuan.referral.complaint.complainant_notified.v1"
    )
    assert not await _try_bind(broker, *justice, "fuyuan.*.referral.sent.v1")
    connection = await aio_pika.connect(broker.url(*police))
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange("liandong.events", ensure=False)
        with pytest.raises(aiormq.exceptions.ChannelAccessRefused):
            await exchange.publish(
                aio_pika.Message(b"{}"), routing_key="fuyuan.coordination.dispute.ruled.v1"
            )
