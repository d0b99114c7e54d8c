"""Assistance requests, technical-support requests, information queries and the log of who
read an answer, in the document store.

The aggregates are frozen dataclasses of plain values, so the kernel's one mapping
(``kernel.dataclass_codec``) serves them all: enums as their values, dates as ISO strings (the
store port keeps datetimes only), tuples as lists; reading rebuilds each field from its
annotation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from coordination.domain.assistance import AssistanceRequest
from coordination.domain.information import AnswerAccess, InformationQuery
from coordination.domain.technical import TechnicalSupportRequest
from kernel.dataclass_codec import from_document, to_document
from kernel.envelope import Envelope
from kernel.keyset import ListQuery, ListShape, with_clauses
from kernel.outbox import AggregateCollection
from kernel.store import Document, DocumentStore, ObsoleteIndex, drop_obsolete_indexes

T = TypeVar("T")


class _Repository:
    """An aggregate collection of one dataclass type, ``_id`` = the aggregate's ``id``."""

    name = ""
    indexes: tuple[tuple[str, tuple[tuple[str, int], ...]], ...] = ()
    #: Indexes an earlier release created here and none of today's lists uses (issue 21):
    #: dropped by ``ensure_indexes`` (the migration), each only while it has these keys.
    obsolete_indexes: tuple[ObsoleteIndex, ...] = ()
    #: The fields that answer a client's list (``kernel.keyset``), if the collection has one:
    #: every stored document then carries its multikey list fields (``ListShape.stamp``).
    shape: ListShape | None = None

    def __init__(self, store: DocumentStore) -> None:
        self.aggregates = AggregateCollection(store.collection(self.name))
        self._coll = self.aggregates.collection

    async def ensure_indexes(self) -> None:
        for name, keys in self.indexes:
            await self._coll.create_index(list(keys), name=name)
        await drop_obsolete_indexes(self._coll, self.obsolete_indexes)
        if self.shape is not None:
            await self.shape.backfill(self._coll)

    def _stored(self, aggregate: Any) -> dict[str, Any]:
        doc = self._doc(aggregate)
        return self.shape.stamp(doc) if self.shape is not None else doc

    @staticmethod
    def _doc(aggregate: Any) -> dict[str, Any]:
        doc: dict[str, Any] = to_document(aggregate)
        doc["_id"] = doc.pop("id")
        doc.pop("version", None)
        return doc

    async def _add(self, aggregate: Any, events: Sequence[Envelope]) -> None:
        await self.aggregates.insert(self._stored(aggregate), events)

    async def _save(self, aggregate: Any, events: Sequence[Envelope]) -> int:
        fields = self._stored(aggregate)
        fields.pop("_id")
        return await self.aggregates.update(aggregate.id, aggregate.version, fields, events)

    # The fields naming the agencies that are parties to a document (read access, lists).
    party_fields: tuple[str, ...] = ()

    async def _find(
        self,
        query: dict[str, Any],
        after: str | None,
        limit: int,
        party_id: str | None = None,
    ) -> list[Document]:
        """``party_id``: only documents that agency is a party to (None: no restriction)."""
        query = self._scoped(query, party_id)
        if after:
            query = {"$and": [query, {"_id": {"$gt": after}}]} if query else {"_id": {"$gt": after}}
        return await self._coll.find(query, sort=[("_id", 1)], limit=limit)

    async def _count(self, query: dict[str, Any], party_id: str | None = None) -> int:
        """How many documents :meth:`_find` pages through for ``query``, all pages together."""
        return await self._coll.count(self._scoped(query, party_id))

    def _scoped(self, query: dict[str, Any], party_id: str | None) -> dict[str, Any]:
        if party_id is None:
            return query
        only = {"$or": [{f: party_id} for f in self.party_fields]}
        return {"$and": [query, only]} if query else only


def _with_id(doc: Document) -> Document:
    return {**doc, "id": doc["_id"]}


A = TypeVar("A")


class _ModelRepository(_Repository, Generic[A]):
    """Reads and writes aggregates of type ``model``: by id, added, and saved conditionally
    on the version read (a concurrent change raises a Conflict)."""

    model: type[A]

    def _models(self, docs: Sequence[Document]) -> list[A]:
        return [from_document(self.model, _with_id(d)) for d in docs]

    async def get(self, aggregate_id: str) -> A | None:
        doc = await self.aggregates.get(aggregate_id)
        return from_document(self.model, _with_id(doc)) if doc else None

    async def add(self, aggregate: A, events: Sequence[Envelope]) -> None:
        await self._add(aggregate, events)

    async def save(self, aggregate: A, events: Sequence[Envelope]) -> int:
        return await self._save(aggregate, events)


