"""Referrals, complaints, electronic-transfer consents and the read models (agencies, the
matter catalogue) in the document store."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from kernel.changes import WRITES, ChangeSignal, ReadCache
from kernel.consumer import upsert_versioned
from kernel.contracts.catalogue import CatalogueEntryV1
from kernel.dataclass_codec import from_document, to_document
from kernel.envelope import Envelope
from kernel.errors import Conflict
from kernel.keyset import after_clause, keyset_sort, with_clauses
from kernel.outbox import AggregateCollection
from kernel.store import Document, DocumentStore, DuplicateKeyError
from referral.domain.complaint import Complaint
from referral.domain.model import AgencyRef, Referral, Status

#: The change events that make a cached read stale: every write.

SORT_FIELDS = {"created_at", "found_at", "open_due"}

#: Every list the graph offers is backed by one of these (filter, then sort key, _id).
INDEXES: tuple[tuple[str, list[tuple[str, int]]], ...] = (
    ("by_receiver", [("receiver_id", 1), ("status", 1), ("created_at", 1), ("_id", 1)]),
    ("by_sender", [("sender_id", 1), ("status", 1), ("created_at", 1), ("_id", 1)]),
    ("by_status", [("status", 1), ("created_at", 1), ("_id", 1)]),
    ("by_matter", [("matter_code", 1), ("created_at", 1), ("_id", 1)]),
    ("by_created", [("created_at", 1), ("_id", 1)]),
    ("by_found", [("found_at", 1), ("_id", 1)]),
    ("by_open_due", [("open_due", 1), ("_id", 1)]),
    ("by_complaint", [("complaint_link", 1)]),
    # A staff member's list (sender or receiver: the multikey ``parties``), in either order.
    ("by_party", [("parties", 1), ("created_at", 1), ("_id", 1)]),
    ("by_party_found", [("parties", 1), ("found_at", 1), ("_id", 1)]),
)


def referral_to_document(r: Referral) -> dict[str, Any]:
    doc: dict[str, Any] = to_document(r)
    doc["_id"] = doc.pop("id")
    doc.pop("version")
    # Denormalised for queries: the earliest running clock (overdue filter) and whether
    # the case is still open at the receiver.
    doc["open_due"] = r.open_due
    doc["complaint_link"] = r.complaint_id
    # Sender and receiver in one indexed list, so "referrals my agency is party to" is one
    # index range in created or found order (an $or of the two fields sorts in memory).
    doc["parties"] = sorted({r.sender_id, r.receiver_id})
    return doc


def referral_from_document(doc: Document) -> Referral:
    data = dict(doc)
    data["id"] = data.pop("_id")
    data["version"] = int(data.get("version", 0))
    legacy = data.get("accept_deadline")
    if "deadlines" not in data and legacy:
        # Documents written before clocks were kept as a list (issue 2's thin slice).
        data["deadlines"] = [
            {**legacy, "key": f"Referral:{data['id']}:referral.accept"},
        ]
    return from_document(Referral, data)


@dataclass(frozen=True)
class ReferralFilter:
    statuses: tuple[str, ...] = ()  # any of these (none: every status)
    sender_id: str | None = None
    receiver_id: str | None = None
    party_agency_id: str | None = None  # sender or receiver
    matter_code: str | None = None
    overdue_at: datetime | None = None  # only referrals with a clock past due at this time
    created_from: datetime | None = None
    created_to: datetime | None = None
    complaint_id: str | None = None
    crime_only: bool = False  # suspected-crime referrals (R-REF-10) only


class ReferralRepository:
    def __init__(self, store: DocumentStore) -> None:
        self.aggregates = AggregateCollection(store.collection("referrals"))
        self._coll = self.aggregates.collection
        # The graph's by-id reads (issue 21, P6), current while the change stream is live
        # (kernel.changes.ReadCache); the handlers read the store itself. 256 referrals of
        # ~9.5 KB stored each: a few MB at most, for the ones being looked at right now.
        self._reads: ReadCache[Referral] = ReadCache(ChangeSignal(self._coll, WRITES), size=256)

    async def stop_following(self) -> None:
        """Close the by-id read cache's change stream (the process stops)."""
        await self._reads.signal.close()

    async def ensure_indexes(self) -> None:
        for name, keys in INDEXES:
            await self._coll.create_index(keys, name=name)
        # Documents stored before ``parties`` existed (issue 21) get it once.
        while stale := await self._coll.find(
            {"parties": {"$exists": False}}, limit=500, projection=["sender_id", "receiver_id"]
        ):
            for doc in stale:
                parties = sorted({doc["sender_id"], doc["receiver_id"]})
                await self._coll.update_one({"_id": doc["_id"]}, {"$set": {"parties": parties}})

    async def get(self, referral_id: str) -> Referral | None:
        doc = await self.aggregates.get(referral_id)
        return referral_from_document(doc) if doc else None

    async def get_many(self, ids: Sequence[str]) -> dict[str, Referral]:
        """The referrals of ``ids`` that exist, for the graph's reads: from memory while
        current (``ReadCache``); callers check the read rule on each one."""
        return await self._reads.many(ids, self._load_many)

    async def _load_many(self, ids: list[str]) -> dict[str, Referral]:
        docs = await self._coll.find({"_id": {"$in": ids}})
        return {d["_id"]: referral_from_document(d) for d in docs}

    async def add(self, referral: Referral, events: Sequence[Envelope]) -> None:
        self._reads.forget()
        try:
            await self.aggregates.insert(referral_to_document(referral), events)
        finally:
            self._reads.forget()

    async def save(self, referral: Referral, events: Sequence[Envelope]) -> int:
        fields = referral_to_document(referral)
        fields.pop("_id")
        self._reads.forget()
        try:
            return await self.aggregates.update(referral.id, referral.version, fields, events)
        finally:
            self._reads.forget()

    async def search(
        self,
        f: ReferralFilter,
        *,
        sort_field: str = "created_at",
        descending: bool = False,
        after: tuple[Any, str] | None = None,
        limit: int,
    ) -> list[Referral]:
        """Keyset pagination over (sort_field, _id): stable and index-backed.

        Sorting by ``open_due`` lists only referrals with a running clock (the others have
        no due time to order by); with the overdue filter, ``by_open_due`` then serves the
        filter, the order and the cursor alike."""
        clauses = self._clauses(f, sort_field)
        if after is not None:
            clauses.append(after_clause(sort_field, descending, after))
        docs = await self._coll.find(
            with_clauses(clauses), sort=keyset_sort(sort_field, descending), limit=limit
        )
        return [referral_from_document(d) for d in docs]

    async def count(self, f: ReferralFilter, *, sort_field: str = "created_at") -> int:
        """How many referrals :meth:`search` lists for ``f``, all pages together."""
        return await self._coll.count(with_clauses(self._clauses(f, sort_field)))

    @staticmethod
    def _clauses(f: ReferralFilter, sort_field: str) -> list[dict[str, Any]]:
        if sort_field not in SORT_FIELDS:
            raise ValueError(f"cannot sort by {sort_field!r}")
        clauses: list[dict[str, Any]] = []
        if sort_field == "open_due" and f.overdue_at is None:
            clauses.append({"open_due": {"$ne": None}})
        if f.statuses:
            clauses.append(
                {"status": f.statuses[0]}
                if len(f.statuses) == 1
                else {"status": {"$in": list(f.statuses)}}
            )
        for name, value in (
            ("sender_id", f.sender_id),
            ("receiver_id", f.receiver_id),
            ("matter_code", f.matter_code),
            ("complaint_link", f.complaint_id),
        ):
            if value:
                clauses.append({name: value})
        if f.party_agency_id and f.party_agency_id not in (f.sender_id, f.receiver_id):
            # Sender or receiver. Left out when the filter already names the agency as one of
            # them (a clerk's received or sent list), which implies it: with the redundant
            # clause no compound index covered the filter, and SecantusDB read every
            # referral of the status for the receiver list (10,181 point reads a page for
            # 2,610 matches at 100,000 referrals; 2.5 times the time) while its explain
            # named by_receiver (issue 21, sessions 15-16).
            clauses.append({"parties": f.party_agency_id})
        if f.crime_only:
            clauses.append({"$or": [{"route": "crime"}, {"crime": {"$ne": None}}]})
        if f.overdue_at is not None:
            clauses.append({"open_due": {"$ne": None, "$lt": f.overdue_at}})
        if f.created_from is not None:
            clauses.append({"created_at": {"$gte": f.created_from}})
        if f.created_to is not None:
            clauses.append({"created_at": {"$lt": f.created_to}})
        return clauses

    async def with_open_clocks(self) -> list[Referral]:
        """Every referral with a running clock (``by_open_due``): what an official holiday
        schedule may move (issue 20)."""
        docs = await self._coll.find(
            {"open_due": {"$ne": None}}, sort=[("open_due", 1), ("_id", 1)]
        )
        return [referral_from_document(d) for d in docs]

    async def without_clock(
        self, finished: Sequence[str], *, limit: int = 10_000
    ) -> list[Referral]:
        """Referrals not in a ``finished`` state and with no running clock (the stall check's
        candidates; ``by_open_due`` serves the ``open_due: null`` half)."""
        docs = await self._coll.find(
            {"$and": [{"open_due": None}, {"status": {"$nin": list(finished)}}]},
            sort=[("created_at", 1), ("_id", 1)],
            limit=limit,
        )
        return [referral_from_document(d) for d in docs]

    async def open_for_delegation(self, department_id: str, matter_code: str) -> list[Referral]:
        """Every referral of this matter the department holds (R-REF-11); the handler
        decides which move and which stay."""
        docs = await self._coll.find(
            {"receiver_id": department_id, "matter_code": matter_code},
            sort=[("created_at", 1), ("_id", 1)],
        )
        return [referral_from_document(d) for d in docs]


