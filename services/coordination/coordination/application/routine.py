"""Routine meetings due on the district's period (例行会议, R-MTG-01): the clocks of the next
routine meeting each convening agency owes (coordination.domain.routine).

At start-up (after the agencies are known) every routine meeting of the policy with a period
gets one clock per convening agency — idempotent: an existing one is left as it is. Scheduling
a routine meeting of that name meets the clock and opens the next period's. notify's deadline
watch reminds the convener before the period ends and escalates after it (R-SUP-02), on the
same movable clock as every other deadline.
"""

from __future__ import annotations

from datetime import date, datetime

from coordination.adapters.meetings import RoutineDueRepository
from coordination.application.cooperation import _Base
from coordination.contracts.meetings import MeetingRoutineDueV1
from coordination.domain import routine as rt
from coordination.domain.cooperation import Clock
from coordination.policy import RoutineMeeting, policy_of
from kernel.calendar import SHANGHAI
from kernel.contracts.deadlines import DeadlineV1
from kernel.envelope import Envelope
from kernel.errors import Conflict

__all__ = ["RoutineMeetings"]

SUBJECT = "RoutineMeeting"


class RoutineMeetings(_Base):
    def __init__(self, due: RoutineDueRepository, *args: object, **kw: object) -> None:
        super().__init__(*args, **kw)  # type: ignore[arg-type]
        self.due = due

    def _policy(self, name: str) -> RoutineMeeting | None:
        return next((m for m in policy_of(self.policy).meetings.routine if m.name == name), None)

    def _routine_clock(self, m: RoutineMeeting, convener_id: str, period: rt.Period) -> Clock:
        rule = rt.rule_zh(m.name_zh, m.recurrence, period, m.source)
        explanation = {"rule": rule, "period": period.label, "end": period.end.isoformat()}
        return Clock(rt.KIND, convener_id, period.due, rule, explanation)

    def _block(self, d: rt.RoutineDue, clock: Clock, period: str) -> DeadlineV1:
        return DeadlineV1(
            key=f"{SUBJECT}:{d.id}:{period}",
            kind=rt.KIND,
            subject_type=SUBJECT,
            subject_id=d.id,
            responsible_agency_id=d.convener_id,
            due=clock.due,
            state="met" if clock.state == "met" else "open",
            rule=clock.rule,
            explanation_zh=clock.rule,
        )

    def _routine_event(
        self, d: rt.RoutineDue, blocks: list[DeadlineV1], corr: str | None
    ) -> Envelope:
        payload = MeetingRoutineDueV1(
            routine_id=d.id,
            name=d.name,
            name_zh=d.name_zh,
            convener_id=d.convener_id,
            period=d.period,
            due=d.clock.due,
            met_by_meeting_id=d.met_by_meeting_id,
            deadlines=blocks,
        )
        return self._event(payload, d.id, corr)

    async def ensure_due(self) -> None:
        """Start-up: the current period's clock for every routine meeting with a period and
        every convening agency (an existing one is kept)."""
        today = self.clock().astimezone(SHANGHAI).date()
        for m in policy_of(self.policy).meetings.routine:
            if m.recurrence not in rt.RECURRENCE_ZH:
                continue  # 定期 (unspecified): no period to hold it on
            conveners = await self.agencies.list(kind=m.convener_kind, after=None, limit=1000)
            for agency in conveners:
                if agency.internal_unit:
                    continue
                rid = rt.RoutineDue.id_for(m.name, agency.id)
                if await self.due.get(rid) is not None:
                    continue
                period = rt.period_of(m.recurrence, today)
                d = rt.RoutineDue(
                    rid,
                    m.name,
                    m.name_zh,
                    agency.id,
                    m.recurrence,
                    m.source,
                    period.label,
                    self._routine_clock(m, agency.id, period),
                )
                try:
                    await self.due.add(
                        d, [self._routine_event(d, [self._block(d, d.clock, period.label)], None)]
                    )
                except Conflict:
                    continue  # another replica created it

    async def when_routine_meeting_scheduled(
        self,
        name: str,
        convener_id: str,
        meeting_id: str,
        meeting_day: date,
        now: datetime,
        correlation_id: str | None,
    ) -> None:
        """A routine meeting was scheduled: its clock is met, the next period's opens."""
        m = self._policy(name)
        d = await self.due.get(rt.RoutineDue.id_for(name, convener_id))
        if m is None or d is None or d.met_by_meeting_id == meeting_id:
            return
        met = Clock(
            d.clock.kind,
            d.clock.responsible_agency_id,
            d.clock.due,
            d.clock.rule,
            d.clock.explanation,
            "met",
        )
        nxt = rt.next_period(m.recurrence, rt.period_of(m.recurrence, meeting_day))
        after = d.scheduled(meeting_id, meeting_day, self._routine_clock(m, convener_id, nxt))
        blocks = [self._block(d, met, d.period), self._block(after, after.clock, after.period)]
        await self.due.save(after, [self._routine_event(after, blocks, correlation_id)])

    async def list(self, convener_id: str | None) -> list[rt.RoutineDue]:
        return await self.due.list(convener_id=convener_id)
