"""The contract of the bus port, run against both adapters.

``rabbitmq`` runs on a real broker (fixture ``rabbitmq_server``; locally started with
``scripts/infra/rabbitmq.sh up``), each test on its own exchange and queues, named under its
``unique_name`` and deleted after (``tests/fixtures/bus.py``).
``memory`` runs the in-process adapter of the embedded topology. A few RabbitMQ-only tests at
the end cover what only a broker can do (mandatory returns, losing the connection).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import aio_pika
import pytest

from kernel.adapters.memory_bus import MemoryBus
from kernel.adapters.rabbit_bus import RabbitBus
from kernel.bus import Bus, DeadLetter, PermanentError, PublishError, SubscriptionSpec
from kernel.envelope import Envelope
from tests.infra import rabbitmqctl

# Every test is designed to finish well under 30 s; this only stops a hang.
pytestmark = pytest.mark.timeout(60)

ADAPTERS = [
    pytest.param("rabbitmq", id="rabbitmq", marks=pytest.mark.infra),
    pytest.param("memory", id="memory"),
]


class ContractBus(Bus, Protocol):
    """The port plus the adapters' common extra: reading back unrouted events."""

    async def unrouted(self, *, limit: int = 100) -> list[DeadLetter]: ...


# -- helpers ------------------------------------------------------------------------------


def make_envelope(
    district: str = "fuyuan",
    service: str = "referral",
    event_type: str = "referral.sent.v1",
    **overrides: Any,
) -> Envelope:
    event_id = str(uuid.uuid4())
    fields: dict[str, Any] = {
        "id": event_id,
        "source": f"/liandong/{district}/{service}",
        "type": event_type,
        "time": datetime.now(UTC),
        "data": {"n": 1},
        "district": district,
        "correlationid": event_id,
        "service": service,
    }
    fields.update(overrides)
    return Envelope(**fields)


async def eventually(
    condition: Callable[[], bool], what: str, *, within: float = 10.0, interval: float = 0.02
) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what}")
        await asyncio.sleep(interval)


async def collect_dead_letters(
    bus: ContractBus, queue: str, count: int, *, within: float = 10.0
) -> list[DeadLetter]:
    """Poll ``dead_letters`` (which removes what it returns) until ``count`` have come."""
    letters: list[DeadLetter] = []
    deadline = time.monotonic() + within
    while len(letters) < count:
        letters += await bus.dead_letters(queue)
        if len(letters) >= count:
            break
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(letters)} of {count} dead letters of {queue} came")
        await asyncio.sleep(0.05)
    return letters


async def collect_unrouted(
    bus: ContractBus, count: int, *, within: float = 10.0
) -> list[DeadLetter]:
    letters: list[DeadLetter] = []
    deadline = time.monotonic() + within
    while len(letters) < count:
        letters += await bus.unrouted()
        if len(letters) >= count:
            break
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(letters)} of {count} unrouted events came")
        await asyncio.sleep(0.05)
    return letters


@dataclass
class Recorder:
    """A handler that records what it is given; optionally fails or dawdles."""

    fail_with: Callable[[], Exception] | None = None
    delay: float = 0.0
    received: list[Envelope] = field(default_factory=list)
    calls: int = 0
    started: asyncio.Event = field(default_factory=asyncio.Event)
    finished: int = 0

    async def __call__(self, envelope: Envelope) -> None:
        self.calls += 1
        self.started.set()
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail_with is not None:
            raise self.fail_with()
        self.received.append(envelope)
        self.finished += 1

    @property
    def ids(self) -> list[str]:
        return [e.id for e in self.received]


