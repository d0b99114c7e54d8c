"""The outbox on both store adapters: state and events land together or not at all; the
relay publishes with confirms, removes what was confirmed, shares work by leases, and a
consumer's side effect happens once per event."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from kernel.adapters.memory_bus import MemoryBus
from kernel.bus import SubscriptionSpec
from kernel.envelope import Envelope, EventPayload, new_envelope
from kernel.outbox import AggregateCollection, ConcurrencyError, OutboxRelay
from kernel.store import DocumentStore, DuplicateKeyError


class Counted(EventPayload):
    event_type = "counter.counted.v1"
    n: int


def event(n: int, subject: str) -> Envelope:
    return new_envelope(Counted(n=n), district="fuyuan", service="test", subject=subject)


class SideEffect:
    """A consumer whose side effect is keyed by the event id (idempotent by construction)."""

    def __init__(self, store: DocumentStore) -> None:
        self.coll = store.collection("side_effects")
        self.deliveries = 0
        self.duplicates = 0

    async def __call__(self, env: Envelope) -> None:
        self.deliveries += 1
        try:
            await self.coll.insert_one({"_id": env.id, "subject": env.subject})
        except DuplicateKeyError:
            self.duplicates += 1


@dataclass
class World:
    """An aggregate collection, an in-memory bus and an idempotent consumer on it."""

    store: DocumentStore
    agg: AggregateCollection
    bus: MemoryBus
    effect: SideEffect


@pytest.fixture
async def world(store: DocumentStore) -> AsyncIterator[World]:
    agg = AggregateCollection(store.collection("counters"))
    await agg.ensure_indexes()
    bus = MemoryBus()
    await bus.start()
    effect = SideEffect(store)
    await bus.subscribe(SubscriptionSpec("q", ["fuyuan.#"], effect))
    yield World(store, agg, bus, effect)
    await bus.close()


async def test_state_and_events_commit_together_with_version_check(store: DocumentStore) -> None:
    agg = AggregateCollection(store.collection("counters"))
    await agg.ensure_indexes()
    await agg.insert({"_id": "c1", "value": 0}, [event(0, "c1")])
    v2 = await agg.update("c1", 1, {"value": 1}, [event(1, "c1")])
    assert v2 == 2
    with pytest.raises(ConcurrencyError):
        await agg.update("c1", 1, {"value": 99}, [event(99, "c1")])  # stale version
    with pytest.raises(ConcurrencyError):
        await agg.insert({"_id": "c1", "value": 5}, [event(5, "c1")])
    raw = await store.collection("counters").find_one({"_id": "c1"})
    assert raw is not None
    assert raw["value"] == 1 and raw["version"] == 2 and raw["outbox_n"] == 2
    assert [e["data"]["n"] for e in raw["outbox"]] == [0, 1]  # no trace of the refused write
    assert await agg.get("c1") == {"_id": "c1", "value": 1, "version": 2}


async def test_concurrent_writers_exactly_one_wins(store: DocumentStore) -> None:
    agg = AggregateCollection(store.collection("counters"))
    await agg.insert({"_id": "c1", "value": 0}, [])
    results = await asyncio.gather(
        *(agg.update("c1", 1, {"value": i}, [event(i, "c1")]) for i in range(8)),
        return_exceptions=True,
    )
    assert sum(1 for r in results if r == 2) == 1
    assert sum(1 for r in results if isinstance(r, ConcurrencyError)) == 7
    raw = await store.collection("counters").find_one({"_id": "c1"})
    assert raw is not None and raw["outbox_n"] == 1 and len(raw["outbox"]) == 1


async def test_relay_publishes_in_order_and_clears_outbox(store: DocumentStore) -> None:
    agg = AggregateCollection(store.collection("counters"))
    await agg.ensure_indexes()
    bus = MemoryBus()
    await bus.start()
    seen: list[tuple[str | None, int]] = []

    async def record(env: Envelope) -> None:
        seen.append((env.subject, env.payload(Counted).n))

    await bus.subscribe(SubscriptionSpec("q", ["fuyuan.#"], record))
    for i in range(30):
        await agg.insert({"_id": f"c{i:02d}", "value": 0}, [event(0, f"c{i:02d}")])
        await agg.update(
            f"c{i:02d}", 1, {"value": 1}, [event(1, f"c{i:02d}"), event(2, f"c{i:02d}")]
        )
    relay = OutboxRelay([agg.collection], bus, batch_size=7)
    assert await relay.backlog() == 30
    assert await relay.run_once() == 90
    assert await relay.backlog() == 0
    for i in range(30):
        assert [n for s, n in seen if s == f"c{i:02d}"] == [0, 1, 2]
    assert await relay.run_once() == 0  # nothing twice
    await bus.close()


async def test_two_relays_share_work_and_side_effects_happen_once(world: World) -> None:
    agg, bus, effect = world.agg, world.bus, world.effect
    for i in range(120):
        await agg.insert({"_id": f"c{i:03d}", "value": i}, [event(i, f"c{i:03d}")])
    a = OutboxRelay([agg.collection], bus, owner="a", batch_size=10)
    b = OutboxRelay([agg.collection], bus, owner="b", batch_size=10)
    await asyncio.gather(a.run_once(), b.run_once())
    assert await effect.coll.count({}) == 120
    assert a.stats.published + b.stats.published == 120
    print(
        f"relay a {a.stats.published}, relay b {b.stats.published}, duplicates {effect.duplicates}"
    )


async def test_relay_that_died_holding_a_lease_is_taken_over(world: World) -> None:
    agg, bus, effect = world.agg, world.bus, world.effect
    await agg.insert({"_id": "c1", "value": 0}, [event(0, "c1")])
    dead = OutboxRelay([agg.collection], bus, owner="dead", lease=timedelta(milliseconds=300))
    claimed = await dead._claim(agg.collection)  # claims, then "crashes" before publishing
    assert [d["_id"] for d in claimed] == ["c1"]
    alive = OutboxRelay([agg.collection], bus, owner="alive")
    assert await alive.run_once() == 0  # the lease still holds
    await asyncio.sleep(0.4)
    assert await alive.run_once() == 1
    assert await effect.coll.count({}) == 1


async def test_relay_killed_after_confirm_before_bookkeeping_causes_no_double_effect(
    world: World,
) -> None:
    agg, bus, effect = world.agg, world.bus, world.effect
    for i in range(5):
        await agg.insert({"_id": f"c{i}", "value": 0}, [event(i, f"c{i}")])
    # Publish without the bookkeeping, as a relay killed right after the confirms would.
    first = OutboxRelay([agg.collection], bus, owner="first", lease=timedelta(milliseconds=200))
    claimed = await first._claim(agg.collection)
    await bus.publish([Envelope.from_document(e) for d in claimed for e in d["outbox"]])
    await asyncio.sleep(0.3)
    second = OutboxRelay([agg.collection], bus, owner="second")
    assert await second.run_once() == 5  # published again (at least once) ...
    assert effect.deliveries == 10
    assert await effect.coll.count({}) == 5  # ... but each side effect happened once
    assert effect.duplicates == 5


async def test_commit_announces_its_aggregate_and_the_relay_claims_it_without_a_sweep(
    world: World,
) -> None:
    agg, bus, effect = world.agg, world.bus, world.effect
    relay = OutboxRelay([agg.collection], bus, owner="r", sweep_interval=3600)
    assert await relay._tick() == 0  # the first pass sweeps (nothing there yet)
    assert relay.stats.sweeps == 1
    agg.set_on_commit(relay.committed)
    await agg.insert({"_id": "announced", "value": 0}, [event(0, "announced")])
    # Written by someone whose commit told this relay nothing (another replica that died).
    await AggregateCollection(world.store.collection("counters")).insert(
        {"_id": "silent", "value": 0}, [event(1, "silent")]
    )
    assert await relay._tick() == 1  # the announced one, by _id, with no sweep
    assert relay.stats.sweeps == 1
    assert [d["subject"] for d in await effect.coll.find({})] == ["announced"]
    assert await relay._tick() == 0  # the silent one waits for the sweep ...
    assert await relay.run_once() == 1  # ... which an explicit full pass makes
    assert relay.stats.sweeps == 2
    assert await relay.backlog() == 0


async def test_events_a_failed_publish_kept_are_retried_without_a_sweep(
    world: World,
) -> None:
    agg, bus, effect = world.agg, world.bus, world.effect
    relay = OutboxRelay([agg.collection], bus, owner="r", sweep_interval=3600)
    await relay._tick()
    agg.set_on_commit(relay.committed)
    await agg.insert({"_id": "c1", "value": 0}, [event(0, "c1"), event(1, "c1")])
    real_publish = bus.publish

    async def refuse(envelopes: object) -> None:
        raise ConnectionError("broker away")

    bus.publish = refuse  # type: ignore[method-assign]
    assert await relay._tick() == 0
    bus.publish = real_publish  # type: ignore[method-assign]
    assert await relay._tick() == 2  # still announced: retried at the next pass
    assert relay.stats.sweeps == 1
    assert await effect.coll.count({}) == 2


async def test_a_slow_sweep_waits_ten_times_its_duration_before_the_next(
    store: DocumentStore,
) -> None:
    agg = AggregateCollection(store.collection("counters"))
    await agg.ensure_indexes()
    bus = MemoryBus()
    await bus.start()
    relay = OutboxRelay([agg.collection], bus, owner="r", sweep_interval=0.0)
    real_candidates = relay._candidates

    async def slow_candidates(coll: Any, limit: int) -> Any:
        await asyncio.sleep(0.05)  # a server that reads every document for the sweep
        return await real_candidates(coll, limit)

    relay._candidates = slow_candidates  # type: ignore[method-assign]
    await relay._tick()
    assert relay.stats.sweeps == 1
    pause = relay._next_sweep - time.monotonic()
    assert pause >= 10 * 0.05 - 0.02, pause  # ten times the sweep, not sweep_interval (0)
    await relay._tick()  # within ten sweep durations: no sweep
    assert relay.stats.sweeps == 1
    await asyncio.sleep(max(0.0, relay._next_sweep - time.monotonic()) + 0.01)
    await relay._tick()
    assert relay.stats.sweeps == 2
    await bus.close()


class CountingCollection:
    """Forwards to a collection and counts the requests the relay sends (issue 21)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.name = inner.name
        self.requests: list[str] = []

    def __getattr__(self, attribute: str) -> Any:
        target = getattr(self._inner, attribute)

        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.requests.append(attribute)
            return await target(*args, **kwargs)

        return counted


