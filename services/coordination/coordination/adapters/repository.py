"""Agencies, catalogue entries and disputes in the document store (documents ↔ domain
objects)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, Generic, TypeVar

from coordination.adapters.cooperation import _Repository
from coordination.domain.catalogue import (
    CatalogueEntry,
    Delegation,
    DelegationMode,
    EntryContent,
    EntryVersion,
    RoutingRule,
    SignOff,
)
from coordination.domain.dispute import (
    AgreementConfirmation,
    Dispute,
    DisputeKind,
    DisputeStatus,
    DisputeTransition,
    Outcome,
    OutcomeKind,
    ProposedAgreement,
    StepPlan,
    StepRecord,
    TransferReason,
)
from coordination.domain.model import Agency, AgencyKind, Liaison
from kernel.changes import WRITES, ChangeSignal, ReadCache
from kernel.envelope import Envelope
from kernel.keyset import ListQuery, ListShape, with_clauses
from kernel.store import Document, DocumentStore, ObsoleteIndex

T = TypeVar("T")


def agency_to_document(agency: Agency) -> dict[str, Any]:
    return {
        "_id": agency.id,
        "name": agency.name,
        "kind": agency.kind.value,
        "district": agency.district,
        "internal_unit": agency.internal_unit,
        "parent_id": agency.parent_id,
        "liaisons": [{"name": x.name, "phone": x.phone, "duty": x.duty} for x in agency.liaisons],
        "document_code": agency.document_code,
        "commanded_by_id": agency.commanded_by_id,
        "guided_by_id": agency.guided_by_id,
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
        document_code=str(doc.get("document_code") or ""),
        commanded_by_id=doc.get("commanded_by_id"),
        guided_by_id=doc.get("guided_by_id"),
    )


class _MappedRepository(_Repository, Generic[T]):
    """An aggregate collection whose documents this module maps by hand: ``_doc`` writes
    one, ``_model`` reads one back."""

    def _model(self, doc: Document) -> T:
        raise NotImplementedError

    async def get(self, key: str) -> T | None:
        doc = await self.aggregates.get(key)
        return self._model(doc) if doc else None

    async def get_many(self, keys: Sequence[str]) -> dict[str, T]:
        docs = await self._coll.find({"_id": {"$in": list(keys)}})
        return {d["_id"]: self._model(d) for d in docs}


class AgencyRepository(_MappedRepository[Agency]):
    name = "agencies"
    indexes = (("by_kind", (("kind", 1), ("_id", 1))),)

    def __init__(self, store: DocumentStore) -> None:
        super().__init__(store)
        # The graph resolves the agencies of nearly everything it returns (a referral's
        # sender and receiver, an inbox's owner): from memory while current
        # (kernel.changes.ReadCache; issue 21, P1: the read was a fifth of coordination's
        # CPU per three-subgraph query). Agencies change rarely; the handlers read the store.
        self._reads: ReadCache[Agency] = ReadCache(ChangeSignal(self._coll, WRITES), size=1024)

    async def stop_following(self) -> None:
        """Close the read cache's change stream (the process stops)."""
        await self._reads.signal.close()

    @staticmethod
    def _doc(aggregate: Any) -> dict[str, Any]:
        return agency_to_document(aggregate)

    def _model(self, doc: Document) -> Agency:
        return agency_from_document(doc)

    async def read_many(self, ids: Sequence[str]) -> dict[str, Agency]:
        """The agencies of ``ids`` that exist, for the graph's reads (``ReadCache``)."""
        return await self._reads.many(ids, self.get_many)

    async def add(self, agency: Agency, events: Sequence[Envelope]) -> None:
        self._reads.forget()
        try:
            await self._add(agency, events)
        finally:
            self._reads.forget()

    async def replace(self, agency: Agency, events: Sequence[Envelope]) -> int:
        self._reads.forget()
        try:
            return await self._save(agency, events)
        finally:
            self._reads.forget()

    async def of_kind(self, kind: str) -> list[Agency]:
        return await self.list(kind=kind, after=None, limit=500)

    async def list(self, *, kind: str | None, after: str | None, limit: int) -> list[Agency]:
        query: dict[str, Any] = {"kind": kind} if kind else {}
        if after:
            query["_id"] = {"$gt": after}
        docs = await self._coll.find(query, sort=[("_id", 1)], limit=limit)
        return [agency_from_document(d) for d in docs]

    async def count(self, *, kind: str | None) -> int:
        """How many agencies :meth:`list` pages through, all pages together."""
        return await self._coll.count({"kind": kind} if kind else {})


