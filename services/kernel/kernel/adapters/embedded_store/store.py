"""The store: a database of the embedded topology, its collections and files, and how a
database name maps to its SQLite file."""

from __future__ import annotations

import re
from pathlib import Path

from kernel.adapters.embedded_store.collection import EmbeddedCollection
from kernel.adapters.embedded_store.connection import _SqliteDatabase
from kernel.adapters.embedded_store.files import EmbeddedFileStore

_DATABASE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


class EmbeddedStore(_SqliteDatabase):
    """A database of the embedded topology: one SQLite file, one worker thread."""

    def __init__(self, path: Path, database: str) -> None:
        self._collections: dict[str, EmbeddedCollection] = {}
        self._files: EmbeddedFileStore | None = None
        super().__init__(path, database)

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


def open_embedded_store(data_dir: Path, database: str) -> EmbeddedStore:
    """The embedded store of ``database``: ``<data_dir>/<database>.sqlite3``, created on
    first use. Returns at once; the file is opened on the store's worker thread, so an
    unusable directory shows at the first operation (``await store.ping()`` checks)."""
    if not _DATABASE_NAME.match(database):
        raise ValueError(f"invalid database name {database!r}")
    return EmbeddedStore(Path(data_dir) / f"{database}.sqlite3", database)
