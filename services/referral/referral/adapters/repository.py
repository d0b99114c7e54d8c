"""Referrals and the agency read model in the document store."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kernel.consumer import upsert_versioned
from kernel.envelope import Envelope
from kernel.outbox import AggregateCollection
from kernel.store import Document, DocumentStore
from referral.domain.model import AgencyRef, DeadlineInfo, Referral, Status, Transition


def referral_to_document(r: Referral) -> dict[str, Any]:
    return {
        "_id": r.id,
        "sender_id": r.sender_id,
        "receiver_id": r.receiver_id,
        "matter_code": r.matter_code,
        "title": r.title,
        "facts": r.facts,
        "party": r.party,
        "place": r.place,
        "found_at": r.found_at,
        "urgent": r.urgent,
        "status": r.status.value,
        "created_at": r.created_at,
        "sent_at": r.sent_at,
        "accept_deadline": (
            {
                "kind": r.accept_deadline.kind,
                "due": r.accept_deadline.due,
                "explanation": r.accept_deadline.explanation,
            }
            if r.accept_deadline
            else None
        ),
        "history": [
            {
                "action": t.action,
                "actor_id": t.actor_id,
                "actor_name": t.actor_name,
                "agency_id": t.agency_id,
                "at": t.at,
                "before": t.before.value if t.before else None,
                "after": t.after.value,
                "note": t.note,
            }
            for t in r.history
        ],
    }


def referral_from_document(doc: Document) -> Referral:
    deadline = doc.get("accept_deadline")
    return Referral(
        id=doc["_id"],
        sender_id=doc["sender_id"],
        receiver_id=doc["receiver_id"],
        matter_code=doc["matter_code"],
        title=doc["title"],
        facts=doc["facts"],
        party=doc.get("party", ""),
        place=doc.get("place", ""),
        found_at=doc["found_at"],
        urgent=bool(doc.get("urgent", False)),
        status=Status(doc["status"]),
        created_at=doc["created_at"],
        sent_at=doc.get("sent_at"),
        accept_deadline=(
            DeadlineInfo(deadline["kind"], deadline["due"], deadline.get("explanation", {}))
            if deadline
            else None
        ),
        history=tuple(
            Transition(
                action=t["action"],
                actor_id=t["actor_id"],
                actor_name=t.get("actor_name", ""),
                agency_id=t["agency_id"],
                at=t["at"],
                before=Status(t["before"]) if t.get("before") else None,
                after=Status(t["after"]),
                note=t.get("note", ""),
            )
            for t in doc.get("history", [])
        ),
        version=int(doc.get("version", 0)),
    )


class ReferralRepository:
    def __init__(self, store: DocumentStore) -> None:
        self.aggregates = AggregateCollection(store.collection("referrals"))
        self._coll = self.aggregates.collection

    async def ensure_indexes(self) -> None:
        await self._coll.create_index(
            [("receiver_id", 1), ("status", 1), ("_id", 1)], name="by_receiver"
        )
        await self._coll.create_index(
            [("sender_id", 1), ("status", 1), ("_id", 1)], name="by_sender"
        )
        await self._coll.create_index([("status", 1), ("_id", 1)], name="by_status")

    async def get(self, referral_id: str) -> Referral | None:
        doc = await self.aggregates.get(referral_id)
        return referral_from_document(doc) if doc else None

    async def get_many(self, ids: Sequence[str]) -> dict[str, Referral]:
        docs = await self._coll.find({"_id": {"$in": list(ids)}})
        return {d["_id"]: referral_from_document(d) for d in docs}

    async def add(self, referral: Referral, events: Sequence[Envelope]) -> None:
        await self.aggregates.insert(referral_to_document(referral), events)

    async def save(self, referral: Referral, events: Sequence[Envelope]) -> int:
        fields = referral_to_document(referral)
        fields.pop("_id")
        return await self.aggregates.update(referral.id, referral.version, fields, events)

    async def list(
        self,
        *,
        status: str | None,
        sender_id: str | None,
        receiver_id: str | None,
        after: str | None,
        limit: int,
    ) -> list[Referral]:
        query: dict[str, Any] = {}
        if status:
            query["status"] = status
        if sender_id:
            query["sender_id"] = sender_id
        if receiver_id:
            query["receiver_id"] = receiver_id
        if after:
            query["_id"] = {"$gt": after}
        docs = await self._coll.find(query, sort=[("_id", 1)], limit=limit)
        return [referral_from_document(d) for d in docs]


class AgencyDirectory:
    """Read model of the district's agencies, fed by ``agency.registered.v1``."""

    def __init__(self, store: DocumentStore) -> None:
        self._coll = store.collection("agency_directory")

    async def put(self, agency: AgencyRef, source_version: int) -> bool:
        return await upsert_versioned(
            self._coll,
            agency.id,
            source_version,
            {"name": agency.name, "kind": agency.kind, "internal_unit": agency.internal_unit},
        )

    async def get(self, agency_id: str) -> AgencyRef | None:
        doc = await self._coll.find_one({"_id": agency_id})
        if doc is None:
            return None
        return AgencyRef(doc["_id"], doc["name"], doc["kind"], bool(doc.get("internal_unit")))
