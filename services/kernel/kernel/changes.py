"""Waking on a collection's changes: the server's change stream where the store has one
(MongoDB), a plain timeout elsewhere (the embedded store).

A ``ChangeSignal`` only wakes: whoever waits still reads the store to find what changed,
so a missed or broken stream costs latency (the timeout), never data (issue 21).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

from kernel.store import Collection, StoreError, StoreUnavailableError

__all__ = ["ChangeSignal"]

log = logging.getLogger(__name__)


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
        #: How many matching changes the stream reported (and how often it broke, since
        #: changes may have been missed meanwhile): a cache read at one generation is stale
        #: once this moved on.
        self.generation = 0

    def follow(self) -> None:
        """Open the stream now (where the store has one) without waiting for a change."""
        if self.streaming and self._task is None:
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
                async for _ in changed_ids(self._match, self.opened.set):
                    self._changed()
            except StoreUnavailableError as exc:
                log.warning("change stream of %s broke (%s); resuming", self._collection.name, exc)
                self._changed()  # what changed while it was down is unknown
                await asyncio.sleep(1.0)
            except StoreError as exc:  # e.g. a standalone mongod: no change streams
                log.info("no change stream on %s (%s); polling", self._collection.name, exc)
                self.streaming = False
                self._changed()
                return

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
