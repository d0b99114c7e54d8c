"""One change stream per database and process (issue 21, P5): every follower of the
database's collections (the relay's, the read caches', the live subscriptions') is served by
one stream whose filter is the union of theirs, and each hears only what its own filter
asks. Measured: with a stream per collection the benchmark's server spent 8–10 ms of CPU per
event on about thirty streams; docs/benchmarks.md."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from kernel.adapters.mongo_store import MongoStore
from kernel.store import DocumentStore, StoreError, StoreUnavailableError

WAIT = 30.0  # a bound, not a timing


class Follower:
    """Follows one collection with one filter in a task, collecting the ids it hears."""

    def __init__(self, store: DocumentStore, collection: str, match: dict[str, Any]) -> None:
        self.ids: list[str] = []
        self.opened = asyncio.Event()
        self.error: BaseException | None = None
        coll: Any = store.collection(collection)
        self.task = asyncio.create_task(self._run(coll.changed_ids(match, self.opened.set)))

    async def _run(self, changes: AsyncIterator[str]) -> None:
        try:
            async for doc_id in changes:
                self.ids.append(doc_id)
        except StoreError as exc:
            self.error = exc

    async def open(self) -> Follower:
        await asyncio.wait_for(self.opened.wait(), WAIT)
        return self

    async def heard(self, *ids: str) -> None:
        async def all_there() -> None:
            while not set(ids) <= set(self.ids):
                await asyncio.sleep(0.02)

        await asyncio.wait_for(all_there(), WAIT)

    async def stop(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


def feed(store: DocumentStore) -> Any:
    assert isinstance(store, MongoStore)
    return store.changes


async def streams_open(store: DocumentStore, n: int) -> None:
    """Wait until ``n`` streams are open (a replaced one ends at its next answer, 1 s)."""

    async def settled() -> None:
        while feed(store).streams != n:
            await asyncio.sleep(0.05)

    await asyncio.wait_for(settled(), WAIT)


INSERTS = {"operationType": "insert"}
PENDING = {
    "$or": [
        {"operationType": "insert", "fullDocument.outbox_n": {"$gt": 0}},
        {"operationType": "update", "updateDescription.updatedFields.outbox_n": {"$gt": 0}},
    ]
}


async def test_followers_of_several_collections_share_one_stream_and_hear_only_their_own(
    mongo_store: DocumentStore,
) -> None:
    followers = [
        Follower(mongo_store, "a", INSERTS),
        Follower(mongo_store, "b", PENDING),
        Follower(mongo_store, "b", INSERTS),
    ]
    try:
        for f in followers:
            await f.open()
        await streams_open(mongo_store, 1)
        a, b_pending, b_inserts = followers
        await mongo_store.collection("a").insert_one({"_id": "a1"})
        await mongo_store.collection("b").insert_one({"_id": "b-none", "outbox_n": 0})
        await mongo_store.collection("b").insert_one({"_id": "b-one", "outbox_n": 1})
        await mongo_store.collection("b").update_one({"_id": "b-none"}, {"$set": {"outbox_n": 2}})
        await mongo_store.collection("c").insert_one({"_id": "c1"})  # nobody follows c
        await a.heard("a1")
        await b_pending.heard("b-one", "b-none")
        await b_inserts.heard("b-none", "b-one")
        await asyncio.sleep(0.3)  # anything else would have come by now
        assert a.ids == ["a1"]
        assert b_inserts.ids == ["b-none", "b-one"]
        # b-none's insert (nothing pending) is not the relay filter's business; its update
        # (two pending) is.
        assert b_pending.ids == ["b-one", "b-none"]
    finally:
        for f in followers:
            await f.stop()


async def test_a_follower_joining_later_gets_its_own_stream_and_the_first_misses_nothing(
    mongo_store: DocumentStore,
) -> None:
    first = await Follower(mongo_store, "a", INSERTS).open()
    late: Follower | None = None
    coll = mongo_store.collection("a")
    try:
        writing = True

        async def keep_writing() -> int:
            n = 0
            while writing:
                await coll.insert_one({"_id": f"a{n}"})
                n += 1
                await asyncio.sleep(0.005)
            return n

        writer = asyncio.create_task(keep_writing())
        await asyncio.sleep(0.1)
        late = await Follower(mongo_store, "b", INSERTS).open()  # the stream is replaced
        await asyncio.sleep(0.1)
        writing = False
        written = await writer
        await first.heard(*(f"a{i}" for i in range(written)))  # none lost in the switch
        await mongo_store.collection("b").insert_one({"_id": "b1"})
        await late.heard("b1")
        assert late.ids == ["b1"]
        assert feed(mongo_store).opened == 2
    finally:
        await first.stop()
        if late is not None:
            await late.stop()


async def test_when_the_last_follower_leaves_the_stream_ends(
    mongo_store: DocumentStore,
) -> None:
    follower = await Follower(mongo_store, "a", INSERTS).open()
    await streams_open(mongo_store, 1)
    await follower.stop()
    await streams_open(mongo_store, 0)  # within the server's await time (1 s)


async def test_a_broken_stream_ends_every_follower_which_resumes_by_following_again(
    mongo_store: DocumentStore,
) -> None:
    followers = [await Follower(mongo_store, name, INSERTS).open() for name in ("a", "b")]
    await mongo_store.collection("a").insert_one({"_id": "a1"})
    await followers[0].heard("a1")
    await mongo_store.drop_database()  # the server invalidates the stream
    for f in followers:
        await asyncio.wait_for(asyncio.gather(f.task, return_exceptions=True), WAIT)
        assert isinstance(f.error, StoreUnavailableError)
    again = await Follower(mongo_store, "a", INSERTS).open()
    try:
        await mongo_store.collection("a").insert_one({"_id": "a2"})
        await again.heard("a2")
    finally:
        await again.stop()


async def test_closing_the_store_ends_its_followers_for_good(mongo_store: DocumentStore) -> None:
    """A closed store's followers end with ``StoreError`` (they stop following), not with
    ``StoreUnavailableError`` (they would resume from it every second, for ever)."""
    follower = await Follower(mongo_store, "a", INSERTS).open()
    await feed(mongo_store).close()
    await asyncio.wait_for(asyncio.gather(follower.task, return_exceptions=True), WAIT)
    assert isinstance(follower.error, StoreError)
    assert not isinstance(follower.error, StoreUnavailableError)
    refused = Follower(mongo_store, "a", INSERTS)
    await asyncio.wait_for(asyncio.gather(refused.task, return_exceptions=True), WAIT)
    assert isinstance(refused.error, StoreError)
    assert not isinstance(refused.error, StoreUnavailableError)
    assert not refused.opened.is_set()
