"""Ratings (R-SUP-03) and the reads the supervision reports (R-SUP-02) need, in the
document store."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from kernel.envelope import Envelope
from kernel.outbox import AggregateCollection
from kernel.store import Document, DocumentStore, drop_obsolete_indexes
from notify.adapters.record import RecordRepository
from notify.domain.record import RecordEntry
from notify.domain.supervision import Rating

# The record is read in pages of this size when a report gathers its facts.
_PAGE = 500


def _rating_from_document(d: Document) -> Rating:
    return Rating(
        id=d["_id"],
        period=d["period"],
        direction=d["direction"],
        rater_agency_id=d["rater_agency_id"],
        ratee_agency_id=d["ratee_agency_id"],
        score=int(d["score"]),
        comment=d.get("comment") or "",
        rated_by=d["rated_by"],
        rated_at=d["rated_at"],
    )


class RatingRepository:
    """One document per period and ordered pair (the id), inserted with its event: a second
    rating of the same pair in the same period collides (ConcurrencyError, a Conflict)."""

    def __init__(self, store: DocumentStore) -> None:
        self.aggregates = AggregateCollection(store.collection("ratings"))
        self._coll = self.aggregates.collection

    async def ensure_indexes(self) -> None:
        # "Ratings between" in (time, id) order without an in-memory sort (issue 21).
        await self._coll.create_index([("rated_at", 1), ("_id", 1)], name="by_time_id")
        # What it replaced (issue 21's migration).
        await drop_obsolete_indexes(self._coll, [("by_time", (("rated_at", 1),))])

    async def add(self, rating: Rating, event: Envelope) -> None:
        fields: dict[str, Any] = asdict(rating)
        doc = {"_id": fields.pop("id"), **fields}
        await self.aggregates.insert(doc, [event])

    async def between(self, start: datetime, end: datetime) -> list[Rating]:
        docs = await self._coll.find(
            {"rated_at": {"$gte": start, "$lt": end}}, sort=[("rated_at", 1), ("_id", 1)]
        )
        return [_rating_from_document(d) for d in docs]


async def record_entries(
    records: RecordRepository,
    *,
    district: str,
    types: Sequence[str],
    time_from: datetime | None,
    time_to: datetime,
) -> list[RecordEntry]:
    """Every record entry of the types in the time range (all pages)."""
    out: list[RecordEntry] = []
    after: int | None = None
    while True:
        page = await records.search(
            district=district,
            types=list(types),
            time_from=time_from,
            time_to=time_to,
            after_seq=after,
            limit=_PAGE,
        )
        out.extend(page)
        if len(page) < _PAGE:
            return out
        after = page[-1].seq
