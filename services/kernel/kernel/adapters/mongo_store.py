"""MongoDB adapter of the store port, through PyMongo's async API (``AsyncMongoClient``).

Used by the production topology; passes ``tests/contract/test_store_contract.py`` against
a real MongoDB wire-protocol server (MongoDB itself, or FerretDB on our machines).

* Datetimes read back as aware UTC (``tz_aware=True``, ``tzinfo=UTC``); BSON keeps
  milliseconds, so microseconds are truncated, as in the embedded adapter.
* Every request is first checked against the port's language (``validate_filter``,
  ``validate_update`` from ``kernel.adapters.embedded_store``): an operator outside the
  subset raises ``ValueError`` here exactly as it does in the embedded topology, instead of
  working in production and failing on one machine (or the other way round).
* PyMongo errors map to the port's: duplicate keys → ``DuplicateKeyError``; connection
  failures and timeouts → ``StoreUnavailableError``; anything else → ``StoreError``.

FerretDB v1 compatibility
    Verified against FerretDB v1.24.2 with the SQLite backend, which differs from MongoDB
    where the port needs it:

    * Its updates are not atomic: a handler reads the matching documents, computes the new
      ones and writes them back by ``_id`` without isolation, so concurrent ``$inc``s are
      lost, a conditional ``update_one({"_id": x, "version": 3}, ...)`` can match in several
      callers at once and two ``find_one_and_update`` lease claims can both win.
    * ``$pull`` with a condition or a sub-document (``{"items": {"id": {"$in": [...]}}}``)
      silently removes nothing; only plain values are pulled.
    * An upsert ignores equality conditions inside ``$and`` when building the new document
      (and so invents an ObjectId ``_id``).
    * ``$ne`` and ``$nin`` on a dotted path through an array of sub-documents match
      documents where some element *does* hold the value (``{"items.id": {"$ne": "i1"}}``
      matches ``{"items": [{"id": "i1"}]}``); ``$nor`` gets it right, so filters are sent
      with such negations rewritten as ``$nor`` clauses.
    * A unique index violated by an update (not an insert) comes back as an internal error
      rather than E11000; it is mapped to ``DuplicateKeyError`` by its message.

    * Only a filter of exactly ``{"_id": "<string>"}`` reaches its storage as SQL; any other
      filter, ``{"_id": x, "version": 3}`` included, reads and decodes every document of the
      collection and filters in Go. So when a filter pins one string ``_id`` among other
      conditions, the adapter reads that one document by ``_id`` and evaluates the rest
      with the port's own matcher (``matches``, the embedded adapter's semantics), and the
      re-check under a write lock is always such a read. A by-id write then costs a few
      single-row statements however large the collection, instead of two full scans.

    What it does have atomically: inserts (unique indexes, ``_id`` included, are enforced by
    SQLite) and deletes by ``_id`` (the count is the real number of rows deleted). So when
    the server is FerretDB (``buildInfo`` carries ``ferretdbVersion``), every write that
    reads before it writes goes through a per-document lock built on those two operations
    (a lock document inserted into the ``_store_locks`` collection, with a lease so that a
    crashed holder cannot block a document forever), and the update itself is computed in
    Python by the same code as the embedded adapter (``apply_update``) and written as a
    whole-document replacement. Readers need no lock: FerretDB writes each document in one
    SQL statement. Real MongoDB does all of this natively and takes the direct path.

Files
    GridFS through PyMongo's ``gridfs.AsyncGridFSBucket`` (bucket ``files``: collections
    ``files.files`` and ``files.chunks``, 255 KiB chunks). GridFS needs only inserts, finds
    sorted on ``(files_id, n)``, deletes and two ordinary indexes, all of which FerretDB v1
    (SQLite backend) serves; verified by the contract suite with a 5 MB file. The SHA-256 is
    computed while streaming and written into the file document's ``metadata`` before the
    upload is closed; an upload that breaks the size limit or the declared digest is
    aborted, which deletes the chunks already written.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import random
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from urllib.parse import urlsplit

import bson
from bson.errors import InvalidDocument
from gridfs import AsyncGridFSBucket
from gridfs.errors import NoFile
from pymongo import AsyncMongoClient, ReturnDocument
from pymongo import errors as mongo_errors
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from kernel.store import (
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
    apply_update,
    default_index_name,
    matches,
    project,
    upsert_document,
    validate_filter,
    validate_projection,
    validate_sort,
    validate_update,
)

__all__ = ["MongoCollection", "MongoFileStore", "MongoStore", "open_mongo_store"]

LOCKS_COLLECTION: Final = "_store_locks"
FILES_BUCKET: Final = "files"
# A lock holder does three round trips under the lock; a lease this long is only ever
# reached by a crashed (or frozen) holder, whose lock is then broken.
_LOCK_LEASE: Final = timedelta(seconds=15)
_LOCK_WAIT_SECONDS: Final = 30.0
_DUPLICATE_KEY: Final = 11000


@contextlib.contextmanager
def _translated(where: str) -> Iterator[None]:
    """Map PyMongo's exceptions to the port's (``where`` names the server, no secrets)."""
    try:
        yield
    except mongo_errors.DuplicateKeyError as exc:
        raise DuplicateKeyError(f"duplicate key ({where}): {exc}") from exc
    except mongo_errors.BulkWriteError as exc:
        codes = [error.get("code") for error in exc.details.get("writeErrors", [])]
        if _DUPLICATE_KEY in codes:
            raise DuplicateKeyError(f"duplicate key ({where}): {exc}") from exc
        raise StoreError(f"MongoDB ({where}): {exc}") from exc
    except (
        mongo_errors.ConnectionFailure,  # AutoReconnect, NetworkTimeout, server selection
        mongo_errors.ExecutionTimeout,
        mongo_errors.WTimeoutError,
    ) as exc:
        raise StoreUnavailableError(
            f"MongoDB at {where} is unavailable or did not answer in time: {exc}"
        ) from exc
    except mongo_errors.OperationFailure as exc:
        # createIndexes over existing duplicates fails with a plain OperationFailure (code
        # 11000) in MongoDB. FerretDB v1 reports that, and a unique index violated by an
        # update, as InternalError (code 1) carrying its backend's message (SQLite's
        # "UNIQUE constraint failed", PostgreSQL's SQLSTATE 23505); only inserts get E11000.
        message = str(exc)
        if (
            exc.code == _DUPLICATE_KEY
            or "UNIQUE constraint failed" in message
            or "SQLSTATE 23505" in message
        ):
            raise DuplicateKeyError(f"duplicate key ({where}): {exc}") from exc
        raise StoreError(f"MongoDB ({where}): {exc}") from exc
    except InvalidDocument as exc:
        raise ValueError(f"cannot encode document for MongoDB: {exc}") from exc
    except mongo_errors.PyMongoError as exc:
        raise StoreError(f"MongoDB ({where}): {exc}") from exc


def _require_id(doc: Mapping[str, Any]) -> None:
    # The port's ids are strings chosen by the caller; PyMongo would otherwise add an
    # ObjectId to the caller's dict.
    if not isinstance(doc.get("_id"), str):
        raise ValueError(f"a document needs a string _id, got {doc.get('_id')!r}")


class MongoCollection:
    """One MongoDB collection behind the port's ``Collection`` protocol."""

    def __init__(self, store: MongoStore, collection: AsyncCollection[Document]) -> None:
        self.name = collection.name
        self._store = store
        self._c = collection
        self._where = f"{store.where}/{store.database.name}.{collection.name}"

    def _translated(self) -> contextlib.AbstractContextManager[None]:
        return _translated(self._where)

    async def _pinned(self, filter: Filter) -> list[Document] | None:
        """FerretDB only: the document(s) matching a filter that pins one string ``_id``
        among other conditions, read by ``_id`` alone and matched here (see the module
        docstring); None where the server does better itself (MongoDB proper, a filter of
        ``_id`` alone, or no string ``_id``)."""
        doc_id = filter.get("_id")
        if not isinstance(doc_id, str) or len(filter) == 1:
            return None
        if not await self._store.emulating():
            return None
        current = await self._by_id(doc_id)
        return [current] if current is not None and matches(current, filter) else []

    async def _by_id(self, doc_id: str) -> Document | None:
        with self._translated():
            return await self._c.find_one({"_id": doc_id})

    def _as_stored(self, doc: Document) -> Document:
        """``doc`` as reading it back would give it (the collection's codec options)."""
        stored: Document = bson.decode(bson.encode(doc), codec_options=self._c.codec_options)
        return stored

    async def _current(self, filter: Filter, doc_id: str) -> Document | None:
        """The document ``doc_id`` if it (still) matches ``filter`` (FerretDB emulation)."""
        current = await self._by_id(doc_id)
        return current if current is not None and matches(current, filter) else None

    async def _server_filter(self, filter: Filter) -> Filter:
        """``filter`` checked against the port's language, as the server should get it."""
        validate_filter(filter)
        if await self._store.emulating():
            return _negations_as_nor(filter)
        return filter

    # -- reads -------------------------------------------------------------------------

    async def find_one(self, filter: Filter) -> Document | None:
        """The first document matching ``filter`` (natural order), or None."""
        server_filter = await self._server_filter(filter)
        pinned = await self._pinned(filter)
        if pinned is not None:
            return pinned[0] if pinned else None
        with self._translated():
            return await self._c.find_one(server_filter)

    async def find(
        self,
        filter: Filter,
        *,
        sort: SortSpec | None = None,
        limit: int | None = None,
        projection: Sequence[str] | None = None,
    ) -> list[Document]:
        """Documents matching ``filter`` in ``sort`` order, at most ``limit`` of them
        (``limit=0`` returns none, unlike MongoDB's "no limit")."""
        server_filter = await self._server_filter(filter)
        validate_sort(sort)
        validate_projection(projection)
        if limit is not None and limit < 0:
            raise ValueError(f"limit must be >= 0, got {limit}")
        if limit == 0:
            return []
        pinned = await self._pinned(filter)
        if pinned is not None:
            # At most one document: sort and limit cannot change it.
            return [project(d, projection) if projection is not None else d for d in pinned]
        filter = server_filter
        fields = None if projection is None else {path: 1 for path in projection}
        with self._translated():
            cursor = self._c.find(filter, projection=fields)
            if sort:
                cursor = cursor.sort(list(sort))
            if limit is not None:
                cursor = cursor.limit(limit)
            return await cursor.to_list()

    async def count(self, filter: Filter) -> int:
        """How many documents match ``filter``."""
        server_filter = await self._server_filter(filter)
        pinned = await self._pinned(filter)
        if pinned is not None:
            return len(pinned)
        with self._translated():
            return await self._c.count_documents(server_filter)

    # -- inserts (atomic on every server) ----------------------------------------------

    async def insert_one(self, doc: Document) -> None:
        """Insert ``doc`` (which must carry a string ``_id``)."""
        _require_id(doc)
        with self._translated():
            async with self._store.write_turn():
                await self._c.insert_one(dict(doc))

    async def insert_many(self, docs: Sequence[Document]) -> None:
        """Insert ``docs`` in order; those before a collision stay, then DuplicateKeyError."""
        for doc in docs:
            _require_id(doc)
        if not docs:
            return
        with self._translated():
            async with self._store.write_turn():
                await self._c.insert_many([dict(doc) for doc in docs], ordered=True)

    # -- updates -----------------------------------------------------------------------

    async def update_one(self, filter: Filter, update: Update, *, upsert: bool = False) -> int:
        """Update the first match; with ``upsert`` insert when none matches. Returns 0/1."""
        server_filter = await self._server_filter(filter)
        validate_update(update)
        if upsert:
            upsert_document(filter, update)  # ValueError now when no _id can come of it
        if await self._store.emulating():
            outcome = await self._emulated_update(filter, update, sort=None, upsert=upsert)
            return 0 if outcome is None else 1
        with self._translated():
            result = await self._c.update_one(server_filter, update, upsert=upsert)
        return result.matched_count or (1 if result.upserted_id is not None else 0)

    async def update_many(self, filter: Filter, update: Update) -> int:
        """Update every match (each document atomically); return how many matched."""
        server_filter = await self._server_filter(filter)
        validate_update(update)
        if not await self._store.emulating():
            with self._translated():
                result = await self._c.update_many(server_filter, update)
            return result.matched_count
        matched = 0
        for doc_id in await self._matching_ids(filter, server_filter):
            async with self._lock(doc_id):
                current = await self._current(filter, doc_id)
                if current is None:
                    continue  # changed since the scan; MongoDB would skip it too
                with self._translated():
                    async with self._store.write_turn():
                        await self._c.replace_one({"_id": doc_id}, apply_update(current, update))
                matched += 1
        return matched

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
        server_filter = await self._server_filter(filter)
        validate_update(update)
        validate_sort(sort)
        if await self._store.emulating():
            outcome = await self._emulated_update(filter, update, sort=sort, upsert=False)
            if outcome is None:
                return None
            return outcome[1] if return_new else outcome[0]
        with self._translated():
            return await self._c.find_one_and_update(
                server_filter,
                update,
                sort=list(sort) if sort else None,
                return_document=ReturnDocument.AFTER if return_new else ReturnDocument.BEFORE,
            )

    # -- deletes -----------------------------------------------------------------------

    async def delete_one(self, filter: Filter) -> int:
        """Delete the first match; return 0 or 1."""
        server_filter = await self._server_filter(filter)
        if await self._store.emulating() and not _is_plain_id(filter):
            while True:
                ids = await self._matching_ids(filter, server_filter, limit=1)
                if not ids:
                    return 0
                async with self._lock(ids[0]):
                    if await self._delete_if_matching(filter, ids[0]):
                        return 1
        with self._translated():
            async with self._store.write_turn():
                return (await self._c.delete_one(server_filter)).deleted_count

    async def delete_many(self, filter: Filter) -> int:
        """Delete every match; return how many were deleted."""
        server_filter = await self._server_filter(filter)
        if await self._store.emulating() and not _is_plain_id(filter):
            deleted = 0
            for doc_id in await self._matching_ids(filter, server_filter):
                async with self._lock(doc_id):
                    deleted += await self._delete_if_matching(filter, doc_id)
            return deleted
        with self._translated():
            async with self._store.write_turn():
                return (await self._c.delete_many(server_filter)).deleted_count

    # -- indexes -----------------------------------------------------------------------

    async def create_index(
        self, keys: IndexKeys, *, unique: bool = False, name: str | None = None
    ) -> None:
        """Create an index (idempotent: the same keys under another name count as done)."""
        if not keys:
            raise ValueError("an index needs at least one key")
        validate_sort(keys)
        index_name = name or default_index_name(keys)
        with self._translated():
            try:
                await self._c.create_index(list(keys), unique=unique, name=index_name)
            except mongo_errors.OperationFailure as exc:
                # 85 IndexOptionsConflict: "already exists with a different name". The port
                # promises idempotence, so an equivalent index under another name is fine.
                if exc.code != 85 or not await self._has_index(keys, unique=unique):
                    raise

    async def _has_index(self, keys: IndexKeys, *, unique: bool) -> bool:
        wanted = [(path, direction) for path, direction in keys]
        for info in (await self._c.index_information()).values():
            if [tuple(k) for k in info["key"]] == wanted and bool(info.get("unique")) == unique:
                return True
        return False

    # -- FerretDB emulation ------------------------------------------------------------

    async def _matching_ids(
        self,
        filter: Filter,
        server_filter: Filter,
        *,
        sort: SortSpec | None = None,
        limit: int | None = None,
    ) -> list[str]:
        """Ids of the documents matching ``filter`` (``server_filter`` is its form for the
        server), in ``sort`` order, at most ``limit``."""
        pinned = await self._pinned(filter)
        if pinned is not None:
            return [doc["_id"] for doc in pinned]
        with self._translated():
            cursor = self._c.find(server_filter, projection={"_id": 1})
            if sort:
                cursor = cursor.sort(list(sort))
            if limit is not None:
                cursor = cursor.limit(limit)
            return [doc["_id"] for doc in await cursor.to_list()]

    async def _delete_if_matching(self, filter: Filter, doc_id: str) -> int:
        if await self._current(filter, doc_id) is None:
            return 0
        with self._translated():
            async with self._store.write_turn():
                return (await self._c.delete_one({"_id": doc_id})).deleted_count

    async def _emulated_update(
        self, filter: Filter, update: Update, *, sort: SortSpec | None, upsert: bool
    ) -> tuple[Document | None, Document] | None:
        """Read, lock, re-check, compute in Python, replace: ``(before, after)`` of the
        updated (or upserted, with ``before`` None) document, or None when nothing matched.

        A filter that pins one string ``_id`` needs no search first: the lock is taken on
        that id and the re-check under it decides. ``after`` is the replacement as the
        server stores it (a BSON round trip here: milliseconds, aware UTC), not re-read.
        """
        server_filter = _negations_as_nor(filter)
        pinned = filter.get("_id") if isinstance(filter.get("_id"), str) else None
        while True:
            if pinned is not None:
                candidates = [pinned]
            else:
                candidates = await self._matching_ids(filter, server_filter, sort=sort, limit=1)
            if candidates:
                doc_id = candidates[0]
                async with self._lock(doc_id):
                    before = await self._current(filter, doc_id)
                    if before is not None:
                        after = apply_update(before, update)
                        with self._translated():
                            async with self._store.write_turn():
                                replaced = await self._c.replace_one({"_id": doc_id}, after)
                        if replaced.matched_count:
                            return before, self._as_stored(after)
                        # else deleted by a plain delete-by-_id between the read and the write
                if pinned is None:
                    continue  # changed before we held the lock: look again
            if not upsert:
                return None
            new_doc = upsert_document(filter, update)
            async with self._lock(new_doc["_id"]):
                if await self._matching_ids(filter, server_filter, limit=1):
                    continue  # someone made a match meanwhile: update it instead
                try:
                    with self._translated():
                        async with self._store.write_turn():
                            await self._c.insert_one(new_doc)
                except DuplicateKeyError:
                    # As in MongoDB: the _id exists but does not match the filter (or a
                    # unique index collides). Unless a match appeared meanwhile, say so.
                    if await self._matching_ids(filter, server_filter, limit=1):
                        continue
                    raise
                with self._translated():
                    stored = await self._c.find_one({"_id": new_doc["_id"]})
                return None if stored is None else (None, stored)

    @contextlib.asynccontextmanager
    async def _lock(self, doc_id: str) -> AsyncIterator[None]:
        """Hold the per-document write lock (FerretDB emulation only).

        Acquire = insert the lock document (unique ``_id``: exactly one inserter wins);
        release = delete it. A lock past its lease belongs to a crashed holder and is
        broken. Breaking has a narrow race (two waiters breaking the same stale lock) that
        needs a crash in the first place; MongoDB proper never comes here.
        """
        locks = self._store.database[LOCKS_COLLECTION]
        key = json.dumps([self.name, doc_id])
        token = uuid.uuid4().hex
        deadline = time.monotonic() + _LOCK_WAIT_SECONDS
        delay = 0.002
        while True:
            now = datetime.now(UTC)
            try:
                with self._translated():
                    async with self._store.write_turn():
                        await locks.insert_one(
                            {"_id": key, "owner": token, "expires": now + _LOCK_LEASE}
                        )
                break
            except DuplicateKeyError:
                pass
            with self._translated():
                held = await locks.find_one({"_id": key})
                if held is not None and held["expires"] < now:
                    async with self._store.write_turn():
                        await locks.delete_one({"_id": key, "owner": held["owner"]})
                    continue
            if time.monotonic() > deadline:
                raise StoreUnavailableError(
                    f"document {doc_id!r} in {self._where} stayed locked for "
                    f"{_LOCK_WAIT_SECONDS:.0f}s"
                )
            # Jittered exponential backoff: contenders spread out instead of retrying in step.
            await asyncio.sleep(delay * random.uniform(0.5, 1.5))
            delay = min(delay * 2, 0.05)
        try:
            yield
        finally:
            with self._translated():
                async with self._store.write_turn():
                    await locks.delete_one({"_id": key, "owner": token})


