"""Consultation meetings (R-MTG-01) in the document store: one aggregate per meeting, state
and events written together through the outbox (kernel.outbox.AggregateCollection)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from coordination.adapters.cooperation import from_document, to_document
from coordination.domain.meetings import Meeting
from coordination.domain.routine import RoutineDue
from kernel.envelope import Envelope
from kernel.outbox import AggregateCollection
from kernel.store import Document, DocumentStore


def _with_id(doc: Document) -> Document:
    return {**doc, "id": doc["_id"]}


class MeetingRepository:
    name = "meetings"

    def __init__(self, store: DocumentStore) -> None:
        self.aggregates = AggregateCollection(store.collection(self.name))
        self._coll = self.aggregates.collection

    async def ensure_indexes(self) -> None:
        # "My meetings": the convener's and each attendee's (a multikey index on the list).
        await self._coll.create_index([("convener_id", 1), ("_id", 1)], name="by_convener")
        await self._coll.create_index([("attendee_ids", 1), ("_id", 1)], name="by_attendee")

    @staticmethod
    def _doc(meeting: Meeting) -> dict[str, Any]:
        doc: dict[str, Any] = to_document(meeting)
        doc["_id"] = doc.pop("id")
        doc.pop("version", None)
        return doc

    async def get(self, meeting_id: str) -> Meeting | None:
        doc = await self.aggregates.get(meeting_id)
        return from_document(Meeting, _with_id(doc)) if doc else None

    async def add(self, meeting: Meeting, events: Sequence[Envelope]) -> None:
        await self.aggregates.insert(self._doc(meeting), events)

    async def save(self, meeting: Meeting, events: Sequence[Envelope]) -> int:
        """Conditional on the version read (a concurrent change raises a Conflict)."""
        fields = self._doc(meeting)
        fields.pop("_id")
        return await self.aggregates.update(meeting.id, meeting.version, fields, events)

    async def list(self, *, agency_id: str | None, after: str | None, limit: int) -> list[Meeting]:
        query: dict[str, Any] = {}
        if agency_id:
            query["$or"] = [{"convener_id": agency_id}, {"attendee_ids": agency_id}]
        if after:
            query["_id"] = {"$gt": after}
        docs = await self._coll.find(query, sort=[("_id", 1)], limit=limit)
        return [from_document(Meeting, _with_id(d)) for d in docs]


class RoutineDueRepository:
    """One document per routine meeting and convening agency (R-MTG-01), ``_id`` the
    :meth:`RoutineDue.id_for` key, so the start-up check creates each once."""

    name = "routine_meetings_due"

    def __init__(self, store: DocumentStore) -> None:
        self.aggregates = AggregateCollection(store.collection(self.name))
        self._coll = self.aggregates.collection

    async def ensure_indexes(self) -> None:
        await self._coll.create_index([("convener_id", 1), ("_id", 1)], name="by_convener")

    @staticmethod
    def _doc(due: RoutineDue) -> dict[str, Any]:
        doc: dict[str, Any] = to_document(due)
        doc["_id"] = doc.pop("id")
        doc.pop("version", None)
        return doc

    async def get(self, routine_id: str) -> RoutineDue | None:
        doc = await self.aggregates.get(routine_id)
        return from_document(RoutineDue, _with_id(doc)) if doc else None

    async def add(self, due: RoutineDue, events: Sequence[Envelope]) -> None:
        await self.aggregates.insert(self._doc(due), events)

    async def save(self, due: RoutineDue, events: Sequence[Envelope]) -> int:
        fields = self._doc(due)
        fields.pop("_id")
        return await self.aggregates.update(due.id, due.version, fields, events)

    async def list(self, *, convener_id: str | None) -> list[RoutineDue]:
        query: dict[str, Any] = {"convener_id": convener_id} if convener_id else {}
        docs = await self._coll.find(query, sort=[("_id", 1)], limit=1000)
        return [from_document(RoutineDue, _with_id(d)) for d in docs]
