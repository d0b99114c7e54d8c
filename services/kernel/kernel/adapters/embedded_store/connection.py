"""The SQLite file of one database, the worker thread that owns its connection, and write
transactions (see the package docstring's *Layout*, *Updates* and *Threads*)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from kernel.adapters.embedded_store.sql import _table
from kernel.store import DuplicateKeyError, StoreError, StoreUnavailableError

T = TypeVar("T")


class _SqliteDatabase:
    """The connection side of :class:`EmbeddedStore`: one SQLite file, one worker thread.
    Every call runs on the worker, in submission order; a collection's table is created
    on its first use."""

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
