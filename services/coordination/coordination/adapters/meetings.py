"""Consultation meetings (R-MTG-01) in the document store: one aggregate per meeting, state
and events written together through the outbox (kernel.outbox.AggregateCollection)."""

from __future__ import annotations

from typing import Any

from coordination.adapters.cooperation import _ModelRepository
from coordination.domain.meetings import Meeting
from coordination.domain.routine import RoutineDue
from kernel.keyset import ListQuery, ListShape, with_clauses


class MeetingRepository(_ModelRepository[Meeting]):
    name = "meetings"
    model = Meeting
    #: A meeting's list: by its start, convened (sent) or invited to (received).
    shape = ListShape("starts_at", ("convener_id",), ("attendee_ids",))
    # "My meetings": the convener's and each attendee's (a multikey index on the list).
    indexes = (
        ("by_convener", (("convener_id", 1), ("_id", 1))),
        ("by_attendee", (("attendee_ids", 1), ("_id", 1))),
        *shape.indexes(),
    )

    async def search(self, q: ListQuery, *, limit: int) -> list[Meeting]:
        """A page of the list ``q`` asks for, by start time then id."""
        query, sort = self.shape.page(q, [])
        return self._models(await self._coll.find(query, sort=sort, limit=limit))

    async def count(self, q: ListQuery) -> int:
        """How many meetings :meth:`search` lists for ``q``, all pages together."""
        return await self._coll.count(with_clauses(self.shape.clauses(q)))


class RoutineDueRepository(_ModelRepository[RoutineDue]):
    """One document per routine meeting and convening agency (R-MTG-01), ``_id`` the
    :meth:`RoutineDue.id_for` key, so the start-up check creates each once."""

    name = "routine_meetings_due"
    model = RoutineDue
    indexes = (("by_convener", (("convener_id", 1), ("_id", 1))),)

    async def list(self, *, convener_id: str | None) -> list[RoutineDue]:
        query: dict[str, Any] = {"convener_id": convener_id} if convener_id else {}
        return self._models(await self._coll.find(query, sort=[("_id", 1)], limit=1000))
