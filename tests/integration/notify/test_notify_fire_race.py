"""R-SUP-02: a clock paused and resumed while one of its timers fires keeps its timers running.

A timer that fires while its clock is paused ends ``paused``, and the clock's resumption
plans it again (``paused`` → ``pending``). A timer being fired is ``firing``: a plan written
meanwhile does not touch it. When the pause and the resumption were both handled while the
timer fired (notify's consumer handles messages concurrently with the timer scheduler), the
fire, having read the pause, ended the timer ``paused`` after the resumption's plan had passed
it by: the running clock's reminder stayed paused for good, and nobody was reminded."""

from __future__ import annotations

import asyncio
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


class HeldFireRead:
    """The watch's deadlines, whose next read of ``KEY`` waits for ``go`` before it reads
    and for ``release`` before it answers: a fire that claimed its timer, then read the clock."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.armed = False
        self.reached = asyncio.Event()
        self.go = asyncio.Event()
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


async def fire_between(
    harness: Harness,  # noqa: F811
    before_read: DeadlineV1,
    after_read: DeadlineV1 | None,
) -> NotifyService:
    """The clock opened on Monday; its reminder fires on Thursday 09:00 while the clock's
    ``before_read`` state (stored at 08:30) is handled before the fire reads the clock and
    ``after_read`` (08:45) after that read, before the fire puts the timer back."""
    service = await harness.start(workers=False)
    await register_agencies(service)
    await deliver(service, step_event("r-1", SENT, [clock_block("r-1", DUE)]))
    harness.clock.set(2026, 3, 5, 9, 0)  # the reminder, a working day before the due day
    held = HeldFireRead(service.watch.deadlines)
    service.watch.deadlines = held  # type: ignore[assignment]
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
