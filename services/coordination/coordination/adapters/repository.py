"""Agencies in the document store (documents ↔ domain objects)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from coordination.domain.model import Agency, AgencyKind, Liaison
from kernel.envelope import Envelope
from kernel.outbox import AggregateCollection
from kernel.store import Document, DocumentStore


def agency_to_document(agency: Agency) -> dict[str, Any]:
    return {
        "_id": agency.id,
        "name": agency.name,
        "kind": agency.kind.value,
        "district": agency.district,
        "internal_unit": agency.internal_unit,
        "parent_id": agency.parent_id,
        "liaisons": [{"name": x.name, "phone": x.phone, "duty": x.duty} for x in agency.liaisons],
    }


def agency_from_document(doc: Document) -> Agency:
    return Agency(
        id=doc["_id"],
        name=doc["name"],
        kind=AgencyKind(doc["kind"]),
        district=doc["district"],
        internal_unit=bool(doc.get("internal_unit", False)),
        parent_id=doc.get("parent_id"),
        liaisons=tuple(Liaison(**x) for x in doc.get("liaisons", [])),
        version=int(doc.get("version", 0)),
    )


class AgencyRepository:
    def __init__(self, store: DocumentStore) -> None:
        self.aggregates = AggregateCollection(store.collection("agencies"))
        self._coll = self.aggregates.collection

    async def ensure_indexes(self) -> None:
        await self._coll.create_index([("kind", 1), ("_id", 1)], name="by_kind")

    async def get(self, agency_id: str) -> Agency | None:
        doc = await self.aggregates.get(agency_id)
        return agency_from_document(doc) if doc else None

    async def get_many(self, ids: Sequence[str]) -> dict[str, Agency]:
        docs = await self._coll.find({"_id": {"$in": list(ids)}})
        return {d["_id"]: agency_from_document(d) for d in docs}

    async def add(self, agency: Agency, events: Sequence[Envelope]) -> None:
        await self.aggregates.insert(agency_to_document(agency), events)

    async def replace(self, agency: Agency, events: Sequence[Envelope]) -> int:
        fields = agency_to_document(agency)
        fields.pop("_id")
        return await self.aggregates.update(agency.id, agency.version, fields, events)

    async def list(self, *, kind: str | None, after: str | None, limit: int) -> list[Agency]:
        query: dict[str, Any] = {}
        if kind:
            query["kind"] = kind
        if after:
            query["_id"] = {"$gt": after}
        docs = await self._coll.find(query, sort=[("_id", 1)], limit=limit)
        return [agency_from_document(d) for d in docs]