# --------------------------------------------------------------------------- catalogue


def _d(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def entry_to_document(entry: CatalogueEntry) -> dict[str, Any]:
    snap = entry.snapshot()
    return {
        "_id": entry.code,
        **snap,
        "townships": sorted(entry.townships),
        "history": [
            {
                "version": h.version,
                "at": h.at,
                "actor_id": h.actor_id,
                "actor_agency_id": h.actor_agency_id,
                "change": h.change,
                "summary_zh": h.summary_zh,
                "snapshot": h.snapshot,
            }
            for h in entry.history
        ],
    }


def content_from_snapshot(snap: Document) -> EntryContent:
    return EntryContent(
        code=snap["code"],
        name=snap["name"],
        original_department_id=snap["original_department_id"],
        legal_basis=snap.get("legal_basis", ""),
        penalty_basis=snap.get("penalty_basis", ""),
        discretion_benchmark=snap.get("discretion_benchmark", ""),
        delegations=tuple(
            Delegation(
                township_id=d["township_id"],
                mode=DelegationMode(d["mode"]),
                effective_from=date.fromisoformat(d["effective_from"]),
                expires_on=_d(d.get("expires_on")),
                transition_until=_d(d.get("transition_until")),
                review=_sign_off(d.get("review")),
                approval=_sign_off(d.get("approval")),
            )
            for d in snap.get("delegations", [])
        ),
    )


def rules_from_snapshot(snap: Document) -> tuple[RoutingRule, ...]:
    return tuple(
        RoutingRule(
            rule_id=r["rule_id"],
            responsible_agency_id=r["responsible_agency_id"],
            effective_from=date.fromisoformat(r["effective_from"]),
            township_id=r.get("township_id"),
            dispute_id=r.get("dispute_id"),
            basis=r.get("basis", ""),
            major_penalty_exception=bool(r.get("major_penalty_exception", False)),
        )
        for r in snap.get("routing_rules", [])
    )


def _sign_off(doc: Document | None) -> SignOff | None:
    if not doc:
        return None
    return SignOff(doc["agency_id"], doc["actor_id"], date.fromisoformat(doc["on"]), doc["text"])


def entry_from_document(doc: Document) -> CatalogueEntry:
    return CatalogueEntry(
        content=content_from_snapshot(doc),
        routing_rules=rules_from_snapshot(doc),
        withdrawn=bool(doc.get("withdrawn", False)),
        history=tuple(
            EntryVersion(
                version=h["version"],
                at=h["at"],
                actor_id=h["actor_id"],
                actor_agency_id=h.get("actor_agency_id"),
                change=h["change"],
                summary_zh=h["summary_zh"],
                snapshot=h["snapshot"],
            )
            for h in doc.get("history", [])
        ),
        version=int(doc.get("version", 0)),
    )


class CatalogueRepository(_MappedRepository[CatalogueEntry]):
    """Catalogue entries, one document per matter code with its whole version history (an
    entry changes a few times a year, so the history stays small and every change — state,
    history record and events — is one conditional write)."""

    name = "catalogue"
    indexes = (
        ("by_township", (("townships", 1), ("_id", 1))),
        ("by_department", (("original_department_id", 1), ("_id", 1))),
    )

    @staticmethod
    def _doc(aggregate: Any) -> dict[str, Any]:
        return entry_to_document(aggregate)

    def _model(self, doc: Document) -> CatalogueEntry:
        return entry_from_document(doc)

    async def add(self, entry: CatalogueEntry, events: Sequence[Envelope]) -> None:
        await self._add(entry, events)

    async def save(self, entry: CatalogueEntry, events: Sequence[Envelope]) -> int:
        fields = entry_to_document(entry)
        fields.pop("_id")
        return await self.aggregates.update(entry.code, entry.version, fields, events)

    async def list(
        self,
        *,
        township_id: str | None = None,
        department_id: str | None = None,
        include_withdrawn: bool = False,
        after: str | None = None,
        limit: int | None = None,
    ) -> list[CatalogueEntry]:
        query = self._listed(township_id, department_id, include_withdrawn)
        if after:
            query["_id"] = {"$gt": after}
        docs = await self._coll.find(query, sort=[("_id", 1)], limit=limit)
        return [entry_from_document(d) for d in docs]

    async def count(
        self, *, township_id: str | None, department_id: str | None, include_withdrawn: bool
    ) -> int:
        """How many entries :meth:`list` pages through, all pages together."""
        return await self._coll.count(self._listed(township_id, department_id, include_withdrawn))

    @staticmethod
    def _listed(
        township_id: str | None, department_id: str | None, include_withdrawn: bool
    ) -> dict[str, Any]:
        query: dict[str, Any] = {}
        if township_id:
            query["townships"] = township_id
        if department_id:
            query["original_department_id"] = department_id
        if not include_withdrawn:
            query["withdrawn"] = False
        return query


# --------------------------------------------------------------------------- disputes


def _step_to_doc(s: StepRecord) -> dict[str, Any]:
    p = s.plan
    return {
        "number": p.number,
        "name": p.name,
        "name_zh": p.name_zh,
        "decided_by_agency_id": p.decided_by_agency_id,
        "started_at": p.started_at,
        "due": p.due,
        "rule": p.rule,
        "explanation": p.explanation,
        "advisory": p.advisory,
        "ended_at": s.ended_at,
        "ended_by": s.ended_by,
        "opinion": s.opinion,
    }


def _step_from_doc(d: Document) -> StepRecord:
    return StepRecord(
        plan=StepPlan(
            number=d["number"],
            name=d["name"],
            name_zh=d["name_zh"],
            decided_by_agency_id=d["decided_by_agency_id"],
            started_at=d["started_at"],
            due=d["due"],
            rule=d.get("rule", ""),
            explanation=d.get("explanation") or {},
            advisory=d.get("advisory", False),
        ),
        ended_at=d.get("ended_at"),
        ended_by=d.get("ended_by"),
        opinion=d.get("opinion", ""),
    )


def dispute_to_document(x: Dispute) -> dict[str, Any]:
    o = x.outcome
    return {
        "_id": x.id,
        "kind": x.kind.value,
        "matter_code": x.matter_code,
        "matter_name": x.matter_name,
        "township_id": x.township_id,
        "parties": list(x.parties),
        "opened_by_agency_id": x.opened_by_agency_id,
        "reasons": x.reasons,
        "interim_handler_id": x.interim_handler_id,
        "status": x.status.value,
        "steps": [_step_to_doc(s) for s in x.steps],
        "step_number": x.current_step.number,
        "opened_at": x.opened_at,
        "referral_id": x.referral_id,
        "transfer_reason": x.transfer_reason.value if x.transfer_reason else None,
        "outcome": (
            {
                "kind": o.kind.value,
                "basis": o.basis,
                "signatories": list(o.signatories),
                "responsible_agency_id": o.responsible_agency_id,
                "ruled_at": o.ruled_at,
                "rule_id": o.rule_id,
            }
            if o
            else None
        ),
        "history": [
            {
                "action": t.action,
                "actor_id": t.actor_id,
                "agency_id": t.agency_id,
                "at": t.at,
                "before": t.before.value if t.before else None,
                "after": t.after.value,
                "note": t.note,
            }
            for t in x.history
        ],
        "agreement": _agreement_to_doc(x.agreement),
    }


def _agreement_to_doc(a: ProposedAgreement | None) -> dict[str, Any] | None:
    if a is None:
        return None
    return {
        "revision": a.revision,
        "basis": a.basis,
        "responsible_agency_id": a.responsible_agency_id,
        "proposed_by": a.proposed_by,
        "proposed_by_agency_id": a.proposed_by_agency_id,
        "proposed_at": a.proposed_at,
        "confirmations": [
            {"agency_id": c.agency_id, "person_id": c.person_id, "at": c.at}
            for c in a.confirmations
        ],
    }


def _agreement_from_doc(d: Document | None) -> ProposedAgreement | None:
    if not d:
        return None
    return ProposedAgreement(
        revision=d["revision"],
        basis=d["basis"],
        responsible_agency_id=d["responsible_agency_id"],
        proposed_by=d["proposed_by"],
        proposed_by_agency_id=d["proposed_by_agency_id"],
        proposed_at=d["proposed_at"],
        confirmations=tuple(
            AgreementConfirmation(c["agency_id"], c["person_id"], c["at"])
            for c in d.get("confirmations", [])
        ),
    )


def dispute_from_document(doc: Document) -> Dispute:
    o = doc.get("outcome")
    return Dispute(
        id=doc["_id"],
        kind=DisputeKind(doc["kind"]),
        matter_code=doc["matter_code"],
        matter_name=doc.get("matter_name", ""),
        township_id=doc["township_id"],
        parties=tuple(doc["parties"]),
        opened_by_agency_id=doc.get("opened_by_agency_id"),
        reasons=doc.get("reasons", ""),
        interim_handler_id=doc.get("interim_handler_id"),
        status=DisputeStatus(doc["status"]),
        steps=tuple(_step_from_doc(s) for s in doc["steps"]),
        opened_at=doc["opened_at"],
        referral_id=doc.get("referral_id"),
        transfer_reason=TransferReason(doc["transfer_reason"])
        if doc.get("transfer_reason")
        else None,
        outcome=(
            Outcome(
                kind=OutcomeKind(o["kind"]),
                basis=o["basis"],
                signatories=tuple(o.get("signatories", [])),
                responsible_agency_id=o["responsible_agency_id"],
                ruled_at=o["ruled_at"],
                rule_id=o.get("rule_id"),
            )
            if o
            else None
        ),
        history=tuple(
            DisputeTransition(
                action=t["action"],
                actor_id=t["actor_id"],
                agency_id=t.get("agency_id"),
                at=t["at"],
                before=DisputeStatus(t["before"]) if t.get("before") else None,
                after=DisputeStatus(t["after"]),
                note=t.get("note", ""),
            )
            for t in doc.get("history", [])
        ),
        version=int(doc.get("version", 0)),
        agreement=_agreement_from_doc(doc.get("agreement")),
    )


class DisputeRepository(_MappedRepository[Dispute]):
    name = "disputes"

    #: A dispute's list: by the time it was opened, per party (no sides: every party is
    #: one); the read scope adds the interim handler and the township.
    shape = ListShape(
        "opened_at",
        ("parties",),
        (),
        reader_fields=("parties", "interim_handler_id", "township_id"),
    )
    indexes = (
        ("by_referral", (("referral_id", 1), ("_id", 1))),
        *shape.indexes(),
    )
    #: Replaced by the list shape's indexes (issue 18); dropped by the migration (issue 21).
    obsolete_indexes: tuple[ObsoleteIndex, ...] = (
        ("by_party", (("parties", 1), ("_id", 1))),
        ("by_status", (("status", 1), ("_id", 1))),
    )

    @staticmethod
    def _doc(aggregate: Any) -> dict[str, Any]:
        return dispute_to_document(aggregate)

    def _model(self, doc: Document) -> Dispute:
        return dispute_from_document(doc)

    async def of_referral(self, referral_id: str, *, limit: int = 20) -> list[Dispute]:
        """The disputes about one referral (its decline's, a case-transfer request's)."""
        docs = await self._coll.find({"referral_id": referral_id}, sort=[("_id", 1)], limit=limit)
        return [dispute_from_document(d) for d in docs]

    async def add(self, dispute: Dispute, events: Sequence[Envelope]) -> None:
        await self._add(dispute, events)

    async def save(self, dispute: Dispute, events: Sequence[Envelope]) -> int:
        return await self._save(dispute, events)

    async def search(
        self, q: ListQuery, *, limit: int, party_id: str | None = None
    ) -> list[Dispute]:
        """A page of the list ``q`` asks for, by opening time then id; ``party_id``: only
        disputes that agency takes part in — a party, the interim handler or the township
        (read access); None: no restriction."""
        query, sort = self.shape.page(q, self.shape.scope(party_id))
        docs = await self._coll.find(query, sort=sort, limit=limit)
        return [dispute_from_document(d) for d in docs]

    async def count(self, q: ListQuery, *, party_id: str | None = None) -> int:
        """How many disputes :meth:`search` lists for ``q``, all pages together."""
        scoped = [*self.shape.scope(party_id), *self.shape.clauses(q)]
        return await self._coll.count(with_clauses(scoped))