def _negations_as_nor(filter: Filter) -> Filter:
    """``filter`` with ``$ne``/``$nin`` on dotted paths moved into ``$nor`` clauses.

    Same meaning in MongoDB's language (``{p: {$ne: v}}`` is "no candidate of p equals v",
    which is ``{$nor: [{p: v}]}``); the rewrite exists because FerretDB v1 evaluates the
    first form wrongly through arrays of sub-documents and the second one rightly.
    """
    out: dict[str, Any] = {}
    nor: list[Filter] = []
    for key, cond in filter.items():
        if key in ("$and", "$or"):
            out[key] = [_negations_as_nor(sub) for sub in cond]
        elif "." in key and isinstance(cond, Mapping) and ({"$ne", "$nin"} & set(cond)):
            rest = {op: arg for op, arg in cond.items() if op not in ("$ne", "$nin")}
            if rest:
                out[key] = rest
            if "$ne" in cond:
                nor.append({key: cond["$ne"]})
            if "$nin" in cond:
                nor.append({key: {"$in": cond["$nin"]}})
        else:
            out[key] = cond
    if nor:
        out["$nor"] = nor
    return out


def _is_plain_id(filter: Filter) -> bool:
    # A delete by _id alone is a single atomic DELETE in FerretDB: no lock needed.
    return set(filter) == {"_id"} and isinstance(filter["_id"], str)


