"""Store requests per event on notify's side (issue 21): the agency name a notice carries is
read once per ``NAME_TTL`` per process, this process's own rename shows at once, and the
process record appends an event without reading first, a redelivery still recorded once
(R-SUP-01's gapless chain)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kernel.store import DocumentStore
from notify.adapters.record import RecordRepository
from notify.adapters.repository import AgencyNames
from tests.integration.notify.test_audit_chain import entry


class Counted:
    """A store whose collections count the requests sent to them."""

    def __init__(self, store: DocumentStore) -> None:
        self._store = store
        self.requests: list[str] = []

    def collection(self, name: str) -> Any:
        inner = self._store.collection(name)
        log = self.requests

        class Collection:
            def __getattr__(self, attribute: str) -> Any:
                target = getattr(inner, attribute)
                if not callable(target):
                    return target

                async def counted(*args: Any, **kwargs: Any) -> Any:
                    log.append(attribute)
                    return await target(*args, **kwargs)

                return counted

        return Collection()


async def test_an_agency_name_is_read_once_per_ttl_and_a_rename_here_shows_at_once(
    store: DocumentStore,
) -> None:
    """Issue 21: one name read per agency and ``NAME_TTL``, not one per event."""
    counted = Counted(store)
    clock = [100.0]
    names = AgencyNames(counted, monotonic=lambda: clock[0])  # type: ignore[arg-type]
    await names.put("fy-market", "市场监管局", "department", 1)
    assert await names.name("fy-market") == "市场监管局"
    counted.requests.clear()
    assert await names.name("fy-market") == "市场监管局"
    clock[0] += AgencyNames.NAME_TTL - 0.001  # just inside
    assert await names.name("fy-market") == "市场监管局"
    assert counted.requests == []
    clock[0] += 0.002  # just outside: read again
    assert await names.name("fy-market") == "市场监管局"
    assert counted.requests == ["find_one"]
    await names.put("fy-market", "市场监督管理局", "department", 2)
    assert await names.name("fy-market") == "市场监督管理局"
    assert await names.name("fy-unknown") == "fy-unknown"  # not registered: not cached


async def test_the_record_appends_without_reading_and_records_a_redelivery_once(
    store: DocumentStore,
) -> None:
    """Issue 21 and R-SUP-01: one insert per event once the chain's tip is known; the same
    event appended again is refused by its id and the chain stays gapless."""
    counted = Counted(store)
    records = RecordRepository(counted)  # type: ignore[arg-type]
    await records.ensure_indexes()
    first = await records.append(entry(1))
    assert first is not None and first.seq == 1
    counted.requests.clear()
    second = entry(2)
    assert (await records.append(second)) is not None
    assert counted.requests == ["insert_one"]
    assert await records.append(second) is None  # a redelivery
    third = await records.append(entry(3))
    assert third is not None and third.seq == 3
    report = await records.verify("fuyuan")
    assert report.ok, report


async def test_R_SUP_01_concurrent_appends_of_one_process_share_one_insert(
    store: DocumentStore,
) -> None:
    """Issue 21 (P5: the record took one insert per event, one at a time, so at 200 events/s
    its appends queued behind each other's round trips): appends waiting for their turn are
    linked in order and written together, a redelivered event among them is recognised by
    its id, and the chain stays gapless."""
    counted = Counted(store)
    records = RecordRepository(counted)  # type: ignore[arg-type]
    await records.ensure_indexes()
    entries = {n: entry(n) for n in range(1, 24)}
    assert (await records.append(entries[1])) is not None
    counted.requests.clear()
    results = await asyncio.gather(*(records.append(entries[n]) for n in range(2, 22)))
    assert [r.seq for r in results if r is not None] == list(range(2, 22))
    # The first waiter goes alone (nothing was queued yet); the other 19 share one insert.
    assert counted.requests == ["insert_one", "insert_many"]
    counted.requests.clear()
    again = await asyncio.gather(
        records.append(entries[22]), records.append(entries[5]), records.append(entries[23])
    )
    assert again[1] is None  # entry 5 was recorded already: a redelivery
    assert [e.seq for e in again if e is not None] == [22, 23]
    report = await records.verify("fuyuan")
    assert report.ok and report.count == 23, report


async def test_R_SUP_01_an_append_cancelled_while_writing_leaves_the_others_queued(
    store: DocumentStore,
) -> None:
    """The append whose turn it is writes the others' entries too: cancelled in the middle
    (the consumer stops), it puts the entries not written back, and the next append writes
    them; nothing waits for ever and the chain stays gapless."""
    records = RecordRepository(store)
    await records.ensure_indexes()
    assert (await records.append(entry(1))) is not None
    coll: Any = records._coll  # hold the first write
    writing = asyncio.Event()
    release = asyncio.Event()
    real = coll.insert_one

    async def held(doc: Any) -> None:
        writing.set()
        await release.wait()
        await real(doc)

    coll.insert_one = held
    holder = asyncio.create_task(records.append(entry(2)))
    await writing.wait()
    waiters = [asyncio.create_task(records.append(entry(n))) for n in (3, 4)]
    await asyncio.sleep(0)
    holder.cancel()
    with pytest.raises(asyncio.CancelledError):
        await holder
    coll.insert_one = real
    done = await asyncio.wait_for(asyncio.gather(*waiters), timeout=10)
    assert [e.seq for e in done if e is not None] == [2, 3]
    report = await records.verify("fuyuan")
    assert report.ok and report.count == 3, report
