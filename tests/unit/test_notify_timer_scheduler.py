"""The timer scheduler's loop asks the store only when a timer may be due: R-SUP-02's
reminders and escalations still fire on time, and an idle notify leaves its store alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from notify.application.workers import TimerScheduler

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


class FakeTimers:
    def __init__(self) -> None:
        self.pending: dict[str, datetime] = {}
        self.claims = 0
        self.asked_next = 0
        self.horizons: list[datetime] = []

    async def claim(self, now: datetime, owner: str, lease: timedelta) -> dict[str, Any] | None:
        self.claims += 1
        due = sorted((at, tid) for tid, at in self.pending.items() if at <= now)
        if not due:
            return None
        _, tid = due[0]
        del self.pending[tid]
        return {"_id": tid}

    async def next_fire_at(self, before: datetime) -> datetime | None:
        self.asked_next += 1
        self.horizons.append(before)
        due = [at for at in self.pending.values() if at <= before]
        return min(due) if due else None


class Fires:
    def __init__(self) -> None:
        self.fired: list[str] = []

    async def fire(self, timer: dict[str, Any], owner: str) -> str:
        self.fired.append(timer["_id"])
        return "fired"


def scheduler(
    timers: FakeTimers, now: list[datetime], recheck: timedelta = timedelta(hours=1)
) -> tuple[TimerScheduler, Fires]:
    fires = Fires()
    s = TimerScheduler(timers, fires, lambda: now[0], recheck=recheck)  # type: ignore[arg-type]
    return s, fires


async def test_R_SUP_02_idle_ticks_ask_the_store_nothing_until_a_timer_is_due() -> None:
    timers = FakeTimers()
    timers.pending = {"reminder": T0 + timedelta(hours=2)}
    now = [T0]
    s, fires = scheduler(timers, now)
    assert await s.tick() == 0  # the first tick always asks
    assert (timers.claims, timers.asked_next) == (1, 1)
    for _ in range(50):
        assert await s.tick() == 0
    assert (timers.claims, timers.asked_next) == (1, 1)  # nothing was due: no store calls
    now[0] = T0 + timedelta(hours=2)
    assert await s.tick() == 1
    assert fires.fired == ["reminder"]


async def test_R_SUP_02_a_timer_scheduled_here_earlier_than_known_is_not_missed() -> None:
    timers = FakeTimers()
    timers.pending = {"late": T0 + timedelta(days=3)}
    now = [T0]
    s, fires = scheduler(timers, now)
    await s.tick()
    timers.pending["soon"] = T0 + timedelta(minutes=5)
    s.scheduled(T0 + timedelta(minutes=5))  # what the repository's on_schedule calls
    assert await s.tick() == 0
    now[0] = T0 + timedelta(minutes=5)
    assert await s.tick() == 1
    assert fires.fired == ["soon"]
    assert await s.tick() == 0 and timers.claims == 3  # "late" is not due: quiet again


async def test_R_SUP_02_the_store_is_asked_again_after_recheck_for_other_replicas_timers() -> None:
    timers = FakeTimers()
    now = [T0]
    s, fires = scheduler(timers, now, recheck=timedelta(0))
    await s.tick()
    timers.pending["from-another-replica"] = T0  # nothing told this process
    assert await s.tick() == 1
    assert fires.fired == ["from-another-replica"]


async def test_run_once_always_asks_the_store() -> None:
    timers = FakeTimers()
    now = [T0]
    s, _ = scheduler(timers, now)
    await s.tick()
    timers.pending["x"] = T0
    assert await s.run_once() == 1


async def test_R_SUP_02_the_store_is_asked_for_the_next_timer_only_up_to_the_recheck() -> None:
    """Issue 21, session 13: pending timers are many, so the next one is looked for only
    within ``recheck``; at that horizon the store is asked again (not a tick before)."""
    timers = FakeTimers()
    timers.pending = {"in-three-days": T0 + timedelta(days=3)}
    now = [T0]
    s, fires = scheduler(timers, now, recheck=timedelta(hours=1))
    await s.tick()
    assert timers.horizons == [T0 + timedelta(hours=1)]
    now[0] = T0 + timedelta(hours=1) - timedelta(microseconds=1)
    assert await s.tick() == 0
    assert (timers.claims, timers.asked_next) == (1, 1)  # just before the horizon: quiet
    now[0] = T0 + timedelta(hours=1)
    assert await s.tick() == 0  # at the horizon: asked again, nothing due yet
    assert (timers.claims, timers.asked_next) == (2, 2)
    assert timers.horizons[-1] == T0 + timedelta(hours=2)
    assert fires.fired == []


async def test_R_SUP_02_a_timer_beyond_the_horizon_fires_once_the_clock_passes_it() -> None:
    """The suite's movable clock jumps days at once: the timer fires at the next tick."""
    timers = FakeTimers()
    timers.pending = {"in-three-days": T0 + timedelta(days=3)}
    now = [T0]
    s, fires = scheduler(timers, now, recheck=timedelta(hours=1))
    await s.tick()
    now[0] = T0 + timedelta(days=3)
    assert await s.tick() == 1
    assert fires.fired == ["in-three-days"]