@dataclass
class Harness:
    """Makes buses of one adapter kind on a fresh namespace and closes them after the test
    (``unique_name`` deletes what they declared on the broker)."""

    kind: str
    name: str
    url: str = ""
    buses: list[ContractBus] = field(default_factory=list)

    def queue(self, suffix: str) -> str:
        return f"{self.name}.{suffix}"

    async def bus(self, **kwargs: Any) -> ContractBus:
        bus: ContractBus
        if self.kind == "rabbitmq":
            bus = RabbitBus(self.url, exchange=self.name, **kwargs)
        else:
            bus = MemoryBus(**kwargs)
        await bus.start()
        self.buses.append(bus)
        return bus

    async def publish_raw(self, bus: ContractBus, routing_key: str, body: bytes) -> None:
        """Put bytes on the bus the way a foreign system could."""
        if isinstance(bus, MemoryBus):
            await bus.publish_raw(routing_key, body)
            return
        connection = await aio_pika.connect(self.url)
        async with connection:
            channel = await connection.channel(publisher_confirms=True)
            exchange = await channel.get_exchange(self.name, ensure=False)
            await exchange.publish(
                aio_pika.Message(body, content_type="application/cloudevents+json"),
                routing_key,
                mandatory=True,
            )

    async def aclose(self) -> None:
        for bus in self.buses:
            await bus.close()


@pytest.fixture(params=ADAPTERS)
async def harness(request: pytest.FixtureRequest, unique_name: str) -> AsyncIterator[Harness]:
    if request.param == "rabbitmq":
        # Looked up lazily so that the memory half never needs a broker.
        server = request.getfixturevalue("rabbitmq_server")
        h = Harness("rabbitmq", unique_name, server.url)
    else:
        h = Harness("memory", unique_name)
    try:
        yield h
    finally:
        await h.aclose()


async def subscribe(
    bus: ContractBus,
    queue: str,
    bindings: Sequence[str],
    handler: Recorder,
    **kwargs: Any,
) -> Recorder:
    await bus.subscribe(
        SubscriptionSpec(queue=queue, bindings=list(bindings), handler=handler, **kwargs)
    )
    return handler


async def settle(harness: Harness) -> None:
    """Give a broker the time to deliver anything it should not (nothing for memory)."""
    await asyncio.sleep(0.4 if harness.kind == "rabbitmq" else 0.01)


# -- the contract -------------------------------------------------------------------------


async def test_started_bus_is_healthy(harness: Harness) -> None:
    bus = await harness.bus()
    await bus.start()  # idempotent
    assert bus.is_healthy()


async def test_topic_routing(harness: Harness) -> None:
    bus = await harness.bus()
    everything = await subscribe(bus, harness.queue("all"), ["#"], Recorder())
    district = await subscribe(bus, harness.queue("fuyuan"), ["fuyuan.#"], Recorder())
    service = await subscribe(bus, harness.queue("referral"), ["*.referral.#"], Recorder())
    exact_word = await subscribe(
        bus, harness.queue("read"), ["*.notify.notice.read.v1"], Recorder()
    )
    # Two bindings matching one event still deliver it once to the queue.
    two = await subscribe(
        bus,
        harness.queue("two"),
        ["qingfeng.coordination.#", "*.*.dispute.opened.v1"],
        Recorder(),
    )
    sent = make_envelope("fuyuan", "referral", "referral.sent.v1")
    closed = make_envelope("qingfeng", "referral", "case.closed.v1")
    read = make_envelope("fuyuan", "notify", "notice.read.v1")
    dispute = make_envelope("qingfeng", "coordination", "dispute.opened.v1")
    read_v2 = make_envelope("xian", "notify", "notice.read.v2")
    await bus.publish([sent, closed, read, dispute, read_v2])

    expected = {
        "all": (everything, {sent.id, closed.id, read.id, dispute.id, read_v2.id}),
        "fuyuan": (district, {sent.id, read.id}),
        "referral": (service, {sent.id, closed.id}),
        "read": (exact_word, {read.id}),
        "two": (two, {dispute.id}),
    }
    for name, (recorder, ids) in expected.items():
        want = len(ids)
        await eventually(lambda r=recorder, n=want: len(r.received) >= n, f"queue {name}")
    await settle(harness)
    for name, (recorder, ids) in expected.items():
        assert sorted(recorder.ids) == sorted(ids), name
    assert await bus.unrouted() == []


async def test_batch_of_600_is_confirmed_and_delivered(harness: Harness) -> None:
    bus = await harness.bus()
    recorder = await subscribe(bus, harness.queue("batch"), ["fuyuan.#"], Recorder(), prefetch=200)
    batch = [make_envelope(data={"i": i}) for i in range(600)]
    started = time.perf_counter()
    await bus.publish(batch)
    confirmed = time.perf_counter() - started
    await eventually(lambda: len(recorder.received) >= len(batch), "600 deliveries", within=20)
    delivered = time.perf_counter() - started
    print(
        f"[{harness.kind}] 600 events: confirmed in {confirmed:.3f}s, delivered in {delivered:.3f}s"
    )
    await settle(harness)
    assert Counter(recorder.ids) == Counter(e.id for e in batch)


