"""The broker itself at fault: a private RabbitMQ node restarted in the middle of a stream,
and a poison message among normal traffic."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import pytest

from kernel.adapters.rabbit_bus import RabbitBus
from kernel.bus import DeadLetter, SubscriptionSpec
from kernel.envelope import Envelope
from kernel.outbox import AggregateCollection, OutboxRelay
from kernel.store import DocumentStore
from tests.fault.conftest import (
    Figures,
    Numbered,
    PrivateRabbit,
    RecordingEffect,
    eventually,
    numbered,
    produce,
    side_effect_figures,
)
from tests.infra import Server

EVENTS = 400


@pytest.mark.timeout(240)
async def test_private_broker_restart_mid_stream_every_event_once(
    private_rabbit: PrivateRabbit, local_store: DocumentStore, unique_name: str
) -> None:
    exchange = f"{unique_name}.events"
    bus = RabbitBus(
        private_rabbit.url, exchange=exchange, confirm_timeout=5, reconnect_interval=0.5
    )
    effect = RecordingEffect(local_store)
    agg = AggregateCollection(local_store.collection("counters"))
    await agg.ensure_indexes()
    relay = OutboxRelay([agg.collection], bus, interval=0.1, batch_size=50)
    started = time.monotonic()
    try:
        await bus.subscribe(SubscriptionSpec(f"{unique_name}.effects", ["fuyuan.#"], effect))
        agg.set_on_commit(relay.committed)
        relay.start()
        sent: list[str] = []

        producing = asyncio.create_task(produce(agg, EVENTS, sent))
        effects = local_store.collection("effects")

        async def a_third() -> bool:
            return await effects.count({}) >= EVENTS // 3

        await eventually(a_third, 90, "a third of the stream delivered before the restart")
        before = await effects.count({})
        # The producer keeps committing while the broker is away: those events wait in the
        # outbox, and the ones the broker had accepted wait in its durable quorum queue.
        away = await asyncio.to_thread(private_rabbit.restart)
        await producing

        async def drained() -> bool:
            return await effects.count({}) >= EVENTS and await relay.backlog() == 0

        await eventually(drained, 120, "every committed event delivered after the restart")
        await asyncio.sleep(1.0)  # a late redelivery would show up as a duplicate
        fig = Figures("private broker restarted mid-stream")
        fig.seconds = time.monotonic() - started
        fig.extra = {
            "side effects before the restart": before,
            "broker away": f"{away:.1f}s",
            "reconnections": bus.reconnections,
            "relay publish failures": relay.stats.failed,
        }
        await side_effect_figures(local_store, sent, fig)
        assert bus.reconnections >= 1, "the bus never noticed the restart"
        assert await relay.backlog() == 0
    finally:
        await relay.stop()
        await bus.close()


GOOD = 300
POISON = 5
MAX_DELIVERIES = 3


@pytest.mark.timeout(180)
async def test_poison_message_dead_lettered_while_traffic_flows(
    rabbitmq_server: Server, local_store: DocumentStore, unique_name: str
) -> None:
    exchange = f"{unique_name}.events"
    queue = f"{unique_name}.effects"
    bus = RabbitBus(rabbitmq_server.url, exchange=exchange, confirm_timeout=5)
    effect = RecordingEffect(local_store)
    attempts: Counter[str] = Counter()
    good_during_poison: list[float] = []
    poison_seen: list[float] = []

    async def handler(env: Envelope) -> None:
        if env.payload(Numbered).poison:
            # A payload this handler can never process: it fails every time.
            attempts[env.id] += 1
            poison_seen.append(time.monotonic())
            raise RuntimeError(f"cannot handle poison event {env.id}")
        good_during_poison.append(time.monotonic())
        await effect(env)

    agg = AggregateCollection(local_store.collection("counters"))
    await agg.ensure_indexes()
    relay = OutboxRelay([agg.collection], bus, interval=0.1, batch_size=50)
    started = time.monotonic()
    try:
        await bus.subscribe(
            SubscriptionSpec(
                queue, ["fuyuan.#"], handler, prefetch=16, max_deliveries=MAX_DELIVERIES
            )
        )
        agg.set_on_commit(relay.committed)
        relay.start()
        sent: list[str] = []
        poison_ids: list[str] = []
        every = GOOD // POISON
        for i in range(GOOD):
            env = numbered(i, f"c{i:04d}")
            events = [env]
            if i % every == every // 2:
                bad = numbered(-i, f"c{i:04d}", poison=True)
                poison_ids.append(bad.id)
                events.append(bad)
            await agg.insert({"_id": f"c{i:04d}", "value": i}, events)
            sent.append(env.id)
            await asyncio.sleep(0.005)
        dead: list[DeadLetter] = []

        async def settled() -> bool:
            dead.extend(await bus.dead_letters(queue))
            return len(dead) >= POISON and await effect.effects.count({}) >= GOOD

        await eventually(settled, 120, "the poison dead-lettered and the good traffic done", 0.3)
        await asyncio.sleep(1.0)
        dead.extend(await bus.dead_letters(queue))
        fig = Figures("poison message among normal traffic")
        fig.seconds = time.monotonic() - started
        first, last = min(poison_seen), max(poison_seen)
        flowing = sum(1 for t in good_during_poison if first <= t <= last)
        fig.extra = {
            "poison sent": POISON,
            "dead-lettered": len(dead),
            "deliveries per poison message": sorted(attempts.values()),
            "good events handled while poison was retried": flowing,
            "reasons": sorted({d.reason.split(":")[0] for d in dead}),
        }
        await side_effect_figures(local_store, sent, fig)
        assert sorted(d.envelope.id for d in dead if d.envelope) == sorted(poison_ids)
        assert all(n == MAX_DELIVERIES for n in attempts.values()), attempts
        assert set(attempts) == set(poison_ids)
        assert all(d.reason for d in dead)
        assert flowing > 0, "normal traffic stopped while the poison was being retried"
    finally:
        await relay.stop()
        await bus.close()
