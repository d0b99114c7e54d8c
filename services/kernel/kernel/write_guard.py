"""The store port refuses every write inside a dry run (``viewerCan``, :mod:`kernel.actions`).

A dry run stops a command where its aggregate would be written
(:class:`kernel.outbox.AggregateCollection` calls :func:`kernel.actions.stop_if_dry_run`). A
handler that wrote anything else first (a file, a number drawn from a register, a read model)
would really write while the graph only asked what the caller may do. :func:`guarded` wraps a
store so that such a write fails loudly instead (:class:`WriteInDryRun`, an internal fault,
never an answer), whichever adapter is behind it; :func:`kernel.wiring.open_store` hands every
service its store wrapped. Outside a dry run the wrapper only passes the calls on."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, cast

from kernel.actions import in_dry_run
from kernel.store import Collection, DocumentStore, FileStore

__all__ = ["WriteInDryRun", "guarded"]

#: The port's writes (:class:`kernel.store.Collection`, :class:`kernel.store.FileStore`), by
#: method: what a refusal says was tried.
COLLECTION_WRITES = {
    "insert_one": "insert into",
    "insert_many": "insert into",
    "update_one": "update of",
    "update_many": "update of",
    "find_one_and_update": "update of",
    "delete_one": "delete from",
    "delete_many": "delete from",
    "create_index": "index creation on",
    "drop_index": "index removal on",
}
FILE_WRITES = {"put": "storing a file in", "delete": "deleting a file from"}


class WriteInDryRun(RuntimeError):
    """A write reached the store inside a dry run: the tried handler writes before its
    aggregate's write, so it must not be tried (or must write only through its aggregate)."""


def _refusing(write: Callable[..., Any], what: str) -> Callable[..., Any]:
    @functools.wraps(write)
    def call(*args: Any, **kwargs: Any) -> Any:
        if in_dry_run():
            raise WriteInDryRun(
                f"{what} inside a dry run (viewerCan): the tried handler writes before its "
                "aggregate's write, and a dry run must write nothing"
            )
        return write(*args, **kwargs)

    return call


class _Guarded:
    """Every attribute of ``inner`` as it is (reads, and what an adapter offers beyond the
    port, e.g. MongoDB's change streams), but the methods named in ``writes`` refuse inside a
    dry run."""

    def __init__(self, inner: object, writes: Mapping[str, str], where: str) -> None:
        self._inner = inner
        self._writes = writes
        self._where = where

    def __getattr__(self, attribute: str) -> Any:
        found = getattr(self._inner, attribute)
        what = self._writes.get(attribute)
        if what is not None:
            found = _refusing(found, f"{what} {self._where}")
        setattr(self, attribute, found)  # found once: later reads skip __getattr__
        return found


class _GuardedStore(_Guarded):
    """A store whose collections and files refuse every write inside a dry run (one wrapper
    per collection, so the same name gives the same object, as the adapters do)."""

    def __init__(self, inner: DocumentStore) -> None:
        super().__init__(inner, {}, "")
        self.unguarded = inner
        self._collections: dict[str, Collection] = {}
        self._files: FileStore | None = None

    def collection(self, name: str) -> Collection:
        found = self._collections.get(name)
        if found is None:
            wrapped = _Guarded(self.unguarded.collection(name), COLLECTION_WRITES, name)
            found = self._collections[name] = cast(Collection, wrapped)
        return found

    def files(self) -> FileStore:
        if self._files is None:
            wrapped = _Guarded(self.unguarded.files(), FILE_WRITES, "the store's files")
            self._files = cast(FileStore, wrapped)
        return self._files


def guarded(store: DocumentStore) -> DocumentStore:
    """``store`` with every write refused inside a dry run (:class:`WriteInDryRun`)."""
    if isinstance(store, _GuardedStore):
        return store
    return cast(DocumentStore, _GuardedStore(store))