async def test_envelope_round_trip(harness: Harness) -> None:
    bus = await harness.bus()
    recorder = await subscribe(bus, harness.queue("rt"), ["#"], Recorder())
    original = make_envelope(
        "fuyuan",
        "coordination",
        "assistance.requested.v1",
        subject="assistance/42",
        correlationid="corr-7f3a",
        traceparent="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        time=datetime(2025, 3, 1, 8, 30, 15, 123456, tzinfo=timezone(timedelta(hours=8))),
        data={"agency": "市场监管局", "items": [1, 2.5, {"nested": None}], "ok": True},
    )
    await bus.publish([original])
    await eventually(lambda: len(recorder.received) == 1, "the event")
    received = recorder.received[0]
    assert received == original
    assert received.district == "fuyuan"
    assert received.correlationid == "corr-7f3a"
    assert received.subject == "assistance/42"
    assert received.time == original.time
    assert received.time.utcoffset() == timedelta(hours=8)
    assert received.service == "coordination"
    assert received.routing_key == "fuyuan.coordination.assistance.requested.v1"
    assert received.data == original.data


async def test_handled_message_is_acked_and_not_redelivered(harness: Harness) -> None:
    queue = harness.queue("ack")
    bus = await harness.bus()
    recorder = await subscribe(bus, queue, ["#"], Recorder())
    envelope = make_envelope()
    await bus.publish([envelope])
    await eventually(lambda: len(recorder.received) == 1, "the event")
    await settle(harness)
    await bus.close()
    assert recorder.calls == 1
    # A new consumer of the same queue gets nothing: the message was acknowledged (on a
    # broker an unacked message would come back once the first channel closed).
    again = await harness.bus()
    second = await subscribe(again, queue, ["#"], Recorder())
    await settle(harness)
    assert second.calls == 0
    assert await again.dead_letters(queue) == []


async def test_redelivery_is_bounded_then_dead_lettered(harness: Harness) -> None:
    queue = harness.queue("flaky")
    bus = await harness.bus()
    recorder = await subscribe(
        bus, queue, ["#"], Recorder(fail_with=lambda: RuntimeError("boom")), max_deliveries=3
    )
    envelope = make_envelope()
    await bus.publish([envelope])  # handler failures never fail the publisher
    [letter] = await collect_dead_letters(bus, queue, 1)
    await settle(harness)
    assert recorder.calls == 3
    assert letter.envelope == envelope
    assert Envelope.from_json_bytes(letter.raw) == envelope
    assert letter.queue == queue
    assert letter.reason.startswith("delivery_limit"), letter.reason
    assert await bus.dead_letters(queue) == []  # read means removed


async def test_permanent_error_dead_letters_at_once_with_our_reason(harness: Harness) -> None:
    queue = harness.queue("permanent")
    bus = await harness.bus()
    recorder = await subscribe(
        bus,
        queue,
        ["#"],
        Recorder(fail_with=lambda: PermanentError("foreign district: qingfeng")),
        max_deliveries=5,
    )
    envelope = make_envelope("qingfeng")
    await bus.publish([envelope])
    [letter] = await collect_dead_letters(bus, queue, 1)
    await settle(harness)
    assert recorder.calls == 1
    assert letter.reason == "foreign district: qingfeng"
    assert letter.envelope == envelope
    assert letter.queue == queue


async def test_malformed_body_is_dead_lettered(harness: Harness) -> None:
    queue = harness.queue("malformed")
    bus = await harness.bus()
    recorder = await subscribe(bus, queue, ["fuyuan.#"], Recorder())
    not_json = b"{this is not json"
    no_district = (
        b'{"specversion": "1.0", "id": "x1", "source": "/liandong/fuyuan/referral",'
        b' "type": "referral.sent.v1", "data": {}}'
    )
    await harness.publish_raw(bus, "fuyuan.referral.referral.sent.v1", not_json)
    await harness.publish_raw(bus, "fuyuan.referral.referral.sent.v1", no_district)
    letters = await collect_dead_letters(bus, queue, 2)
    by_body = {letter.raw: letter for letter in letters}
    assert set(by_body) == {not_json, no_district}
    assert by_body[not_json].envelope is None
    assert "CloudEvents" in by_body[not_json].reason
    assert by_body[no_district].envelope is None
    assert "district" in by_body[no_district].reason
    assert recorder.calls == 0


