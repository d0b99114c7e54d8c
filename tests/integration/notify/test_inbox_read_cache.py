"""An agency's inbox, first page and counts, kept in memory while the inbox's change stream
is live (issue 21, P1; ``kernel.changes.ReadCache``). R-NTF-04: every notice reaches the
addressee's inbox with a receipt, so what the inbox shows must be current: a new item or a
receipt recorded by this process shows at once, one recorded by another replica within the
stream's lag; a page after a cursor always reads the store. Two stores on one database stand
for two replicas (each its own client, as two processes)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from kernel.adapters.mongo_store import MongoCollection, open_mongo_store
from notify.adapters.repository import InboxRepository
from notify.domain.model import InboxItem
from tests.fixtures.waiting import until
from tests.infra import Server

pytestmark = pytest.mark.timeout(60)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TOWN = "fy-hancong"


def item(n: int, agency: str = TOWN) -> InboxItem:
    return InboxItem(
        id=f"i-{n}",
        agency_id=agency,
        kind="referral.sent",
        title=f"案件移送 {n}",
        body="",
        subject_type="Referral",
        subject_id=f"r-{n}",
        source_event_id=f"e-{n}",
        created_at=T0 + timedelta(minutes=n),
    )


@pytest.fixture
def store_reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every find and count sent to an ``inbox_items`` collection while the test runs."""
    log: list[str] = []
    find, count = MongoCollection.find, MongoCollection.count

    async def recording_find(self: MongoCollection, *args: object, **kw: object) -> object:
        if self.name == "inbox_items":
            log.append("find")
        return await find(self, *args, **kw)  # type: ignore[arg-type]

    async def recording_count(self: MongoCollection, *args: object, **kw: object) -> int:
        if self.name == "inbox_items":
            log.append("count")
        return await count(self, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(MongoCollection, "find", recording_find)
    monkeypatch.setattr(MongoCollection, "count", recording_count)
    yield log


def ids(items: list[InboxItem]) -> list[str]:
    return [i.id for i in items]


async def test_R_NTF_04_the_first_page_and_counts_are_current_in_every_replica(
    mongo_server: Server, unique_name: str, store_reads: list[str]
) -> None:
    writer_store = await open_mongo_store(mongo_server.url, unique_name)
    reader_store = await open_mongo_store(mongo_server.url, unique_name)
    writer, reader = InboxRepository(writer_store), InboxRepository(reader_store)
    try:
        await writer.ensure_indexes()
        for n in (1, 2, 3):
            assert await writer.add(item(n))
        await writer.add(item(9, agency="fy-nongqiao"))  # another agency's
        assert ids(await reader.for_agency(TOWN, unread_only=False, before=None, limit=2)) == [
            "i-3",
            "i-2",
        ]
        await asyncio.wait_for(reader.page_changes.opened.wait(), 10)

        # Read while the stream is live: kept; the same reads again ask the store nothing.
        first = await reader.for_agency(TOWN, unread_only=False, before=None, limit=2)
        assert await reader.count(TOWN, unread_only=True) == 3
        store_reads.clear()
        assert await reader.for_agency(TOWN, unread_only=False, before=None, limit=2) == first
        assert await reader.count(TOWN, unread_only=True) == 3
        assert store_reads == []
        # Another page size, filter or agency is another entry; a page after a cursor
        # always reads the store.
        assert ids(await reader.for_agency(TOWN, unread_only=False, before=None, limit=3)) == [
            "i-3",
            "i-2",
            "i-1",
        ]
        assert await reader.count(TOWN, unread_only=False) == 3
        assert await reader.count("fy-nongqiao", unread_only=True) == 1
        assert store_reads == ["find", "count", "count"]
        after = (first[-1].created_at, first[-1].id)
        for _ in range(2):
            assert ids(await reader.for_agency(TOWN, unread_only=False, before=after, limit=2)) == [
                "i-1"
            ]
        assert store_reads == ["find", "count", "count", "find", "find"]

        # Another replica's new item and receipt show within the stream's lag.
        await writer.add(item(4))

        async def shows_new_item() -> bool:
            page = await reader.for_agency(TOWN, unread_only=False, before=None, limit=2)
            return ids(page) == ["i-4", "i-3"] and await reader.count(TOWN, unread_only=True) == 4

        await until(5, shows_new_item)
        signed = replace(item(4), read_at=T0 + timedelta(hours=1), read_by="p-1")
        assert await writer.mark_read(signed)

        async def shows_receipt() -> bool:
            unread = await reader.for_agency(TOWN, unread_only=True, before=None, limit=2)
            return ids(unread) == ["i-3", "i-2"] and await reader.count(TOWN, unread_only=True) == 3

        await until(5, shows_receipt)
        page = await reader.for_agency(TOWN, unread_only=False, before=None, limit=2)
        assert page[0].read_by == "p-1"

        # This process's own writes show at once, without waiting for the stream.
        assert await reader.add(item(5))
        assert ids(await reader.for_agency(TOWN, unread_only=True, before=None, limit=2)) == [
            "i-5",
            "i-3",
        ]
        assert await reader.count(TOWN, unread_only=True) == 4
        signed_here = replace(item(5), read_at=T0 + timedelta(hours=2), read_by="p-2")
        assert await reader.mark_read(signed_here)
        assert ids(await reader.for_agency(TOWN, unread_only=True, before=None, limit=2)) == [
            "i-3",
            "i-2",
        ]
        assert await reader.count(TOWN, unread_only=True) == 3
        # A redelivered item is turned away and changes nothing.
        assert not await reader.add(item(5))
        assert await reader.count(TOWN, unread_only=False) == 5
    finally:
        await reader.stop_following()
        await writer.stop_following()
        await writer_store.close()
        await reader_store.close()


async def test_R_NTF_04_without_a_live_stream_every_inbox_read_goes_to_the_store(
    mongo_server: Server, unique_name: str, store_reads: list[str]
) -> None:
    store = await open_mongo_store(mongo_server.url, unique_name)
    inbox = InboxRepository(store)
    try:
        await inbox.add(item(1))
        await inbox.stop_following()  # closed for good: never live again
        for _ in range(2):
            assert ids(await inbox.for_agency(TOWN, unread_only=False, before=None, limit=5)) == [
                "i-1"
            ]
            assert await inbox.count(TOWN, unread_only=False) == 1
        assert store_reads == ["find", "count", "find", "count"]
    finally:
        await store.close()
