"""Keyset pagination over ``(time, _id)``: the one way a list of the suite is ordered and
resumed. The order is stable (the id breaks ties between equal times), index-backed (an index
on ``(…equality filters, time, _id)`` serves the filter, the order and the cursor alike) and
never depends on random ids; it runs both ways.

:class:`ListQuery` is what a client asks of a list of requests between agencies (statuses,
sent or received, a time range, the order, the cursor); :class:`ListShape` says which fields
of a collection answer it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from kernel.store import Collection

__all__ = [
    "Direction",
    "ListQuery",
    "ListShape",
    "after_clause",
    "field_values",
    "keyset_sort",
    "with_clauses",
]


def keyset_sort(field: str, descending: bool) -> list[tuple[str, int]]:
    """The sort of a keyset list: ``field`` then the id, in the same direction."""
    direction = -1 if descending else 1
    return [(field, direction), ("_id", direction)]


def after_clause(field: str, descending: bool, after: tuple[Any, str]) -> dict[str, Any]:
    """The condition for the items after the position ``after`` = ``(value, id)``: ``$or`` of
    "``field`` strictly past ``value``" and "equal ``field``, ``_id`` past the id", plus the
    redundant bound "``field`` at or past ``value``" beside it, which a query planner turns
    into index bounds; without it MongoDB plans the ``$or`` as a union of index scans followed
    by an in-memory SORT of everything before the cursor (issue 21,
    tests/integration/suite/test_query_plans.py)."""
    value, last_id = after
    strict, inclusive = ("$lt", "$lte") if descending else ("$gt", "$gte")
    return {
        "$and": [
            {field: {inclusive: value}},
            {"$or": [{field: {strict: value}}, {field: value, "_id": {strict: last_id}}]},
        ]
    }


def with_clauses(clauses: list[dict[str, Any]]) -> dict[str, Any]:
    """The conjunction of ``clauses`` as one store filter (``{}`` for none), in the shape
    every planner reads best: nested ``$and`` flattened, the conditions on fields gathered
    into one leading document (two operator documents on one field with different
    operators joined, as the two ends of a range), and only what cannot join it (an
    ``$or``, a second condition with the same operator or an equality on a field already
    named) after it in ``$and``.

    The same documents match either way: a field's operators hold independently, also on
    a list. It matters to a server that routes a conjunction through the first conjunct an
    index serves: SecantusDB read every referral of the status for a clerk's page after a
    cursor when status, receiver and the cursor's bound came as separate conjuncts, and
    only the receiver's range once they came as one (issue 21, session 16); MongoDB
    normalises both to this shape itself."""
    fields: dict[str, Any] = {}
    rest: list[dict[str, Any]] = []
    for key, condition in _conjuncts(clauses):
        if key.startswith("$"):
            rest.append({key: condition})
        elif key not in fields:
            fields[key] = condition
        elif (
            _operators(fields[key])
            and _operators(condition)
            and not fields[key].keys() & condition.keys()
        ):
            fields[key] = {**fields[key], **condition}
        else:
            rest.append({key: condition})
    parts = [fields, *rest] if fields else rest
    if not parts:
        return {}
    return parts[0] if len(parts) == 1 else {"$and": parts}


def _conjuncts(clauses: list[dict[str, Any]]) -> Iterator[tuple[str, Any]]:
    """Each ``(key, condition)`` that ``clauses`` AND together, nested ``$and`` opened."""
    for clause in clauses:
        for key, condition in clause.items():
            if key == "$and":
                yield from _conjuncts(condition)
            else:
                yield key, condition


def _operators(condition: Any) -> bool:
    """Whether ``condition`` is an operator document (``{"$lt": …}``), not a value."""
    return (
        isinstance(condition, Mapping)
        and bool(condition)
        and all(isinstance(k, str) and k.startswith("$") for k in condition)
    )


def field_values(doc: Mapping[str, Any], path: str) -> Iterator[Any]:
    """The values at the dotted ``path`` of ``doc`` the way a store query matches them: a
    list on the way (or at the end) stands for each of its items; missing and None give
    nothing."""
    head, _, rest = path.partition(".")
    value = doc.get(head)
    items = value if isinstance(value, list) else [value]
    for item in items:
        if rest:
            if isinstance(item, Mapping):
                yield from field_values(item, rest)
        elif item is not None:
            yield item


class Direction(StrEnum):
    """Which side of a request an agency is on: it sent it, or it received it."""

    SENT = "sent"
    RECEIVED = "received"


@dataclass(frozen=True)
class ListQuery:
    """A page of a list of requests between agencies, as a client asks for it."""

    agency_id: str | None = None  # only those this agency takes part in (either side)
    direction: Direction | None = None  # with agency_id: only the side it is on
    statuses: tuple[str, ...] = ()  # any of these (none: every status)
    time_from: datetime | None = None  # inclusive
    time_to: datetime | None = None  # exclusive
    descending: bool = True  # newest first
    after: tuple[Any, str] | None = None  # the (time, id) of the last item of the page before


@dataclass(frozen=True)
class ListShape:
    """The fields of a collection that answer a :class:`ListQuery`: the time it is ordered by,
    the agencies on the sending and the receiving side, the status, and the fields naming who
    may read a document (``reader_fields``; dotted paths and lists allowed).

    "Either side" and the read scope each span several fields; an ``$or`` over them is planned
    as a union of index scans and an in-memory SORT (issue 21). So every stored document also
    carries two multikey fields, written by :meth:`stamp`: ``sides_field`` (every agency on
    either side) and ``readers_field`` (every reader); each is one equality on one index
    ``(field, time, _id)``. Documents stored before get them from :meth:`backfill`."""

    time_field: str
    sent_fields: tuple[str, ...]
    received_fields: tuple[str, ...]
    status_field: str = "status"
    reader_fields: tuple[str, ...] = ()
    sides_field: str = "sides"
    readers_field: str = "readers"

    def _stamps(self, doc: Mapping[str, Any]) -> dict[str, list[Any]]:
        def agencies(fields: tuple[str, ...]) -> list[Any]:
            return sorted({v for f in fields for v in field_values(doc, f)})

        stamps = {self.sides_field: agencies(self.sent_fields + self.received_fields)}
        if self.reader_fields:
            stamps[self.readers_field] = agencies(self.reader_fields)
        return stamps

    def stamp(self, doc: dict[str, Any]) -> dict[str, Any]:
        """Write the multikey list fields onto ``doc`` (a document about to be stored, or
        the changed fields of a whole aggregate) and return it."""
        doc.update(self._stamps(doc))
        return doc

    async def backfill(self, coll: Collection, *, batch: int = 500) -> int:
        """Stamp the documents of ``coll`` stored before the list fields existed (once, at
        start-up: ``ensure_indexes``); returns how many were stamped."""
        stamped = list(self._stamps({}))
        heads = {
            f.partition(".")[0]
            for f in (*self.sent_fields, *self.received_fields, *self.reader_fields)
        }
        stale = {"$or": [{f: {"$exists": False}} for f in stamped]}
        done = 0
        while docs := await coll.find(stale, limit=batch, projection=sorted(heads)):
            for doc in docs:
                await coll.update_one({"_id": doc["_id"]}, {"$set": self._stamps(doc)})
            done += len(docs)
        return done

    def scope(self, party_id: str | None) -> list[dict[str, Any]]:
        """The condition "``party_id`` may read it" (none for None: no restriction)."""
        if party_id is None:
            return []
        if not self.reader_fields:
            raise ValueError("this list has no readers to scope by")
        return [{self.readers_field: party_id}]

    def clauses(self, q: ListQuery) -> list[dict[str, Any]]:
        """The conditions of ``q`` without its cursor (what ``totalCount`` counts)."""
        clauses: list[dict[str, Any]] = []
        if q.agency_id:
            if q.direction is None:
                clauses.append({self.sides_field: q.agency_id})
            else:
                side = {
                    Direction.SENT: self.sent_fields,
                    Direction.RECEIVED: self.received_fields,
                }[q.direction]
                if not side:
                    raise ValueError(f"this list has no {q.direction} side to filter by")
                clauses.append(
                    {side[0]: q.agency_id}
                    if len(side) == 1
                    else {"$or": [{f: q.agency_id} for f in side]}
                )
        if q.statuses:
            wanted = list(dict.fromkeys(q.statuses))
            clauses.append({self.status_field: wanted[0] if len(wanted) == 1 else {"$in": wanted}})
        span: dict[str, Any] = {}
        if q.time_from is not None:
            span["$gte"] = q.time_from
        if q.time_to is not None:
            span["$lt"] = q.time_to
        if span:
            clauses.append({self.time_field: span})
        return clauses

    def page(self, q: ListQuery, scope: list[dict[str, Any]]) -> tuple[dict[str, Any], Any]:
        """The store filter and sort of the page ``q`` asks for; ``scope`` are the conditions
        of what the caller may read (:meth:`scope`)."""
        clauses = [*scope, *self.clauses(q)]
        if q.after is not None:
            clauses.append(after_clause(self.time_field, q.descending, q.after))
        return with_clauses(clauses), keyset_sort(self.time_field, q.descending)

    def indexes(self, prefix: str = "") -> tuple[tuple[str, tuple[tuple[str, int], ...]], ...]:
        """The indexes that serve the lists: either side, the readers, each side's agency,
        the status, and the time alone (a supervisor's whole list), each then ordered by
        ``(time, _id)``."""
        order = ((self.time_field, 1), ("_id", 1))
        fields = dict.fromkeys(
            (
                self.sides_field,
                *((self.readers_field,) if self.reader_fields else ()),
                *self.sent_fields,
                *self.received_fields,
                self.status_field,
            )
        )
        named = [(f"{prefix}by_{f.replace('.', '_')}_time", ((f, 1), *order)) for f in fields]
        return (*named, (f"{prefix}by_time", order))