def complaint_to_document(c: Complaint) -> dict[str, Any]:
    doc: dict[str, Any] = to_document(c)
    doc["_id"] = doc.pop("id")
    doc.pop("version")
    return doc


def complaint_from_document(doc: Document) -> Complaint:
    data = dict(doc)
    data["id"] = data.pop("_id")
    data["version"] = int(data.get("version", 0))
    return from_document(Complaint, data)


class ComplaintRepository:
    def __init__(self, store: DocumentStore) -> None:
        self.aggregates = AggregateCollection(store.collection("complaints"))
        self._coll = self.aggregates.collection

    async def ensure_indexes(self) -> None:
        for name, keys in (
            ("by_owner", [("owner_agency_id", 1), ("status", 1), ("received_at", 1), ("_id", 1)]),
            ("by_status", [("status", 1), ("received_at", 1), ("_id", 1)]),
            ("by_received", [("received_at", 1), ("_id", 1)]),
        ):
            await self._coll.create_index(keys, name=name)

    async def get(self, complaint_id: str) -> Complaint | None:
        doc = await self.aggregates.get(complaint_id)
        return complaint_from_document(doc) if doc else None

    async def get_many(self, ids: Sequence[str]) -> dict[str, Complaint]:
        docs = await self._coll.find({"_id": {"$in": list(ids)}})
        return {d["_id"]: complaint_from_document(d) for d in docs}

    async def add(self, complaint: Complaint, events: Sequence[Envelope]) -> None:
        await self.aggregates.insert(complaint_to_document(complaint), events)

    async def save(self, complaint: Complaint, events: Sequence[Envelope]) -> int:
        fields = complaint_to_document(complaint)
        fields.pop("_id")
        return await self.aggregates.update(complaint.id, complaint.version, fields, events)

    async def search(
        self,
        *,
        status: str | None,
        owner_agency_id: str | None,
        descending: bool,
        after: tuple[Any, str] | None,
        limit: int,
    ) -> list[Complaint]:
        clauses = self._clauses(status, owner_agency_id)
        if after is not None:
            clauses.append(after_clause("received_at", descending, after))
        docs = await self._coll.find(
            with_clauses(clauses), sort=keyset_sort("received_at", descending), limit=limit
        )
        return [complaint_from_document(d) for d in docs]

    async def count(self, *, status: str | None, owner_agency_id: str | None) -> int:
        """How many complaints :meth:`search` lists, all pages together."""
        return await self._coll.count(with_clauses(self._clauses(status, owner_agency_id)))

    @staticmethod
    def _clauses(status: str | None, owner_agency_id: str | None) -> list[dict[str, Any]]:
        clauses: list[dict[str, Any]] = []
        if status:
            clauses.append({"status": status})
        if owner_agency_id:
            clauses.append({"owner_agency_id": owner_agency_id})
        return clauses


