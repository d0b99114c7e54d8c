"""P3 event path: events per second from a handler's commit through the outbox, the relay,
RabbitMQ and a consumer's side effect ÷ raw aio-pika publish-with-confirms plus consume —
same run, same broker, same message bytes, same number of messages.

Outbox side: ``kernel.outbox.AggregateCollection`` on a private database of the MongoDB
wire-protocol server (each commit inserts an aggregate with its event, waking the relay as
the services do), ``kernel.outbox.OutboxRelay`` publishing through
``kernel.adapters.rabbit_bus.RabbitBus`` (confirms, quorum queues), and a consumer whose side
effect is an insert keyed by the event id (idempotent, as the services' consumers are). The
clock runs from the first commit to the last side effect.

Raw side: one aio-pika connection, a channel with publisher confirms (the same window of 256
outstanding confirms the bus keeps), a quorum queue bound to a private topic exchange, a
consumer with manual acks; from the first publish to the last ack.

Every store call of the outbox side is timed (a thin proxy around the collections), so the
output also says how many round trips to the store one event costs and how long each kind
takes: that is what limits the ratio.

A full run measures ``ROUNDS`` rounds, each both sides on fresh names (which side goes first
alternates), and reports the round with the median ratio, listing every round's ratio: one
side runs about a second, so a single pause of the shared machine moved one round's ratio
by ±0.1 (issue 21, session 11: 0.47-0.69 over runs of the same tree).
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections import defaultdict
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage, DeliveryMode, ExchangeType

from bench.common import Figure, Mode, drop_databases, drop_rabbit, private_name
from kernel.envelope import Envelope, EventPayload, new_envelope

COMMITTERS = 16  # concurrent "handlers" committing aggregates
WINDOW = 256  # outstanding publisher confirms, as kernel.adapters.rabbit_bus keeps
#: Rounds of a full run (each: both sides, ~1 s each); the ratio reported is the median
#: round's. One round's ratio swung 0.47-0.69 between runs (issue 21, session 11).
ROUNDS = 5


class BenchCounted(EventPayload):
    """The benchmark's event; the payload is the size of a typical state-change event."""

    event_type = "bench.counted.v1"
    n: int
    actor_id: str = "bench"
    actor_agency_id: str = "fy-market"
    state_before: str | None = "draft"
    state_after: str | None = "sent"
    title: str = "无证经营（基准测试）"


class TimedCollection:
    """Forwards to a store collection and records the duration of every awaited call."""

    def __init__(self, inner: Any, label: str, calls: dict[str, list[float]]) -> None:
        self._inner = inner
        self._label = label
        self._calls = calls

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not inspect.iscoroutinefunction(attr):
            return attr
        durations = self._calls[f"{self._label}.{name}"]
        clock = time.perf_counter

        async def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = clock()
            try:
                return await attr(*args, **kwargs)
            finally:
                durations.append((clock() - t0) * 1000)

        # Kept, so that the next call finds it without ``__getattr__``: the instrument's own
        # CPU counts against the outbox side (it was ~5 % of it, issue 21, session 13).
        setattr(self, name, timed)
        return timed


def _event(n: int) -> Envelope:
    return new_envelope(
        BenchCounted(n=n), district="fuyuan", service="bench", subject=f"agg-{n:07d}"
    )


async def outbox_path(
    mode: Mode,
    name: str,
    count: int,
    calls: dict[str, list[float]],
    cpu: list[float] | None = None,
) -> float:
    """Events/s through the outbox path; returns the rate and fills ``calls`` (ms per call).
    ``cpu``, when given, receives this process's CPU seconds (``time.process_time``) from
    the first commit to the last side effect: the per-event cost without imports, connection
    set-up and declarations (issue 21, session 10)."""
    from kernel.adapters.mongo_store import open_mongo_store
    from kernel.adapters.rabbit_bus import RabbitBus
    from kernel.bus import SubscriptionSpec
    from kernel.outbox import AggregateCollection, OutboxRelay
    from kernel.store import DuplicateKeyError

    store = await open_mongo_store(mode.mongo_url, name)
    bus = RabbitBus(mode.amqp_url, exchange=f"{name}.events")
    relay: OutboxRelay | None = None
    try:
        await bus.start()
        timed: Any = TimedCollection(store.collection("aggregates"), "aggregates", calls)
        aggregates = AggregateCollection(timed)
        await aggregates.ensure_indexes()
        effects: Any = TimedCollection(store.collection("side_effects"), "side_effects", calls)
        done = asyncio.Event()
        seen = 0

        async def side_effect(envelope: Envelope) -> None:
            nonlocal seen
            try:
                await effects.insert_one({"_id": envelope.id, "subject": envelope.subject})
            except DuplicateKeyError:
                return
            seen += 1
            if seen >= count:
                done.set()

        await bus.subscribe(SubscriptionSpec(f"{name}.p3", ["fuyuan.bench.#"], side_effect))
        relay = OutboxRelay([aggregates.collection], bus, owner=f"{name}-relay", batch_size=100)
        relay.attach(aggregates)
        relay.start()
        events = [_event(n) for n in range(count)]
        queue: asyncio.Queue[int] = asyncio.Queue()
        for n in range(count):
            queue.put_nowait(n)

        async def committer() -> None:
            while not queue.empty():
                n = queue.get_nowait()
                await aggregates.insert({"_id": f"agg-{n:07d}", "value": n}, [events[n]])

        started, cpu_started = time.perf_counter(), time.process_time()
        await asyncio.gather(*(committer() for _ in range(COMMITTERS)))
        await asyncio.wait_for(done.wait(), timeout=1800)
        elapsed = time.perf_counter() - started
        if cpu is not None:
            cpu.append(time.process_time() - cpu_started)
        return count / elapsed
    finally:
        if relay is not None:
            await relay.stop()
        await bus.close()
        await store.close()


