"""``kernel.changes.ReadCache`` (issue 21, P6): the graph's by-id reads kept in memory only
while the collection's change stream is live. R-REF-06: a receiver reading a referral must
see its current state (sent, withdrawn), so another replica's write shows within the
stream's lag, this process's own write at once, and with no live stream nothing is cached.

Two stores on one database stand for two replicas (each its own client, as two processes)."""

from __future__ import annotations

import asyncio

import pytest

from kernel.adapters.mongo_store import open_mongo_store
from kernel.changes import WRITES, ChangeSignal, ReadCache
from kernel.store import Collection, DocumentStore
from tests.fixtures.waiting import until
from tests.infra import Server

pytestmark = pytest.mark.timeout(60)


class Loads:
    """The store reads a cache sends, and their answers (a status per id)."""

    def __init__(self, coll: Collection) -> None:
        self.coll = coll
        self.count = 0

    async def __call__(self, ids: list[str]) -> dict[str, str]:
        self.count += 1
        docs = await self.coll.find({"_id": {"$in": ids}})
        return {str(d["_id"]): str(d["status"]) for d in docs}


async def test_R_REF_06_another_replicas_write_shows_through_the_stream_well_inside_the_ttl(
    mongo_server: Server, unique_name: str
) -> None:
    writer_store = await open_mongo_store(mongo_server.url, unique_name)
    reader_store = await open_mongo_store(mongo_server.url, unique_name)
    coll = reader_store.collection("referrals")
    cache: ReadCache[str] = ReadCache(ChangeSignal(coll, WRITES), ttl=3600)
    loads = Loads(coll)
    try:
        await writer_store.collection("referrals").insert_one({"_id": "r1", "status": "sent"})
        assert await cache.many(["r1"], loads) == {"r1": "sent"}
        await asyncio.wait_for(cache.signal.opened.wait(), 10)
        assert cache.signal.live
        assert await cache.many(["r1"], loads) == {"r1": "sent"}  # read after the open
        before = loads.count
        assert await cache.many(["r1"], loads) == {"r1": "sent"}
        assert loads.count == before  # from memory

        await writer_store.collection("referrals").update_one(
            {"_id": "r1"}, {"$set": {"status": "withdrawn"}}
        )

        async def withdrawn() -> bool:
            return await cache.many(["r1"], loads) == {"r1": "withdrawn"}

        await until(5, withdrawn)  # the TTL is an hour: the stream dropped the entry
    finally:
        await cache.signal.close()
        await writer_store.drop_database()
        await writer_store.close()
        await reader_store.close()


async def test_R_REF_06_own_write_shows_at_once_and_a_closed_stream_caches_nothing(
    mongo_store: DocumentStore,
) -> None:
    coll = mongo_store.collection("referrals")
    cache: ReadCache[str] = ReadCache(ChangeSignal(coll, WRITES), ttl=3600)
    loads = Loads(coll)
    await coll.insert_one({"_id": "r1", "status": "sent"})
    await cache.many(["r1"], loads)
    await asyncio.wait_for(cache.signal.opened.wait(), 10)
    await cache.many(["r1"], loads)
    cache.forget()  # this process writes: the repository calls forget around the write
    await coll.update_one({"_id": "r1"}, {"$set": {"status": "accepted"}})
    assert await cache.many(["r1"], loads) == {"r1": "accepted"}  # not waiting for the stream

    await cache.signal.close()  # no live stream (closed, broken): every read is a store read
    before = loads.count
    await cache.many(["r1"], loads)
    await cache.many(["r1"], loads)
    assert loads.count == before + 2


async def test_R_REF_06_entries_expire_after_the_ttl_even_with_a_live_stream(
    mongo_store: DocumentStore,
) -> None:
    now = [100.0]
    coll = mongo_store.collection("referrals")
    cache: ReadCache[str] = ReadCache(ChangeSignal(coll, WRITES), ttl=2.0, monotonic=lambda: now[0])
    loads = Loads(coll)
    await coll.insert_one({"_id": "r1", "status": "sent"})
    try:
        await cache.many(["r1"], loads)
        await asyncio.wait_for(cache.signal.opened.wait(), 10)
        await cache.many(["r1"], loads)
        before = loads.count
        now[0] += 1.99  # just inside
        await cache.many(["r1"], loads)
        assert loads.count == before
        now[0] += 0.02  # just past
        await cache.many(["r1"], loads)
        assert loads.count == before + 1
    finally:
        await cache.signal.close()


async def test_R_REF_06_the_embedded_store_has_no_stream_and_caches_nothing(
    embedded_store: DocumentStore,
) -> None:
    coll = embedded_store.collection("referrals")
    cache: ReadCache[str] = ReadCache(ChangeSignal(coll, WRITES), ttl=3600)
    loads = Loads(coll)
    await coll.insert_one({"_id": "r1", "status": "sent"})
    for _ in range(3):
        assert await cache.many(["r1"], loads) == {"r1": "sent"}
    assert loads.count == 3
    await cache.signal.close()


async def test_R_REF_06_a_read_that_overlaps_an_own_write_is_not_kept(
    mongo_store: DocumentStore,
) -> None:
    coll = mongo_store.collection("referrals")
    cache: ReadCache[str] = ReadCache(ChangeSignal(coll, WRITES), ttl=3600)
    await coll.insert_one({"_id": "r1", "status": "sent"})
    loads = Loads(coll)
    try:
        await cache.many(["r1"], loads)
        await asyncio.wait_for(cache.signal.opened.wait(), 10)
        release = asyncio.Event()

        async def slow(ids: list[str]) -> dict[str, str]:
            found = await loads(ids)
            await release.wait()
            return found

        cache.forget()
        stale = asyncio.create_task(cache.many(["r1"], slow))
        await asyncio.sleep(0.05)
        cache.forget()
        await coll.update_one({"_id": "r1"}, {"$set": {"status": "accepted"}})
        release.set()
        assert await stale == {"r1": "sent"}  # answered as read, but not kept
        assert await cache.many(["r1"], loads) == {"r1": "accepted"}
    finally:
        await cache.signal.close()


async def test_R_REF_06_the_cache_holds_at_most_its_size_dropping_the_oldest(
    mongo_store: DocumentStore,
) -> None:
    coll = mongo_store.collection("referrals")
    cache: ReadCache[str] = ReadCache(ChangeSignal(coll, WRITES), ttl=3600, size=2)
    for key in ("r1", "r2", "r3"):
        await coll.insert_one({"_id": key, "status": "sent"})
    loads = Loads(coll)
    try:
        await cache.many(["r1"], loads)
        await asyncio.wait_for(cache.signal.opened.wait(), 10)
        for key in ("r1", "r2", "r3"):  # r3 pushes r1, the oldest, out
            await cache.many([key], loads)
        before = loads.count
        await cache.many(["r2", "r3"], loads)
        assert loads.count == before  # both from memory
        await cache.many(["r1"], loads)
        assert loads.count == before + 1
    finally:
        await cache.signal.close()