async def test_unrouted_events_are_kept(harness: Harness) -> None:
    bus = await harness.bus()
    recorder = await subscribe(bus, harness.queue("fuyuan"), ["fuyuan.#"], Recorder())
    routed = make_envelope("fuyuan")
    strays = [make_envelope("qingfeng"), make_envelope("xian", "notify", "notice.read.v1")]
    await bus.publish([routed, *strays])  # confirmed although nobody bound them
    await eventually(lambda: len(recorder.received) == 1, "the routed event")
    kept = await collect_unrouted(bus, 2)
    assert sorted(letter.envelope.id for letter in kept if letter.envelope) == sorted(
        e.id for e in strays
    )
    assert all(letter.reason.startswith("unrouted") for letter in kept)
    assert recorder.ids == [routed.id]


async def test_close_waits_for_handlers_in_flight(harness: Harness) -> None:
    queue = harness.queue("slow")
    bus = await harness.bus()
    recorder = await subscribe(bus, queue, ["#"], Recorder(delay=1.0))
    envelope = make_envelope()
    publishing = asyncio.create_task(bus.publish([envelope]))
    await asyncio.wait_for(recorder.started.wait(), timeout=10)
    started = time.perf_counter()
    await bus.close()
    assert recorder.finished == 1, "close() returned before the handler finished"
    assert time.perf_counter() - started > 0.5
    await asyncio.wait_for(publishing, timeout=10)  # the handler did run: nothing to retry
    assert not bus.is_healthy()
    # Finished means acknowledged: nothing comes back to the next consumer.
    again = await harness.bus()
    second = await subscribe(again, queue, ["#"], Recorder())
    await settle(harness)
    assert second.calls == 0


async def test_publish_after_close_raises(harness: Harness) -> None:
    bus = await harness.bus()
    await bus.close()
    envelopes = [make_envelope(), make_envelope()]
    with pytest.raises(PublishError) as caught:
        await bus.publish(envelopes)
    assert sorted(caught.value.failed_ids) == sorted(e.id for e in envelopes)
    assert not bus.is_healthy()


async def test_publish_of_nothing_is_a_no_op(harness: Harness) -> None:
    bus = await harness.bus()
    await bus.publish([])


async def test_dead_letters_of_an_unknown_queue_is_empty(harness: Harness) -> None:
    bus = await harness.bus()
    assert await bus.dead_letters(f"{harness.name}.nobody") == []
    assert bus.is_healthy()
    await bus.publish([make_envelope()])  # the bus still works after the miss


# -- memory only ---------------------------------------------------------------------------


async def test_memory_handles_one_at_a_time_in_publish_order() -> None:
    bus = MemoryBus()
    active = 0
    most = 0
    seen: list[int] = []

    async def handler(envelope: Envelope) -> None:
        nonlocal active, most
        active += 1
        most = max(most, active)
        await asyncio.sleep(0.001)
        seen.append(envelope.data["i"])
        active -= 1

    await bus.subscribe(SubscriptionSpec("ordered", ["#"], handler))
    batches = [[make_envelope(data={"i": b * 10 + i}) for i in range(10)] for b in range(5)]
    await asyncio.gather(*(bus.publish(batch) for batch in batches))
    assert most == 1
    for batch in batches:
        order = [e.data["i"] for e in batch]
        assert [i for i in seen if i in order] == order
    await bus.close()


async def test_memory_handler_publishing_to_its_own_subscription_does_not_deadlock() -> None:
    bus = MemoryBus()
    seen: list[str] = []
    follow_up = make_envelope(event_type="referral.followed.v1")

    async def handler(envelope: Envelope) -> None:
        seen.append(envelope.type)
        if envelope.type == "referral.sent.v1":
            await bus.publish([follow_up])

    await bus.subscribe(SubscriptionSpec("self", ["#"], handler))
    await asyncio.wait_for(bus.publish([make_envelope()]), timeout=5)
    await eventually(lambda: len(seen) == 2, "the follow-up", within=5)
    assert seen == ["referral.sent.v1", "referral.followed.v1"]
    await bus.close()


