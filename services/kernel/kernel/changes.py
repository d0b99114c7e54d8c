"""Waking on a collection's changes: the server's change stream where the store has one
(MongoDB), a plain timeout elsewhere (the embedded store).

A ``ChangeSignal`` only wakes: whoever waits still reads the store to find what changed,
so a missed or broken stream costs latency (the timeout), never data (issue 21).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Generic, TypeVar

from kernel.store import Collection, StoreError, StoreUnavailableError
from kernel.tasks import cancel_and_wait

__all__ = ["WRITES", "ChangeSignal", "ReadCache"]

log = logging.getLogger(__name__)

#: The change events of every write to a collection (what a ``ReadCache`` follows).
WRITES: dict[str, Any] = {"operationType": {"$in": ["insert", "update", "replace", "delete"]}}

T = TypeVar("T")


class ChangeSignal:
    """One change stream per collection and process, opened at the first wait, whose every
    matching event wakes all current waiters."""

    def __init__(self, collection: Collection, match: Mapping[str, Any]) -> None:
        self._collection = collection
        self._match = dict(match)
        self._event = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.streaming = hasattr(collection, "changed_ids")
        self.opened = asyncio.Event()  # set once the server has opened the stream
        #: Whether the stream is open now (cleared while it is broken or closed): only then
        #: does a missing change mean nothing changed.
        self.live = False
        #: How many matching changes the stream reported (and how often it broke, since
        #: changes may have been missed meanwhile): a cache read at one generation is stale
        #: once this moved on.
        self.generation = 0
        self._closed = False

    @property
    def closed(self) -> bool:
        """Closed for good: the stream is not followed (again)."""
        return self._closed

    def follow(self) -> None:
        """Open the stream now (where the store has one) without waiting for a change;
        never again once closed."""
        if self.streaming and self._task is None and not self._closed:
            self._task = asyncio.create_task(self._follow())

    async def wait(self, timeout: float) -> None:  # noqa: ASYNC109 (a pause, not a deadline)
        """Return at the next matching change, or after ``timeout`` seconds."""
        self.follow()
        event = self._event
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)

    def _changed(self) -> None:
        self.generation += 1
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def _follow(self) -> None:
        changed_ids = getattr(self._collection, "changed_ids")  # noqa: B009 (MongoDB only)
        while True:
            try:
                async for _ in changed_ids(self._match, self._opened):
                    self._changed()
            except StoreUnavailableError as exc:
                self.live = False
                if self._closed:
                    return
                log.warning("change stream of %s broke (%s); resuming", self._collection.name, exc)
                self._changed()  # what changed while it was down is unknown
                await asyncio.sleep(1.0)
            except StoreError as exc:  # e.g. a standalone mongod: no change streams
                log.info("no change stream on %s (%s); polling", self._collection.name, exc)
                self.live = False
                self.streaming = False
                self._changed()
                return

    def _opened(self) -> None:
        self.live = True
        self.opened.set()

    async def close(self) -> None:
        """Stop following for good (the process stops): waits stay plain pauses."""
        self._closed = True
        self.live = False
        self.generation += 1
        task, self._task = self._task, None
        if task is not None:
            await cancel_and_wait([task])


class ReadCache(Generic[T]):
    """Reads of one collection by key kept in memory while its change stream is live (issue
    21, P6: the store read was the largest part of a ``referral(id)``): documents by id
    (referrals, agencies), or one answer per key (an agency's first inbox page and counts).

    An entry is served only while all of these hold: the stream was live when it was read
    and still is, no change of the collection was reported since (any change drops every
    entry: the generation), this process has not written the collection since
    (:meth:`forget`, called around its own writes), and it is younger than ``ttl`` seconds.
    Where no stream runs (the embedded store, a standalone server, a broken stream) every
    read goes to the store. Another replica's write is seen here within the stream's lag
    (milliseconds; a read racing that write could return the old state anyway), this
    process's own writes at once. Values must be immutable (they are shared between
    requests); the caller's authorisation check runs on every read, cached or not."""

    def __init__(
        self,
        signal: ChangeSignal,
        *,
        ttl: float = 2.0,
        size: int = 1024,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.signal = signal
        self.ttl = ttl
        self.size = size
        self._monotonic = monotonic
        self._generation = -1
        self._entries: dict[str, tuple[float, T]] = {}

    def forget(self) -> None:
        """This process writes the collection: nothing read before (or during) stays."""
        self._entries.clear()
        self.signal.generation += 1

    async def many(
        self, ids: Sequence[str], load: Callable[[list[str]], Awaitable[dict[str, T]]]
    ) -> dict[str, T]:
        """The values of ``ids`` that exist, from memory where current, the rest from
        ``load`` (the store)."""
        signal = self.signal
        signal.follow()
        live, generation, now = signal.live, signal.generation, self._monotonic()
        if generation != self._generation or not live:
            self._entries.clear()
            self._generation = generation
        found: dict[str, T] = {}
        missing: list[str] = []
        for key in ids:
            entry = self._entries.get(key)
            if entry is not None and now - entry[0] < self.ttl:
                found[key] = entry[1]
            else:
                missing.append(key)
        if not missing:
            return found
        loaded = await load(missing)
        found.update(loaded)
        # Kept only when nothing changed while reading, and the stream was live throughout.
        if live and signal.live and signal.generation == generation == self._generation:
            for key, value in loaded.items():
                if len(self._entries) >= self.size:
                    del self._entries[next(iter(self._entries))]
                self._entries[key] = (now, value)
        return found