class ElectronicConsents:
    """R-REF-12: per agency pair, whether the receiver accepts electronic transfers from
    the sender. One small aggregate per pair so its change and event land together."""

    def __init__(self, store: DocumentStore) -> None:
        self.aggregates = AggregateCollection(store.collection("electronic_consents"))

    @staticmethod
    def key(receiver_id: str, sender_id: str) -> str:
        return f"{receiver_id}<-{sender_id}"

    async def get(self, receiver_id: str, sender_id: str) -> tuple[bool, int]:
        """(consented, version); version 0 when never recorded."""
        doc = await self.aggregates.get(self.key(receiver_id, sender_id))
        if doc is None:
            return False, 0
        return bool(doc.get("consented")), int(doc["version"])

    async def put(
        self,
        receiver_id: str,
        sender_id: str,
        consented: bool,
        version: int,
        fields: dict[str, Any],
        events: Sequence[Envelope],
    ) -> None:
        key = self.key(receiver_id, sender_id)
        body = {"receiver_id": receiver_id, "sender_id": sender_id, "consented": consented}
        if version == 0:
            await self.aggregates.insert({"_id": key, **body, **fields}, events)
        else:
            await self.aggregates.update(key, version, {**body, **fields}, events)


class AgencyDirectory:
    """Read model of the district's agencies, fed by ``agency.registered.v1``."""

    def __init__(self, store: DocumentStore) -> None:
        self._coll = store.collection("agency_directory")

    async def put(
        self, agency: AgencyRef, source_version: int, liaison: str = "", document_code: str = ""
    ) -> bool:
        return await upsert_versioned(
            self._coll,
            agency.id,
            source_version,
            {
                "name": agency.name,
                "kind": agency.kind,
                "internal_unit": agency.internal_unit,
                "liaison": liaison,
                "document_code": document_code,
            },
        )

    async def document_code(self, agency_id: str) -> str:
        """The agency's 机关代字 as its registration names it ("" when it names none)."""
        doc = await self._coll.find_one({"_id": agency_id})
        return str(doc.get("document_code") or "") if doc else ""

    async def liaison(self, agency_id: str) -> str:
        """The agency's referral contact as the letter prints it ("" when unknown)."""
        doc = await self._coll.find_one({"_id": agency_id})
        return str(doc.get("liaison") or "") if doc else ""

    async def get(self, agency_id: str) -> AgencyRef | None:
        doc = await self._coll.find_one({"_id": agency_id})
        if doc is None:
            return None
        return AgencyRef(doc["_id"], doc["name"], doc["kind"], bool(doc.get("internal_unit")))

    async def first_of_kind(self, kind: str) -> AgencyRef | None:
        doc = await self._coll.find_one({"kind": kind, "internal_unit": False})
        if doc is None:
            return None
        return AgencyRef(doc["_id"], doc["name"], doc["kind"], False)


