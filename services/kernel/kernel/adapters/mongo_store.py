"""MongoDB adapter of the store port, through PyMongo's async API (``AsyncMongoClient``).

Used by the production topology; passes ``tests/contract/test_store_contract.py`` against
a real MongoDB wire-protocol server (MongoDB itself, or SecantusDB on our machines).

* Datetimes read back as aware UTC (``tz_aware=True``, ``tzinfo=UTC``); BSON keeps
  milliseconds, so microseconds are truncated, as in the embedded adapter.
* Every request is first checked against the port's language (``validate_filter``,
  ``validate_update`` from ``kernel.store_language``): an operator outside the
  subset raises ``ValueError`` here exactly as it does in the embedded topology, instead of
  working in production and failing on one machine (or the other way round).
* PyMongo errors map to the port's: duplicate keys → ``DuplicateKeyError``; connection
  failures and timeouts → ``StoreUnavailableError``; anything else → ``StoreError``.

Servers
    MongoDB replica sets in production (``deploy/``); in tests, CI and benchmarks SecantusDB
    (``secantusd-rs``, started by ``scripts/infra/mongo.sh``), a single node that speaks the
    wire protocol of mongod 8.x, or a ``mongo`` container where a Docker engine answers. The
    adapter takes one path for all of them: every write is one server command, atomic per
    document (conditional updates, ``$inc``, find-and-modify lease claims), and every filter
    goes to the server as the caller wrote it, so the server's indexes serve it.

Group commit of inserts
    Concurrent ``insert_one`` calls on one collection share server commands (issue 21, P3):
    see :mod:`kernel.adapters.mongo_writes`, which also maps PyMongo's errors to the port's.

Files
    GridFS through PyMongo's ``gridfs.AsyncGridFSBucket`` (bucket ``files``: collections
    ``files.files`` and ``files.chunks``, 255 KiB chunks); verified by the contract suite
    with a 5 MB file. The SHA-256 is computed while streaming and written into the file
    document's ``metadata`` before the upload is closed; an upload that breaks the size
    limit or the declared digest is aborted, which deletes the chunks already written.
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import UTC
from typing import Any, Final
from urllib.parse import urlsplit

from gridfs import AsyncGridFSBucket
from gridfs.errors import NoFile
from pymongo import AsyncMongoClient, ReturnDocument
from pymongo import errors as mongo_errors
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from kernel.adapters.mongo_changes import ChangeFeed
from kernel.adapters.mongo_writes import GroupedInserts as _GroupedInserts
from kernel.adapters.mongo_writes import translated as _translated
from kernel.store import (
    Document,
    FileContent,
    FileDigestMismatchError,
    FileMissingError,
    FileTooLargeError,
    Filter,
    IndexKeys,
    SortSpec,
    StoredFile,
    Update,
    content_chunks,
)
from kernel.store_language import (
    count_by_key,
    index_request,
    split_path,
    upsert_document,
    validate_filter,
    validate_projection,
    validate_sort,
    validate_update,
)

__all__ = ["MongoCollection", "MongoFileStore", "MongoStore", "open_mongo_store"]

FILES_BUCKET: Final = "files"
_INDEX_NOT_FOUND: Final = 27


def sent_filter(filter: Filter) -> Filter:
    """``filter`` checked, in the shape it is sent in: a top-level ``$or`` beside other
    conditions goes inside an ``$and`` (appended to one already there).

    The two shapes mean the same and MongoDB plans them alike, but SecantusDB, the server
    the tests and benchmarks run on, answers the first with a scan of the whole collection
    and the second with the index of the other conditions: a claim of one outbox by ``_id``
    beside its "no live lease" ``$or`` took 66 ms at 60,000 aggregates, and 0.3 ms so
    (issue 21, session 13; tests/unit/test_mongo_filter_shape.py, bench/repro_index_walk.py)."""
    validate_filter(filter)
    if "$or" not in filter or len(filter) == 1:
        return filter
    sent = {key: value for key, value in filter.items() if key != "$or"}
    sent["$and"] = [*filter.get("$and", ()), {"$or": filter["$or"]}]
    return sent


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
        self._inserts = _GroupedInserts(collection, self._where)

    def _translated(self) -> contextlib.AbstractContextManager[None]:
        return _translated(self._where)

    # -- reads -------------------------------------------------------------------------

    async def find_one(self, filter: Filter) -> Document | None:
        """The first document matching ``filter`` (natural order), or None."""
        sent = sent_filter(filter)
        with self._translated():
            return await self._c.find_one(sent)

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
        sent = sent_filter(filter)
        validate_sort(sort)
        validate_projection(projection)
        if limit is not None and limit < 0:
            raise ValueError(f"limit must be >= 0, got {limit}")
        if limit == 0:
            return []
        fields = None if projection is None else {path: 1 for path in projection}
        with self._translated():
            cursor = self._c.find(sent, projection=fields)
            if sort:
                cursor = cursor.sort(list(sort))
            if limit is not None:
                cursor = cursor.limit(limit)
            return await cursor.to_list()

    async def count(self, filter: Filter) -> int:
        """How many documents match ``filter``."""
        sent = sent_filter(filter)
        with self._translated():
            return await self._c.count_documents(sent)

    async def count_by(self, filter: Filter, field: str) -> dict[str | None, int]:
        """How many documents match ``filter`` per string value of ``field``: one
        ``aggregate`` (``$match``, ``$group``), so only the counts leave the server."""
        sent = sent_filter(filter)
        split_path(field)
        pipeline: list[Document] = [
            {"$match": sent},
            {"$group": {"_id": f"${field}", "n": {"$sum": 1}}},
        ]
        counts: dict[str | None, int] = {}
        with self._translated():
            cursor = await self._c.aggregate(pipeline)
            async for row in cursor:
                key = count_by_key(field, row["_id"])
                counts[key] = counts.get(key, 0) + int(row["n"])
        return counts

    # -- inserts -----------------------------------------------------------------------

    async def insert_one(self, doc: Document) -> None:
        """Insert ``doc`` (which must carry a string ``_id``); concurrent calls share
        commands (module docstring, "Group commit of inserts")."""
        _require_id(doc)
        await self._inserts.insert(dict(doc))

    async def insert_many(self, docs: Sequence[Document]) -> None:
        """Insert ``docs`` in order; those before a collision stay, then DuplicateKeyError."""
        for doc in docs:
            _require_id(doc)
        if not docs:
            return
        with self._translated():
            await self._c.insert_many([dict(doc) for doc in docs], ordered=True)

    # -- updates (each one server command, atomic per document) --------------------------

    async def update_one(self, filter: Filter, update: Update, *, upsert: bool = False) -> int:
        """Update the first match; with ``upsert`` insert when none matches. Returns 0/1."""
        sent = sent_filter(filter)
        validate_update(update)
        if upsert:
            upsert_document(filter, update)  # ValueError now when no _id can come of it
        with self._translated():
            result = await self._c.update_one(sent, update, upsert=upsert)
        return result.matched_count or (1 if result.upserted_id is not None else 0)

    async def update_many(self, filter: Filter, update: Update) -> int:
        """Update every match (each document atomically); return how many matched."""
        sent = sent_filter(filter)
        validate_update(update)
        with self._translated():
            result = await self._c.update_many(sent, update)
        return result.matched_count

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
        sent = sent_filter(filter)
        validate_update(update)
        validate_sort(sort)
        with self._translated():
            return await self._c.find_one_and_update(
                sent,
                update,
                sort=list(sort) if sort else None,
                return_document=ReturnDocument.AFTER if return_new else ReturnDocument.BEFORE,
            )

    # -- deletes -----------------------------------------------------------------------

    async def delete_one(self, filter: Filter) -> int:
        """Delete the first match; return 0 or 1."""
        sent = sent_filter(filter)
        with self._translated():
            return (await self._c.delete_one(sent)).deleted_count

    async def delete_many(self, filter: Filter) -> int:
        """Delete every match; return how many were deleted."""
        sent = sent_filter(filter)
        with self._translated():
            return (await self._c.delete_many(sent)).deleted_count

    # -- change streams (MongoDB only; the embedded store has none) ----------------------

    def changed_ids(
        self, match: Mapping[str, Any], on_open: Callable[[], None] | None = None
    ) -> AsyncIterator[str]:
        """The ``_id`` of every document of this collection written from now on whose
        change event matches ``match`` (a ``$match`` on MongoDB's change events, e.g.
        ``{"operationType": "insert"}``), as the server reports them, through the
        database's one shared stream (:class:`~kernel.adapters.mongo_changes.ChangeFeed`).
        Ends with ``StoreUnavailableError`` when the stream breaks (the caller resumes by
        calling again; what happened meanwhile is for its polling to find: change streams
        only wake, they are never the only way to find work). ``on_open`` is called once the
        server has opened a stream covering this: changes from then on are reported. An
        event may be reported twice (while the shared stream is replaced)."""
        return self._store.changes.follow(self.name, match, on_open)

    # -- indexes -----------------------------------------------------------------------

    async def create_index(
        self,
        keys: IndexKeys,
        *,
        unique: bool = False,
        name: str | None = None,
        partial: Filter | None = None,
    ) -> None:
        """Create an index (idempotent: the same keys under another name count as done)."""
        index_name = index_request(keys, unique=unique, name=name, partial=partial)
        options: dict[str, Any] = {}
        if partial is not None:
            options["partialFilterExpression"] = dict(partial)
        with self._translated():
            try:
                await self._c.create_index(list(keys), unique=unique, name=index_name, **options)
            except mongo_errors.OperationFailure as exc:
                # 85 IndexOptionsConflict: "already exists with a different name". The port
                # promises idempotence, so an equivalent index under another name is fine.
                if exc.code != 85 or not await self._has_index(keys, unique=unique):
                    raise

    async def drop_index(self, name: str, keys: IndexKeys) -> bool:
        """Drop ``name`` when it exists over exactly ``keys`` and is not unique."""
        validate_sort(keys)
        wanted = [(path, direction) for path, direction in keys]
        with self._translated():
            info = (await self._c.index_information()).get(name)
            if info is None or info.get("unique"):
                return False
            if [tuple(k) for k in info["key"]] != wanted:
                return False
            try:
                await self._c.drop_index(name)
            except mongo_errors.OperationFailure as exc:
                if exc.code == _INDEX_NOT_FOUND:  # another migration dropped it meanwhile
                    return False
                raise
        return True

    async def _has_index(self, keys: IndexKeys, *, unique: bool) -> bool:
        wanted = [(path, direction) for path, direction in keys]
        for info in (await self._c.index_information()).values():
            if [tuple(k) for k in info["key"]] == wanted and bool(info.get("unique")) == unique:
                return True
        return False


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
    ) -> None:
        self.client = client
        self.database: AsyncDatabase[Document] = client[database]
        self.where = where
        self._collections: dict[str, MongoCollection] = {}
        self._files: MongoFileStore | None = None
        #: The database's one change stream, shared by every follower of its collections.
        self.changes = ChangeFeed(self.database, f"{where}/{database}")

    def files(self) -> MongoFileStore:
        """The database's GridFS bucket ``files``."""
        if self._files is None:
            self._files = MongoFileStore(self)
        return self._files

    def collection(self, name: str) -> MongoCollection:
        """The collection called ``name`` (MongoDB creates it on first write)."""
        if not isinstance(name, str) or not name or name.startswith(f"{FILES_BUCKET}."):
            raise ValueError(f"invalid collection name {name!r}")
        found = self._collections.get(name)
        if found is None:
            found = self._collections[name] = MongoCollection(self, self.database[name])
        return found

    async def ping(self) -> None:
        """Raise StoreUnavailableError when the server does not answer in time."""
        with _translated(self.where):
            await self.database.command("ping")

    async def drop_database(self) -> None:
        """Drop the whole database (tests and tooling; never called by services)."""
        with _translated(self.where):
            await self.client.drop_database(self.database.name)

    async def close(self) -> None:
        """Stop the change stream, then close the client's connections."""
        await self.changes.close()
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
) -> MongoStore:
    """A store on ``database`` at ``url``. Does not connect: a server that is down shows
    as ``StoreUnavailableError`` from ``ping()`` or the first operation, after
    ``timeout_ms``."""
    try:
        client: AsyncMongoClient[Document] = AsyncMongoClient(
            url,
            tz_aware=True,
            tzinfo=UTC,
            serverSelectionTimeoutMS=timeout_ms,
            connectTimeoutMS=timeout_ms,
            socketTimeoutMS=max(timeout_ms * 6, 30_000),
            uuidRepresentation="standard",
            # An acknowledged write is on disk (journal) and on a majority of the replica
            # set: a crash right after it never loses an aggregate whose events the relay
            # may already have published (tests/fault/test_store_faults.py).
            w="majority",
            journal=True,
        )
    except mongo_errors.ConfigurationError as exc:
        raise ValueError(f"invalid MongoDB URL or options: {exc}") from exc
    return MongoStore(client, database, where=_display(url))
