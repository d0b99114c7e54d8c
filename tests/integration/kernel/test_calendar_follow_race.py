"""R-SUP-02 (issue 20): a service's calendar keeps the newest official holiday schedule of a
year even when two revisions of it are in hand at once. A consumer handles up to
``consumer_prefetch`` messages concurrently; the follower stored the revision, read the
newest stored one back, then installed what it read. A handler that read revision 1 before
revision 2 was stored, and installed it after revision 2's handler had installed revision 2,
put the superseded schedule back in the calendar, and its recheck computed the open clocks
on it (a clock counted across a day the newer notice made a working day, or the reverse)."""

from __future__ import annotations

import asyncio
from typing import Any

from kernel.calendar import WorkingCalendar
from kernel.calendar_follow import CalendarFollower, ScheduleReadModel
from kernel.contracts.calendar import HolidayScheduleV1
from kernel.envelope import new_envelope
from kernel.store import DocumentStore
from tests.integration.kernel.test_calendar_follow import YEAR, Rechecks, published

NEWER_NUMBER = f"国办发明电〔{YEAR - 1}〕100号"


class HeldRead(ScheduleReadModel):
    """The follower's schedules, whose next read of the year is answered, then held until
    released: a handler that read the newest stored revision and has not installed it yet."""

    def __init__(self, store: DocumentStore) -> None:
        super().__init__(store)
        self.armed = False
        self.read = asyncio.Event()
        self.release = asyncio.Event()

    async def get(self, year: int) -> HolidayScheduleV1 | None:
        found = await super().get(year)
        if self.armed:
            self.armed = False
            self.read.set()
            await self.release.wait()
        return found


def _envelope(event: HolidayScheduleV1) -> Any:
    return new_envelope(event, district="fuyuan", service="coordination", subject=str(YEAR))


async def test_R_SUP_02_a_revision_read_before_a_newer_one_was_stored_is_not_installed_over_it(
    store: DocumentStore,
) -> None:
    installed_at_recheck: list[str] = []
    cal = WorkingCalendar()

    async def recheck(year: int | None) -> int:
        installed = cal.schedules.get(YEAR)
        installed_at_recheck.append(installed.document_number if installed else "")
        return 0

    follower = CalendarFollower(store, cal, [recheck])
    held = HeldRead(store)
    follower.schedules = held
    older, newer = published(1), published(2, document_number=NEWER_NUMBER)

    held.armed = True
    stale = asyncio.create_task(follower.when_schedule_published_recheck_clocks(_envelope(older)))
    await asyncio.wait_for(held.read.wait(), 10)  # it read revision 1, the newest stored yet
    await follower.when_schedule_published_recheck_clocks(_envelope(newer))
    assert cal.schedules.get(YEAR).document_number == NEWER_NUMBER  # type: ignore[union-attr]

    held.release.set()
    await asyncio.wait_for(stale, 10)
    assert cal.schedules.get(YEAR).document_number == NEWER_NUMBER  # type: ignore[union-attr]
    # No recheck computed the clocks on the superseded notice.
    assert set(installed_at_recheck) == {NEWER_NUMBER}


async def test_R_SUP_02_the_same_revision_read_again_is_still_installed_and_rechecked(
    store: DocumentStore,
) -> None:
    """Just inside the guard: the revision installed already (a redelivery, or the start's
    install) installs and rechecks again; the next revision replaces it."""
    recheck = Rechecks()
    calls = recheck.calls
    cal = WorkingCalendar()
    follower = CalendarFollower(store, cal, [recheck])
    newer = published(2, document_number=NEWER_NUMBER)
    await follower.schedules.put(newer)
    await follower.start()
    await follower.when_schedule_published_recheck_clocks(_envelope(newer))
    assert cal.schedules.get(YEAR).document_number == NEWER_NUMBER  # type: ignore[union-attr]
    third = published(3, document_number=f"国办发明电〔{YEAR - 1}〕101号")
    await follower.when_schedule_published_recheck_clocks(_envelope(third))
    assert cal.schedules.get(YEAR).document_number == third.document_number  # type: ignore[union-attr]
    assert calls == [None, YEAR, YEAR]
