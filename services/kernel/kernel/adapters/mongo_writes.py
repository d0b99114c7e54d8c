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

__all__ = ["DUPLICATE_KEY", "INSERT_BATCH", "INSERT_FLIGHTS", "GroupedInserts", "translated"]

DUPLICATE_KEY: Final = 11000
#: At most this many documents of concurrent ``insert_one`` calls share one command.
INSERT_BATCH: Final = 256
#: Commands of grouped inserts in flight at once per collection.
INSERT_FLIGHTS: Final = 2


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


def _copy_exception(exc: BaseException) -> BaseException:
    """A fresh exception like ``exc`` for one more waiter (one object raised in several
    tasks would collect all their tracebacks)."""
    try:
        copy = type(exc)(*exc.args)
    except Exception:
        return exc
    copy.__cause__ = exc.__cause__
    return copy


class GroupedInserts:
    """Concurrent ``insert_one`` calls of one collection, sent together (module docstring,
    "Group commit of inserts")."""

    def __init__(self, collection: AsyncCollection[Document], where: str) -> None:
        self._c = collection
        self._where = where
        self._waiting: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        self._flights = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def insert(self, doc: dict[str, Any]) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((doc, future))
        if self._flights < INSERT_FLIGHTS:
            self._flights += 1
            task = asyncio.create_task(self._fly())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        await future

    async def _fly(self) -> None:
        try:
            while self._waiting:
                # A caller cancelled before its document left is not inserted, as with a
                # plain insert_one cancelled before it was sent.
                batch = [(d, f) for d, f in self._waiting[:INSERT_BATCH] if not f.done()]
                del self._waiting[:INSERT_BATCH]
                if batch:
                    await self._send(batch)
        finally:
            self._flights -= 1

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
            outcome = [_copy_exception(exc) for _ in batch]
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
