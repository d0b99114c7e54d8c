"""The full-process record (R-SUP-01) in the document store: append-only, hash-chained.

This module has an insert and reads; there is no update or delete of an entry anywhere in
notify. Appending links the entry to the district's last one (``seq`` + 1, its ``hash`` as
``prev_hash``, see ``notify.domain.record``) and inserts it under a unique index on
(``district``, ``seq``): when another replica appended first, the insert collides and the
append reads the new last entry and tries again. So ``seq`` has no gaps and each entry links
to its real predecessor however many replicas append at once (a counter document would hand
out numbers that a failed insert never uses, and a gap would break the chain). A redelivered
event collides on ``_id`` instead and is recognised as already recorded.

The repository remembers the tip (last ``seq`` and ``hash``) of each district it appended
to, so an append is one insert while this replica is the only writer; a stale tip can only
collide (``seq`` is gapless and unique), and a collision reads the real tip from the store.
Appends of one process take turns (a lock per district), so the consumer's concurrent
deliveries do not collide with one another: only other replicas cause collisions. The
appends that queue while one is written go together at the next turn: linked one after
another and inserted in one ordered request. Issue 21, P5: appends went one insert at a
time, and each was a new caller of the collection's group commit, which holds a new caller's
document for ``INSERT_LINGER`` (``kernel.adapters.mongo_writes``): at most ~90 appends/s, so
at 200 events/s the record queue grew by ~135 events a second. When that insert collides, the
entries already stored are told apart by their ids (this batch's own, at the ``seq`` it
gave them, or a redelivered event's, recorded before) and the rest are linked again.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from kernel.store import Document, DocumentStore, DuplicateKeyError
from kernel.tasks import copy_exception
from notify.domain.record import (
    GENESIS_HASH,
    ChainReport,
    ChainVerifier,
    RecordEntry,
    chained,
)

#: Appends racing for the same ``seq`` retry this often before giving up (the bus then
#: redelivers the event, so even then nothing is lost).
MAX_APPEND_ATTEMPTS = 200
#: At most this many queued appends of one district share an insert.
APPEND_BATCH = 256

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
    "prev_hash",
    "hash",
)


def _to_document(e: RecordEntry) -> dict[str, Any]:
    doc: dict[str, Any] = {"_id": e.event_id, **{f: getattr(e, f) for f in _FIELDS}}
    doc["agency_ids"] = list(e.agency_ids)
    return doc


def _from_document(d: Document) -> RecordEntry:
    fields: dict[str, Any] = {f: d.get(f) for f in _FIELDS}
    # Entries written before the chain existed have no hashes: they verify as broken.
    fields["prev_hash"] = fields["prev_hash"] or ""
    fields["hash"] = fields["hash"] or ""
    return RecordEntry(event_id=d["_id"], agency_ids=tuple(d.get("agency_ids") or ()), **fields)


class ChainContentionError(RuntimeError):
    """Other appends won the race for the next ``seq`` too many times in a row."""


class RecordRepository:
    def __init__(self, store: DocumentStore) -> None:
        self._coll = store.collection("process_record")
        self._tips: dict[str, tuple[int, str]] = {}  # district → (seq, hash) last appended
        # district → a seq known to be stored: the chain's last entry is at or after it
        # (entries are never removed), so looking for that entry reads only what follows.
        self._stored_seq: dict[str, int] = {}
        self._turns: dict[str, asyncio.Lock] = {}  # district → appends of this process
        # district → appends waiting for a turn, in arrival order
        self._queued: dict[str, list[tuple[RecordEntry, asyncio.Future[RecordEntry | None]]]] = {}

    async def ensure_indexes(self) -> None:
        await self._coll.create_index([("district", 1), ("seq", 1)], unique=True, name="by_seq")
        await self._coll.create_index([("subject", 1), ("seq", 1)], name="by_subject")
        await self._coll.create_index([("agency_ids", 1), ("seq", 1)], name="by_agency")
        await self._coll.create_index([("type", 1), ("seq", 1)], name="by_type")
        await self._coll.create_index([("time", 1)], name="by_time")

    async def _last(self, district: str) -> Document | None:
        # From the seq known to be stored on: the whole district's range was read for this
        # one entry by a server that walks an index range before the limit (SecantusDB: 0.7 s
        # at 70,000 entries; issue 21, P5, session 13).
        query: dict[str, Any] = {"district": district}
        floor = self._stored_seq.get(district)
        if floor is not None:
            query["seq"] = {"$gte": floor}
        docs = await self._coll.find(query, sort=[("seq", -1)], limit=1)
        if docs:
            self._stored_seq[district] = int(docs[0]["seq"])
        return docs[0] if docs else None

    async def append(self, entry: RecordEntry) -> RecordEntry | None:
        """Append as the district's next entry of the chain; None when the event is already
        recorded (the insert collides on the event id; no read first, issue 21). Appends
        queued behind another's turn are written together (module docstring)."""
        district = entry.district
        future: asyncio.Future[RecordEntry | None] = asyncio.get_running_loop().create_future()
        queued = self._queued.setdefault(district, [])
        queued.append((entry, future))
        try:
            async with self._turns.setdefault(district, asyncio.Lock()):
                while not future.done():
                    batch = queued[:APPEND_BATCH]
                    del queued[:APPEND_BATCH]
                    try:
                        await self._append_batch(district, batch)
                    except asyncio.CancelledError:
                        # The others' entries not written go back to the head of the queue
                        # for the next turn.
                        queued[:0] = [(e, f) for e, f in batch if f is not future and not f.done()]
                        raise
                    except Exception as exc:  # every append of the batch fails with it
                        for _, waiting in batch:
                            if not waiting.done():
                                waiting.set_exception(copy_exception(exc))
        except asyncio.CancelledError:
            # This append stops (its consumer does): its entry is not written unless it
            # left already (then the redelivered event is recognised by its id).
            future.cancel()
            raise
        return future.result()

    async def _append_batch(
        self,
        district: str,
        batch: list[tuple[RecordEntry, asyncio.Future[RecordEntry | None]]],
    ) -> None:
        for attempt in range(MAX_APPEND_ATTEMPTS):
            pending = [(e, f) for e, f in batch if not f.done()]
            if not pending:
                return
            tip = self._tips.get(district)
            if tip is None:
                last = await self._last(district)
                tip = (int(last["seq"]), str(last.get("hash") or "")) if last else (0, GENESIS_HASH)
            linked: list[RecordEntry] = []
            for e, _ in pending:
                link = chained(e, tip[0] + 1, tip[1])
                linked.append(link)
                tip = (link.seq, link.hash)
            docs = [_to_document(link) for link in linked]
            try:
                if len(docs) == 1:
                    await self._coll.insert_one(docs[0])
                else:
                    await self._coll.insert_many(docs)  # ordered: a prefix may stay
            except DuplicateKeyError:
                self._tips.pop(district, None)
                ids = [link.event_id for link in linked]
                stored = {d["_id"]: d for d in await self._coll.find({"_id": {"$in": ids}})}
                settled = False
                for (_, waiting), link in zip(pending, linked, strict=True):
                    found = stored.get(link.event_id)
                    if found is None or waiting.done():
                        continue
                    ours = int(found["seq"]) == link.seq and found.get("hash") == link.hash
                    # Not ours: this very event is recorded already (a redelivery).
                    waiting.set_result(link if ours else None)
                    settled = True
                if not settled:
                    # Another replica took this seq: link to its entry instead. A short
                    # random pause keeps a crowd of replicas from colliding in lockstep.
                    await asyncio.sleep(random.uniform(0, 0.002 * min(attempt + 1, 10)))
                continue
            for (_, waiting), link in zip(pending, linked, strict=True):
                if not waiting.done():
                    waiting.set_result(link)
            self._tips[district] = tip
            self._stored_seq[district] = tip[0]
            return
        raise ChainContentionError(
            f"could not append {len(batch)} event(s) to the record of {district!r} "
            f"after {MAX_APPEND_ATTEMPTS} attempts"
        )

    async def chain(self, district: str, *, page: int = 500) -> AsyncIterator[RecordEntry]:
        """The district's entries in ``seq`` order, read page by page."""
        after = 0
        while True:
            docs = await self._coll.find(
                {"district": district, "seq": {"$gt": after}}, sort=[("seq", 1)], limit=page
            )
            for d in docs:
                yield _from_document(d)
            if len(docs) < page:
                return
            after = int(docs[-1]["seq"])

    async def verify(self, district: str) -> ChainReport:
        """Verify the district's hash chain; the report names the first broken entry."""
        verifier = ChainVerifier()
        async for e in self.chain(district):
            if not verifier.feed([e]):
                break
        return verifier.report()

    async def tip(self, district: str) -> tuple[int, str] | None:
        """(seq, hash) of the district's last entry as stored, or None when empty."""
        last = await self._last(district)
        return (int(last["seq"]), str(last.get("hash") or "")) if last else None

    async def hash_at(self, district: str, seq: int) -> str | None:
        """The stored hash of entry ``seq`` of the district, or None when there is none."""
        doc = await self._coll.find_one({"district": district, "seq": seq})
        return str(doc.get("hash") or "") if doc else None

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
        descending: bool = False,
        count: bool = False,
    ) -> Any:
        """Entries in ``seq`` order (oldest first, newest first when ``descending``), after
        ``after_seq`` (the cursor); with ``count``, how many match all pages together."""
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
        if count:
            return await self._coll.count(query)
        if after_seq is not None:
            query["seq"] = {"$lt" if descending else "$gt": after_seq}
        docs = await self._coll.find(query, sort=[("seq", -1 if descending else 1)], limit=limit)
        return [_from_document(d) for d in docs]