# -- RabbitMQ only -------------------------------------------------------------------------


@pytest.fixture
async def rabbit(rabbitmq_server: Any, unique_name: str) -> AsyncIterator[Harness]:
    h = Harness("rabbitmq", unique_name, rabbitmq_server.url)
    try:
        yield h
    finally:
        await h.aclose()


@pytest.mark.infra
async def test_rabbitmq_returned_message_is_a_publish_error(rabbit: Harness) -> None:
    bus = await rabbit.bus(confirm_timeout=5.0)
    recorder = await subscribe(bus, rabbit.queue("bound"), ["fuyuan.#"], Recorder())
    # Break the safety net: with no queue behind the alternate exchange, an event nobody
    # bound is returned (mandatory flag), and that must be reported, not swallowed.
    connection = await aio_pika.connect(rabbit.url)
    async with connection:
        channel = await connection.channel()
        await channel.queue_delete(f"{rabbit.name}.unrouted")
    routed = make_envelope("fuyuan")
    strays = [make_envelope("qingfeng"), make_envelope("xian")]
    with pytest.raises(PublishError) as caught:
        await bus.publish([strays[0], routed, strays[1]])
    assert sorted(caught.value.failed_ids) == sorted(e.id for e in strays)
    await eventually(lambda: recorder.ids == [routed.id], "the routed event")


