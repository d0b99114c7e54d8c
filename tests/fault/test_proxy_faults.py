"""Connection cuts, refusals and slowdowns between the services and their servers, through a
TCP proxy of the test's own (the shared servers are never touched).

Bus: relay and consumer each connect to RabbitMQ through the proxy; a stream of events goes
outbox → relay → RabbitMQ → consumer side effect while the proxy cuts every connection,
refuses new ones for a while and throttles. Store: a producer writes aggregates with their
events through the proxy to a private SecantusDB while it is cut.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from urllib.parse import urlparse

import pytest

from kernel.adapters.memory_bus import MemoryBus
from kernel.adapters.mongo_store import open_mongo_store
from kernel.adapters.rabbit_bus import RabbitBus
from kernel.bus import SubscriptionSpec
from kernel.outbox import AggregateCollection, ConcurrencyError, OutboxRelay
from kernel.store import DocumentStore, StoreUnavailableError
from tests.fault.conftest import (
    Figures,
    PrivateSecantus,
    RecordingEffect,
    eventually,
    numbered,
    produce,
    side_effect_figures,
)
from tests.fault.proxy import TcpProxy
from tests.infra import Server

EVENTS = 600


def _target(url: str) -> tuple[str, int]:
    parsed = urlparse(url)
    return parsed.hostname or "127.0.0.1", parsed.port or 5672


@pytest.mark.timeout(180)
async def test_bus_connection_cuts_and_slowdowns_every_event_once(
    rabbitmq_server: Server, local_store: DocumentStore, unique_name: str
) -> None:
    proxy = await TcpProxy(*_target(rabbitmq_server.url)).start()
    parsed = urlparse(rabbitmq_server.url)
    via_proxy = parsed._replace(
        netloc=f"{parsed.username}:{parsed.password}@127.0.0.1:{proxy.port}"
    )
    url = via_proxy.geturl()
    exchange = f"{unique_name}.events"
    queue = f"{unique_name}.effects"
    relay_bus = RabbitBus(url, exchange=exchange, confirm_timeout=3, reconnect_interval=0.3)
    consumer_bus = RabbitBus(url, exchange=exchange, confirm_timeout=3, reconnect_interval=0.3)
    effect = RecordingEffect(local_store)
    agg = AggregateCollection(local_store.collection("counters"))
    await agg.ensure_indexes()
    relay = OutboxRelay([agg.collection], relay_bus, interval=0.1, batch_size=50)
    started = time.monotonic()
    try:
        await relay_bus.start()
        await consumer_bus.subscribe(SubscriptionSpec(queue, ["fuyuan.#"], effect, prefetch=32))
        agg.set_on_commit(relay.committed)
        relay.start()
        sent: list[str] = []

        producing = asyncio.create_task(produce(agg, EVENTS, sent))
        faults: list[str] = []

        async def at(count: int) -> None:
            await eventually(
                lambda: _count_at_least(local_store, count), 60, f"{count} side effects"
            )

        # 1. every connection cut at once (a switch reboots)
        await at(100)
        faults.append(f"cut {proxy.cut()} connections")
        # 2. a slow, thin link for two seconds: 50 ms per chunk, 20 kB/s per direction
        await at(200)
        proxy.slow(latency=0.05, rate=20_000)
        await asyncio.sleep(2)
        proxy.slow()
        faults.append("2s at 50ms latency and 20kB/s")
        # 3. an outage: cut, and refuse every new connection for two seconds
        await at(300)
        faults.append(f"outage 2s (cut {proxy.outage(2.0)})")
        await asyncio.sleep(2.5)
        # 4. cut again while the consumer is busy with a backlog
        await at(420)
        faults.append(f"cut {proxy.cut()} connections")
        await producing

        async def drained() -> bool:
            return await local_store.collection("effects").count({}) >= EVENTS and (
                await relay.backlog() == 0
            )

        await eventually(drained, 90, "every committed event delivered after the faults")
        # A redelivery that is still under way shows up as a duplicate, not as a new effect.
        await asyncio.sleep(1.0)
        fig = Figures("bus through a TCP proxy (cuts, outage, slowdown)")
        fig.seconds = time.monotonic() - started
        fig.extra = {
            "faults": "; ".join(faults),
            "reconnections relay/consumer": f"{relay_bus.reconnections}/"
            f"{consumer_bus.reconnections}",
            "proxy": f"{proxy.stats.accepted} accepted, {proxy.stats.refused} refused, "
            f"{proxy.stats.cut} cut",
            "relay publish failures": relay.stats.failed,
        }
        await side_effect_figures(local_store, sent, fig)
        assert await relay.backlog() == 0
        # The clients came back by themselves, through the proxy, after every cut.
        assert relay_bus.reconnections >= 2 and consumer_bus.reconnections >= 2
        assert proxy.stats.refused >= 1, "the outage refused no reconnection attempt"
    finally:
        await relay.stop()
        await relay_bus.close()
        await consumer_bus.close()
        await proxy.close()


async def _count_at_least(store: DocumentStore, n: int) -> bool:
    return await store.collection("effects").count({}) >= n


STORE_WRITES = 100


@pytest.mark.timeout(150)
async def test_store_connection_cuts_no_half_written_aggregate(
    private_secantus: PrivateSecantus, unique_name: str
) -> None:
    """Writes through a proxy to SecantusDB that cuts every connection now and then: a write
    whose answer was lost is retried; afterwards every aggregate exists once with exactly its
    event, and every event reaches the side effect once."""
    proxy = await TcpProxy(*_target(private_secantus.url)).start()
    # directConnection: the server advertises itself as a replica set member at its own
    # address, and a discovering driver would go there instead of through the proxy.
    store = await open_mongo_store(
        f"mongodb://127.0.0.1:{proxy.port}/?directConnection=true", unique_name, timeout_ms=2000
    )
    bus = MemoryBus()
    await bus.start()
    effect = RecordingEffect(store)
    await bus.subscribe(SubscriptionSpec("effects", ["fuyuan.#"], effect))
    agg = AggregateCollection(store.collection("counters"))
    # A cut can hit the relay's own bookkeeping after a publish: the lease it still holds
    # then has to run out before the events go again, so keep it short here.
    relay = OutboxRelay(
        [agg.collection], bus, interval=0.1, batch_size=50, lease=timedelta(seconds=3)
    )
    started = time.monotonic()
    errors: dict[str, int] = {"unavailable": 0, "already there on retry": 0}
    sent: list[str] = []
    try:
        await agg.ensure_indexes()
        agg.set_on_commit(relay.committed)
        relay.start()

        async def write(i: int) -> None:
            env = numbered(i, f"c{i:04d}")
            while True:
                try:
                    await agg.insert({"_id": f"c{i:04d}", "value": i}, [env])
                    break
                except StoreUnavailableError:
                    errors["unavailable"] += 1
                    await asyncio.sleep(0.1)
                except ConcurrencyError:
                    # The earlier attempt committed and only its answer was cut off.
                    errors["already there on retry"] += 1
                    break
            sent.append(env.id)

        async def produce() -> None:
            for i in range(STORE_WRITES):
                await write(i)

        async def cutter() -> int:
            cuts = 0
            for _ in range(6):
                await asyncio.sleep(0.4)
                proxy.cut()
                cuts += 1
            return cuts

        cutting = asyncio.create_task(cutter())
        await produce()
        cuts = await cutting

        async def drained() -> bool:
            return await store.collection("effects").count({}) >= STORE_WRITES and (
                await relay.backlog() == 0
            )

        await eventually(drained, 90, "every aggregate's event delivered")
        fig = Figures("store through a TCP proxy (cuts)")
        fig.seconds = time.monotonic() - started
        fig.extra = {
            "cuts": cuts,
            "connections cut": proxy.stats.cut,
            **{f"writes {k}": v for k, v in errors.items()},
        }
        await side_effect_figures(store, sent, fig)
        docs = await store.collection("counters").find({})
        assert len(docs) == STORE_WRITES
        for doc in docs:
            # One insert, one event: never state without its event or the reverse.
            assert doc["version"] == 1 and doc["outbox_n"] == 0 and doc["outbox"] == []
        assert proxy.stats.cut >= 1
    finally:
        await relay.stop()
        await bus.close()
        await store.close()
        await proxy.close()
