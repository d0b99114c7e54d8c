"""Issue 2's reliability bar: the broker is restarted in the middle of a stream of events
written through the outbox; every event reaches the consumer's side effect exactly once."""

from __future__ import annotations

import asyncio
import os
import shlex
import subprocess
import time
from pathlib import Path

import pytest

from kernel.adapters.mongo_store import open_mongo_store
from kernel.adapters.rabbit_bus import RabbitBus
from kernel.bus import SubscriptionSpec
from kernel.outbox import AggregateCollection, OutboxRelay
from tests.infra import Server
from tests.integration.test_outbox import SideEffect, event

ROOT = Path(__file__).resolve().parents[2]
EVENTS = 300


def restart_broker(server: Server) -> float:
    """Restart RabbitMQ; returns the seconds it took. A server from the environment is
    restarted with LIANDONG_TEST_RABBITMQ_RESTART (a shell command)."""
    command = os.environ.get("LIANDONG_TEST_RABBITMQ_RESTART")
    if command:
        args = shlex.split(command)
    elif server.origin == "local":
        args = [str(ROOT / "scripts/infra/rabbitmq.sh"), "restart"]
    else:
        pytest.fail(
            f"cannot restart a RabbitMQ from {server.origin}: set LIANDONG_TEST_RABBITMQ_RESTART",
            pytrace=False,
        )
    started = time.monotonic()
    subprocess.run(args, check=True, capture_output=True, timeout=180)
    return time.monotonic() - started


@pytest.mark.timeout(400)
async def test_broker_restart_mid_stream_every_event_once(
    mongo_server: Server, rabbitmq_server: Server, unique_name: str
) -> None:
    store = await open_mongo_store(mongo_server.url, unique_name)
    bus = RabbitBus(rabbitmq_server.url, exchange=f"{unique_name}.events", confirm_timeout=5)
    await bus.start()
    effect = SideEffect(store)
    await bus.subscribe(SubscriptionSpec(f"{unique_name}.effects", ["fuyuan.#"], effect))
    agg = AggregateCollection(store.collection("counters"))
    await agg.ensure_indexes()
    relay = OutboxRelay([agg.collection], bus, interval=0.1, batch_size=50)
    agg.set_on_commit(relay.wake)
    relay.start()

    async def produce() -> None:
        for i in range(EVENTS):
            await agg.insert({"_id": f"c{i:04d}", "value": i}, [event(i, f"c{i:04d}")])
            await asyncio.sleep(0.02)

    producing = asyncio.create_task(produce())
    while await effect.coll.count({}) < EVENTS // 3:
        await asyncio.sleep(0.05)
    at_restart = await effect.coll.count({})
    downtime = await asyncio.to_thread(restart_broker, rabbitmq_server)
    await producing

    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and (
        await effect.coll.count({}) < EVENTS or await relay.backlog() > 0
    ):
        await asyncio.sleep(0.2)
    drained_after = time.monotonic() - deadline + 180
    await asyncio.sleep(1.0)  # let any late redelivery show up as a duplicate
    delivered = await effect.coll.count({})
    backlog = await relay.backlog()
    print(
        f"\nbroker restart: sent {EVENTS}, side effects {delivered}, deliveries "
        f"{effect.deliveries}, duplicates absorbed {effect.duplicates}, lost "
        f"{EVENTS - delivered}, side effects before restart {at_restart}, restart took "
        f"{downtime:.1f}s, drained {drained_after:.1f}s after it, relay publish failures "
        f"{relay.stats.failed}, outbox backlog {backlog}"
    )
    await relay.stop()
    await bus.close()
    from pymongo import AsyncMongoClient

    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(mongo_server.url)
    await client.drop_database(unique_name)
    await client.close()
    await store.close()
    assert delivered == EVENTS, f"{EVENTS - delivered} events never reached the side effect"
    assert backlog == 0
