"""Referral clocks follow the district's official holiday schedules (issue 20).

When a schedule is loaded (or at start, after a ``holidays`` upgrade confirmed a year), every
open clock whose computation touched the year is computed again from its stored record: a
clock whose due time moves is replaced, the act is recorded on the referral, and a
``deadline.moved.v1`` event (with the clock's new block, so the deadline watch reschedules
its timers) tells the responsible agency; a clock that does not move is marked confirmed.
"""

from __future__ import annotations

from dataclasses import replace

from kernel.contracts.deadlines import DeadlineMovedV1
from kernel.envelope import EventPayload
from kernel.errors import Conflict
from referral.application.runner import SYSTEM_ID, Runner
from referral.domain.model import Actor, DeadlineInfo, Referral

# A concurrent change to a referral (a user acting at the same moment, another replica
# rechecking) is retried from the stored state this many times.
_ATTEMPTS = 3


class ReferralCalendar:
    def __init__(self, run: Runner) -> None:
        self.run = run
        self.calendar = run.ports.calendar

    async def recheck_clocks(self, year: int | None) -> int:
        """Recheck every open referral clock; returns how many clocks changed."""
        changed = 0
        for referral in await self.run.ports.referrals.with_open_clocks():
            for attempt in range(_ATTEMPTS):
                try:
                    changed += await self._recheck(referral, year)
                    break
                except Conflict:
                    if attempt == _ATTEMPTS - 1:
                        raise
                    fresh = await self.run.ports.referrals.get(referral.id)
                    if fresh is None:
                        break
                    referral = fresh
        return changed

    async def _recheck(self, referral: Referral, year: int | None) -> int:
        now = self.run.now()
        revised: list[DeadlineInfo] = []
        payloads: list[EventPayload] = []
        notes: list[str] = []
        for clock in referral.open_clocks():
            if not clock.explanation:
                continue
            found = self.calendar.recheck(clock.explanation, at=now, year=year)
            if found is None:
                continue
            new = replace(clock, due=found.after.due, explanation=found.after.to_dict())
            revised.append(new)
            if not found.moved:
                notes.append(f"{clock.kind}: {found.summary_zh}")
                continue
            revision = found.after.explanation.revisions[-1]
            notes.append(f"{clock.kind}: 因{revision.notice_zh}，{found.summary_zh}")
            payloads.append(DeadlineMovedV1.of(self.run.clocks.to_event(new, referral.id), found))
        if not revised:
            return 0
        system = Actor(SYSTEM_ID, "联动系统", referral.receiver_id, ())
        moved = referral.revise_clocks(tuple(revised), system, now, "；".join(notes))
        await self.run.commit(moved, payloads, None)
        return len(revised)
