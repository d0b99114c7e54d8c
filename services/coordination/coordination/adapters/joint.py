"""Joint operations (联合执法, R-JNT-01…04) and the inspections done for them (R-JNT-05) in
the document store. Tasks live inside their operation (one conditional update changes the
operation and its tasks together); inspections are a separate, append-only collection indexed
by target so the inspect-once check finds earlier inspections of a target quickly."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from coordination.adapters.cooperation import (
    _ModelRepository,
    _Repository,
    _with_id,
)
from coordination.domain.joint import Inspection, JointOperation
from kernel.dataclass_codec import from_document
from kernel.envelope import Envelope


class JointOperationRepository(_ModelRepository[JointOperation]):
    name = "joint_operations"
    model = JointOperation
    party_fields = ("participant_ids",)
    indexes = (
        ("by_lead", (("lead_id", 1), ("_id", 1))),
        ("by_participant", (("participant_ids", 1), ("_id", 1))),
        ("by_task_agency", (("task_agency_ids", 1), ("_id", 1))),
        ("by_task", (("tasks.id", 1),)),
    )

    @staticmethod
    def _doc(aggregate: Any) -> dict[str, Any]:
        doc = _Repository._doc(aggregate)
        # Indexed lists: "operations an agency takes part in" and "tasks of an agency".
        doc["participant_ids"] = [aggregate.lead_id, *aggregate.cooperating_ids]
        doc["task_agency_ids"] = sorted({t.agency_id for t in aggregate.tasks})
        return doc

    async def with_tasks_of(self, agency_id: str, *, limit: int = 500) -> list[JointOperation]:
        return self._models(await self._find({"task_agency_ids": agency_id}, None, limit))

    async def with_task(self, task_id: str) -> JointOperation | None:
        """The operation a task belongs to (task ids are unique across operations)."""
        found = self._models(await self._find({"tasks.id": task_id}, None, 1))
        return found[0] if found else None

    async def list(
        self,
        *,
        agency_id: str | None,
        status: str | None,
        basis: str | None,
        after: str | None,
        limit: int,
        party_id: str | None = None,
    ) -> list[JointOperation]:
        """``party_id``: only operations that agency leads or cooperates in (read access)."""
        query = self._listed(agency_id=agency_id, status=status, basis=basis)
        return self._models(await self._find(query, after, limit, party_id))

    async def count(
        self,
        *,
        agency_id: str | None,
        status: str | None,
        basis: str | None,
        party_id: str | None = None,
    ) -> int:
        """How many operations :meth:`list` pages through, all pages together."""
        query = self._listed(agency_id=agency_id, status=status, basis=basis)
        return await self._count(query, party_id)

    @staticmethod
    def _listed(*, agency_id: str | None, status: str | None, basis: str | None) -> dict[str, Any]:
        query: dict[str, Any] = {}
        if agency_id:
            query["participant_ids"] = agency_id
        if status:
            query["status"] = status
        if basis:
            query["basis"] = basis
        return query


class JointInspectionLog(_Repository):
    """Inspections per target (R-JNT-05): one immutable document each, written with its
    event."""

    name = "joint_inspections"
    indexes = (
        ("by_target", (("target_key", 1), ("inspected_at", 1), ("_id", 1))),
        ("by_operation", (("operation_id", 1), ("inspected_at", 1), ("_id", 1))),
    )

    async def record(self, inspection: Inspection, events: Sequence[Envelope]) -> None:
        await self._add(inspection, events)

    async def of_target(
        self, target_key: str, *, since: datetime, limit: int = 200
    ) -> list[Inspection]:
        docs = await self._coll.find(
            {"target_key": target_key, "inspected_at": {"$gte": since}},
            sort=[("inspected_at", -1), ("_id", 1)],
            limit=limit,
        )
        return [from_document(Inspection, _with_id(d)) for d in docs]

    async def of_operation(self, operation_id: str, *, limit: int = 500) -> list[Inspection]:
        docs = await self._coll.find(
            {"operation_id": operation_id}, sort=[("inspected_at", 1), ("_id", 1)], limit=limit
        )
        return [from_document(Inspection, _with_id(d)) for d in docs]
