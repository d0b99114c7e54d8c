"""R-SUP-02, issue 20: every replica of a service computes on the newest official holiday
schedule. Replicas share one queue, so ``calendar.schedule_published.v1`` reaches one of
them; the others installed it only at their next restart and meanwhile computed deadlines on
the superseded notice. Each replica now installs what another one stored
(``CalendarFollower.sync``, a worker every ``calendar_sync_seconds``)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from kernel.calendar import WorkingCalendar
from kernel.calendar_follow import CalendarFollower
from kernel.envelope import new_envelope
from kernel.store import DocumentStore
from liandong.suite import build_service
from tests.fixtures.settings import embedded_settings
from tests.integration.kernel.test_calendar_follow import YEAR, H, Rechecks, published


async def test_R_SUP_02_a_replica_the_event_did_not_reach_installs_the_stored_schedule(
    store: DocumentStore,
) -> None:
    recheck = Rechecks()
    rechecked = recheck.calls
    reached, other = WorkingCalendar(), WorkingCalendar()
    a = CalendarFollower(store, reached, [recheck])
    b = CalendarFollower(store, other, [recheck])
    await a.start()
    await b.start()
    rechecked.clear()
    await a.when_schedule_published_recheck_clocks(
        new_envelope(published(1), district="fuyuan", service="coordination", subject=str(YEAR))
    )
    assert not other.year_status(YEAR).confirmed  # still the forecast here
    assert await b.sync() == 1
    assert other.year_status(YEAR).confirmed and not other.is_working_day(H.extra_day_off)
    assert rechecked == [YEAR]  # the clocks are shared: rechecked once, where it arrived
    assert await b.sync() == 0  # the same revision again: nothing to install

    # A newer revision stored: installed at the next sync, just past the one installed.
    newer = published(2, document_number=f"国办发明电〔{YEAR - 1}〕101号")
    await a.schedules.put(newer)
    assert await b.sync() == 1
    assert other.schedules.get(YEAR).document_number == newer.document_number  # type: ignore[union-attr]


@pytest.mark.parametrize("service", ["referral", "coordination", "notify"])
async def test_R_SUP_02_every_services_runtime_syncs_the_stored_schedules(
    service: str, tmp_path: Path, unique_name: str
) -> None:
    settings = embedded_settings(tmp_path, unique_name, calendar_sync_seconds=0.05)
    running = await build_service(service, settings)
    await running.runtime.start()
    try:
        calendar = running.deps.calendar
        assert not calendar.year_status(YEAR).confirmed
        # Stored by another replica of the service, whose event this one never gets.
        await CalendarFollower(running.deps.store, WorkingCalendar()).schedules.put(published(1))

        async def installed() -> None:
            while not calendar.year_status(YEAR).confirmed:
                await asyncio.sleep(0.02)

        await asyncio.wait_for(installed(), 10)
        assert not calendar.is_working_day(H.extra_day_off)
    finally:
        await running.runtime.stop()
