"""R-SUP-02: a clock's timers follow its latest state when plans and fires of the same clock
run at once (notify's consumer handles messages concurrently with the timer scheduler, and
a loaded official schedule re-plans the open clocks). Each test holds one read of the clock
(``HeldRead``) while another change of the clock is handled.

Plans (``reconcile``): each read the clock, then wrote its timers unconditionally, so a plan
read before a move could write after the move's plan — the missed timer at the old due time;
a clock moved earlier then escalated late (seen as a flake of ``test_calendar_recheck``).

Fires: a timer being fired is ``firing``, and a plan written meanwhile does not touch it.
When a pause and the resumption were both handled while the timer fired, the fire, having
read the pause, ended the timer ``paused`` after the resumption's plan had passed it by: the
running clock's reminder stayed paused for good. The same with two moves: the reminder came
after the clock's due time."""

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
RESUMED_DUE = local(2026, 3, 13, 23, 59, 59)


class HeldRead:
    """The watch's deadlines, whose next read of ``KEY`` waits for ``go`` before it reads
    (``reached``) and for ``release`` before it answers (``read``): a plan or a fire that
    read the clock and has not written yet."""

    def __init__(self, inner: Any, *, go: bool = False) -> None:
        self._inner = inner
        self.armed = False
        self.reached = asyncio.Event()
        self.go = asyncio.Event()
        if go:
            self.go.set()
        self.read = asyncio.Event()
        self.release = asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def get(self, key: str) -> Any:
        if not (self.armed and key == KEY):
            return await self._inner.get(key)
        self.armed = False
        self.reached.set()
        await self.go.wait()
        found = await self._inner.get(key)
        self.read.set()
        await self.release.wait()
        return found


async def watching_the_clock(
    harness: Harness,  # noqa: F811
    *,
    go: bool = False,
) -> tuple[NotifyService, HeldRead]:
    """notify watching the accept clock of r-1 (due Friday 6 March), its next read held."""
    service = await harness.start(workers=False)
    await register_agencies(service)
    await deliver(service, step_event("r-1", SENT, [clock_block("r-1", DUE)]))
    held = HeldRead(service.watch.deadlines, go=go)
    service.watch.deadlines = held  # type: ignore[assignment]
    return service, held


async def _missed_fire_at(service: NotifyService) -> Any:
    timer = await service.timers.get(f"{KEY}:missed")
    assert timer is not None
    return timer["fire_at"]


async def test_R_SUP_02_a_plan_read_before_a_move_and_written_after_it_does_not_win(
    harness: Harness,  # noqa: F811
) -> None:
    service, held = await watching_the_clock(harness, go=True)
    assert await _missed_fire_at(service) == DUE + timedelta(seconds=1)
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
    service, _ = await watching_the_clock(harness)
    timers = service.timers._coll  # the stored shape is the point
    await timers.update_one(
        {"_id": f"{KEY}:missed"}, {"$set": {"fire_at": DUE}, "$unset": {"planned_from": ""}}
    )
    await service.watch.reconcile(KEY)
    assert await _missed_fire_at(service) == DUE + timedelta(seconds=1)
    await timers.update_one({"_id": f"{KEY}:missed"}, {"$set": {"fire_at": DUE}})
    await service.watch.reconcile(KEY)
    assert await _missed_fire_at(service) == DUE + timedelta(seconds=1)


async def fire_between(
    harness: Harness,  # noqa: F811
    before_read: DeadlineV1,
    after_read: DeadlineV1 | None,
) -> NotifyService:
    """The clock opened on Monday; its reminder fires on Thursday 09:00 while the clock's
    ``before_read`` state (stored at 08:30) is handled before the fire reads the clock and
    ``after_read`` (08:45) after that read, before the fire puts the timer back."""
    service, held = await watching_the_clock(harness)
    harness.clock.set(2026, 3, 5, 9, 0)  # the reminder, a working day before the due day
    held.armed = True
    firing = asyncio.create_task(service.scheduler.run_once())
    await asyncio.wait_for(held.reached.wait(), 10)  # the reminder claimed, being fired
    await deliver(service, step_event("r-1", local(2026, 3, 5, 8, 30), [before_read]))
    held.go.set()
    await asyncio.wait_for(held.read.wait(), 10)
    if after_read is not None:
        await deliver(service, step_event("r-1", local(2026, 3, 5, 8, 45), [after_read]))
    held.release.set()
    await asyncio.wait_for(firing, 10)
    return service


async def timers_of_the_clock(service: NotifyService) -> list[Any]:
    return [t for t in await service.timers.all() if t.get("deadline_key") == KEY]


async def test_R_SUP_02_a_clock_resumed_while_its_timer_fired_is_not_left_paused(
    harness: Harness,  # noqa: F811
) -> None:
    paused, resumed = clock_block("r-1", DUE, "paused"), clock_block("r-1", RESUMED_DUE)
    service = await fire_between(harness, paused, resumed)
    clock = await service.deadlines.get(KEY)
    assert clock is not None and (clock.state, clock.due) == ("open", RESUMED_DUE)
    timers = await timers_of_the_clock(service)
    assert {(t["step"], t["state"]) for t in timers if t["state"] != "pending"} == set()
    reminder = next(t for t in timers if t["step"] == "remind-1wd")
    assert reminder["due"] == RESUMED_DUE


async def test_R_SUP_02_a_timer_fired_during_a_pause_stays_paused_until_the_clock_resumes(
    harness: Harness,  # noqa: F811
) -> None:
    """Just inside: a clock still paused when its timer fires keeps the timer paused (the
    resumption, handled later, moves it back to pending)."""
    service = await fire_between(harness, clock_block("r-1", DUE, "paused"), None)
    assert {t["state"] for t in await timers_of_the_clock(service)} == {"paused"}
    resumed = step_event("r-1", local(2026, 3, 5, 10), [clock_block("r-1", RESUMED_DUE)])
    await deliver(service, resumed)
    assert {t["state"] for t in await timers_of_the_clock(service)} == {"pending"}


async def test_R_SUP_02_a_clock_moved_twice_while_its_timer_fired_reminds_by_the_last_move(
    harness: Harness,  # noqa: F811
) -> None:
    """The same with two moves: the fire read the first (a later due time) and put its timer
    back at that time; the second move (an earlier one) had passed the firing timer by, so the
    reminder came after the clock's due time (and was then skipped as too late)."""
    monday = local(2026, 3, 9, 23, 59, 59)
    service = await fire_between(
        harness, clock_block("r-1", RESUMED_DUE), clock_block("r-1", monday)
    )
    reminder = next(t for t in await timers_of_the_clock(service) if t["step"] == "remind-1wd")
    assert (reminder["state"], reminder["due"]) == ("pending", monday)
    assert reminder["fire_at"] == local(2026, 3, 6, 9, 0)  # a working day before Monday