@pytest.mark.infra
async def test_rabbitmq_message_carries_the_envelope_in_its_amqp_properties(
    rabbit: Harness,
) -> None:
    """What another bureau's plain AMQP consumer sees: the structured CloudEvent as the body,
    and the envelope's attributes in the message's properties (persistent, its id, type,
    source, correlation id and the event's own time)."""
    bus = await rabbit.bus()
    connection = await aio_pika.connect(rabbit.url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(exclusive=True)
        await queue.bind(rabbit.name, routing_key="fuyuan.#")
        # The event's own time, with microseconds that AMQP's whole seconds drop.
        at = datetime.now(UTC).replace(microsecond=456789) - timedelta(days=3)
        envelope = make_envelope("fuyuan", subject="案件/r-1", time=at, correlationid="corr-7")
        await bus.publish([envelope])
        message = await queue.get(timeout=10, fail=True)
        assert message is not None
        await message.ack()
    assert message.body == envelope.to_json_bytes()
    assert message.routing_key == envelope.routing_key == "fuyuan.referral.referral.sent.v1"
    assert message.content_type == "application/cloudevents+json"
    assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    assert message.message_id == envelope.id
    assert message.correlation_id == "corr-7"
    assert message.type == "referral.sent.v1"
    assert message.app_id == "/liandong/fuyuan/referral"
    # AMQP timestamps have whole seconds.
    assert message.timestamp == at.replace(microsecond=0)
    assert message.headers == {}
    assert (message.content_encoding, message.expiration, message.priority) == (None, None, 0)
    assert (message.reply_to, message.user_id) == (None, None)


async def _rabbitmqctl_async(*args: str) -> str:
    return await asyncio.to_thread(rabbitmqctl, *args)


@pytest.fixture
async def private_vhost(rabbitmq_server: Any, unique_name: str) -> AsyncIterator[str]:
    """A vhost of its own, so that closing "all" connections touches no other test's."""
    parts = urlsplit(rabbitmq_server.url)
    if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        pytest.fail(
            f"the reconnect test drives the broker with rabbitmqctl and needs a local one, "
            f"not {parts.hostname}: start it with `scripts/infra/rabbitmq.sh up`",
            pytrace=False,
        )
    vhost = unique_name
    await _rabbitmqctl_async("add_vhost", vhost)
    try:
        user = parts.username or "guest"
        await _rabbitmqctl_async("set_permissions", "-p", vhost, user, ".*", ".*", ".*")
        yield urlunsplit(parts._replace(path=f"/{vhost}"))
    finally:
        await _rabbitmqctl_async("delete_vhost", vhost)


@pytest.mark.infra
async def test_rabbitmq_reconnects_and_loses_nothing(private_vhost: str, unique_name: str) -> None:
    url = private_vhost
    vhost = urlsplit(url).path.lstrip("/")
    queue = f"{unique_name}.stream"
    publisher = RabbitBus(url, exchange=unique_name, confirm_timeout=3.0, reconnect_interval=0.5)
    consumer = RabbitBus(url, exchange=unique_name, confirm_timeout=3.0, reconnect_interval=0.5)
    received: Counter[str] = Counter()

    async def handler(envelope: Envelope) -> None:
        # Slow enough that handlers are in flight when the connection drops: their acks then
        # go to a dead channel and must not break the consumer.
        await asyncio.sleep(0.005)
        received[envelope.id] += 1

    await publisher.start()
    await consumer.start()
    await consumer.subscribe(SubscriptionSpec(queue, ["#"], handler, prefetch=50))

    total, batch_size = 2000, 50
    stream = [make_envelope(data={"i": i}) for i in range(total)]
    publish_failures = 0
    unhealthy_seen = {"publisher": False, "consumer": False}
    stop_watching = asyncio.Event()

    async def watch_health() -> None:
        while not stop_watching.is_set():
            for name, bus in (("publisher", publisher), ("consumer", consumer)):
                if not bus.is_healthy():
                    if not unhealthy_seen[name]:
                        marks[f"{name}_down"] = time.perf_counter() - t0
                    unhealthy_seen[name] = True
                elif unhealthy_seen[name] and f"{name}_up" not in marks:
                    marks[f"{name}_up"] = time.perf_counter() - t0
            await asyncio.sleep(0.01)

    async def publish_stream() -> None:
        # What the outbox relay does: keep what was not confirmed and try it again.
        nonlocal publish_failures
        pending = list(stream)
        by_id = {e.id: e for e in stream}
        while pending:
            batch, pending = pending[:batch_size], pending[batch_size:]
            try:
                await publisher.publish(batch)
            except PublishError as exc:
                publish_failures += len(exc.failed_ids)
                pending = [by_id[i] for i in exc.failed_ids] + pending
                await asyncio.sleep(0.2)
                continue
            await asyncio.sleep(0.05)

    t0 = time.perf_counter()
    marks: dict[str, float] = {}
    watcher = asyncio.create_task(watch_health())
    publishing = asyncio.create_task(publish_stream())
    try:
        await eventually(lambda: len(received) >= 300, "the stream to flow", within=10)
        marks["kill"] = time.perf_counter() - t0
        await _rabbitmqctl_async("close_all_connections", "-p", vhost, "test")
        marks["killed"] = time.perf_counter() - t0
        await asyncio.wait_for(publishing, timeout=25)
        marks["published"] = time.perf_counter() - t0
        await eventually(lambda: len(received) >= total, "every event", within=15)
        marks["received"] = time.perf_counter() - t0
        await eventually(
            lambda: publisher.is_healthy() and consumer.is_healthy(), "health", within=10
        )
        marks["healthy"] = time.perf_counter() - t0
    finally:
        stop_watching.set()
        await watcher
        publishing.cancel()
        with contextlib.suppress(BaseException):
            await publishing
        await asyncio.sleep(0.3)  # let late redeliveries arrive, to count them
        duplicates = {eid: n for eid, n in received.items() if n > 1}
        print(
            f"\n[reconnect] sent={total} received_unique={len(received)} "
            f"deliveries={sum(received.values())} duplicates={len(duplicates)} "
            f"(extra deliveries {sum(n - 1 for n in duplicates.values())}) "
            f"publish_failures_retried={publish_failures} unhealthy_seen={unhealthy_seen} "
            f"reconnections={(publisher.reconnections, consumer.reconnections)} "
            f"timeline={ {k: round(v, 2) for k, v in marks.items()} }"
        )
        if duplicates:
            print(f"[reconnect] duplicated ids: {sorted(duplicates)[:20]}")
        dead = await consumer.dead_letters(queue) if consumer.is_healthy() else []
        await consumer.close()
        await publisher.close()
    assert set(received) == {e.id for e in stream}
    # Counted by the adapters themselves: a watcher polling is_healthy() could blink and miss
    # a local reconnect, which takes a few milliseconds.
    assert publisher.reconnections >= 1 and consumer.reconnections >= 1
    assert dead == []
    assert not publisher.is_healthy()