class MongoFileStore:
    """GridFS behind the port's ``FileStore`` protocol."""

    def __init__(self, store: MongoStore) -> None:
        self._store = store
        self._bucket = AsyncGridFSBucket(store.database, bucket_name=FILES_BUCKET)
        self._where = f"{store.where}/{store.database.name}.{FILES_BUCKET}"

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
        """Stream ``content`` into GridFS, hashing as it goes (see the module docstring)."""
        file_id = uuid.uuid4().hex
        digest = hashlib.sha256()
        size = 0
        with _translated(self._where):
            upload = self._bucket.open_upload_stream_with_id(file_id, filename)
            try:
                async for chunk in content_chunks(content):
                    size += len(chunk)
                    if max_size is not None and size > max_size:
                        raise FileTooLargeError(
                            f"{filename!r} is larger than {max_size} bytes", limit=max_size
                        )
                    digest.update(chunk)
                    await upload.write(chunk)
                actual = digest.hexdigest()
                if expected_sha256 is not None and expected_sha256.lower() != actual:
                    raise FileDigestMismatchError(
                        f"{filename!r} has SHA-256 {actual}, not the declared {expected_sha256}",
                        declared=expected_sha256,
                        actual=actual,
                    )
                await upload.set(
                    "metadata",
                    {"mediaType": media_type, "sha256": actual, "attributes": dict(metadata or {})},
                )
                await upload.close()
            except BaseException:
                # abort() deletes the chunks written so far: no half file stays behind.
                with contextlib.suppress(mongo_errors.PyMongoError):
                    await upload.abort()
                raise
        return await self.info(file_id)

    async def info(self, file_id: str) -> StoredFile:
        """The file's record from ``files.files``."""
        with _translated(self._where):
            doc = await self._store.database[f"{FILES_BUCKET}.files"].find_one({"_id": file_id})
        if doc is None:
            raise FileMissingError(f"no file {file_id!r} in {self._where}")
        return _stored_file(doc)

    async def open(self, file_id: str) -> tuple[StoredFile, AsyncIterator[bytes]]:
        """The record and the content chunk by chunk (GridFS's own chunks)."""
        with _translated(self._where):
            try:
                stream = await self._bucket.open_download_stream(file_id)
            except NoFile:  # a PyMongoError: caught before _translated makes it a StoreError
                raise FileMissingError(f"no file {file_id!r} in {self._where}") from None
        record = _stored_file(stream._file)

        async def chunks() -> AsyncIterator[bytes]:
            try:
                while True:
                    with _translated(self._where):
                        chunk = await stream.readchunk()
                    if not chunk:
                        return
                    yield chunk
            finally:
                await stream.close()

        return record, chunks()

    async def read(self, file_id: str) -> bytes:
        """The whole content."""
        _, chunks = await self.open(file_id)
        return b"".join([chunk async for chunk in chunks])

    async def exists(self, file_id: str) -> bool:
        """Whether ``files.files`` holds the id."""
        with _translated(self._where):
            found = await self._store.database[f"{FILES_BUCKET}.files"].find_one(
                {"_id": file_id}, projection={"_id": 1}
            )
        return found is not None

    async def delete(self, file_id: str) -> bool:
        """Delete the file document and its chunks."""
        with _translated(self._where):
            try:
                await self._bucket.delete(file_id)
            except NoFile:
                return False
        return True


