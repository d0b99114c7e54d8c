"""Inbox items and the agency read model in the document store."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from kernel.changes import WRITES, ChangeSignal, ReadCache
from kernel.consumer import upsert_versioned
from kernel.store import Document, DocumentStore, DuplicateKeyError
from notify.domain.model import InboxItem

_FIELDS = (
    "agency_id",
    "kind",
    "title",
    "body",
    "subject_type",
    "subject_id",
    "source_event_id",
    "created_at",
    "due_at",
    "urgent",
    "read_at",
    "read_by",
    "audience",
    "receipt_required",
    "links",
)


def item_to_document(item: InboxItem) -> dict[str, Any]:
    doc = {"_id": item.id, **{f: getattr(item, f) for f in _FIELDS}}
    doc["links"] = list(item.links)
    return doc


def item_from_document(doc: Document) -> InboxItem:
    fields: dict[str, Any] = {f: doc.get(f) for f in _FIELDS}
    # Items stored before these fields existed read with the defaults.
    fields["audience"] = fields["audience"] or "agency"
    fields["receipt_required"] = (
        True if fields["receipt_required"] is None else fields["receipt_required"]
    )
    fields["links"] = tuple(fields["links"] or ())
    return InboxItem(id=doc["_id"], **fields)


class InboxRepository:
    def __init__(
        self, store: DocumentStore, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._coll = store.collection("inbox_items")
        self._clock = clock
        # Wakes live inbox subscriptions at each new item where the store streams changes.
        self.changes = ChangeSignal(self._coll, {"operationType": "insert"})
        # An agency's first page and its counts, the inbox reads every staff member's screen
        # repeats (issue 21, P1: the store read was a fifth of notify's CPU in the
        # three-subgraph query), current while the change stream is live: any write to the
        # inbox, here or in another replica, drops them all (kernel.changes.ReadCache).
        # Pages after a cursor always read the store.
        self.page_changes = ChangeSignal(self._coll, WRITES)
        self._first_pages: ReadCache[tuple[InboxItem, ...]] = ReadCache(self.page_changes, size=256)
        self._counts: ReadCache[int] = ReadCache(self.page_changes, size=512)

    async def stop_following(self) -> None:
        """Close the change streams this repository follows (the process stops)."""
        await self.changes.close()
        await self.page_changes.close()

    def _forget(self) -> None:
        # One signal serves both caches: forgetting through one moves the generation both
        # check.
        self._first_pages.forget()
        self._counts.forget()

    async def ensure_indexes(self) -> None:
        await self._coll.create_index(
            [("agency_id", 1), ("created_at", -1), ("_id", -1)], name="by_agency"
        )
        await self._coll.create_index([("subject_id", 1)], name="by_subject")
        await self._coll.create_index(
            [("agency_id", 1), ("added_at", 1), ("_id", 1)], name="by_agency_added"
        )

    async def add(self, item: InboxItem) -> bool:
        """Insert; False when it is already there (a redelivered event).

        ``added_at`` is when it was stored (``created_at`` is when the fact happened, which
        may be earlier): live subscribers follow ``added_at``.
        """
        self._forget()
        try:
            await self._coll.insert_one({**item_to_document(item), "added_at": self._clock()})
        except DuplicateKeyError:
            return False
        finally:
            self._forget()
        return True

    def now(self) -> datetime:
        return self._clock()

    async def added_since(
        self, agency_id: str, since: datetime, *, limit: int = 100
    ) -> list[tuple[datetime, InboxItem]]:
        """Items stored for the agency at or after ``since``, oldest first."""
        docs = await self._coll.find(
            {"agency_id": agency_id, "added_at": {"$gte": since}},
            sort=[("added_at", 1), ("_id", 1)],
            limit=limit,
        )
        return [(d["added_at"], item_from_document(d)) for d in docs]

    async def get(self, item_id: str) -> InboxItem | None:
        doc = await self._coll.find_one({"_id": item_id})
        return item_from_document(doc) if doc else None

    async def mark_read(self, item: InboxItem) -> bool:
        """Record the receipt unless someone signed first; True when this call recorded it."""
        self._forget()
        try:
            matched = await self._coll.update_one(
                {"_id": item.id, "read_at": None},
                {"$set": {"read_at": item.read_at, "read_by": item.read_by}},
            )
        finally:
            self._forget()
        return matched == 1

    async def for_agency(
        self,
        agency_id: str,
        *,
        unread_only: bool,
        before: tuple[datetime, str] | None,
        limit: int,
    ) -> list[InboxItem]:
        """The agency's items, newest first, before the cursor ``(created_at, id)``; the
        first page (no cursor) from memory while current."""
        if before is not None:
            return await self._page(agency_id, unread_only=unread_only, before=before, limit=limit)
        key = f"{agency_id}\0{int(unread_only)}\0{limit}"

        async def first_page(_: list[str]) -> dict[str, tuple[InboxItem, ...]]:
            page = await self._page(agency_id, unread_only=unread_only, before=None, limit=limit)
            return {key: tuple(page)}

        return list((await self._first_pages.many([key], first_page))[key])

    async def _page(
        self,
        agency_id: str,
        *,
        unread_only: bool,
        before: tuple[datetime, str] | None,
        limit: int,
    ) -> list[InboxItem]:
        query: dict[str, Any] = {"agency_id": agency_id}
        if unread_only:
            query["read_at"] = None
        if before is not None:
            at, last_id = before
            query["$or"] = [
                {"created_at": {"$lt": at}},
                {"created_at": at, "_id": {"$lt": last_id}},
            ]
        docs = await self._coll.find(query, sort=[("created_at", -1), ("_id", -1)], limit=limit)
        return [item_from_document(d) for d in docs]

    async def count(self, agency_id: str, *, unread_only: bool) -> int:
        """How many items :meth:`for_agency` lists, all pages together; unread only: nobody
        has signed for them yet (served by ``by_agency``); from memory while current."""
        query: dict[str, Any] = {"agency_id": agency_id}
        if unread_only:
            query["read_at"] = None
        key = f"{agency_id}\0{int(unread_only)}"

        async def counted(_: list[str]) -> dict[str, int]:
            return {key: await self._coll.count(query)}

        return (await self._counts.many([key], counted))[key]

    async def for_subjects(self, subject_ids: Sequence[str]) -> dict[str, list[InboxItem]]:
        docs = await self._coll.find(
            {"subject_id": {"$in": list(subject_ids)}}, sort=[("created_at", 1), ("_id", 1)]
        )
        out: dict[str, list[InboxItem]] = {s: [] for s in subject_ids}
        for d in docs:
            out[d["subject_id"]].append(item_from_document(d))
        return out


class AgencyNames:
    """Read model: agency names (for the texts of notices) and kinds (to find the district's
    justice bureau, the supervising body of R-SUP-02).

    :meth:`name` answers from a per-process cache for ``NAME_TTL`` seconds (every notice
    names an agency: one store read per event saved, issue 21). This process's own
    :meth:`put` drops the entry at once; a rename consumed by another replica reaches this
    one's notices within ``NAME_TTL``."""

    NAME_TTL = 30.0

    def __init__(
        self, store: DocumentStore, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._coll = store.collection("agency_directory")
        self._monotonic = monotonic
        self._names: dict[str, tuple[float, str]] = {}  # id → (read at, name)

    async def ensure_indexes(self) -> None:
        await self._coll.create_index([("kind", 1)], name="by_kind")

    async def first_of_kind(self, kind: str) -> str | None:
        docs = await self._coll.find({"kind": kind}, sort=[("_id", 1)], limit=1)
        return str(docs[0]["_id"]) if docs else None

    async def put(self, agency_id: str, name: str, kind: str, version: int) -> bool:
        stored = await upsert_versioned(
            self._coll, agency_id, version, {"name": name, "kind": kind}
        )
        self._names.pop(agency_id, None)  # after the write: a read meanwhile saw the old name
        return stored

    async def kind(self, agency_id: str) -> str | None:
        doc = await self._coll.find_one({"_id": agency_id})
        return str(doc["kind"]) if doc else None

    async def all(self) -> dict[str, tuple[str, str]]:
        """Every known agency: id → (name, kind)."""
        docs = await self._coll.find({}, sort=[("_id", 1)])
        return {str(d["_id"]): (str(d["name"]), str(d["kind"])) for d in docs}

    async def name(self, agency_id: str) -> str:
        now = self._monotonic()
        cached = self._names.get(agency_id)
        if cached is not None and now - cached[0] < self.NAME_TTL:
            return cached[1]
        doc = await self._coll.find_one({"_id": agency_id})
        if doc is None:
            return agency_id  # not registered yet: not cached, it may be any moment
        self._names[agency_id] = (now, str(doc["name"]))
        return str(doc["name"])
