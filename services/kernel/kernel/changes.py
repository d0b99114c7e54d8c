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

    async def wait(self, timeout: float) -> None:  # noqa: ASYNC109 (a pause, not a deadline)
        """Return at the next matching change, or after ``timeout`` seconds."""
        if self.streaming and self._task is None:
            self._task = asyncio.create_task(self._follow())
        event = self._event
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)

    def _changed(self) -> None:
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
                await asyncio.sleep(1.0)
            except StoreError as exc:  # e.g. a standalone mongod: no change streams
                log.info("no change stream on %s (%s); polling", self._collection.name, exc)
                self.streaming = False
                return

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
