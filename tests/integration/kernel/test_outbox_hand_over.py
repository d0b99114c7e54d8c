"""A commit hands its events to its process's relay (issue 21, P3 and P5), on both store
adapters: a commit that finds nothing pending takes the relay's lease in the same write, and
the relay publishes those events without claiming or reading the aggregate (two writes per
commit: the commit and the bookkeeping). A commit that finds events pending commits as
before and the aggregate is claimed; a relay that stops gives back what it was handed; a
relay that dies holds it only until its lease runs out."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kernel.adapters.memory_bus import MemoryBus
from kernel.bus import SubscriptionSpec
from kernel.envelope import Envelope
from kernel.outbox import AggregateCollection, ConcurrencyError, OutboxRelay
from kernel.store import Collection, DocumentStore
from tests.integration.kernel.test_outbox import SideEffect, event

LEASE = timedelta(seconds=30)


class Counting:
    """A collection that counts the requests sent through it (the store is real)."""

    def __init__(self, inner: Collection) -> None:
        self._inner = inner
        self.name = inner.name
        self.calls: Counter[str] = Counter()

    def __getattr__(self, attr: str) -> Any:
        target = getattr(self._inner, attr)
        if not callable(target) or attr.startswith("_") or attr == "changed_ids":
            return target

        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[attr] += 1
            return await target(*args, **kwargs)

        return counted


class Setup:
    def __init__(self, store: DocumentStore, bus: MemoryBus, effect: SideEffect) -> None:
        self.raw = store.collection("counters")
        self.counted = Counting(self.raw)
        self.agg = AggregateCollection(self.counted)  # type: ignore[arg-type]
        self.bus = bus
        self.effect = effect
        self.relay = self.new_relay("here")
        self.relay.attach(self.agg)

    def new_relay(self, owner: str, lease: timedelta = LEASE) -> OutboxRelay:
        return OutboxRelay(
            [self.agg.collection], self.bus, owner=owner, lease=lease, sweep_interval=3600
        )

    async def doc(self, doc_id: str) -> dict[str, Any]:
        found = await self.raw.find_one({"_id": doc_id})
        assert found is not None
        return found

    async def subjects(self) -> list[str]:
        return sorted(d["subject"] for d in await self.effect.coll.find({}))


@pytest.fixture
async def setup(store: DocumentStore) -> Any:
    bus = MemoryBus()
    await bus.start()
    effect = SideEffect(store)
    await bus.subscribe(SubscriptionSpec("q", ["fuyuan.#"], effect))
    s = Setup(store, bus, effect)
    await s.agg.ensure_indexes()
    await s.relay._tick()  # the first pass sweeps; nothing there yet
    yield s
    await bus.close()


async def test_a_new_aggregate_takes_the_lease_and_its_events_leave_without_a_claim(
    setup: Setup,
) -> None:
    before = datetime.now(UTC).replace(microsecond=0)  # the stores keep milliseconds
    await setup.agg.insert({"_id": "a", "value": 0}, [event(0, "a"), event(1, "a")])
    stored = await setup.doc("a")
    assert stored["outbox_lease_owner"] == "here"
    assert before + LEASE <= stored["outbox_lease_until"] <= datetime.now(UTC) + LEASE
    setup.counted.calls.clear()
    assert await setup.relay._tick() == 2
    # Only the bookkeeping: no claim (find-and-modify or update) and no read of the events.
    assert setup.counted.calls == Counter({"update_one": 1})
    assert setup.relay.stats.handed == 1
    stored = await setup.doc("a")
    assert stored["outbox_n"] == 0 and stored["outbox"] == []
    assert "outbox_lease_owner" not in stored and "outbox_lease_until" not in stored
    assert await setup.subjects() == ["a", "a"]


async def test_an_update_with_nothing_pending_hands_over_only_its_own_events(
    setup: Setup,
) -> None:
    await setup.agg.insert({"_id": "a", "value": 0}, [event(0, "a")])
    assert await setup.relay._tick() == 1
    published: list[int] = []
    setup.bus.publish = _recording(setup.bus, published)  # type: ignore[method-assign]
    await setup.agg.update("a", 1, {"value": 1}, [event(1, "a")])
    assert (await setup.doc("a"))["outbox_lease_owner"] == "here"
    setup.counted.calls.clear()
    assert await setup.relay._tick() == 1
    assert setup.counted.calls == Counter({"update_one": 1})
    assert published == [1]
    assert setup.relay.stats.handed == 2


async def test_an_update_with_an_event_still_pending_commits_without_the_lease_and_is_claimed(
    setup: Setup,
) -> None:
    """Just outside the hand-over: one event pending (outbox_n 1, not 0)."""
    setup.agg.set_on_commit(None)  # as another replica's commit: nothing is handed over
    await setup.agg.insert({"_id": "a", "value": 0}, [event(0, "a")])
    setup.relay.attach(setup.agg)
    published: list[int] = []
    setup.bus.publish = _recording(setup.bus, published)  # type: ignore[method-assign]
    assert await setup.agg.update("a", 1, {"value": 1}, [event(1, "a")]) == 2
    stored = await setup.doc("a")
    assert stored["value"] == 1 and stored["outbox_n"] == 2
    assert "outbox_lease_owner" not in stored  # committed as before, announced for a claim
    assert setup.relay.stats.handed == 0
    assert await setup.relay._tick() == 2
    assert published == [0, 1]  # the older event first


async def test_a_stale_version_is_refused_and_writes_no_lease(setup: Setup) -> None:
    await setup.agg.insert({"_id": "a", "value": 0}, [event(0, "a")])
    assert await setup.relay._tick() == 1
    with pytest.raises(ConcurrencyError):
        await setup.agg.update("a", 7, {"value": 9}, [event(9, "a")])
    stored = await setup.doc("a")
    assert stored["version"] == 1 and stored["value"] == 0 and stored["outbox_n"] == 0
    assert "outbox_lease_owner" not in stored
    assert setup.relay.stats.handed == 1


async def test_a_relay_that_stops_gives_back_the_leases_it_was_handed(setup: Setup) -> None:
    await setup.agg.insert({"_id": "a", "value": 0}, [event(0, "a")])
    await setup.relay.stop()  # before any pass published it
    stored = await setup.doc("a")
    assert stored["outbox_n"] == 1 and "outbox_lease_owner" not in stored
    other = setup.new_relay("there")
    assert await other.run_once() == 1  # taken at once, not when a lease runs out
    assert await setup.subjects() == ["a"]


async def test_a_relay_that_died_holds_its_handed_events_until_the_lease_runs_out(
    setup: Setup,
) -> None:
    dying = setup.new_relay("dying", lease=timedelta(seconds=1))
    dying.attach(setup.agg)
    await setup.agg.insert({"_id": "a", "value": 0}, [event(0, "a")])
    until = (await setup.doc("a"))["outbox_lease_until"]
    other = setup.new_relay("there")
    # The dying relay never publishes. Just inside its lease, nobody else takes the events.
    assert datetime.now(UTC) < until
    assert await other.run_once() == 0
    await asyncio.sleep(max(0.0, (until - datetime.now(UTC)).total_seconds()) + 0.05)
    # Just outside it, any relay's sweep does.
    assert await other.run_once() == 1
    assert await setup.subjects() == ["a"]


async def test_a_failed_publish_of_handed_events_releases_the_lease_and_the_retry_claims(
    setup: Setup,
) -> None:
    real = setup.bus.publish

    async def refuse(envelopes: Any) -> None:
        raise ConnectionError("broker away")

    setup.bus.publish = refuse  # type: ignore[method-assign]
    await setup.agg.insert({"_id": "a", "value": 0}, [event(0, "a")])
    assert await setup.relay._tick() == 0
    stored = await setup.doc("a")
    assert stored["outbox_n"] == 1 and "outbox_lease_owner" not in stored
    setup.bus.publish = real  # type: ignore[method-assign]
    assert await setup.relay._tick() == 1  # announced again, claimed by id
    assert await setup.subjects() == ["a"]


def _recording(bus: MemoryBus, into: list[int]) -> Any:
    real = bus.publish

    async def publish(envelopes: list[Envelope]) -> None:
        into.extend(int(e.data["n"]) for e in envelopes)
        await real(envelopes)

    return publish


@pytest.mark.parametrize("store_kind", ["mongo"], indirect=True)
async def test_the_change_stream_leaves_out_commits_that_handed_their_events_over(
    setup: Setup,
) -> None:
    """Another replica's commit that took its relay's lease is that relay's to publish:
    this relay's change stream does not announce it (a claim would only be refused by the
    lease), while a commit that handed nothing over is announced at once, as before."""
    # Neither the interval nor the sweep comes round during the test: only the stream wakes it.
    watching = OutboxRelay(
        [setup.agg.collection], setup.bus, owner="watching", interval=3600, sweep_interval=3600
    )
    watching.start()
    try:

        async def until(check: Any) -> None:
            async def poll() -> None:
                while not await check():
                    await asyncio.sleep(0.05)

            await asyncio.wait_for(poll(), 60)  # a bound, not a timing

        async def stream_open() -> bool:
            return watching.stats.sweeps >= 1 and watching.stats.streams_opened >= 1

        await until(stream_open)
        # Handed over to "here" (the setup's attached relay, which does not run its worker).
        await setup.agg.insert({"_id": "handed", "value": 0}, [event(0, "handed")])
        # Committed with no relay attached: nothing handed over, the lease is free.
        setup.agg.set_on_commit(None)
        await setup.agg.insert({"_id": "free", "value": 0}, [event(0, "free")])

        async def free_published() -> bool:
            return await setup.subjects() == ["free"]

        await until(free_published)
        await asyncio.sleep(0.3)  # a report of "handed" would have come by now
        assert watching.stats.streamed == 1  # "free" only
        assert (await setup.doc("handed"))["outbox_lease_owner"] == "here"
    finally:
        await watching.stop()