async def test_a_batch_of_announced_aggregates_is_claimed_and_cleared_in_three_requests(
    world: World,
) -> None:
    """Issue 21 (store requests per event): the relay claims a batch with one update and one
    read, and clears it with one update, whatever the batch's size."""
    agg, bus, effect = world.agg, world.bus, world.effect
    counted = CountingCollection(agg.collection)
    relay = OutboxRelay([counted], bus, owner="r", sweep_interval=3600)
    await relay._tick()  # the first pass's sweep
    agg.set_on_commit(relay.committed)
    for n in range(5):
        await agg.insert({"_id": f"b{n}", "value": n}, [event(n, f"b{n}")])
    counted.requests.clear()
    assert await relay._tick() == 5
    assert counted.requests == ["update_many", "find", "update_many"]
    assert await effect.coll.count({}) == 5
    assert await agg.collection.count({"outbox_n": {"$gt": 0}}) == 0
    assert await agg.collection.count({"outbox_lease_owner": {"$exists": True}}) == 0


async def test_a_batch_whose_publish_failed_in_part_keeps_each_aggregates_unconfirmed_rest(
    world: World,
) -> None:
    """Issue 21 (at least once, in order per aggregate): the batch bookkeeping clears each
    aggregate's confirmed prefix only; an event after a failed one stays, in order, and the
    next pass publishes it."""
    from kernel.bus import PublishError

    agg, bus, effect = world.agg, world.bus, world.effect
    relay = OutboxRelay([agg.collection], bus, owner="r", sweep_interval=3600)
    await relay._tick()
    agg.set_on_commit(relay.committed)
    kept = event(11, "p1")
    await agg.insert({"_id": "p0", "value": 0}, [event(0, "p0"), event(1, "p0")])
    await agg.insert({"_id": "p1", "value": 1}, [event(10, "p1"), kept, event(12, "p1")])
    await agg.insert({"_id": "p2", "value": 2}, [event(20, "p2")])
    real_publish = bus.publish

    async def fail_one(envelopes: list[Envelope]) -> None:
        await real_publish([e for e in envelopes if e.id != kept.id])
        raise PublishError("one not confirmed", failed_ids=[kept.id])

    bus.publish = fail_one  # type: ignore[method-assign]
    assert await relay._tick() == 4  # p0's two, p1's first, p2's (p1's third waits for 11)
    bus.publish = real_publish  # type: ignore[method-assign]
    p1 = await agg.collection.find_one({"_id": "p1"})
    assert p1 is not None
    assert [e["id"] for e in p1["outbox"]] == [kept.id, p1["outbox"][1]["id"]]
    assert p1["outbox_n"] == 2
    assert "outbox_lease_owner" not in p1
    assert await agg.collection.count({"outbox_n": {"$gt": 0}}) == 1
    assert await relay._tick() == 2  # p1 was announced again: no sweep needed
    assert relay.stats.sweeps == 1
    assert await agg.collection.count({"outbox_n": {"$gt": 0}}) == 0
    # Event 12 went out with the failed batch and again behind 11: at least once.
    assert await effect.coll.count({}) == 6
    assert effect.duplicates == 1


