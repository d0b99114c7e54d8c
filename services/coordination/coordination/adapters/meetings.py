"""Consultation meetings (R-MTG-01) in the document store: one aggregate per meeting, state
and events written together through the outbox (kernel.outbox.AggregateCollection)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from coordination.adapters.cooperation import _Repository, _with_id, from_document
from coordination.domain.meetings import Meeting
from coordination.domain.routine import RoutineDue
from kernel.envelope import Envelope
from kernel.keyset import ListQuery, ListShape, with_clauses


class MeetingRepository(_Repository):
    name = "meetings"
    #: A meeting's list: by its start, convened (sent) or invited to (received).
    shape = ListShape("starts_at", ("convener_id",), ("attendee_ids",))
    # "My meetings": the convener's and each attendee's (a multikey index on the list).
    indexes = (
        ("by_convener", (("convener_id", 1), ("_id", 1))),
        ("by_attendee", (("attendee_ids", 1), ("_id", 1))),
        *shape.indexes(),
    )

    async def get(self, meeting_id: str) -> Meeting | None:
        doc = await self.aggregates.get(meeting_id)
        return from_document(Meeting, _with_id(doc)) if doc else None

    async def add(self, meeting: Meeting, events: Sequence[Envelope]) -> None:
        await self._add(meeting, events)

    async def save(self, meeting: Meeting, events: Sequence[Envelope]) -> int:
        """Conditional on the version read (a concurrent change raises a Conflict)."""
        return await self._save(meeting, events)

    async def search(self, q: ListQuery, *, limit: int) -> list[Meeting]:
        """A page of the list ``q`` asks for, by start time then id."""
        query, sort = self.shape.page(q, [])
        docs = await self._coll.find(query, sort=sort, limit=limit)
        return [from_document(Meeting, _with_id(d)) for d in docs]

    async def count(self, q: ListQuery) -> int:
        """How many meetings :meth:`search` lists for ``q``, all pages together."""
        return await self._coll.count(with_clauses(self.shape.clauses(q)))


class RoutineDueRepository(_Repository):
    """One document per routine meeting and convening agency (R-MTG-01), ``_id`` the
    :meth:`RoutineDue.id_for` key, so the start-up check creates each once."""

    name = "routine_meetings_due"
    indexes = (("by_convener", (("convener_id", 1), ("_id", 1))),)

    async def get(self, routine_id: str) -> RoutineDue | None:
        doc = await self.aggregates.get(routine_id)
        return from_document(RoutineDue, _with_id(doc)) if doc else None

    async def add(self, due: RoutineDue, events: Sequence[Envelope]) -> None:
        await self._add(due, events)

    async def save(self, due: RoutineDue, events: Sequence[Envelope]) -> int:
        return await self._save(due, events)

    async def list(self, *, convener_id: str | None) -> list[RoutineDue]:
        query: dict[str, Any] = {"convener_id": convener_id} if convener_id else {}
        docs = await self._coll.find(query, sort=[("_id", 1)], limit=1000)
        return [from_document(RoutineDue, _with_id(d)) for d in docs]
