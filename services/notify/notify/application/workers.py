"""The timer scheduler of the notify service (deadline watch, unread notices). It claims
work with a lease, so any number of replicas may run it; kernel.workers.PollingWorker runs
it (and the webhook deliveries) as a background loop."""

from __future__ import annotations

import time
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
    the lease, and the side effects, keyed by the timer id, are not repeated.

    The background loop calls ``tick``, which asks the store only when something may be
    due: after each pass the scheduler remembers the earliest pending ``fire_at`` up to
    ``recheck`` ahead (that horizon itself when none is due before it), lowers
    it when this process schedules an earlier timer (``scheduled``, the repository's
    ``on_schedule``), and asks the store again when the clock reaches it or ``recheck``
    has passed (timers of other replicas, leases of crashed ones). Claiming is a filtered,
    sorted query, which a server without a usable index answers by reading every timer;
    polling it twice a second for nothing was most of what an idle notify asked of its store.
    """

    def __init__(
        self,
        timers: TimerRepository,
        watch: FiresTimers,
        clock: Callable[[], datetime],
        *,
        owner: str | None = None,
        lease: timedelta = timedelta(seconds=60),
        recheck: timedelta = timedelta(seconds=30),
    ) -> None:
        self.timers = timers
        self.watch = watch
        self.clock = clock
        self.owner = owner or f"scheduler-{uuid.uuid4().hex[:8]}"
        self.lease = lease
        self.recheck = recheck
        self.fired = 0
        self.passes = 0
        # The earliest pending fire_at at the last pass, or that pass's horizon.
        self._next: datetime | None = None
        self._noted: datetime | None = None  # earliest scheduled here since that pass
        self._trusted_until = 0.0  # monotonic time until which _next needs no recheck

    def scheduled(self, fire_at: datetime) -> None:
        """A timer of this process now fires at ``fire_at``."""
        if self._noted is None or fire_at < self._noted:
            self._noted = fire_at

    async def tick(self) -> int:
        """The loop's pass: ``run_once`` when a timer may be due, else nothing."""
        if time.monotonic() < self._trusted_until:
            known = [t for t in (self._next, self._noted) if t is not None]
            if not known or self.clock() < min(known):
                return 0
        return await self.run_once()

    async def run_once(self) -> int:
        """Fire every timer due now; returns how many were handled."""
        self.passes += 1
        handled = 0
        while True:
            timer = await self.timers.claim(self.clock(), self.owner, self.lease)
            if timer is None:
                # Timers scheduled from here on are noted afresh; the store answers for the
                # ones before (including those scheduled while it is being asked).
                self._noted = None
                # Asked only as far as the recheck: past that horizon (the clock moved on,
                # or nothing was due before it) the store is asked again.
                horizon = self.clock() + self.recheck
                self._next = await self.timers.next_fire_at(horizon) or horizon
                self._trusted_until = time.monotonic() + self.recheck.total_seconds()
                return handled
            outcome = await self.watch.fire(timer, self.owner)
            if outcome == "fired":
                self.fired += 1
            handled += 1
