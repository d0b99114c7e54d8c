"""The store port refuses every write inside a dry run (``viewerCan``, :mod:`kernel.actions`).

A dry run stops a command where its aggregate would be written
(:class:`kernel.outbox.AggregateCollection` calls :func:`kernel.actions.stop_if_dry_run`). A
handler that wrote anything else first (a file, a number drawn from a register, a read model)
would really write while the graph only asked what the caller may do. :func:`guarded` wraps a
store so that such a write fails loudly instead (:class:`WriteInDryRun`, an internal fault,
never an answer), whichever adapter is behind it; :func:`kernel.wiring.open_store` hands every
service its store wrapped. Outside a dry run the wrapper only passes the calls on."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from kernel.actions import in_dry_run
from kernel.store import (
    Collection,
    Document,
    DocumentStore,
    FileContent,
    FileStore,
    Filter,
    IndexKeys,
    SortSpec,
    StoredFile,
    Update,
)

__all__ = ["WriteInDryRun", "guarded"]


class WriteInDryRun(RuntimeError):
    """A write reached the store inside a dry run: the tried handler writes before its
    aggregate's write, so it must not be tried (or must write only through its aggregate)."""


def _refuse(what: str) -> None:
    if in_dry_run():
        raise WriteInDryRun(
            f"{what} inside a dry run (viewerCan): the tried handler writes before its "
            "aggregate's write, and a dry run must write nothing"
        )


class _GuardedCollection:
    """One collection of the guarded store: reads pass, writes are refused in a dry run."""

    def __init__(self, inner: Collection) -> None:
        self._inner = inner
        self.name = inner.name

    def __getattr__(self, attribute: str) -> Any:
        # What an adapter offers beyond the port (e.g. MongoDB's change streams).
        return getattr(self._inner, attribute)

    async def find_one(self, filter: Filter) -> Document | None:
        return await self._inner.find_one(filter)

    async def find(
        self,
        filter: Filter,
        *,
        sort: SortSpec | None = None,
        limit: int | None = None,
        projection: Sequence[str] | None = None,
    ) -> list[Document]:
        return await self._inner.find(filter, sort=sort, limit=limit, projection=projection)

    async def count(self, filter: Filter) -> int:
        return await self._inner.count(filter)

    async def insert_one(self, doc: Document) -> None:
        _refuse(f"insert into {self.name}")
        await self._inner.insert_one(doc)

    async def insert_many(self, docs: Sequence[Document]) -> None:
        _refuse(f"insert into {self.name}")
        await self._inner.insert_many(docs)

    async def update_one(self, filter: Filter, update: Update, *, upsert: bool = False) -> int:
        _refuse(f"update of {self.name}")
        return await self._inner.update_one(filter, update, upsert=upsert)

    async def update_many(self, filter: Filter, update: Update) -> int:
        _refuse(f"update of {self.name}")
        return await self._inner.update_many(filter, update)

    async def find_one_and_update(
        self,
        filter: Filter,
        update: Update,
        *,
        sort: SortSpec | None = None,
        return_new: bool = True,
    ) -> Document | None:
        _refuse(f"update of {self.name}")
        return await self._inner.find_one_and_update(
            filter, update, sort=sort, return_new=return_new
        )

    async def delete_one(self, filter: Filter) -> int:
        _refuse(f"delete from {self.name}")
        return await self._inner.delete_one(filter)

    async def delete_many(self, filter: Filter) -> int:
        _refuse(f"delete from {self.name}")
        return await self._inner.delete_many(filter)

    async def create_index(
        self, keys: IndexKeys, *, unique: bool = False, name: str | None = None
    ) -> None:
        _refuse(f"index creation on {self.name}")
        await self._inner.create_index(keys, unique=unique, name=name)

    async def drop_index(self, name: str, keys: IndexKeys) -> bool:
        _refuse(f"index removal on {self.name}")
        return await self._inner.drop_index(name, keys)


class _GuardedFiles:
    """The guarded store's files: storing and deleting are refused in a dry run."""

    def __init__(self, inner: FileStore) -> None:
        self._inner = inner

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._inner, attribute)

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
        _refuse(f"storing the file {filename!r}")
        return await self._inner.put(
            content,
            filename=filename,
            media_type=media_type,
            metadata=metadata,
            max_size=max_size,
            expected_sha256=expected_sha256,
        )

    async def info(self, file_id: str) -> StoredFile:
        return await self._inner.info(file_id)

    async def open(self, file_id: str) -> tuple[StoredFile, AsyncIterator[bytes]]:
        return await self._inner.open(file_id)

    async def read(self, file_id: str) -> bytes:
        return await self._inner.read(file_id)

    async def exists(self, file_id: str) -> bool:
        return await self._inner.exists(file_id)

    async def delete(self, file_id: str) -> bool:
        _refuse(f"deleting the file {file_id!r}")
        return await self._inner.delete(file_id)


class _GuardedStore:
    """A store whose every write is refused inside a dry run (one wrapper per collection, so
    the same name gives the same object, as the adapters do)."""

    def __init__(self, inner: DocumentStore) -> None:
        self._inner = inner
        self._collections: dict[str, _GuardedCollection] = {}
        self._files: _GuardedFiles | None = None

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._inner, attribute)

    @property
    def unguarded(self) -> DocumentStore:
        """The adapter behind the guard."""
        return self._inner

    def collection(self, name: str) -> Collection:
        found = self._collections.get(name)
        if found is None:
            found = self._collections[name] = _GuardedCollection(self._inner.collection(name))
        return found

    def files(self) -> FileStore:
        if self._files is None:
            self._files = _GuardedFiles(self._inner.files())
        return self._files

    async def ping(self) -> None:
        await self._inner.ping()

    async def close(self) -> None:
        await self._inner.close()


def guarded(store: DocumentStore) -> DocumentStore:
    """``store`` with every write refused inside a dry run (:class:`WriteInDryRun`)."""
    return store if isinstance(store, _GuardedStore) else _GuardedStore(store)
