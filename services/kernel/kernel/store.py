"""Store port: a small document-store interface with two adapters.

Adapters: ``kernel.adapters.mongo_store`` (MongoDB through PyMongo's async API) and
``kernel.adapters.embedded_store`` (SQLite file in a local data directory). Both pass
``tests/contract/test_store_contract.py``.

The query and update language is the subset of MongoDB's that both adapters implement,
so that domain code written against it runs unchanged on either:

Filters
    ``{"field": value}`` equality (dotted paths reach into sub-documents; equality against an
    array field matches when any element equals the value), ``$eq``, ``$ne``, ``$gt``,
    ``$gte``, ``$lt``, ``$lte``, ``$in``, ``$nin``, ``$exists``, and top-level ``$and`` /
    ``$or`` of such filters.
Updates
    ``$set``, ``$unset``, ``$inc``, ``$push`` (with or without ``$each``), ``$pull`` (a value,
    or a condition document on the array elements' fields, e.g. ``{"id": {"$in": [...]}}``),
    ``$setOnInsert`` (with ``upsert=True``).
Sort
    a list of ``(field, 1 | -1)`` pairs.

Values are JSON-like: str, int, float, bool, None, list, dict, and ``datetime`` (always
timezone-aware UTC when read back). ``_id`` is a string chosen by the caller.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

Document = dict[str, Any]
Filter = Mapping[str, Any]
Update = Mapping[str, Any]
SortSpec = Sequence[tuple[str, int]]
IndexKeys = Sequence[tuple[str, int]]

__all__ = [
    "Collection",
    "Document",
    "DocumentStore",
    "DuplicateKeyError",
    "Filter",
    "IndexKeys",
    "SortSpec",
    "StoreError",
    "StoreUnavailableError",
    "Update",
    "datetime",
]


class StoreError(Exception):
    """Base class of the store port's errors."""


class DuplicateKeyError(StoreError):
    """An insert or upsert collided with an existing ``_id`` or unique index entry."""


class StoreUnavailableError(StoreError):
    """The store cannot be reached or did not answer in time; the operation may be retried."""


class Collection(Protocol):
    """One collection of documents."""

    name: str

    async def insert_one(self, doc: Document) -> None:
        """Insert ``doc`` (which must carry ``_id``); raise DuplicateKeyError on collision."""

    async def insert_many(self, docs: Sequence[Document]) -> None:
        """Insert all of ``docs`` (ordered); raise DuplicateKeyError on the first collision."""

    async def find_one(self, filter: Filter) -> Document | None:
        """The first document matching ``filter``, or None."""

    async def find(
        self,
        filter: Filter,
        *,
        sort: SortSpec | None = None,
        limit: int | None = None,
        projection: Sequence[str] | None = None,
    ) -> list[Document]:
        """Documents matching ``filter`` in ``sort`` order, at most ``limit`` of them."""

    async def count(self, filter: Filter) -> int:
        """How many documents match ``filter``."""

    async def update_one(self, filter: Filter, update: Update, *, upsert: bool = False) -> int:
        """Apply ``update`` to the first match; return how many matched (0 or 1).

        With ``upsert=True`` and no match, insert a document built from the equality
        conditions of ``filter``, ``$setOnInsert`` and the update, and return 1.
        """

    async def update_many(self, filter: Filter, update: Update) -> int:
        """Apply ``update`` to every match; return how many matched."""

    async def find_one_and_update(
        self,
        filter: Filter,
        update: Update,
        *,
        sort: SortSpec | None = None,
        return_new: bool = True,
    ) -> Document | None:
        """Atomically update the first match (in ``sort`` order) and return it (after the
        update when ``return_new``), or None when nothing matched."""

    async def delete_one(self, filter: Filter) -> int:
        """Delete the first match; return how many were deleted."""

    async def delete_many(self, filter: Filter) -> int:
        """Delete every match; return how many were deleted."""

    async def create_index(
        self, keys: IndexKeys, *, unique: bool = False, name: str | None = None
    ) -> None:
        """Create an index (idempotent)."""


class DocumentStore(Protocol):
    """A database: a namespace of collections owned by one service."""

    def collection(self, name: str) -> Collection:
        """The collection called ``name`` (created on first use)."""

    async def ping(self) -> None:
        """Raise StoreUnavailableError when the store does not answer."""

    async def close(self) -> None:
        """Release connections and files."""
