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

Files
    ``DocumentStore.files()`` gives the database's ``FileStore``: immutable binary contents
    (attachments, generated letters) with a name, a media type, caller metadata, the size and
    the SHA-256 the store computed while writing. MongoDB keeps them in GridFS (bucket
    ``files``); the embedded store in its data directory under content-addressed paths.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

Document = dict[str, Any]
Filter = Mapping[str, Any]
Update = Mapping[str, Any]
SortSpec = Sequence[tuple[str, int]]
IndexKeys = Sequence[tuple[str, int]]

__all__ = [
    "FILE_CHUNK_BYTES",
    "Collection",
    "Document",
    "DocumentStore",
    "DuplicateKeyError",
    "FileContent",
    "FileDigestMismatchError",
    "FileMissingError",
    "FileStore",
    "FileTooLargeError",
    "Filter",
    "IndexKeys",
    "ObsoleteIndex",
    "SortSpec",
    "StoreError",
    "StoreUnavailableError",
    "StoredFile",
    "Update",
    "content_chunks",
    "datetime",
    "drop_obsolete_indexes",
]


class StoreError(Exception):
    """Base class of the store port's errors."""


class DuplicateKeyError(StoreError):
    """An insert or upsert collided with an existing ``_id`` or unique index entry."""


class StoreUnavailableError(StoreError):
    """The store cannot be reached or did not answer in time; the operation may be retried."""


class FileMissingError(StoreError):
    """No file with that id (never stored, or deleted)."""


class FileTooLargeError(StoreError):
    """The content exceeded the ``max_size`` the caller allowed; nothing was stored."""

    def __init__(self, message: str, *, limit: int) -> None:
        super().__init__(message)
        self.limit = limit


class FileDigestMismatchError(StoreError):
    """The content's SHA-256 differs from the one the caller declared; nothing was stored."""

    def __init__(self, message: str, *, declared: str, actual: str) -> None:
        super().__init__(message)
        self.declared = declared
        self.actual = actual


# GridFS's chunking (255 KiB, its default) is also the unit in which both adapters hand
# content back, so a download never holds a whole large file in memory.
FILE_CHUNK_BYTES = 255 * 1024

FileContent = bytes | AsyncIterable[bytes]


@dataclass(frozen=True)
class StoredFile:
    """What the store knows of one file (the content is read separately)."""

    id: str
    filename: str
    media_type: str
    size: int
    sha256: str  # lowercase hex, computed by the store while writing
    uploaded_at: datetime
    metadata: dict[str, Any] = field(default_factory=dict)


class FileStore(Protocol):
    """Immutable binary files of one database."""

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
        """Store ``content`` (bytes, or async chunks streamed without buffering the whole
        file) under a new id. Over ``max_size`` bytes raises FileTooLargeError, a digest
        differing from ``expected_sha256`` raises FileDigestMismatchError; in both cases
        nothing stays stored."""

    async def info(self, file_id: str) -> StoredFile:
        """The file's record; FileMissingError when there is none."""

    async def open(self, file_id: str) -> tuple[StoredFile, AsyncIterator[bytes]]:
        """The record and the content as chunks; FileMissingError at once when missing."""

    async def read(self, file_id: str) -> bytes:
        """The whole content; FileMissingError when missing."""

    async def exists(self, file_id: str) -> bool:
        """Whether a file with this id is stored."""

    async def delete(self, file_id: str) -> bool:
        """Remove the file; False when there was none."""


async def content_chunks(content: FileContent) -> AsyncIterator[bytes]:
    """``content`` as non-empty chunks of at most ``FILE_CHUNK_BYTES`` (adapters' helper)."""
    if isinstance(content, bytes | bytearray | memoryview):
        data = bytes(content)
        for start in range(0, len(data), FILE_CHUNK_BYTES):
            yield data[start : start + FILE_CHUNK_BYTES]
        return
    async for piece in content:
        for start in range(0, len(piece), FILE_CHUNK_BYTES):
            yield bytes(piece[start : start + FILE_CHUNK_BYTES])


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

    async def count_by(self, filter: Filter, field: str) -> dict[str | None, int]:
        """How many documents match ``filter``, per value of ``field``, counted by the store
        (one request, no documents sent back).

        ``field`` is a path to a string (not through an array); documents where it is
        missing or None count under None. A matching document whose ``field`` holds
        anything but a string or None is a ``ValueError`` (naming the field and the value's
        type), since stores group other values differently. A value no document matches is
        absent from the result (never 0)."""

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
        self,
        keys: IndexKeys,
        *,
        unique: bool = False,
        name: str | None = None,
        partial: Filter | None = None,
    ) -> None:
        """Create an index (idempotent).

        ``partial``: index only the documents that match this filter (MongoDB's partial
        index). A query uses such an index only when its own filter implies ``partial``
        (the same condition on the same field), so it serves a query for a small part of a
        large collection, e.g. the aggregates with events pending, without holding an entry
        for every other document. A store may index more than ``partial`` asks (the embedded
        store indexes every document): it is a matter of speed, never of results, so it
        cannot be combined with ``unique``."""

    async def drop_index(self, name: str, keys: IndexKeys) -> bool:
        """Drop the index ``name`` if it exists over exactly ``keys`` (non-unique, as
        ``create_index`` made it); True when it was dropped. Idempotent: an absent index, or
        one of that name over other keys (a newer index reusing the name), is left alone."""


class DocumentStore(Protocol):
    """A database: a namespace of collections owned by one service."""

    def collection(self, name: str) -> Collection:
        """The collection called ``name`` (created on first use)."""

    def files(self) -> FileStore:
        """The database's binary files."""

    async def ping(self) -> None:
        """Raise StoreUnavailableError when the store does not answer."""

    async def close(self) -> None:
        """Release connections and files."""


#: An index a release no longer declares: (name, keys as that release created them).
ObsoleteIndex = tuple[str, tuple[tuple[str, int], ...]]


async def drop_obsolete_indexes(collection: Collection, obsolete: Sequence[ObsoleteIndex]) -> int:
    """Drop the indexes an earlier release created on ``collection`` and this one no longer
    uses (each only while it still has the keys it was created with); returns how many were
    dropped. Idempotent: it runs with every ``ensure_indexes`` (the migration Job and each
    service start); one that finds nothing to drop costs a look at the index list per entry."""
    dropped = 0
    for name, keys in obsolete:
        if await collection.drop_index(name, list(keys)):
            dropped += 1
    return dropped