def _stored_file(doc: Mapping[str, Any]) -> StoredFile:
    meta = doc.get("metadata") or {}
    uploaded = doc["uploadDate"]
    if uploaded.tzinfo is None:
        uploaded = uploaded.replace(tzinfo=UTC)
    return StoredFile(
        id=doc["_id"],
        filename=doc.get("filename") or "",
        media_type=meta.get("mediaType", "application/octet-stream"),
        size=int(doc["length"]),
        sha256=meta.get("sha256", ""),
        uploaded_at=uploaded,
        metadata=dict(meta.get("attributes") or {}),
    )


class MongoStore:
    """A MongoDB database behind the port's ``DocumentStore`` protocol."""

    def __init__(
        self,
        client: AsyncMongoClient[Document],
        database: str,
        *,
        where: str,
        ferretdb_compat: bool | None = None,
    ) -> None:
        self.client = client
        self.database: AsyncDatabase[Document] = client[database]
        self.where = where
        self._emulate = ferretdb_compat
        self._collections: dict[str, MongoCollection] = {}
        self._files: MongoFileStore | None = None
        self._write_turn: asyncio.Lock | None = None

    def files(self) -> MongoFileStore:
        """The database's GridFS bucket ``files``."""
        if self._files is None:
            self._files = MongoFileStore(self)
        return self._files

    def collection(self, name: str) -> MongoCollection:
        """The collection called ``name`` (MongoDB creates it on first write)."""
        if (
            not isinstance(name, str)
            or not name
            or name == LOCKS_COLLECTION
            or name.startswith(f"{FILES_BUCKET}.")
        ):
            raise ValueError(f"invalid collection name {name!r}")
        found = self._collections.get(name)
        if found is None:
            found = self._collections[name] = MongoCollection(self, self.database[name])
        return found

    @contextlib.asynccontextmanager
    async def write_turn(self) -> AsyncIterator[None]:
        """FerretDB only: one write of this database at a time.

        Its SQLite backend writes one transaction at a time per database file anyway, and a
        writer that finds the file busy sleeps in SQLite's busy handler (1, 2, 5, 10 … ms)
        before it tries again; with many concurrent writers those sleeps, not the writes,
        made most of a write's latency. Queued here, each write starts as soon as the one
        before it ends. MongoDB proper takes no turns.
        """
        if not await self.emulating():
            yield
            return
        if self._write_turn is None:
            self._write_turn = asyncio.Lock()
        async with self._write_turn:
            yield

    async def emulating(self) -> bool:
        """Whether writes go through the FerretDB emulation (asks the server once)."""
        if self._emulate is None:
            with _translated(self.where):
                info = await self.client.admin.command("buildInfo")
            self._emulate = "ferretdbVersion" in info
        return self._emulate

    async def ping(self) -> None:
        """Raise StoreUnavailableError when the server does not answer in time."""
        with _translated(self.where):
            await self.database.command("ping")

    async def drop_database(self) -> None:
        """Drop the whole database (tests and tooling; never called by services)."""
        with _translated(self.where):
            await self.client.drop_database(self.database.name)

    async def close(self) -> None:
        """Close the client's connections."""
        await self.client.close()


