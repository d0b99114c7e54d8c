"""The catalogue read model (who owns each matter) and the reports notify receives
(approvals, hazards) in the document store."""

from __future__ import annotations

from typing import Any

from kernel.consumer import upsert_versioned
from kernel.envelope import Envelope
from kernel.outbox import AggregateCollection
from kernel.store import DocumentStore


class CatalogueOwners:
    """Read model of ``catalogue.entry_changed.v1``: matter code → the original department
    (原主管部门) and the matter's name. Versioned, so redelivered or reordered snapshots are
    harmless."""

    def __init__(self, store: DocumentStore) -> None:
        self._coll = store.collection("catalogue_owners")

    async def put(
        self, code: str, name: str, department_id: str, withdrawn: bool, version: int
    ) -> bool:
        return await upsert_versioned(
            self._coll,
            code,
            version,
            {"name": name, "department_id": department_id, "withdrawn": withdrawn},
        )

    async def get(self, code: str) -> tuple[str, str] | None:
        """(department id, matter name) of a matter in force; None when unknown/withdrawn."""
        doc = await self._coll.find_one({"_id": code})
        if doc is None or doc.get("withdrawn"):
            return None
        return str(doc["department_id"]), str(doc["name"])


class Reports:
    """Approvals and hazards reported through notify's mutations, each stored with the
    event that announces it in one write (the outbox), so the fact and its event cannot
    part."""

    def __init__(self, store: DocumentStore) -> None:
        self.approvals = AggregateCollection(store.collection("approval_reports"))
        self.hazards = AggregateCollection(store.collection("hazard_reports"))
        self.penalties = AggregateCollection(store.collection("penalty_decision_reports"))
        self.standards = AggregateCollection(store.collection("standard_changes"))

    async def add_approval(self, doc: dict[str, Any], event: Envelope) -> None:
        await self.approvals.insert(doc, [event])

    async def add_hazard(self, doc: dict[str, Any], event: Envelope) -> None:
        await self.hazards.insert(doc, [event])

    async def add_penalty(self, doc: dict[str, Any], event: Envelope) -> None:
        await self.penalties.insert(doc, [event])

    async def add_standard_change(self, doc: dict[str, Any], event: Envelope) -> None:
        await self.standards.insert(doc, [event])
