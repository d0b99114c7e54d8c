"""Store requests per event on notify's side (issue 21): the agency name a notice carries is
read once per ``NAME_TTL`` per process, this process's own rename shows at once, and the
process record appends an event without reading first, a redelivery still recorded once
(R-SUP-01's gapless chain)."""

from __future__ import annotations

from typing import Any

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
