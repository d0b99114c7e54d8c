"""The district's official holiday schedules, every loaded version kept (issue 20).

One document per version: ``_id`` ``<year>#<revision>``, with the schedule, its digest, where
it came from and who loaded it. Each insert carries its ``calendar.schedule_published.v1``
event (the outbox), so the other services learn of it exactly when it is stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kernel.contracts.calendar import HolidayScheduleV1
from kernel.envelope import Envelope
from kernel.outbox import AggregateCollection
from kernel.store import DocumentStore


class HolidayScheduleRepository:
    def __init__(self, store: DocumentStore) -> None:
        self.aggregates = AggregateCollection(store.collection("holiday_schedules"))
        self._coll = self.aggregates.collection

    async def ensure_indexes(self) -> None:
        await self._coll.create_index([("year", 1), ("revision", -1)], name="by_year")

    @staticmethod
    def _id(year: int, revision: int) -> str:
        return f"{year}#{revision:04d}"

    async def latest(self, year: int) -> HolidayScheduleV1 | None:
        docs = await self._coll.find({"year": year}, sort=[("revision", -1)], limit=1)
        return HolidayScheduleV1.model_validate(docs[0]) if docs else None

    async def versions(self, year: int | None = None) -> list[HolidayScheduleV1]:
        query: dict[str, Any] = {} if year is None else {"year": year}
        docs = await self._coll.find(query, sort=[("year", 1), ("revision", -1)])
        return [HolidayScheduleV1.model_validate(d) for d in docs]

    async def add(self, schedule: HolidayScheduleV1, events: Sequence[Envelope]) -> None:
        """Insert a version; a concurrent load of the same revision raises ConcurrencyError."""
        doc = schedule.model_dump(mode="json")
        doc["_id"] = self._id(schedule.year, schedule.revision)
        await self.aggregates.insert(doc, events)
