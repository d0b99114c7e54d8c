"""R-SUP-02: a clock's timers follow its latest state even when two plans of the same clock
run at once. notify's consumer handles messages concurrently, and a loaded official schedule
re-plans the open clocks (``replan_year``) while the clock's own ``deadline.moved`` event may
be in hand: each plan read the clock, then wrote its timers unconditionally, so a plan read
before the move could write after the move's plan — the missed timer at the old due time.
A clock moved earlier then escalated late. (Seen as a flake of
``test_calendar_recheck``: notify's missed timer stayed at the old due time.)"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from kernel.contracts.deadlines import DeadlineV1
from notify.bootstrap import NotifyService
from tests.integration.notify.test_notify_watch import (  # noqa: F401 (fixtures)
    DUE,
    SENT,
    Harness,
    clock_block,
    deliver,
    harness,
    local,
    register_agencies,
    step_event,
)

KEY = DeadlineV1.key_for("Referral", "r-1", "referral.accept")


class HeldRead:
    """The watch's deadlines, whose next read of ``KEY`` is answered, then held until
    released: a plan that read the clock and has not written its timers yet."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.armed = False
        self.read = asyncio.Event()
        self.release = asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def get(self, key: str) -> Any:
        found = await self._inner.get(key)
        if self.armed and key == KEY:
            self.armed = False
            self.read.set()
            await self.release.wait()
        return found


async def _missed_fire_at(service: NotifyService) -> Any:
    timer = await service.timers.get(f"{KEY}:missed")
    assert timer is not None
    return timer["fire_at"]


async def test_R_SUP_02_a_plan_read_before_a_move_and_written_after_it_does_not_win(
    harness: Harness,  # noqa: F811
) -> None:
    service = await harness.start(workers=False)
    await register_agencies(service)
    await deliver(service, step_event("r-1", SENT, [clock_block("r-1", DUE)]))
    assert await _missed_fire_at(service) == DUE + timedelta(seconds=1)

    held = HeldRead(service.watch.deadlines)
    service.watch.deadlines = held  # type: ignore[assignment]
    held.armed = True
    stale = asyncio.create_task(service.watch.reconcile(KEY))  # e.g. a replan_year
    await asyncio.wait_for(held.read.wait(), 10)  # it read the clock due on Friday

    earlier = local(2026, 3, 5, 23, 59, 59)  # the clock moves a day earlier
    await deliver(service, step_event("r-1", local(2026, 3, 3, 10), [clock_block("r-1", earlier)]))
    assert await _missed_fire_at(service) == earlier + timedelta(seconds=1)

    held.release.set()
    await asyncio.wait_for(stale, 10)
    assert await _missed_fire_at(service) == earlier + timedelta(seconds=1)


async def test_R_SUP_02_a_plan_of_the_same_clock_state_still_moves_the_timers(
    harness: Harness,  # noqa: F811
) -> None:
    """Just inside the guard: planning again from the state the timers came from (a loaded
    schedule re-plans an unchanged clock) writes, and a timer stored before plans were
    stamped is moved too."""
    service = await harness.start(workers=False)
    await register_agencies(service)
    await deliver(service, step_event("r-1", SENT, [clock_block("r-1", DUE)]))
    timers = service.timers._coll  # the stored shape is the point
    await timers.update_one(
        {"_id": f"{KEY}:missed"}, {"$set": {"fire_at": DUE}, "$unset": {"planned_from": ""}}
    )
    await service.watch.reconcile(KEY)
    assert await _missed_fire_at(service) == DUE + timedelta(seconds=1)
    await timers.update_one({"_id": f"{KEY}:missed"}, {"$set": {"fire_at": DUE}})
    await service.watch.reconcile(KEY)
    assert await _missed_fire_at(service) == DUE + timedelta(seconds=1)
