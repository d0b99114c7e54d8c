"""Every service follows the district's official holiday schedules (issue 20).

Coordination keeps the calendar and publishes each loaded schedule
(``calendar.schedule_published.v1``, :mod:`kernel.contracts.calendar`). Each service keeps
the newest version per year in its own store (``calendar_schedules``), installs it into the
:class:`~kernel.calendar.ScheduleBook` its calendar reads, and asks its clock owners to
check their open clocks again (``rechecks``: one coroutine per kind of clock, taking the
year, or None at start).

At start the stored schedules are installed first, then every recheck runs with ``None``:
clocks computed across a year that has been confirmed since — by a schedule loaded while
the service was down, or by a ``holidays`` upgrade that encodes the notice — are computed
again. Rechecking is idempotent (:meth:`~kernel.calendar.WorkingCalendar.recheck` returns
nothing when nothing would change), so a redelivered event or a restart changes nothing.

Replicas of a service share one queue, so the event reaches one of them: that one stores the
schedule, installs it and rechecks the (shared) clocks. Every replica also reads the stored
schedules every ``calendar_sync_seconds`` (:meth:`CalendarFollower.sync`, a worker) and
installs a newer revision it finds, so the others stop computing on the superseded notice
within that interval, not at their next restart.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from kernel.calendar import WorkingCalendar
from kernel.consumer import upsert_versioned
from kernel.contracts.calendar import HolidayScheduleV1
from kernel.envelope import Envelope
from kernel.store import DocumentStore
from kernel.workers import PollingWorker

__all__ = ["CalendarFollower", "Recheck", "ScheduleReadModel"]

log = logging.getLogger(__name__)

#: Checks one kind of open clock again; the year loaded, or None (at start). Returns how
#: many clocks changed.
Recheck = Callable[[int | None], Awaitable[int]]


class ScheduleReadModel:
    """The newest published schedule of each year, in the service's own store."""

    def __init__(self, store: DocumentStore) -> None:
        self.collection = store.collection("calendar_schedules")

    async def put(self, event: HolidayScheduleV1) -> bool:
        return await upsert_versioned(
            self.collection, str(event.year), event.revision, event.model_dump(mode="json")
        )

    async def get(self, year: int) -> HolidayScheduleV1 | None:
        doc = await self.collection.find_one({"_id": str(year)})
        return HolidayScheduleV1.model_validate(doc) if doc else None

    async def all(self) -> list[HolidayScheduleV1]:
        docs = await self.collection.find({}, sort=[("_id", 1)])
        return [HolidayScheduleV1.model_validate(d) for d in docs]


class CalendarFollower:
    def __init__(
        self,
        store: DocumentStore,
        calendar: WorkingCalendar,
        rechecks: Sequence[Recheck] = (),
    ) -> None:
        self.schedules = ScheduleReadModel(store)
        self.calendar = calendar
        self.rechecks = list(rechecks)
        #: The revision installed per year: a handler that read an older one (before a newer
        #: one was stored, while the consumer handled both at once) installs nothing.
        self.installed: dict[int, int] = {}

    async def start(self) -> None:
        """Install the stored schedules, then recheck clocks whose years changed status."""
        for event in await self.schedules.all():
            self._install(event)
        await self._recheck(None)

    async def sync(self) -> int:
        """Install the stored revisions newer than those installed here (stored by the
        replica the event reached); the clocks were rechecked there. Returns how many."""
        installed = 0
        for event in await self.schedules.all():
            if event.revision > self.installed.get(event.year, 0) and self._install(event):
                log.info(
                    "calendar: revision %d of %d installed from the store",
                    event.revision,
                    event.year,
                )
                installed += 1
        return installed

    def worker(self, interval: float) -> PollingWorker:
        """The replica's :meth:`sync` every ``interval`` seconds."""
        return PollingWorker("calendar-sync", self.sync, interval)

    async def when_schedule_published_recheck_clocks(self, envelope: Envelope) -> None:
        event = envelope.payload(HolidayScheduleV1)
        await self.schedules.put(event)
        # The newest stored version wins, whatever order the events arrive in.
        newest = await self.schedules.get(event.year) or event
        if not self._install(newest):
            return  # a newer revision is installed; its own handler rechecks the clocks
        await self._recheck(event.year)

    def _install(self, event: HolidayScheduleV1) -> bool:
        """Install ``event``'s schedule unless a newer revision of its year is installed
        (R-SUP-02: clocks are never computed again on a superseded notice)."""
        if event.revision < self.installed.get(event.year, 0):
            return False
        self.installed[event.year] = event.revision
        self.calendar.schedules.install(event.schedule())
        return True

    async def _recheck(self, year: int | None) -> None:
        for recheck in self.rechecks:
            changed = await recheck(year)
            if changed:
                log.info("calendar: %d clock(s) computed again (year %s)", changed, year)