def _display(url: str) -> str:
    """The URL's hosts, without credentials, for error messages."""
    try:
        netloc = urlsplit(url).netloc
    except ValueError:
        return "mongodb"
    return netloc.rpartition("@")[2] or "mongodb"


async def open_mongo_store(
    url: str,
    database: str,
    *,
    timeout_ms: int = 5000,
    ferretdb_compat: bool | None = None,
) -> MongoStore:
    """A store on ``database`` at ``url``. Does not connect: a server that is down shows
    as ``StoreUnavailableError`` from ``ping()`` or the first operation, after
    ``timeout_ms``. ``ferretdb_compat`` forces (True) or disables (False) the FerretDB v1
    emulation; by default the server is asked once, at the first write."""
    try:
        client: AsyncMongoClient[Document] = AsyncMongoClient(
            url,
            tz_aware=True,
            tzinfo=UTC,
            serverSelectionTimeoutMS=timeout_ms,
            connectTimeoutMS=timeout_ms,
            socketTimeoutMS=max(timeout_ms * 6, 30_000),
            uuidRepresentation="standard",
        )
    except mongo_errors.ConfigurationError as exc:
        raise ValueError(f"invalid MongoDB URL or options: {exc}") from exc
    return MongoStore(client, database, where=_display(url), ferretdb_compat=ferretdb_compat)