class WaitingDispatches:
    """Referred dispatches (R-GRD-01) that name an agency this service's directory does not
    know yet: each waits here, keyed by its dispatch id, with the agencies it waits for,
    until ``agency.registered.v1`` brings them (a dispatch is never dead-lettered for an
    agency registered a moment later). Parking twice keeps the first; the drafting that
    follows is itself idempotent (one dispatch, one referral)."""

    def __init__(self, store: DocumentStore) -> None:
        self._coll = store.collection("waiting_dispatches")

    async def ensure_indexes(self) -> None:
        await self._coll.create_index([("waiting_for", 1), ("_id", 1)], name="by_agency")

    async def park(self, dispatch_id: str, envelope: Envelope, waiting_for: list[str]) -> None:
        await self._coll.update_one(
            {"_id": dispatch_id},
            {
                "$setOnInsert": {
                    "envelope": envelope.to_document(),
                    "parked_at": envelope.time,
                },
                "$set": {"waiting_for": waiting_for},
            },
            upsert=True,
        )

    async def still_waiting(self, dispatch_id: str, waiting_for: list[str]) -> None:
        """A parked dispatch waits for ``waiting_for`` now; nothing when it was released
        meanwhile (drafted by another agency's registration: never parked anew)."""
        await self._coll.update_one({"_id": dispatch_id}, {"$set": {"waiting_for": waiting_for}})

    async def waiting_for(self, agency_id: str) -> list[Envelope]:
        docs = await self._coll.find({"waiting_for": agency_id}, sort=[("_id", 1)], limit=1000)
        return [Envelope.from_document(d["envelope"]) for d in docs]

    async def get(self, dispatch_id: str) -> Envelope | None:
        doc = await self._coll.find_one({"_id": dispatch_id})
        return Envelope.from_document(doc["envelope"]) if doc else None

    async def all(self, limit: int = 10_000) -> list[Document]:
        """Every parked dispatch (for the stall check): ``_id``, ``envelope``,
        ``waiting_for``, ``parked_at`` and, when the draft was refused, ``refused``."""
        return await self._coll.find({}, sort=[("_id", 1)], limit=limit)

    async def done(self, dispatch_id: str) -> None:
        await self._coll.delete_one({"_id": dispatch_id})

    async def refused(self, dispatch_id: str, reason: str) -> None:
        """Kept, waiting for nobody, with the reason the draft was refused (for the
        operator: nothing is lost)."""
        await self._coll.update_one(
            {"_id": dispatch_id}, {"$set": {"waiting_for": [], "refused": reason}}
        )


