"""Background workers: polling loops that claim work with leases (so any number of replicas
may run them) and stop cleanly between passes. The outbox relay, notify's timer scheduler and
its webhook deliveries all run on this."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from kernel.store import StoreError

__all__ = ["PollingWorker", "Worker"]

log = logging.getLogger(__name__)


class Worker(Protocol):
    """What a service runtime starts after its consumers and stops before its store."""

    def start(self) -> None: ...

    async def stop(self) -> None: ...


class PollingWorker:
    """Runs ``run_once`` until it finds nothing, then sleeps ``interval`` (or until woken)."""

    def __init__(
        self,
        name: str,
        run_once: Callable[[], Awaitable[int]],
        interval: float,
        *,
        on_stop: Callable[[], Awaitable[None]] | None = None,
    ):
        self.name = name
        self._on_stop = on_stop
        self._run_once = run_once
        self._interval = interval
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._wake.set()

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            # Cleared before the pass, not after: a wake (or a stop) that arrives while the
            # pass runs must not be lost, or stop() would wait out a whole interval.
            self._wake.clear()
            try:
                await self._run_once()
            except (StoreError, OSError) as exc:
                log.warning("%s pass failed, will retry: %s", self.name, exc)
            except Exception:
                log.exception("%s pass failed unexpectedly, will retry", self.name)
            if self._stopping.is_set():
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._interval)

    def start(self) -> None:
        if self._task is None:
            self._stopping.clear()
            self._task = asyncio.create_task(self._loop(), name=self.name)

    async def stop(self) -> None:
        """Let the current pass finish (its claims are then closed), then stop."""
        self._stopping.set()
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None
        if self._on_stop is not None:
            await self._on_stop()
