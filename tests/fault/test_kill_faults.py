"""Processes killed at the worst moment (SIGKILL, no clean-up): a consumer holding
unacknowledged messages, and the outbox relay between the broker's confirm and its own
bookkeeping. Both run as subprocesses (``tests/fault/workers.py``); the store is shared
through its files, the broker is the shared RabbitMQ (only our own queues are touched)."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from kernel.adapters.embedded_store import open_embedded_store
from kernel.adapters.rabbit_bus import RabbitBus
from kernel.bus import SubscriptionSpec
from kernel.outbox import AggregateCollection, OutboxRelay
from kernel.store import DocumentStore
from tests.fault.conftest import (
    ROOT,
    Figures,
    RecordingEffect,
    eventually,
    numbered,
    produce,
    side_effect_figures,
)
from tests.infra import Server


def spawn(role: str, log: Path, **options: object) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-m", "tests.fault.workers", role]
    for key, value in options.items():
        args += [f"--{key.replace('_', '-')}", str(value)]
    with log.open("ab") as out:
        return subprocess.Popen(args, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait(timeout=30)


async def wait_file(path: Path, proc: subprocess.Popen[bytes], log: Path, within: float) -> None:
    deadline = time.monotonic() + within
    while not await asyncio.to_thread(path.exists):
        if proc.poll() is not None or time.monotonic() > deadline:
            text = await asyncio.to_thread(log.read_text, errors="replace")
            raise AssertionError(f"worker did not get ready: {text[-3000:]}")
        await asyncio.sleep(0.1)


CONSUMER_EVENTS = 300


@pytest.mark.timeout(180)
async def test_consumer_killed_with_unacked_messages_no_duplicate_side_effects(
    rabbitmq_server: Server, tmp_path: Path, unique_name: str
) -> None:
    exchange = f"{unique_name}.events"
    queue = f"{unique_name}.effects"
    store_dir = tmp_path / "store"
    store: DocumentStore = open_embedded_store(store_dir, unique_name)
    bus = RabbitBus(rabbitmq_server.url, exchange=exchange, confirm_timeout=5)
    agg = AggregateCollection(store.collection("counters"))
    relay = OutboxRelay([agg.collection], bus, interval=0.1, batch_size=50)
    common = {
        "amqp": rabbitmq_server.url,
        "exchange": exchange,
        "store": store_dir,
        "db": unique_name,
        "queue": queue,
    }
    # The first consumer acks each message 0.2 s after its side effect, so when it is killed
    # it holds side effects whose messages the broker still counts as unacknowledged.
    first = spawn(
        "consumer",
        tmp_path / "a.log",
        name="a",
        ready=tmp_path / "a.ready",
        delay=0.2,
        prefetch=20,
        **common,
    )
    second: subprocess.Popen[bytes] | None = None
    started = time.monotonic()
    try:
        await agg.ensure_indexes()
        await wait_file(tmp_path / "a.ready", first, tmp_path / "a.log", 60)
        await bus.start()
        agg.set_on_commit(relay.committed)
        relay.start()
        sent: list[str] = []

        producing = asyncio.create_task(produce(agg, CONSUMER_EVENTS, sent))
        effects = store.collection("effects")

        async def a_third() -> bool:
            return await effects.count({}) >= CONSUMER_EVENTS // 3

        await eventually(a_third, 90, "the first consumer handled a third of the stream")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        at_kill = await effects.count({})
        second = spawn(
            "consumer", tmp_path / "b.log", name="b", ready=tmp_path / "b.ready", **common
        )
        await wait_file(tmp_path / "b.ready", second, tmp_path / "b.log", 60)
        await producing

        async def drained() -> bool:
            return await effects.count({}) >= CONSUMER_EVENTS and await relay.backlog() == 0

        await eventually(drained, 90, "the second consumer took over the stream")
        await asyncio.sleep(1.0)
        deliveries = await store.collection("deliveries").find({})
        by_worker = Counter(d["worker"] for d in deliveries)
        per_event = Counter(d["event"] for d in deliveries)
        # Events the killed consumer had done but not acknowledged, done again by the second:
        redelivered = sum(1 for n in per_event.values() if n > 1)
        fig = Figures("consumer SIGKILLed holding unacked messages")
        fig.seconds = time.monotonic() - started
        fig.extra = {
            "side effects at the kill": at_kill,
            "deliveries by consumer": dict(sorted(by_worker.items())),
            "events redelivered after the kill": redelivered,
        }
        await side_effect_figures(store, sent, fig)
        assert first.returncode == -signal.SIGKILL
        assert by_worker["a"] > 0 and by_worker["b"] > 0
        # The kill really left work in flight, and the duplicates it caused were absorbed.
        assert redelivered >= 1, "the kill left no unacknowledged side effect to redeliver"
    finally:
        stop(first)
        if second is not None:
            stop(second)
        await relay.stop()
        await bus.close()
        await store.close()


RELAY_EVENTS = 200
RELAY_BATCH = 20
DIE_AFTER = 60


@pytest.mark.timeout(180)
async def test_relay_killed_between_confirm_and_bookkeeping_no_duplicate_side_effects(
    rabbitmq_server: Server, tmp_path: Path, unique_name: str
) -> None:
    exchange = f"{unique_name}.events"
    queue = f"{unique_name}.effects"
    store_dir = tmp_path / "store"
    store: DocumentStore = open_embedded_store(store_dir, unique_name)
    bus = RabbitBus(rabbitmq_server.url, exchange=exchange, confirm_timeout=5)
    effect = RecordingEffect(store)
    agg = AggregateCollection(store.collection("counters"))
    report = tmp_path / "killed-batch.json"
    dying: subprocess.Popen[bytes] | None = None
    relay: OutboxRelay | None = None
    started = time.monotonic()
    try:
        await agg.ensure_indexes()
        await bus.subscribe(SubscriptionSpec(queue, ["fuyuan.#"], effect))
        sent: list[str] = []
        for i in range(RELAY_EVENTS):
            env = numbered(i, f"c{i:04d}")
            await agg.insert({"_id": f"c{i:04d}", "value": i}, [env])
            sent.append(env.id)
        dying = spawn(
            "relay",
            tmp_path / "relay.log",
            amqp=rabbitmq_server.url,
            exchange=exchange,
            store=store_dir,
            db=unique_name,
            name="dying-relay",
            die_after=DIE_AFTER,
            report=report,
            batch=RELAY_BATCH,
            lease=2.0,
        )
        dying.wait(timeout=90)
        assert dying.returncode == -signal.SIGKILL, (tmp_path / "relay.log").read_text(
            errors="replace"
        )[-3000:]
        killed_batch: list[str] = json.loads(report.read_text())
        # The batch was confirmed by the broker but is still in the outbox, leased by the
        # dead relay: the kill landed between the confirm and the bookkeeping.
        pending = await agg.collection.find({"outbox_n": {"$gt": 0}})
        pending_ids = {e["id"] for d in pending for e in d["outbox"]}
        assert set(killed_batch) <= pending_ids
        held = [d for d in pending if d.get("outbox_lease_owner") == "dying-relay"]
        assert len(held) == len(killed_batch)

        async def batch_delivered() -> bool:
            got = await effect.effects.find({"_id": {"$in": killed_batch}}, projection=["_id"])
            return len(got) == len(killed_batch)

        await eventually(batch_delivered, 60, "the confirmed batch reached the consumer")
        relay = OutboxRelay([agg.collection], bus, owner="successor", interval=0.1)
        relay.start()

        async def drained() -> bool:
            assert relay is not None
            return await effect.effects.count({}) >= RELAY_EVENTS and await relay.backlog() == 0

        await eventually(drained, 90, "the successor relay published the rest")
        await asyncio.sleep(1.0)
        deliveries = await store.collection("deliveries").find({})
        per_event = Counter(d["event"] for d in deliveries)
        twice = sorted(i for i, n in per_event.items() if n > 1)
        fig = Figures("relay SIGKILLed between broker confirm and bookkeeping")
        fig.seconds = time.monotonic() - started
        fig.extra = {
            "confirmed before the kill": DIE_AFTER,
            "events in the killed batch": len(killed_batch),
            "events published twice": len(twice),
            "successor relay published": relay.stats.published,
        }
        await side_effect_figures(store, sent, fig)
        # Exactly the killed batch went out twice (republished by the successor), and the
        # consumer absorbed every one of those duplicates.
        assert twice == sorted(killed_batch)
    finally:
        if dying is not None:
            stop(dying)
        if relay is not None:
            await relay.stop()
        await bus.close()
        await store.close()
