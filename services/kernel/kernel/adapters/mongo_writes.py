"""Writes to MongoDB through PyMongo: how its exceptions become the port's, and the group
commit of concurrent inserts.

Group commit of inserts
    Concurrent ``insert_one`` calls on one collection share server commands (issue 21, P3):
    the first call is sent at once; calls that arrive while it is in flight wait for it and
    then go together as one unordered ``insert`` of up to ``INSERT_BATCH`` documents. Each
    caller still gets its own answer (its document's write error, if any, by index), so the
    port's contract is unchanged, and an idle collection adds no wait. PyMongo spends about
    0.34 ms of CPU per ``insert_one`` and 0.04 ms per document of a batch of 16 (measured
    on SecantusDB, docs/benchmarks.md), which is most of what an event costs the outbox
    path (a commit and a consumer's side effect are an insert each).

    One command per collection is in flight at a time, and a busy collection sends at most
    one insert command per ``INSERT_LINGER``: a command with a document of a caller (task)
    that had none in the previous command leaves ``INSERT_LINGER`` after the previous one
    left, not at once, so that it carries what arrives meanwhile too (a consumer's side
    effects come one delivery task at a time, a few milliseconds apart). A document waits
    at most that long plus the command before it. A caller inserting one document after
    another never waits for its own (its task was in the previous command), nor does an
    idle collection. Session 10 of issue 21: PyMongo's CPU per command was ~0.54 ms
    whatever the batch size (1, 4 or 16 documents), and P3's side effects went out in
    commands of 2-4 documents with two in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any, Final

from bson.errors import InvalidDocument
from pymongo import errors as mongo_errors
from pymongo.asynchronous.collection import AsyncCollection

from kernel.store import Document, DuplicateKeyError, StoreError, StoreUnavailableError
from kernel.tasks import copy_exception

__all__ = ["DUPLICATE_KEY", "INSERT_BATCH", "INSERT_LINGER", "GroupedInserts", "translated"]

DUPLICATE_KEY: Final = 11000
#: At most this many documents of concurrent ``insert_one`` calls share one command.
INSERT_BATCH: Final = 256
#: A busy collection's next insert command leaves this many seconds after the previous one
#: (module docstring).
INSERT_LINGER: Final = 0.010


@contextlib.contextmanager
def translated(where: str) -> Iterator[None]:
    """Map PyMongo's exceptions to the port's (``where`` names the server, no secrets)."""
    try:
        yield
    except mongo_errors.DuplicateKeyError as exc:
        raise DuplicateKeyError(f"duplicate key ({where}): {exc}") from exc
    except mongo_errors.BulkWriteError as exc:
        codes = [error.get("code") for error in exc.details.get("writeErrors", [])]
        if DUPLICATE_KEY in codes:
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
        # createIndexes over existing duplicates fails with a plain OperationFailure whose
        # code is 11000, not with DuplicateKeyError.
        if exc.code == DUPLICATE_KEY:
            raise DuplicateKeyError(f"duplicate key ({where}): {exc}") from exc
        raise StoreError(f"MongoDB ({where}): {exc}") from exc
    except InvalidDocument as exc:
        raise ValueError(f"cannot encode document for MongoDB: {exc}") from exc
    except mongo_errors.PyMongoError as exc:
        raise StoreError(f"MongoDB ({where}): {exc}") from exc


class GroupedInserts:
    """Concurrent ``insert_one`` calls of one collection, sent together (module docstring,
    "Group commit of inserts")."""

    def __init__(self, collection: AsyncCollection[Document], where: str) -> None:
        self._c = collection
        self._where = where
        self._waiting: list[tuple[dict[str, Any], asyncio.Future[None], object]] = []
        self._flying = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._left = float("-inf")  # when the previous command left (loop time)
        self._senders: set[object] = set()  # the callers (tasks) it carried documents of

    async def insert(self, doc: dict[str, Any]) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((doc, future, asyncio.current_task()))
        if not self._flying:
            self._flying = True
            task = asyncio.create_task(self._fly())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        await future

    async def _fly(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._waiting:
                pause = self._left + INSERT_LINGER - loop.time()
                if pause > 0 and any(c not in self._senders for _, _, c in self._waiting):
                    # Another caller while the collection is busy: gather for the rest of
                    # INSERT_LINGER (module docstring).
                    await asyncio.sleep(pause)
                # A caller cancelled before its document left is not inserted, as with a
                # plain insert_one cancelled before it was sent.
                taken = self._waiting[:INSERT_BATCH]
                del self._waiting[:INSERT_BATCH]
                batch = [(d, f) for d, f, _ in taken if not f.done()]
                if batch:
                    self._left = loop.time()
                    self._senders = {c for _, _, c in taken}
                    await self._send(batch)
        except asyncio.CancelledError:
            # Stopped while gathering: the documents not sent are not inserted.
            for _, future, _ in self._waiting:
                future.cancel()
            self._waiting.clear()
            raise
        finally:
            self._flying = False

    async def _send(self, batch: list[tuple[dict[str, Any], asyncio.Future[None]]]) -> None:
        outcome: list[BaseException | None] = [None] * len(batch)
        try:
            with translated(self._where):
                if len(batch) == 1:
                    await self._c.insert_one(batch[0][0])
                else:
                    await self._insert_many(batch, outcome)
        except asyncio.CancelledError:
            for _, future in batch:
                future.cancel()
            raise
        except Exception as exc:  # every waiter gets the failure
            outcome = [copy_exception(exc) for _ in batch]
        for (_, future), failure in zip(batch, outcome, strict=True):
            if future.done():
                continue
            if failure is None:
                future.set_result(None)
            else:
                future.set_exception(failure)

    async def _insert_many(
        self,
        batch: list[tuple[dict[str, Any], asyncio.Future[None]]],
        outcome: list[BaseException | None],
    ) -> None:
        """One unordered insert; a document's own write error goes to its caller only."""
        try:
            await self._c.insert_many([d for d, _ in batch], ordered=False)
        except InvalidDocument:
            # One document cannot be encoded: find which, one by one (a programming error,
            # so this path is rare).
            for i, (doc, _) in enumerate(batch):
                try:
                    with translated(self._where):
                        await self._c.insert_one(doc)
                except Exception as exc:
                    outcome[i] = exc
            return
        except mongo_errors.BulkWriteError as exc:
            if exc.details.get("writeConcernErrors"):
                raise  # durability of every document is in doubt: all callers fail
            for error in exc.details.get("writeErrors", []):
                message = f"({self._where}): {error.get('errmsg', error)}"
                if error.get("code") == DUPLICATE_KEY:
                    outcome[error["index"]] = DuplicateKeyError(f"duplicate key {message}")
                else:
                    outcome[error["index"]] = StoreError(f"MongoDB {message}")
