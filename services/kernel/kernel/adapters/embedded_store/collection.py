"""One collection: the port's document operations and index creation over a table of
``(id, doc)`` rows (see the package docstring's *Indexes* and *Updates*)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kernel.adapters.embedded_store.codec import _decode, _join_doc, _split_doc
from kernel.adapters.embedded_store.connection import T, _SqliteDatabase, _write_transaction
from kernel.adapters.embedded_store.sql import (
    _json_path,
    _order_by,
    _quote_ident,
    _SqlFilter,
    _table,
    _value_expr,
)
from kernel.store import Document, Filter, IndexKeys, SortSpec, Update
from kernel.store_language import (
    apply_update,
    count_by_key,
    index_request,
    project,
    split_path,
    upsert_document,
    validate_filter,
    validate_projection,
    validate_sort,
    validate_update,
)


class EmbeddedCollection:
    """One collection: a table of ``(id, doc)`` rows in the store's SQLite file."""

    def __init__(self, store: _SqliteDatabase, name: str) -> None:
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

    async def count_by(self, filter: Filter, field: str) -> dict[str | None, int]:
        """How many documents match ``filter`` per string value of ``field`` (grouped in
        SQL; a missing field and JSON null both count under None)."""
        validate_filter(filter)
        value = _value_expr(field)  # validates the path
        kind = "'text'" if field == "_id" else f"json_type(d.doc, {_json_path(split_path(field))})"

        def work(conn: sqlite3.Connection) -> list[Any]:
            sql = _SqlFilter()
            where = sql.where(filter)
            return conn.execute(
                f"SELECT {kind}, {value}, count(*) FROM {self._table} AS d "
                f"WHERE {where} GROUP BY 1, 2",
                sql.params,
            ).fetchall()

        counts: dict[str | None, int] = {}
        for stored_kind, stored, n in await self._run(work):
            # Arrays and sub-documents come back as JSON text: decoded, the check below
            # refuses them as it refuses a number or a date. JSON true and false come back
            # as 1 and 0.
            if stored_kind in ("array", "object"):
                decoded = _decode(json.loads(stored))
            elif stored_kind in ("true", "false"):
                decoded = stored_kind == "true"
            else:
                decoded = _decode(stored)
            key = count_by_key(field, decoded)
            counts[key] = counts.get(key, 0) + int(n)
        return counts

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

    def _index_statement(self, keys: IndexKeys, *, unique: bool, index_name: str) -> str:
        """The CREATE INDEX of ``create_index`` (SQLite keeps its text in sqlite_master,
        which is how ``drop_index`` recognises the keys)."""
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
        return (
            f"CREATE {'UNIQUE ' if unique else ''}INDEX IF NOT EXISTS "
            f"{_quote_ident(f'{self.name}:{index_name}')} ON {self._table} ({', '.join(columns)})"
        )

    async def drop_index(self, name: str, keys: IndexKeys) -> bool:
        """Drop ``name`` when it exists as ``create_index`` made it over exactly ``keys``
        (non-unique). The partial array indexes of its paths stay: other indexes share
        them."""
        if not keys:
            raise ValueError("an index needs at least one key")
        validate_sort(keys)
        ident = f"{self.name}:{name}"
        wanted = self._index_statement(keys, unique=False, index_name=name).replace(
            " IF NOT EXISTS", ""
        )

        def work(conn: sqlite3.Connection) -> bool:
            with _write_transaction(conn):
                row = conn.execute(
                    "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", (ident,)
                ).fetchone()
                if row is None or str(row[0]).replace(" IF NOT EXISTS", "") != wanted:
                    return False
                conn.execute(f"DROP INDEX {_quote_ident(ident)}")
                return True

        return bool(await self._run(work))

    async def create_index(
        self,
        keys: IndexKeys,
        *,
        unique: bool = False,
        name: str | None = None,
        partial: Filter | None = None,
    ) -> None:
        """Create a SQLite expression index over ``keys`` (idempotent by name); a unique
        one makes colliding writes raise DuplicateKeyError. A ``partial`` index holds every
        document here (the port allows a store to index more than ``partial`` asks): an
        embedded district's collections are small, and a full index answers the same
        queries."""
        index_name = index_request(keys, unique=unique, name=name, partial=partial)
        statements = [self._index_statement(keys, unique=unique, index_name=index_name)]
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