@pytest.mark.parametrize("store_kind", ["mongo"], indirect=True)
async def test_another_replicas_commit_wakes_the_relay_through_the_change_stream(
    world: World,
) -> None:
    """Issue 21 (change streams): on MongoDB a commit of another replica (no hint reaches
    this relay) is published at once, not at the next sweep; this relay's own commits are
    not announced twice."""
    agg, bus, effect = world.agg, world.bus, world.effect
    # Neither the interval nor the sweep comes round during the test: only a wake can.
    relay = OutboxRelay([agg.collection], bus, owner="r", interval=3600, sweep_interval=3600)
    relay.start()
    try:
        deadline = time.monotonic() + 60  # generous: a bound, not a timing
        while (
            relay.stats.sweeps < 1 or relay.stats.streams_opened < 1
        ) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)  # the first pass is done and the stream is open
        await agg.insert({"_id": "elsewhere", "value": 0}, [event(0, "elsewhere")])
        while await effect.coll.count({}) < 1 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert await effect.coll.count({}) == 1
        assert relay.stats.streamed == 1
        # Wired as the runtime wires a service's aggregates (kernel.runtime).
        own = AggregateCollection(
            world.store.collection("counters"), relay.committed, before_write=relay.writing
        )
        await own.insert({"_id": "here", "value": 1}, [event(1, "here")])
        while await effect.coll.count({}) < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
        assert await effect.coll.count({}) == 2
        assert relay.stats.streamed == 1  # its own commit came as a hint, not from the stream
    finally:
        await relay.stop()


