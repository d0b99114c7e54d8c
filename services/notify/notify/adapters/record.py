"""The full-process record (R-SUP-01) in the document store: append-only by construction.

This module has an insert and reads; there is no update or delete of an entry anywhere in
notify. ``seq`` comes from a counter document per district incremented atomically
(``find_one_and_update`` with ``$inc``), so several replicas never hand out the same number.
A redelivered event is recognised by its id before a number is drawn; only two replicas
appending the same event at the same instant can leave a gap in ``seq`` (the loser's number
is never used), which the later hash chain must tolerate by linking each entry to the
previous *existing* one.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from datetime import datetime
from typing import Any

from kernel.store import Document, DocumentStore, DuplicateKeyError
from notify.domain.record import RecordEntry

_FIELDS = (
    "seq",
    "type",
    "subject",
    "time",
    "district",
    "service",
    "correlation_id",
    "actor_id",
    "actor_agency_id",
    "state_before",
    "state_after",
    "payload",
)


def _to_document(e: RecordEntry) -> dict[str, Any]:
    doc: dict[str, Any] = {"_id": e.event_id, **{f: getattr(e, f) for f in _FIELDS}}
    doc["agency_ids"] = list(e.agency_ids)
    return doc


def _from_document(d: Document) -> RecordEntry:
    fields: dict[str, Any] = {f: d.get(f) for f in _FIELDS}
    return RecordEntry(event_id=d["_id"], agency_ids=tuple(d.get("agency_ids") or ()), **fields)


class RecordRepository:
    def __init__(self, store: DocumentStore) -> None:
        self._coll = store.collection("process_record")
        self._counters = store.collection("counters")

    async def ensure_indexes(self) -> None:
        await self._coll.create_index([("district", 1), ("seq", 1)], unique=True, name="by_seq")
        await self._coll.create_index([("subject", 1), ("seq", 1)], name="by_subject")
        await self._coll.create_index([("agency_ids", 1), ("seq", 1)], name="by_agency")
        await self._coll.create_index([("type", 1), ("seq", 1)], name="by_type")
        await self._coll.create_index([("time", 1)], name="by_time")

    async def _next_seq(self, district: str) -> int:
        counter_id = f"process_record:{district}"
        with contextlib.suppress(DuplicateKeyError):
            await self._counters.insert_one({"_id": counter_id, "value": 0})
        doc = await self._counters.find_one_and_update(
            {"_id": counter_id}, {"$inc": {"value": 1}}, return_new=True
        )
        assert doc is not None  # the insert above made sure it exists
        return int(doc["value"])

    async def append(self, entry: RecordEntry) -> RecordEntry | None:
        """Append with the next ``seq``; None when the event is already recorded."""
        if await self._coll.find_one({"_id": entry.event_id}) is not None:
            return None
        numbered = replace(entry, seq=await self._next_seq(entry.district))
        try:
            await self._coll.insert_one(_to_document(numbered))
        except DuplicateKeyError:
            return None
        return numbered

    async def get(self, event_id: str) -> RecordEntry | None:
        doc = await self._coll.find_one({"_id": event_id})
        return _from_document(doc) if doc else None

    async def search(
        self,
        *,
        district: str,
        subject: str | None = None,
        agency_id: str | None = None,
        types: list[str] | None = None,
        time_from: datetime | None = None,
        time_to: datetime | None = None,
        after_seq: int | None = None,
        limit: int = 50,
    ) -> list[RecordEntry]:
        """Entries in ``seq`` order (oldest first), after ``after_seq`` (the cursor)."""
        query: dict[str, Any] = {"district": district}
        if subject is not None:
            query["subject"] = subject
        if agency_id is not None:
            query["agency_ids"] = agency_id
        if types:
            query["type"] = {"$in": types}
        time_cond: dict[str, Any] = {}
        if time_from is not None:
            time_cond["$gte"] = time_from
        if time_to is not None:
            time_cond["$lt"] = time_to
        if time_cond:
            query["time"] = time_cond
        if after_seq is not None:
            query["seq"] = {"$gt": after_seq}
        docs = await self._coll.find(query, sort=[("seq", 1)], limit=limit)
        return [_from_document(d) for d in docs]
