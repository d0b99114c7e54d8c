"""Embedded adapter of the store port: a durable document store in one SQLite file.

Used by the embedded topology (everything in one process, no servers). Passes the same
contract suite as the MongoDB adapter (``tests/contract/test_store_contract.py``).

Layout
    One SQLite file per database, ``<data_dir>/<database>.sqlite3``, in WAL mode with
    ``synchronous=FULL`` (a returned write survives a crash or power loss). One table per
    collection, ``(id TEXT PRIMARY KEY, doc TEXT)``: ``id`` is the document's ``_id`` and
    ``doc`` the rest of the document as JSON. The implicit ``rowid`` keeps insertion order,
    which stands in for MongoDB's natural order (first match, ties in a sort).

Values
    JSON natively, except two cases carried in tagged JSON strings (the tag starts with
    U+0001, a character real text practically never starts with):

    * ``datetime`` → ``"\\u0001d:YYYY-MM-DDTHH:MM:SS.mmmZ"``: UTC, truncated to milliseconds
      like BSON dates, fixed width, so string order *is* time order and filters and sorts on
      datetimes run in SQL. Naive datetimes are taken as UTC (as PyMongo does); they read
      back as aware UTC datetimes.
    * a string that itself starts with U+0001 → ``"\\u0001s:" + string`` (escaped so it can
      never be mistaken for a datetime).

Filters and sorts
    Translated to SQL over ``json_extract``/``json_type``/``json_each`` (see ``_SqlFilter``),
    with MongoDB's semantics for the port's subset: type-bracketed comparisons (``{"n":
    {"$gt": 1}}`` never matches a string or a boolean), equality against arrays matches any
    element, dotted paths traverse arrays of sub-documents, ``null`` matches missing fields,
    negations (``$ne``, ``$nin``, ``$exists: false``) match documents missing the field.
    Sorts run in SQL on the raw JSON values (SQLite order: null/missing < numbers < text);
    unlike MongoDB, an array field sorts by its JSON text, not by its smallest element.

Indexes
    ``create_index`` makes SQLite expression indexes on ``json_extract(doc, path)``, plus a
    tiny partial index per path "where this path holds an array", so that the array branch
    of a filter is also an index lookup and SQLite can use a MULTI-INDEX OR plan. A unique
    index treats a missing field as distinct from every other value (like FerretDB, unlike
    MongoDB, where two documents missing a unique field collide) and indexes an array value
    as a whole (MongoDB indexes each element): keep unique fields present and scalar.

Updates
    Atomic read-modify-write: ``BEGIN IMMEDIATE``, select, apply the update operators in
    Python (``apply_update``), write, ``COMMIT``. The write lock is taken before the read, so
    conditional updates (optimistic concurrency, lease claims) have exactly one winner, also
    across several processes or store objects on the same file.

Threads
    Every SQLite call runs on the store's single worker thread, which owns the connection;
    the event loop only awaits futures. Calls run in submission order.

Files
    ``files()`` keeps contents under ``<data_dir>/<database>.files/objects/<ab>/<sha256>``
    (content-addressed: the same content is stored once) and each file's record (id, name,
    media type, size, digest, metadata) as a document of the collection ``_files``. A put
    streams into ``tmp/``, fsyncs, and renames into place only once the whole content is
    there and checked, so a crash never leaves a half file under an object path (at most an
    orphaned temp file or object, never a record pointing at a partial content). Record
    insert and object removal run under one lock, so a delete never removes an object that
    a concurrent put of the same content is about to reference (one process per data
    directory, as the embedded topology runs).

The port's query and update language in pure Python lives in ``kernel.store_language``,
shared with ``kernel.adapters.mongo_store``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import hashlib
import json
import os
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, TypeVar

from kernel.store import (
    FILE_CHUNK_BYTES,
    Document,
    DuplicateKeyError,
    FileContent,
    FileDigestMismatchError,
    FileMissingError,
    FileTooLargeError,
    Filter,
    IndexKeys,
    SortSpec,
    StoredFile,
    StoreError,
    StoreUnavailableError,
    Update,
    content_chunks,
)
from kernel.store_language import (
    COMPARISONS,
    MISSING,
    apply_update,
    default_index_name,
    is_number,
    is_operator_doc,
    normalize,
    project,
    split_path,
    upsert_document,
    utc_ms,
    validate_filter,
    validate_projection,
    validate_sort,
    validate_update,
)

__all__ = [
    "EmbeddedCollection",
    "EmbeddedFileStore",
    "EmbeddedStore",
    "open_embedded_store",
]

T = TypeVar("T")

# --------------------------------------------------------------------------------------
# Value encoding (JSON text in SQLite)
# --------------------------------------------------------------------------------------

_TAG: Final = "\x01"
_DATE_TAG: Final = "\x01d:"
_STR_TAG: Final = "\x01s:"
# Every encoded datetime sorts inside [_DATE_LOW, _DATE_HIGH) and nothing else does.
_DATE_LOW: Final = _DATE_TAG
_DATE_HIGH: Final = "\x01d;"


def _encode_str(value: str) -> str:
    return _STR_TAG + value if value.startswith(_TAG) else value


def _encode_datetime(value: datetime) -> str:
    v = utc_ms(value)
    # Spelled out rather than strftime: %Y does not zero-pad years before 1000 everywhere,
    # and the fixed width is what makes string order equal time order.
    return (
        f"{_DATE_TAG}{v.year:04d}-{v.month:02d}-{v.day:02d}T{v.hour:02d}:{v.minute:02d}:"
        f"{v.second:02d}.{v.microsecond // 1000:03d}Z"
    )


def _encode(value: Any) -> Any:
    if isinstance(value, str):
        return _encode_str(value)
    if isinstance(value, datetime):
        return _encode_datetime(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"document keys must be strings, got {key!r}")
            out[key] = _encode(item)
        return out
    if isinstance(value, list | tuple):
        return [_encode(item) for item in value]
    raise ValueError(f"unsupported value type {type(value).__name__}: {value!r}")


def _decode(value: Any) -> Any:
    if isinstance(value, str):
        if value.startswith(_DATE_TAG):
            return datetime.strptime(value[len(_DATE_TAG) :], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
                tzinfo=UTC
            )
        if value.startswith(_STR_TAG):
            return value[len(_STR_TAG) :]
        return value
    if isinstance(value, dict):
        return {key: _decode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_decode(item) for item in value]
    return value


def _dumps(value: Any) -> str:
    # One fixed rendering (compact, non-ASCII kept): equality on sub-documents and arrays
    # compares this text with what SQLite's json_extract returns for the stored value.
    return json.dumps(_encode(value), separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _split_doc(doc: Mapping[str, Any]) -> tuple[str, str]:
    doc_id = doc.get("_id", MISSING) if isinstance(doc, Mapping) else MISSING
    if not isinstance(doc_id, str):
        raise ValueError(f"a document needs a string _id, got {doc_id!r}")
    body = {key: value for key, value in doc.items() if key != "_id"}
    return _encode_str(doc_id), _dumps(body)


def _join_doc(doc_id: str, body: str) -> Document:
    decoded = _decode(json.loads(body))
    return {"_id": _decode(doc_id), **decoded}


# --------------------------------------------------------------------------------------
# SQL translation
# --------------------------------------------------------------------------------------


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _json_path(segments: Sequence[str]) -> str:
    """A SQL literal of the JSON path of ``segments``. Index definitions and queries use
    this same rendering so that SQLite recognises the indexed expressions."""
    return _sql_literal("$" + "".join(f'."{s}"' for s in segments))


def _value_expr(path: str, src: str = "d.doc", id_col: str = "d.id") -> str:
    if path == "_id":
        return id_col
    return f"json_extract({src}, {_json_path(split_path(path))})"


class _Leaf:
    """A condition on one candidate value, rendered against a value and a type expression
    (``json_extract``/``json_type`` of a path, or ``value``/``type`` of a json_each row)."""

    def __init__(self, render: Callable[[str, str], str], *, matches_missing: bool) -> None:
        self.render = render
        self.matches_missing = matches_missing


class _SqlFilter:
    """Builds a WHERE clause (with named parameters) for a filter on table alias ``d``."""

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}
        self._aliases = 0

    def param(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def _alias(self) -> str:
        self._aliases += 1
        return f"e{self._aliases}"

    def where(self, filter: Filter) -> str:
        parts: list[str] = []
        for key, cond in filter.items():
            if key == "$and":
                parts.append("(" + " AND ".join(self.where(sub) for sub in cond) + ")")
            elif key == "$or":
                parts.append("(" + " OR ".join(self.where(sub) for sub in cond) + ")")
            elif is_operator_doc(cond):
                parts.extend(self._operator(key, op, arg) for op, arg in cond.items())
            else:
                parts.append(self._positive(key, self._eq_leaf(cond)))
        return " AND ".join(parts) if parts else "1"

    def _operator(self, path: str, op: str, arg: Any) -> str:
        if op == "$eq":
            return self._positive(path, self._eq_leaf(arg))
        if op == "$ne":
            return self._negative(path, self._eq_leaf(arg))
        if op == "$in":
            return self._positive(path, self._in_leaf(arg))
        if op == "$nin":
            return self._negative(path, self._in_leaf(arg))
        if op == "$exists":
            leaf = _Leaf(lambda v, t: f"{t} IS NOT NULL", matches_missing=False)
            return self._positive(path, leaf) if arg else self._negative(path, leaf)
        if op in COMPARISONS:
            return self._positive(path, self._compare_leaf(op, arg))
        raise ValueError(f"unsupported filter operator {op!r}")

    def _negative(self, path: str, leaf: _Leaf) -> str:
        # COALESCE: a positive condition may come out NULL (SQL's "unknown") where it means
        # false; NOT NULL would then drop documents MongoDB keeps (e.g. $ne on a missing
        # field).
        return f"NOT COALESCE({self._positive(path, leaf)}, 0)"

    def _positive(self, path: str, leaf: _Leaf) -> str:
        if path == "_id":
            return leaf.render("d.id", "'text'")
        return self._at("d.doc", split_path(path), leaf)

    def _at(self, src: str, segments: list[str], leaf: _Leaf) -> str:
        """True when some candidate value of ``segments`` in JSON ``src`` satisfies
        ``leaf``; the SQL twin of ``path_candidates``."""
        path = _json_path(segments)
        value, kind = f"json_extract({src}, {path})", f"json_type({src}, {path})"
        direct = leaf.render(value, kind)
        if leaf.matches_missing and len(segments) > 1:
            # With an array on the way, the JSON path finds nothing, which must not read
            # as "missing": the array branches below decide instead.
            guards = " AND ".join(
                f"json_type({src}, {_json_path(segments[:k])}) IS NOT 'array'"
                for k in range(1, len(segments))
            )
            direct = f"({direct} AND {guards})"
        alternatives = [direct]
        element = self._alias()
        alternatives.append(
            f"({kind} = 'array' AND EXISTS (SELECT 1 FROM json_each({src}, {path}) AS {element}"
            f" WHERE {leaf.render(f'{element}.value', f'{element}.type')}))"
        )
        for k in range(1, len(segments)):
            prefix = _json_path(segments[:k])
            element = self._alias()
            # CASE: only objects are parsed as JSON (a string element is not JSON text),
            # and SQLite does not promise to evaluate AND terms left to right.
            inner = f"(CASE WHEN {element}.type = 'object' THEN {element}.value END)"
            alternatives.append(
                f"(json_type({src}, {prefix}) = 'array' AND EXISTS (SELECT 1 FROM "
                f"json_each({src}, {prefix}) AS {element} WHERE {element}.type = 'object' "
                f"AND {self._at(inner, segments[k:], leaf)}))"
            )
        return "(" + " OR ".join(alternatives) + ")"

    def _eq_leaf(self, value: Any) -> _Leaf:
        value = normalize(value)
        if value is None:
            return _Leaf(lambda v, t: f"({t} IS NULL OR {t} = 'null')", matches_missing=True)
        if isinstance(value, bool):
            literal = "'true'" if value else "'false'"
            return _Leaf(lambda v, t: f"{t} = {literal}", matches_missing=False)
        if is_number(value):
            p = self.param(value)
            return _Leaf(
                lambda v, t: f"({v} = {p} AND {t} IN ('integer', 'real'))", matches_missing=False
            )
        if isinstance(value, str | datetime):
            p = self.param(_encode(value))
            return _Leaf(lambda v, t: f"({v} = {p} AND {t} = 'text')", matches_missing=False)
        kind = "'array'" if isinstance(value, list) else "'object'"
        p = self.param(_dumps(value))
        return _Leaf(lambda v, t: f"({v} = {p} AND {t} = {kind})", matches_missing=False)

    def _in_leaf(self, values: Sequence[Any]) -> _Leaf:
        texts = [_encode(normalize(v)) for v in values if isinstance(v, str | datetime)]
        numbers = [v for v in values if is_number(v)]
        others = [
            self._eq_leaf(v) for v in values if not (isinstance(v, str | datetime) or is_number(v))
        ]
        text_params = ", ".join(self.param(v) for v in texts)
        number_params = ", ".join(self.param(v) for v in numbers)

        def render(v: str, t: str) -> str:
            # Grouped IN lists keep the common case ($in over strings) an index lookup.
            terms = []
            if texts:
                terms.append(f"({v} IN ({text_params}) AND {t} = 'text')")
            if numbers:
                terms.append(f"({v} IN ({number_params}) AND {t} IN ('integer', 'real'))")
            terms.extend(leaf.render(v, t) for leaf in others)
            return "(" + " OR ".join(terms) + ")" if terms else "0"

        return _Leaf(render, matches_missing=any(v is None for v in values))

    def _compare_leaf(self, op: str, value: Any) -> _Leaf:
        sql_op = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}[op]
        if value is None:
            if op in ("$gte", "$lte"):
                return self._eq_leaf(None)
            return _Leaf(lambda v, t: "0", matches_missing=False)
        if isinstance(value, bool):
            p = self.param(int(value))
            return _Leaf(
                lambda v, t: f"({v} {sql_op} {p} AND {t} IN ('true', 'false'))",
                matches_missing=False,
            )
        if is_number(value):
            p = self.param(value)
            return _Leaf(
                lambda v, t: f"({v} {sql_op} {p} AND {t} IN ('integer', 'real'))",
                matches_missing=False,
            )
        low, high = self.param(_DATE_LOW), self.param(_DATE_HIGH)
        if isinstance(value, datetime):
            p = self.param(_encode_datetime(value))
            return _Leaf(
                lambda v, t: (
                    f"({v} {sql_op} {p} AND {t} = 'text' AND {v} >= {low} AND {v} < {high})"
                ),
                matches_missing=False,
            )
        if isinstance(value, str):
            p = self.param(_encode_str(value))
            return _Leaf(
                lambda v, t: (
                    f"({v} {sql_op} {p} AND {t} = 'text' AND NOT ({v} >= {low} AND {v} < {high}))"
                ),
                matches_missing=False,
            )
        raise ValueError(f"{op} needs a number, string, boolean, datetime or None")


def _order_by(sort: SortSpec | None) -> str:
    terms = [
        f"{_value_expr(path)} {'ASC' if direction == 1 else 'DESC'}"
        for path, direction in sort or ()
    ]
    terms.append("d.rowid ASC")  # ties (and no sort at all) in insertion order
    return ", ".join(terms)


# --------------------------------------------------------------------------------------
# The store
# --------------------------------------------------------------------------------------

_DATABASE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


def _table(collection: str) -> str:
    return _quote_ident(f"c:{collection}")


class EmbeddedCollection:
    """One collection: a table of ``(id, doc)`` rows in the store's SQLite file."""

    def __init__(self, store: EmbeddedStore, name: str) -> None:
        self.name = name
        self._store = store
        self._table = _table(name)

    # -- helpers (worker thread) -------------------------------------------------------

    def _select(
        self,
        conn: sqlite3.Connection,
        filter: Filter,
        *,
        columns: str = "d.id, d.doc",
        sort: SortSpec | None = None,
        limit: int | None = None,
    ) -> list[Any]:
        sql = _SqlFilter()
        where = sql.where(filter)
        query = f"SELECT {columns} FROM {self._table} AS d WHERE {where} ORDER BY {_order_by(sort)}"
        if limit is not None:
            query += f" LIMIT {int(limit)}"
        return conn.execute(query, sql.params).fetchall()

    def _write_row(self, conn: sqlite3.Connection, rowid: int, doc: Document) -> None:
        _, body = _split_doc(doc)
        conn.execute(f"UPDATE {self._table} SET doc = ? WHERE rowid = ?", (body, rowid))

    def _insert_row(self, conn: sqlite3.Connection, doc: Mapping[str, Any]) -> None:
        conn.execute(f"INSERT INTO {self._table} (id, doc) VALUES (?, ?)", _split_doc(doc))

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return await self._store._run(self.name, fn)

    # -- the port ----------------------------------------------------------------------

    async def insert_one(self, doc: Document) -> None:
        """Insert ``doc`` (which must carry a string ``_id``)."""
        row = _split_doc(doc)

        def work(conn: sqlite3.Connection) -> None:
            conn.execute(f"INSERT INTO {self._table} (id, doc) VALUES (?, ?)", row)

        await self._run(work)

    async def insert_many(self, docs: Sequence[Document]) -> None:
        """Insert ``docs`` in order; on a collision the earlier ones stay (as in MongoDB's
        ordered insert) and DuplicateKeyError is raised."""
        rows = [_split_doc(doc) for doc in docs]

        def work(conn: sqlite3.Connection) -> None:
            with _write_transaction(conn) as commit_partial:
                for row in rows:
                    try:
                        conn.execute(f"INSERT INTO {self._table} (id, doc) VALUES (?, ?)", row)
                    except sqlite3.IntegrityError:
                        commit_partial()
                        raise

        if rows:
            await self._run(work)

    async def find_one(self, filter: Filter) -> Document | None:
        """The first document matching ``filter`` (insertion order), or None."""
        found = await self.find(filter, limit=1)
        return found[0] if found else None

    async def find(
        self,
        filter: Filter,
        *,
        sort: SortSpec | None = None,
        limit: int | None = None,
        projection: Sequence[str] | None = None,
    ) -> list[Document]:
        """Documents matching ``filter`` in ``sort`` order, at most ``limit`` of them
        (``limit=0`` returns none); ``projection`` keeps ``_id`` and the given paths."""
        validate_filter(filter)
        validate_sort(sort)
        validate_projection(projection)
        if limit is not None and limit < 0:
            raise ValueError(f"limit must be >= 0, got {limit}")
        if limit == 0:
            return []
        rows = await self._run(lambda conn: self._select(conn, filter, sort=sort, limit=limit))
        docs = [_join_doc(doc_id, body) for doc_id, body in rows]
        if projection is not None:
            docs = [project(doc, projection) for doc in docs]
        return docs

    async def count(self, filter: Filter) -> int:
        """How many documents match ``filter`` (counted in SQL)."""
        validate_filter(filter)

        def work(conn: sqlite3.Connection) -> int:
            sql = _SqlFilter()
            where = sql.where(filter)
            row = conn.execute(
                f"SELECT count(*) FROM {self._table} AS d WHERE {where}", sql.params
            ).fetchone()
            return int(row[0])

        return await self._run(work)

    async def update_one(self, filter: Filter, update: Update, *, upsert: bool = False) -> int:
        """Update the first match atomically; with ``upsert`` insert when none matches."""
        validate_filter(filter)
        validate_update(update)
        seed = upsert_document(filter, update) if upsert else None

        def work(conn: sqlite3.Connection) -> int:
            with _write_transaction(conn):
                rows = self._select(conn, filter, columns="d.rowid, d.id, d.doc", limit=1)
                if rows:
                    rowid, doc_id, body = rows[0]
                    self._write_row(conn, rowid, apply_update(_join_doc(doc_id, body), update))
                    return 1
                if seed is None:
                    return 0
                self._insert_row(conn, seed)
                return 1

        return await self._run(work)

    async def update_many(self, filter: Filter, update: Update) -> int:
        """Update every match, all in one transaction; return how many matched."""
        validate_filter(filter)
        validate_update(update)

        def work(conn: sqlite3.Connection) -> int:
            with _write_transaction(conn):
                rows = self._select(conn, filter, columns="d.rowid, d.id, d.doc")
                for rowid, doc_id, body in rows:
                    self._write_row(conn, rowid, apply_update(_join_doc(doc_id, body), update))
                return len(rows)

        return await self._run(work)

    async def find_one_and_update(
        self,
        filter: Filter,
        update: Update,
        *,
        sort: SortSpec | None = None,
        return_new: bool = True,
    ) -> Document | None:
        """Atomically update the first match in ``sort`` order and return it (after the
        update when ``return_new``), or None. Safe for claiming work with a lease."""
        validate_filter(filter)
        validate_update(update)
        validate_sort(sort)

        def work(conn: sqlite3.Connection) -> Document | None:
            with _write_transaction(conn):
                rows = self._select(
                    conn, filter, columns="d.rowid, d.id, d.doc", sort=sort, limit=1
                )
                if not rows:
                    return None
                rowid, doc_id, body = rows[0]
                before = _join_doc(doc_id, body)
                after = apply_update(before, update)
                self._write_row(conn, rowid, after)
                # Re-read through the encoding so the caller sees exactly what is stored
                # (e.g. datetimes truncated to milliseconds).
                _, stored = _split_doc(after)
                return _join_doc(doc_id, stored) if return_new else before

        return await self._run(work)

    async def delete_one(self, filter: Filter) -> int:
        """Delete the first match (insertion order); return 0 or 1."""
        return await self._delete(filter, limit=1)

    async def delete_many(self, filter: Filter) -> int:
        """Delete every match; return how many were deleted."""
        return await self._delete(filter, limit=None)

    async def _delete(self, filter: Filter, *, limit: int | None) -> int:
        validate_filter(filter)

        def work(conn: sqlite3.Connection) -> int:
            sql = _SqlFilter()
            where = sql.where(filter)
            subquery = f"SELECT d.rowid FROM {self._table} AS d WHERE {where}"
            if limit is not None:
                subquery += f" ORDER BY d.rowid LIMIT {int(limit)}"
            cursor = conn.execute(
                f"DELETE FROM {self._table} WHERE rowid IN ({subquery})", sql.params
            )
            return int(cursor.rowcount)

        return await self._run(work)

    async def explain(self, filter: Filter, *, sort: SortSpec | None = None) -> list[str]:
        """SQLite's query plan for ``find(filter, sort=sort)``, one line per step (to check
        that an index serves a query, as MongoDB's ``explain`` would)."""
        validate_filter(filter)
        validate_sort(sort)

        def work(conn: sqlite3.Connection) -> list[str]:
            sql = _SqlFilter()
            where = sql.where(filter)
            rows = conn.execute(
                f"EXPLAIN QUERY PLAN SELECT d.id, d.doc FROM {self._table} AS d "
                f"WHERE {where} ORDER BY {_order_by(sort)}",
                sql.params,
            ).fetchall()
            return [str(row[-1]) for row in rows]

        return await self._run(work)

    async def create_index(
        self, keys: IndexKeys, *, unique: bool = False, name: str | None = None
    ) -> None:
        """Create a SQLite expression index over ``keys`` (idempotent by name); a unique
        one makes colliding writes raise DuplicateKeyError."""
        if not keys:
            raise ValueError("an index needs at least one key")
        validate_sort(keys)
        index_name = name or default_index_name(keys)
        columns = [
            f"{_value_expr(path, 'doc', 'id')} {'ASC' if direction == 1 else 'DESC'}"
            for path, direction in keys
        ]
        if unique:
            # json_extract reads JSON true as 1: without this, True and 1 would collide.
            columns += [
                f"(json_type(doc, {_json_path(split_path(path))}) IN ('true', 'false'))"
                for path, _ in keys
                if path != "_id"
            ]
        statements = [
            f"CREATE {'UNIQUE ' if unique else ''}INDEX IF NOT EXISTS "
            f"{_quote_ident(f'{self.name}:{index_name}')} ON {self._table} ({', '.join(columns)})"
        ]
        # For each path (and each of its prefixes), a partial index of the rows where it
        # holds an array: almost always empty, and what lets a filter's "array" branch be an
        # index lookup too, so SQLite can plan the whole filter as a MULTI-INDEX OR.
        prefixes = {
            ".".join(split_path(path)[:k])
            for path, _ in keys
            if path != "_id"
            for k in range(1, len(split_path(path)) + 1)
        }
        for prefix in sorted(prefixes):
            # Keyed on the json_type expression itself: SQLite's OR planner only takes an
            # index it can SEARCH, not one it would merely scan.
            kind = f"json_type(doc, {_json_path(split_path(prefix))})"
            statements.append(
                f"CREATE INDEX IF NOT EXISTS {_quote_ident(f'{self.name}:array:{prefix}')} "
                f"ON {self._table} ({kind}) WHERE {kind} = 'array'"
            )

        def work(conn: sqlite3.Connection) -> None:
            with _write_transaction(conn):
                for statement in statements:
                    conn.execute(statement)

        await self._run(work)


