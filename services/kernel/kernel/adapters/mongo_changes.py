"""One change stream per database and process, shared by every follower of its collections.

The outbox relay follows each aggregate collection, the read caches and the live
subscriptions follow theirs (:mod:`kernel.changes`): a service process follows ten to
twenty collections. With a stream each, the server runs as many cursors over its oplog and
tests every write of the whole server against each of them: on the benchmark's server that
was most of its CPU at P5's event rates (issue 21: 8–10 ms of server CPU per event with
about 30 streams), and MongoDB's own guidance is to keep the number of change streams low
for the same reason. A :class:`ChangeFeed` opens one stream on the database whose ``$match``
is the union of what its followers ask (collection and change-event filter), and hands each
event to the followers whose filter it meets (tested here with the store language's
``matches``, on the fields the stream projects).

Followers come and go (a live subscription's client leaves, a relay stops). A follower whose
filter the open stream does not cover makes the feed open a new stream first and only then
retire the old one, which ends at its next answer (the server's await time, 1 s): nothing
is missed in between, and an event both streams report reaches a follower twice. That is
harmless: change streams only wake their followers, whose own polling or claiming decides
what to do (the relay claims by id, a signal wakes its waiters).

When the stream breaks, every follower's iterator ends with ``StoreUnavailableError`` (each
resumes by following again); where the server has no change streams (a standalone mongod)
with the ``StoreError`` the server gave, and so once the store is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from pymongo.asynchronous.database import AsyncDatabase

from kernel.adapters.mongo_writes import translated
from kernel.store import Document, StoreError, StoreUnavailableError
from kernel.store_language import matches
from kernel.tasks import cancel_and_wait

__all__ = ["ChangeFeed"]

log = logging.getLogger(__name__)

#: How long the server holds a getMore open waiting for changes (ms): also how long a
#: retired stream may outlive its replacement.
AWAIT_MS: Final = 1000
#: Followers that arrive together (a relay's collections at start, several resuming after a
#: break) are gathered this long before a stream is opened for them.
GATHER_SECONDS: Final = 0.02
#: The fields of a change event every follower needs.
_BASE_FIELDS: Final = ("documentKey", "ns.coll", "operationType")


@dataclass(eq=False)
class _Follower:
    collection: str
    match: dict[str, Any]
    on_open: Callable[[], None] | None
    key: tuple[str, str] = ("", "")
    queue: asyncio.Queue[str | BaseException] = field(default_factory=asyncio.Queue)
    opened: bool = False

    def __post_init__(self) -> None:
        self.key = (self.collection, _match_key(self.match))

    def open(self) -> None:
        if not self.opened:
            self.opened = True
            if self.on_open is not None:
                self.on_open()


@dataclass(eq=False)
class _Stream:
    """One opened change stream, what it covers and the task reading it."""

    cursor: Any
    covers: frozenset[tuple[str, str]]
    reader: asyncio.Task[None] | None = None
    retired: bool = False


class ChangeFeed:
    """The change stream of one database, shared by the followers of its collections."""

    def __init__(self, database: AsyncDatabase[Document], where: str) -> None:
        self._database = database
        self._where = where
        self._followers: set[_Follower] = set()
        self._current: _Stream | None = None
        self._streams: set[_Stream] = set()
        self._manager: asyncio.Task[None] | None = None
        self._wanted = asyncio.Event()
        self._closed = False
        #: How many streams were opened (tests and benchmarks read it).
        self.opened = 0

    @property
    def streams(self) -> int:
        """How many streams are open now (a retired one until its reader ends)."""
        return len(self._streams)

    async def follow(
        self,
        collection: str,
        match: Mapping[str, Any],
        on_open: Callable[[], None] | None = None,
    ) -> AsyncIterator[str]:
        """The ``_id`` of every document of ``collection`` written from now on whose change
        event meets ``match``; ``on_open`` is called once a stream covering it is open."""
        if self._closed:
            raise StoreError(f"change feed of {self._where} is closed")
        follower = _Follower(collection, dict(match), on_open)
        self._followers.add(follower)
        self._want()
        try:
            while True:
                item = await follower.queue.get()
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            self._followers.discard(follower)
            if not self._followers:
                self._want()  # nobody follows: the stream is retired

    async def close(self) -> None:
        """Stop every stream for good (the store is closing): the followers' iterators end
        with ``StoreError``, as on a server without change streams, so they stop following
        instead of resuming."""
        self._closed = True
        tasks = [s.reader for s in self._streams if s.reader is not None]
        if self._manager is not None:
            tasks.append(self._manager)
        await cancel_and_wait(tasks)
        for stream in list(self._streams):
            await self._close_cursor(stream)
        self._fail(StoreError(f"change feed of {self._where} is closed"))

    # -- the manager: one stream covering every follower ---------------------------------

    def _want(self) -> None:
        self._wanted.set()
        if self._manager is None or self._manager.done():
            self._manager = asyncio.create_task(self._manage(), name=f"change-feed {self._where}")

    async def _manage(self) -> None:
        while not self._closed:
            await self._wanted.wait()
            await asyncio.sleep(GATHER_SECONDS)
            self._wanted.clear()
            if not self._followers:
                self._retire_current()
                continue
            needed = frozenset(f.key for f in self._followers)
            current = self._current
            if current is None or not needed <= current.covers:
                try:
                    with translated(self._where):
                        cursor = await self._database.watch(
                            self._pipeline(), max_await_time_ms=AWAIT_MS
                        )
                except StoreError as exc:
                    self._fail(exc)
                    continue
                self.opened += 1
                stream = _Stream(cursor, needed)
                self._streams.add(stream)
                stream.reader = asyncio.create_task(
                    self._read(stream), name=f"change-feed reader {self._where}"
                )
                self._retire_current()
                self._current = stream
            covered = self._current.covers if self._current else frozenset()
            for follower in list(self._followers):
                if follower.key in covered:
                    follower.open()

    def _retire_current(self) -> None:
        if self._current is not None:
            self._current.retired = True
            self._current = None

    def _pipeline(self) -> list[dict[str, Any]]:
        """``$match`` the union of the followers' (collection, filter), grouped by filter;
        project what routing needs: the key, the collection and the fields filters test."""
        by_match: dict[str, tuple[dict[str, Any], set[str]]] = {}
        for f in self._followers:
            by_match.setdefault(f.key[1], (f.match, set()))[1].add(f.collection)
        clauses = [
            {"ns.coll": {"$in": sorted(collections)}, **match}
            for match, collections in by_match.values()
        ]
        fields = dict.fromkeys(_BASE_FIELDS, 1)
        for match, _ in by_match.values():
            fields.update(dict.fromkeys(_paths(match), 1))
        return [
            {"$match": clauses[0] if len(clauses) == 1 else {"$or": clauses}},
            {"$project": fields},
        ]

    # -- a stream's reader -------------------------------------------------------------

    async def _read(self, stream: _Stream) -> None:
        try:
            async with contextlib.AsyncExitStack() as stack:
                stack.push_async_callback(self._close_cursor, stream)
                while not stream.retired:
                    with translated(self._where):
                        event = await stream.cursor.try_next()
                    if stream.retired:
                        return  # its replacement reports from its own opening on
                    if event is None:
                        if not stream.cursor.alive:
                            raise StoreUnavailableError(f"change stream of {self._where} ended")
                        continue
                    if "documentKey" not in event:
                        # The database was dropped or renamed: the stream is invalidated.
                        raise StoreUnavailableError(
                            f"change stream of {self._where} ended "
                            f"({event.get('operationType', 'closed')})"
                        )
                    self._route(event)
        except Exception as exc:  # every follower must hear of it
            if stream.retired:
                return
            log.warning("change stream of %s broke (%s)", self._where, exc)
            if self._current is stream:
                self._current = None
            if not isinstance(exc, StoreError):
                exc = StoreUnavailableError(f"change stream of {self._where} broke: {exc!r}")
            self._fail(exc)

    def _route(self, event: Mapping[str, Any]) -> None:
        collection = (event.get("ns") or {}).get("coll")
        doc_id = str(event["documentKey"]["_id"])
        for follower in self._followers:
            if follower.collection == collection and matches(event, follower.match):
                follower.queue.put_nowait(doc_id)

    def _fail(self, exc: BaseException) -> None:
        """End every follower's iterator with ``exc`` (each resumes by following again)."""
        followers, self._followers = self._followers, set()
        for follower in followers:
            follower.queue.put_nowait(exc)

    async def _close_cursor(self, stream: _Stream) -> None:
        self._streams.discard(stream)
        with contextlib.suppress(Exception):
            await stream.cursor.close()


def _match_key(match: Mapping[str, Any]) -> str:
    return json.dumps(match, sort_keys=True, default=str)


def _paths(filter: Mapping[str, Any]) -> Iterator[str]:
    """The field paths a filter tests (``$or``/``$and``/``$nor`` walked into)."""
    for key, value in filter.items():
        if key in ("$or", "$and", "$nor"):
            for part in value:
                yield from _paths(part)
        elif not key.startswith("$"):
            yield key