class LetterRegister:
    """发文登记: each agency's letter numbers (文号) for a year, 1, 2, 3, … with no gap and
    no number given twice, safe under concurrent sends in several replicas.

    One counter document per agency and year, moved only by an atomic ``$inc`` that also
    appends the drawing referral to the counter's ``drawn`` list in the same update (so the
    list's position *is* the number), and one claim per referral that binds its number: a
    send retried after a lost race or a failed write gets the number it already holds. The
    referral's claim is inserted before the counter moves (a unique ``_id``), so two sends
    of one referral cannot both draw a number. A process that dies between drawing the
    number and recording it in the claim leaves the claim without a number; the next send of
    that referral takes the claim over after ``stale`` and finds its number in ``drawn``, so
    no number is lost and none is drawn twice. The one number that can stay unused is that
    of a referral whose send died at that instant and which is never sent again (withdrawn):
    it stays bound to that referral.
    """

    def __init__(self, store: DocumentStore, *, stale: timedelta = timedelta(seconds=60)) -> None:
        self._coll = store.collection("letter_numbers")
        self.stale = stale

    async def ensure_indexes(self) -> None:
        await self._coll.create_index(
            [("agency_id", 1), ("year", 1), ("number", 1)], name="register"
        )

    @staticmethod
    def _counter(agency_id: str, year: int) -> str:
        return f"counter:{agency_id}:{year}"

    @staticmethod
    def _claim(agency_id: str, year: int, referral_id: str) -> str:
        return f"referral:{agency_id}:{year}:{referral_id}"

    async def number_for(self, agency_id: str, year: int, referral_id: str, now: datetime) -> int:
        """The referral's number in the agency's sequence for ``year`` (drawn once)."""
        claim_id = self._claim(agency_id, year, referral_id)
        try:
            await self._coll.insert_one(
                {
                    "_id": claim_id,
                    "agency_id": agency_id,
                    "year": year,
                    "referral_id": referral_id,
                    "number": None,
                    "claimed_at": now,
                }
            )
        except DuplicateKeyError:
            held = await self._coll.find_one({"_id": claim_id})
            if held is not None and held.get("number") is not None:
                return int(held["number"])
            # Someone else is numbering this referral now, or died doing it: take an
            # abandoned claim over, never a live one.
            taken = await self._coll.find_one_and_update(
                {"_id": claim_id, "number": None, "claimed_at": {"$lt": now - self.stale}},
                {"$set": {"claimed_at": now}},
            )
            if taken is None:
                raise Conflict(
                    f"referral {referral_id!r} is being sent by another request; try again",
                    field="id",
                ) from None
            # A send of this referral that died after drawing left its number in the
            # counter's ``drawn`` list: it is this referral's, not a gap.
            drawn = await self._drawn(agency_id, year, referral_id)
            if drawn is not None:
                await self._coll.update_one({"_id": claim_id}, {"$set": {"number": drawn}})
                return drawn
        counter = self._counter(agency_id, year)
        with contextlib.suppress(DuplicateKeyError):  # the year's counter exists
            await self._coll.insert_one(
                {"_id": counter, "agency_id": agency_id, "year": year, "last": 0, "drawn": []}
            )
        moved = await self._coll.find_one_and_update(
            {"_id": counter}, {"$inc": {"last": 1}, "$push": {"drawn": referral_id}}
        )
        assert moved is not None  # inserted above, never deleted
        number = int(moved["last"])
        await self._coll.update_one({"_id": claim_id}, {"$set": {"number": number}})
        return number

    async def _drawn(self, agency_id: str, year: int, referral_id: str) -> int | None:
        """The number the counter gave ``referral_id``, if it drew one: ``drawn`` grows by
        one referral per ``$inc``, so its position is the number (counted from the end, in
        case the counter was older than the list)."""
        counter = await self._coll.find_one({"_id": self._counter(agency_id, year)})
        if counter is None:
            return None
        drawn: list[str] = list(counter.get("drawn") or [])
        if referral_id not in drawn:
            return None
        return int(counter["last"]) - len(drawn) + drawn.index(referral_id) + 1

    async def issued(self, agency_id: str, year: int) -> list[tuple[int, str]]:
        """The register of the year: (number, referral id) in number order."""
        docs = await self._coll.find(
            {"agency_id": agency_id, "year": year, "number": {"$ne": None}},
            sort=[("number", 1)],
        )
        return [(int(d["number"]), str(d["referral_id"])) for d in docs]


class CatalogueReadModel:
    """The matter catalogue as coordination publishes it (``catalogue.entry_changed.v1``),
    one full snapshot per entry, versioned so redelivery and reordering are harmless."""

    def __init__(self, store: DocumentStore) -> None:
        self._coll = store.collection("catalogue")

    async def put(self, entry: CatalogueEntryV1) -> bool:
        return await upsert_versioned(
            self._coll, entry.code, entry.version, {"entry": entry.model_dump(mode="json")}
        )

    async def get(self, code: str) -> CatalogueEntryV1 | None:
        doc = await self._coll.find_one({"_id": code})
        if doc is None:
            return None
        return CatalogueEntryV1.model_validate(doc["entry"])


__all__ = [
    "AgencyDirectory",
    "CatalogueReadModel",
    "ComplaintRepository",
    "ElectronicConsents",
    "LetterRegister",
    "ReferralFilter",
    "ReferralRepository",
    "Status",
]