async def raw_path(mode: Mode, name: str, count: int, cpu: list[float] | None = None) -> float:
    """Events/s of raw aio-pika publish-with-confirms plus consume (``cpu`` as for
    :func:`outbox_path`: from the first publish to the last ack)."""
    bodies = [_event(n).to_json_bytes() for n in range(count)]
    connection = await aio_pika.connect(mode.amqp_url)
    async with connection:
        publish_channel = await connection.channel(publisher_confirms=True)
        exchange = await publish_channel.declare_exchange(
            f"{name}.raw", ExchangeType.TOPIC, durable=True
        )
        consume_channel = await connection.channel()
        await consume_channel.set_qos(prefetch_count=64)
        queue = await consume_channel.declare_queue(
            f"{name}.raw", durable=True, arguments={"x-queue-type": "quorum"}
        )
        await queue.bind(f"{name}.raw", routing_key="fuyuan.bench.#")
        done = asyncio.Event()
        seen = 0

        async def on_message(message: AbstractIncomingMessage) -> None:
            nonlocal seen
            await message.ack()
            seen += 1
            if seen >= count:
                done.set()

        tag = await queue.consume(on_message)
        window = asyncio.Semaphore(WINDOW)

        async def publish(body: bytes) -> None:
            async with window:
                await exchange.publish(
                    aio_pika.Message(body, delivery_mode=DeliveryMode.PERSISTENT),
                    "fuyuan.bench.bench.counted.v1",
                    mandatory=True,
                )

        started, cpu_started = time.perf_counter(), time.process_time()
        await asyncio.gather(*(publish(b) for b in bodies))
        await asyncio.wait_for(done.wait(), timeout=600)
        elapsed = time.perf_counter() - started
        if cpu is not None:
            cpu.append(time.process_time() - cpu_started)
        await queue.cancel(tag)
        await publish_channel.exchange_delete(f"{name}.raw")
        await publish_channel.queue_delete(f"{name}.raw")
    return count / elapsed


async def run(mode: Mode) -> list[Figure]:
    # FerretDB on SQLite serves the outbox's round trips slowly (see the profile figures):
    # the counts keep the outbox side within minutes.
    count = 50 if mode.quick else 1000
    rounds = 1 if mode.quick else ROUNDS
    calls: dict[str, list[float]] = defaultdict(list)
    measured: list[tuple[float, float]] = []  # (outbox, raw) events/s per round
    for i in range(rounds):
        name = private_name("bp3")
        try:
            # Each side runs about a second: which one goes first alternates, so a pause of
            # the shared machine does not always fall on the same side.
            if i % 2 == 0:
                raw = await raw_path(mode, name, count)
                outbox = await outbox_path(mode, name, count, calls)
            else:
                outbox = await outbox_path(mode, name, count, calls)
                raw = await raw_path(mode, name, count)
        finally:
            await drop_databases(mode.mongo_url, [name])
            await drop_rabbit(mode.amqp_url, f"{name}.events", [f"{name}.p3", f"{name}.raw"])
        measured.append((outbox, raw))
    outbox, raw = sorted(measured, key=lambda m: m[0] / m[1])[len(measured) // 2]
    ratio = outbox / raw
    spread = (
        ""
        if rounds == 1
        else f"the median of {rounds} rounds, each side by side in this run: "
        + ", ".join(f"{o / r:.2f}" for o, r in measured)
    )
    figures = [
        Figure(
            "P3", f"outbox → relay → RabbitMQ → side effect ({count} events)", outbox, "events/s"
        ),
        Figure("P3", f"raw aio-pika publish with confirms + consume ({count})", raw, "events/s"),
        Figure("P3", "ratio outbox path / raw", ratio, "×", "≥ 0.5", ratio >= 0.5, note=spread),
    ]
    count *= rounds  # the store profile below covers every round
    # Index management at start (creating the pending index, dropping an obsolete one) is
    # not part of an event's cost.
    per_event = {k: v for k, v in calls.items() if not k.endswith(("create_index", "drop_index"))}
    total_ms = sum(sum(v) for v in per_event.values())
    figures.append(
        Figure(
            "P3",
            "profile: store time per event (sum of all store calls)",
            total_ms / count,
            "ms",
            note="store calls run concurrently, so this exceeds wall time per event",
        )
    )
    for key, durations in sorted(per_event.items()):
        figures.append(
            Figure(
                "P3",
                f"profile: {key} mean",
                sum(durations) / len(durations),
                "ms",
                note=f"{len(durations) / count:.2f} calls per event",
            )
        )
    return figures
