"""The timer scheduler of the notify service (deadline watch, unread notices). It claims
work with a lease, so any number of replicas may run it; kernel.workers.PollingWorker runs
it (and the webhook deliveries) as a background loop."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from kernel.store import Document
from notify.adapters.watch import TimerRepository


class FiresTimers(Protocol):
    async def fire(self, timer: Document, owner: str) -> str:
        """Do what the claimed timer asks; return the state it ended in (``released`` when
        it was put back to ``pending``)."""
        ...


class TimerScheduler:
    """Claims due timers one at a time (atomic ``pending`` → ``firing`` with a lease) and fires
    them. The lease covers a replica that dies mid-fire: another one re-fires the timer after
    the lease, and the side effects, keyed by the timer id, are not repeated."""

    def __init__(
        self,
        timers: TimerRepository,
        watch: FiresTimers,
        clock: Callable[[], datetime],
        *,
        owner: str | None = None,
        lease: timedelta = timedelta(seconds=60),
    ) -> None:
        self.timers = timers
        self.watch = watch
        self.clock = clock
        self.owner = owner or f"scheduler-{uuid.uuid4().hex[:8]}"
        self.lease = lease
        self.fired = 0

    async def run_once(self) -> int:
        """Fire every timer due now; returns how many were handled."""
        handled = 0
        while True:
            timer = await self.timers.claim(self.clock(), self.owner, self.lease)
            if timer is None:
                return handled
            outcome = await self.watch.fire(timer, self.owner)
            if outcome == "fired":
                self.fired += 1
            handled += 1
