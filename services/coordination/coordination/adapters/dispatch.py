"""Grid dispatches (R-GRD-01) in the document store: one aggregate per dispatch, state and
events written together through the outbox (kernel.outbox.AggregateCollection).

Beside the aggregate each document keeps the fields the platform's list filters on, each
served by an index: the current team (``team_id``), the grid area (``area``), the state and
the due time of the open step clock (``open_due``, absent when no step is owed), so "overdue"
is ``open_due < now``. The reporter (``reporter_id``) is indexed for a grid member's own
reports."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from coordination.adapters.cooperation import _ModelRepository, _Repository
from coordination.domain.dispatch import Dispatch
from kernel.store import DocumentStore, DuplicateKeyError

__all__ = ["DispatchFilter", "DispatchRepository"]


class DispatchFilter:
    """What the platform's list asks for (every part optional)."""

    def __init__(
        self,
        *,
        platform_id: str | None = None,
        state: str | None = None,
        team_id: str | None = None,
        area: str | None = None,
        overdue_at: datetime | None = None,
        reporter_id: str | None = None,
        party_id: str | None = None,
    ) -> None:
        self.platform_id = platform_id
        self.state = state
        self.team_id = team_id
        self.area = area
        self.overdue_at = overdue_at
        self.reporter_id = reporter_id
        self.party_id = party_id


#: The marker of :meth:`DispatchRepository.claim_filed_photos` (no photo id has this form).
_CLAIMS_BACKFILLED = "~filed-reports-claimed-v1"


class DispatchRepository(_ModelRepository[Dispatch]):
    name = "dispatches"
    model = Dispatch
    indexes = (
        ("by_state", (("platform_id", 1), ("state", 1), ("_id", 1))),
        ("by_team", (("team_id", 1), ("state", 1), ("_id", 1))),
        ("by_area", (("platform_id", 1), ("area", 1), ("_id", 1))),
        ("by_open_due", (("open_due", 1),)),
        ("by_reporter", (("reporter_id", 1), ("_id", 1))),
        ("by_party", (("team_ids", 1), ("_id", 1))),
        ("by_changed_at", (("changed_at", 1),)),
    )

    def __init__(self, store: DocumentStore) -> None:
        super().__init__(store)
        # One document per photo a report names, keyed by the photo's id: the store's unique
        # _id makes a second report naming it fail, however close together the two come.
        self._photo_claims = store.collection("dispatch_photo_claims")

    async def claim_photos(self, dispatch_id: str, photo_ids: Sequence[str]) -> int | None:
        """Claim the photos for this report; the index of the first already claimed (by
        another report, or twice in this one) when not all could be, and nothing claimed."""
        claimed: list[str] = []
        for i, photo_id in enumerate(photo_ids):
            try:
                await self._photo_claims.insert_one({"_id": photo_id, "dispatch_id": dispatch_id})
            except DuplicateKeyError:
                await self.release_photos(claimed)
                return i
            claimed.append(photo_id)
        return None

    async def claim_filed_photos(self) -> None:
        """Reports filed before photos were claimed (issue 17) get their claims, once (a
        marker records it, with how many): an old report's photo cannot be named in a new
        one."""
        if await self._photo_claims.find_one({"_id": _CLAIMS_BACKFILLED}) is not None:
            return
        claimed = 0
        for doc in await self._coll.find({}, projection=["report"]):
            for photo_id in (doc.get("report") or {}).get("photo_ids") or ():
                try:
                    await self._photo_claims.insert_one(
                        {"_id": photo_id, "dispatch_id": doc["_id"]}
                    )
                    claimed += 1
                except DuplicateKeyError:
                    pass  # claimed already (this ran before, or a report since)
        await self._photo_claims.update_one(
            {"_id": _CLAIMS_BACKFILLED}, {"$set": {"claimed": claimed}}, upsert=True
        )

    async def release_photos(self, photo_ids: Sequence[str]) -> None:
        for photo_id in photo_ids:
            await self._photo_claims.delete_one({"_id": photo_id})

    @staticmethod
    def _doc(d: Dispatch) -> dict[str, Any]:
        doc = _Repository._doc(d)
        clock = d.open_clock
        doc["team_id"] = d.team_id
        doc["team_ids"] = sorted({a.team_id for a in d.assignments})
        doc["area"] = d.report.area
        doc["reporter_id"] = d.report.reporter_id
        doc["open_due"] = clock.due if clock else None
        doc["changed_at"] = d.history[-1].at if d.history else d.reported_at
        doc["step"] = len(d.history)
        return doc

    async def search(self, f: DispatchFilter, *, after: str | None, limit: int) -> list[Dispatch]:
        query = self._query(f)
        if after:
            query["_id"] = {"$gt": after}
        docs = await self._coll.find(query, sort=[("_id", 1)], limit=limit)
        return self._models(docs)

    async def count(self, f: DispatchFilter) -> int:
        """How many dispatches :meth:`search` pages through for ``f``, all pages together."""
        return await self._coll.count(self._query(f))

    @staticmethod
    def _query(f: DispatchFilter) -> dict[str, Any]:
        query: dict[str, Any] = {}
        for key, value in (
            ("platform_id", f.platform_id),
            ("state", f.state),
            ("team_id", f.team_id),
            ("area", f.area),
            ("reporter_id", f.reporter_id),
        ):
            if value is not None:
                query[key] = value
        if f.overdue_at is not None:
            query["open_due"] = {"$lt": f.overdue_at}
        if f.party_id is not None:
            query["$or"] = [{"platform_id": f.party_id}, {"team_ids": f.party_id}]
        return query

    async def changed_since(
        self, since: datetime, f: DispatchFilter, *, limit: int
    ) -> list[Dispatch]:
        """Dispatches whose state changed at or after ``since`` (the live view's poll), the
        visibility of ``f`` applied, oldest change first."""
        query: dict[str, Any] = {"changed_at": {"$gte": since}}
        if f.platform_id is not None:
            query["platform_id"] = f.platform_id
        if f.reporter_id is not None:
            query["reporter_id"] = f.reporter_id
        if f.party_id is not None:
            query["$or"] = [{"platform_id": f.party_id}, {"team_ids": f.party_id}]
        docs = await self._coll.find(query, sort=[("changed_at", 1)], limit=limit)
        return self._models(docs)

    async def open_all(self) -> list[Dispatch]:
        """Dispatches not yet handled or referred (the stall check reads them)."""
        docs = await self._coll.find(
            {"state": {"$nin": ["handled", "referred"]}}, sort=[("_id", 1)], limit=10_000
        )
        return self._models(docs)