@contextlib.contextmanager
def _write_transaction(conn: sqlite3.Connection) -> Iterator[Callable[[], None]]:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` on any error, a failed COMMIT
    included, so the connection is never left inside a transaction). IMMEDIATE takes the
    write lock before the first read, which is what makes read-modify-write atomic. The
    yielded function commits early (ordered inserts keep what preceded a collision)."""

    def commit() -> None:
        if conn.in_transaction:
            conn.execute("COMMIT")

    conn.execute("BEGIN IMMEDIATE")
    try:
        yield commit
        commit()
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


FILES_COLLECTION: Final = "_files"


def _fsync_dir(path: Path) -> None:
    # The rename is durable only once the directory entry is on disk.
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class EmbeddedFileStore:
    """Files of the embedded store (see the module docstring's *Files*)."""

    def __init__(self, store: EmbeddedStore) -> None:
        self._records = store.collection(FILES_COLLECTION)
        self.root = store.path.parent / f"{store.database}.files"
        self._lock = asyncio.Lock()

    def _object(self, sha256: str) -> Path:
        return self.root / "objects" / sha256[:2] / sha256

    async def put(
        self,
        content: FileContent,
        *,
        filename: str,
        media_type: str,
        metadata: Mapping[str, Any] | None = None,
        max_size: int | None = None,
        expected_sha256: str | None = None,
    ) -> StoredFile:
        """Stream into a temp file, check, fsync, rename into place, then record."""
        tmp_dir = self.root / "tmp"
        await asyncio.to_thread(tmp_dir.mkdir, parents=True, exist_ok=True)
        file_id = uuid.uuid4().hex
        tmp = tmp_dir / f"{file_id}.part"
        digest = hashlib.sha256()
        size = 0
        handle = await asyncio.to_thread(tmp.open, "wb")
        try:
            try:
                async for chunk in content_chunks(content):
                    size += len(chunk)
                    if max_size is not None and size > max_size:
                        raise FileTooLargeError(
                            f"{filename!r} is larger than {max_size} bytes", limit=max_size
                        )
                    digest.update(chunk)
                    await asyncio.to_thread(handle.write, chunk)
                await asyncio.to_thread(handle.flush)
                await asyncio.to_thread(os.fsync, handle.fileno())
            finally:
                await asyncio.to_thread(handle.close)
            actual = digest.hexdigest()
            if expected_sha256 is not None and expected_sha256.lower() != actual:
                raise FileDigestMismatchError(
                    f"{filename!r} has SHA-256 {actual}, not the declared {expected_sha256}",
                    declared=expected_sha256,
                    actual=actual,
                )
            target = self._object(actual)
            record: Document = {
                "_id": file_id,
                "filename": filename,
                "media_type": media_type,
                "size": size,
                "sha256": actual,
                "uploaded_at": datetime.now(UTC),
                "metadata": dict(metadata or {}),
            }
            async with self._lock:
                await asyncio.to_thread(self._place, tmp, target)
                await self._records.insert_one(record)
        finally:
            with contextlib.suppress(FileNotFoundError):
                await asyncio.to_thread(tmp.unlink)
        return _embedded_file(record)

    @staticmethod
    def _place(tmp: Path, target: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            return  # same digest, same content: stored once
        os.replace(tmp, target)
        _fsync_dir(target.parent)

    async def info(self, file_id: str) -> StoredFile:
        """The file's record."""
        found = await self._records.find_one({"_id": file_id})
        if found is None:
            raise FileMissingError(f"no file {file_id!r} in {self.root}")
        return _embedded_file(found)

    async def open(self, file_id: str) -> tuple[StoredFile, AsyncIterator[bytes]]:
        """The record and the content in ``FILE_CHUNK_BYTES`` chunks."""
        record = await self.info(file_id)
        path = self._object(record.sha256)
        try:
            handle = await asyncio.to_thread(path.open, "rb")
        except FileNotFoundError:
            raise StoreError(
                f"file {file_id!r} is recorded but its content {path} is missing"
            ) from None

        async def chunks() -> AsyncIterator[bytes]:
            try:
                while chunk := await asyncio.to_thread(handle.read, FILE_CHUNK_BYTES):
                    yield chunk
            finally:
                await asyncio.to_thread(handle.close)

        return record, chunks()

    async def read(self, file_id: str) -> bytes:
        """The whole content, checked against the recorded digest."""
        record, chunks = await self.open(file_id)
        data = b"".join([chunk async for chunk in chunks])
        if hashlib.sha256(data).hexdigest() != record.sha256:
            raise StoreError(f"file {file_id!r}: content does not match its SHA-256 (damaged)")
        return data

    async def exists(self, file_id: str) -> bool:
        """Whether the record exists."""
        return await self._records.count({"_id": file_id}) > 0

    async def delete(self, file_id: str) -> bool:
        """Remove the record, and the object when no other record shares it."""
        async with self._lock:
            found = await self._records.find_one({"_id": file_id})
            if found is None:
                return False
            await self._records.delete_one({"_id": file_id})
            if await self._records.count({"sha256": found["sha256"]}) == 0:
                with contextlib.suppress(FileNotFoundError):
                    await asyncio.to_thread(self._object(found["sha256"]).unlink)
        return True


def _embedded_file(doc: Mapping[str, Any]) -> StoredFile:
    return StoredFile(
        id=doc["_id"],
        filename=doc["filename"],
        media_type=doc["media_type"],
        size=doc["size"],
        sha256=doc["sha256"],
        uploaded_at=doc["uploaded_at"],
        metadata=dict(doc.get("metadata") or {}),
    )


class EmbeddedStore:
    """A database of the embedded topology: one SQLite file, one worker thread."""

    def __init__(self, path: Path, database: str) -> None:
        self.path = path
        self.database = database
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix=f"embedded-store-{database}"
        )
        self._conn: sqlite3.Connection | None = None
        self._tables: set[str] = set()
        self._closed = False
        self._lock = threading.Lock()
        self._collections: dict[str, EmbeddedCollection] = {}
        self._files: EmbeddedFileStore | None = None
        # Open on the worker thread (the connection belongs to it); this is queued first, so
        # every later call finds it open, and an error surfaces at the first await.
        self._opened = self._executor.submit(self._open)

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=30.0)
        # Switching a fresh file to WAL needs an exclusive lock and SQLite answers "locked"
        # at once (no busy wait) while another connection is doing the same: retry briefly.
        deadline = time.monotonic() + 30.0
        while True:
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    conn.close()
                    raise
                time.sleep(0.01)
        # FULL: in WAL mode, NORMAL may lose the last commits on power loss; a store that
        # acknowledged a write must keep it.
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA busy_timeout=30000")
        self._conn = conn

    def collection(self, name: str) -> EmbeddedCollection:
        """The collection called ``name`` (its table is created on first use)."""
        if not isinstance(name, str) or not name:
            raise ValueError(f"invalid collection name {name!r}")
        found = self._collections.get(name)
        if found is None:
            found = self._collections[name] = EmbeddedCollection(self, name)
        return found

    def files(self) -> EmbeddedFileStore:
        """The database's files, under ``<data_dir>/<database>.files``."""
        if self._files is None:
            self._files = EmbeddedFileStore(self)
        return self._files

    async def _run(self, collection: str | None, fn: Callable[[sqlite3.Connection], T]) -> T:
        def job() -> T:
            try:
                self._opened.result()
            except (OSError, sqlite3.Error) as exc:
                raise StoreUnavailableError(
                    f"cannot open embedded store {self.path}: {exc}"
                ) from exc
            conn = self._conn
            if conn is None:
                raise StoreUnavailableError(f"embedded store {self.path} is closed")
            if collection is not None and collection not in self._tables:
                conn.execute(
                    f"CREATE TABLE IF NOT EXISTS {_table(collection)} "
                    "(id TEXT PRIMARY KEY NOT NULL, doc TEXT NOT NULL)"
                )
                self._tables.add(collection)
            try:
                return fn(conn)
            except sqlite3.IntegrityError as exc:
                if "UNIQUE" in str(exc):
                    raise DuplicateKeyError(
                        f"duplicate key in {self.database}.{collection}: {exc}"
                    ) from exc
                raise StoreError(f"{self.database}.{collection}: {exc}") from exc
            except sqlite3.OperationalError as exc:
                text = str(exc)
                if "locked" in text or "busy" in text or "unable to open" in text:
                    raise StoreUnavailableError(f"embedded store {self.path}: {text}") from exc
                raise StoreError(f"embedded store {self.path}: {text}") from exc
            except sqlite3.Error as exc:
                raise StoreError(f"embedded store {self.path}: {exc}") from exc

        with self._lock:
            if self._closed:
                raise StoreUnavailableError(f"embedded store {self.path} is closed")
            future = self._executor.submit(job)
        return await asyncio.wrap_future(future)

    async def ping(self) -> None:
        """Raise StoreUnavailableError when the database file cannot be used."""
        try:
            await self._run(None, lambda conn: conn.execute("SELECT 1").fetchone())
        except StoreUnavailableError:
            raise
        except StoreError as exc:
            raise StoreUnavailableError(f"embedded store {self.path}: {exc}") from exc

    async def close(self) -> None:
        """Close the SQLite connection and stop the worker thread (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True

            def shut() -> None:
                if self._conn is not None:
                    self._conn.close()
                    self._conn = None

            future = self._executor.submit(shut)
        try:
            await asyncio.wrap_future(future)
        finally:
            self._executor.shutdown(wait=False)


def open_embedded_store(data_dir: Path, database: str) -> EmbeddedStore:
    """The embedded store of ``database``: ``<data_dir>/<database>.sqlite3``, created on
    first use. Returns at once; the file is opened on the store's worker thread, so an
    unusable directory shows at the first operation (``await store.ping()`` checks)."""
    if not _DATABASE_NAME.match(database):
        raise ValueError(f"invalid database name {database!r}")
    return EmbeddedStore(Path(data_dir) / f"{database}.sqlite3", database)