@pytest.mark.parametrize("a0_claimed_last", [False, True], ids=["in-order", "a0-claimed-last"])
async def test_batches_fly_together_and_an_aggregate_announced_again_meanwhile_keeps_its_order(
    world: World, a0_claimed_last: bool
) -> None:
    """Issue 21 (P3): the relay keeps several batches of announced aggregates in flight. An
    aggregate committed again while its batch flies is not claimed a second time in that pass
    (its own lease would refuse it, and its events would overtake each other): it stays
    announced and the next pass publishes its newer events after the older ones. The batches'
    claims race on the server, so a0's batch may publish first or last: both orders."""
    agg, bus = world.agg, world.bus
    relay = OutboxRelay([agg.collection], bus, owner="r", batch_size=2, sweep_interval=3600)
    if a0_claimed_last:
        real_claim = relay._claim_ids

        async def late_claim(coll: Any, ids: Any) -> Any:
            if "a0" in ids:
                await asyncio.sleep(0.1)  # the other batches publish first
            return await real_claim(coll, ids)

        relay._claim_ids = late_claim  # type: ignore[method-assign]
    await relay._tick()  # the first pass sweeps; nothing there yet
    agg.set_on_commit(relay.committed)
    published: list[tuple[str | None, int]] = []
    in_flight = 0
    most_in_flight = 0
    a0_changed = False
    real_publish = bus.publish

    async def slow_publish(envelopes: Any) -> None:
        nonlocal in_flight, most_in_flight, a0_changed
        in_flight += 1
        most_in_flight = max(most_in_flight, in_flight)
        await asyncio.sleep(0.05)
        # a0 changes again while its first batch flies. (The batches' claims race on the
        # server, so a0's batch need not be the first to get here: a flag, not "nothing
        # published yet", says whether it has changed.)
        if any(e.subject == "a0" for e in envelopes) and not a0_changed:
            a0_changed = True
            await agg.update("a0", 1, {"value": 1}, [event(1, "a0")])
        published.extend((e.subject, int(e.data["n"])) for e in envelopes)
        in_flight -= 1
        await real_publish(envelopes)

    bus.publish = slow_publish  # type: ignore[method-assign]
    for i in range(8):
        await agg.insert({"_id": f"a{i}", "value": 0}, [event(0, f"a{i}")])
    assert await relay._tick() == 8  # four batches of two, in flight together
    assert most_in_flight > 1
    assert a0_changed
    assert ("a0", 1) not in published  # a0's newer event waited for the next pass
    assert await relay._tick() == 1
    assert [p for p in published if p[0] == "a0"] == [("a0", 0), ("a0", 1)]
    assert await relay.backlog() == 0
    assert await world.effect.coll.count({}) == 9