class RequestRepository(_ModelRepository[A]):
    """A request's aggregates; ``agency_fields`` are the fields an ``agency_id`` filter of
    :meth:`list` matches (either side of the request)."""

    agency_fields: tuple[str, ...] = ()

    async def unfinished(self, finished: Sequence[str], *, limit: int = 10_000) -> list[A]:
        """Every request whose status is not one of ``finished`` (the stall check's scan)."""
        return self._models(await self._find({"status": {"$nin": list(finished)}}, None, limit))

    async def list(
        self,
        *,
        agency_id: str | None,
        after: str | None,
        limit: int,
        party_id: str | None = None,
    ) -> list[A]:
        return self._models(await self._find(self._of_agency(agency_id), after, limit, party_id))

    async def count_listed(self, *, agency_id: str | None, party_id: str | None = None) -> int:
        """How many requests :meth:`list` pages through, all pages together."""
        return await self._count(self._of_agency(agency_id), party_id)

    def _of_agency(self, agency_id: str | None) -> dict[str, Any]:
        return {"$or": [{f: agency_id} for f in self.agency_fields]} if agency_id else {}

    def _list_shape(self) -> ListShape:
        if self.shape is None:
            raise TypeError(f"{self.name} has no list shape")
        return self.shape

    async def search(self, q: ListQuery, *, limit: int, party_id: str | None = None) -> Sequence[A]:
        """A page of the list ``q`` (ordered by the shape's time, then id); ``party_id``:
        only requests that agency is a party to (None: no restriction)."""
        shape = self._list_shape()
        query, sort = shape.page(q, shape.scope(party_id))
        return self._models(await self._coll.find(query, sort=sort, limit=limit))

    async def count(self, q: ListQuery, *, party_id: str | None = None) -> int:
        """How many requests :meth:`search` lists for ``q``, all pages together."""
        shape = self._list_shape()
        return await self._coll.count(with_clauses([*shape.scope(party_id), *shape.clauses(q)]))


class AssistanceRepository(RequestRepository[AssistanceRequest]):
    name = "assistance_requests"
    model = AssistanceRequest
    agency_fields = ("requester_id", "helper_id")
    # The legal office becomes a party when a refusal is sent to it for mediation.
    party_fields = ("requester_id", "helper_id", "mediation.mediator_agency_id")
    shape = ListShape("requested_at", ("requester_id",), ("helper_id",), reader_fields=party_fields)
    indexes = (
        *shape.indexes(),
        ("by_refusal", (("refused", 1), ("helper_id", 1), ("_id", 1))),
    )
    # Replaced by the list shape's indexes (issue 18).
    obsolete_indexes = (
        ("by_requester", (("requester_id", 1), ("_id", 1))),
        ("by_helper", (("helper_id", 1), ("_id", 1))),
    )

    @staticmethod
    def _doc(aggregate: Any) -> dict[str, Any]:
        doc = _Repository._doc(aggregate)
        # Indexed flag for the accountability list (FY (五)4): kept once set, whatever
        # mediation decides later, because the refusal itself is what is accounted for.
        doc["refused"] = aggregate.refusal is not None
        return doc

    async def refusals(
        self,
        *,
        helper_id: str | None,
        after: str | None,
        limit: int,
        party_id: str | None = None,
    ) -> list[AssistanceRequest]:
        query = self._refused_by(helper_id)
        return self._models(await self._find(query, after, limit, party_id))

    async def refusals_count(self, *, helper_id: str | None, party_id: str | None = None) -> int:
        """How many refusals :meth:`refusals` pages through, all pages together."""
        return await self._count(self._refused_by(helper_id), party_id)

    @staticmethod
    def _refused_by(helper_id: str | None) -> dict[str, Any]:
        query: dict[str, Any] = {"refused": True}
        if helper_id:
            query["helper_id"] = helper_id
        return query


class TechnicalSupportRepository(RequestRepository[TechnicalSupportRequest]):
    name = "technical_support_requests"
    model = TechnicalSupportRequest
    agency_fields = ("township_id", "department_id")
    party_fields = ("township_id", "department_id")
    shape = ListShape(
        "requested_at", ("township_id",), ("department_id",), reader_fields=party_fields
    )
    indexes = shape.indexes()
    obsolete_indexes = (
        ("by_township", (("township_id", 1), ("_id", 1))),
        ("by_department", (("department_id", 1), ("_id", 1))),
    )


class InformationQueryRepository(RequestRepository[InformationQuery]):
    name = "information_queries"
    model = InformationQuery
    agency_fields = ("requester_id", "holder_id")
    party_fields = ("requester_id", "holder_id")
    shape = ListShape("asked_at", ("requester_id",), ("holder_id",), reader_fields=party_fields)
    indexes = shape.indexes()
    obsolete_indexes = (
        ("by_requester", (("requester_id", 1), ("_id", 1))),
        ("by_holder", (("holder_id", 1), ("_id", 1))),
    )


class AnswerAccessLog(_Repository):
    """Who read which answer, when (R-INF-01): one immutable document per reading, written
    together with its event, so a reading is never lost and never rewrites the query."""

    name = "information_answer_access"
    indexes = (("by_query", (("query_id", 1), ("at", 1), ("_id", 1))),)

    async def record(self, access: AnswerAccess, events: Sequence[Envelope]) -> None:
        await self._add(access, events)

    async def of_query(self, query_id: str, *, limit: int = 500) -> list[AnswerAccess]:
        docs = await self._coll.find(
            {"query_id": query_id}, sort=[("at", 1), ("_id", 1)], limit=limit
        )
        return [from_document(AnswerAccess, _with_id(d)) for d in docs]
