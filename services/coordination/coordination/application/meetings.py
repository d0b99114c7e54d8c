"""Command handlers of consultation meetings (协调会商 / 联席会议, R-MTG-01): each command loads
the meeting, lets the domain decide and writes the new state with its events in one
conditional update (the outbox). Clocks come from the district's policy and calendar."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from coordination.adapters.meetings import MeetingRepository
from coordination.application import access
from coordination.application.actors import acting
from coordination.application.catalogue import local_date
from coordination.application.cooperation import LEGAL_OFFICE_KINDS, _AggregateSteps
from coordination.application.routine import RoutineMeetings
from coordination.contracts.meetings import (
    MeetingMinutesAgreedV1,
    MeetingMinutesDraftedV1,
    MeetingMinutesFiledV1,
    MeetingMinutesIssuedV1,
    MeetingRsvpRecordedV1,
    MeetingScheduledV1,
    MeetingTaskDoneV1,
    MeetingTaskV1,
)
from coordination.domain import meetings as mtg
from coordination.domain.cooperation import Actor, Clock
from coordination.policy import policy_of
from kernel.authz import Relation
from kernel.calendar import SHANGHAI
from kernel.caller import Caller
from kernel.contracts.deadlines import DeadlineV1
from kernel.errors import Forbidden, ValidationFailed, one_of
from kernel.keyset import ListQuery

SUBJECT = "Meeting"
# Who may read any meeting besides its parties: the supervising and governing roles.


@dataclass(frozen=True)
class ScheduleMeeting:
    kind: str  # routine | special
    title: str
    convener_id: str
    starts_at: datetime
    place: str
    attendee_ids: tuple[str, ...]
    agenda: tuple[str, ...]
    urgent: bool = False
    routine_name: str | None = None


@dataclass(frozen=True)
class DraftMinutes:
    meeting_id: str
    decisions: str
    tasks: tuple[mtg.TaskDraft, ...]


@dataclass(frozen=True)
class RsvpMeeting:
    meeting_id: str
    attending: bool
    delegate: str


@dataclass(frozen=True)
class AnswerMinutes:
    """An attending agency agrees to a draft of the minutes, or objects (with a comment)."""

    meeting_id: str
    revision: int
    agrees: bool
    comment: str = ""


@dataclass(frozen=True)
class IssueMinutes:
    meeting_id: str
    number: str


@dataclass(frozen=True)
class FileMinutes:
    meeting_id: str
    with_agency_id: str


@dataclass(frozen=True)
class CompleteMeetingTask:
    meeting_id: str
    task_id: str
    result: str


def may_read(meeting: mtg.Meeting, actor: Actor) -> bool:
    """The matrix's read rule: the convener's and the invited agencies' staff, and the
    supervising / governing roles."""
    return access.may(actor, "meeting", access.meeting_relations(actor, meeting))


class MeetingHandlers(_AggregateSteps[mtg.Meeting]):
    noun = "meeting"

    def __init__(self, meetings: MeetingRepository, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.meetings = meetings
        self._repository = meetings
        # Routine meetings due (R-MTG-01): wired by the bootstrap; None in bare handlers.
        self.routine: RoutineMeetings | None = None

    # -- helpers --------------------------------------------------------------------------

    async def get(self, meeting_id: str, caller: Caller) -> mtg.Meeting | None:
        actor = acting(caller)
        found = await self.meetings.get(meeting_id)
        if found is not None:
            access.authorize_on(actor, "meeting", access.meeting_relations(actor, found))
        return found

    def _relations(self, actor: Actor, found: mtg.Meeting) -> set[Relation]:
        return access.meeting_relations(actor, found)

    def _deadlines_of(self, m: mtg.Meeting, kinds: list[str]) -> list[DeadlineV1]:
        return self._deadlines(SUBJECT, m.id, m.clocks, *kinds)

    def _common(
        self, before: mtg.Meeting | None, after: mtg.Meeting, actor: Actor
    ) -> dict[str, Any]:
        return dict(
            meeting_id=after.id,
            convener_id=after.convener_id,
            actor_id=actor.person_id,
            actor_agency_id=actor.agency_id,
            state_before=before.status.value if before else None,
            state_after=after.status.value,
        )

    @staticmethod
    def _tasks(m: mtg.Meeting) -> list[MeetingTaskV1]:
        assert m.minutes is not None
        return [
            MeetingTaskV1(
                task_id=t.id,
                description=t.description,
                owner_agency_id=t.owner_agency_id,
                deadline=t.deadline,
            )
            for t in m.minutes.tasks
        ]

    def _until_end_of(
        self, now: datetime, day: date, kind: str, agency_id: str, rule: str
    ) -> Clock:
        """A clock due at the end of ``day`` (of the working day after it when ``day`` is a
        rest day: 期间届满日为节假日的，顺延至节假日后第一个工作日), explained by the calendar.

        The period is counted on ``day`` itself, not from now: counted from now, the record
        of the computation lists every day in between, so a deadline decades ahead (a task
        "by 2099") made a record of megabytes per clock, in the document and in every event,
        and stalled the suite. A day already past (minutes issued late) means today.

        A day ahead is counted as "1 working day after the day before it", which is the same
        due time, so that the computation stays true when an official schedule is loaded
        later (issue 20): a day the notice gives off moves the clock to the next working day
        (顺延), one it makes a working day brings it back to that day."""
        today = local_date(now)
        if day > today:
            start = _noon(day - timedelta(days=1))
            deadline = self.calendar.add_working_days(start, 1, rule=rule)
            return self._clock(kind, agency_id, deadline)
        start = max(_noon(today), now.astimezone(SHANGHAI))
        n = 0 if self.calendar.is_working_day(today) else 1
        deadline = self.calendar.add_working_days(start, n, rule=rule)
        return self._clock(kind, agency_id, deadline)

    # -- commands -------------------------------------------------------------------------

    async def schedule(self, cmd: ScheduleMeeting, caller: Caller) -> mtg.Meeting:
        """R-MTG-01: the notice; refused when later than the district's lead time unless the
        meeting is an urgent special one."""
        actor = acting(caller)
        relations = access.relations_to(actor, sender=[cmd.convener_id])
        access.authorize_on(actor, "scheduleMeeting", relations, field="convenerId")
        kind = one_of(mtg.MeetingKind, cmd.kind, field="kind", what="meeting kind")
        if cmd.starts_at.tzinfo is None:
            raise ValidationFailed(
                "give the start time with its offset", field="startsAt", code="REQUIRED"
            )
        await self._external(
            {"convenerId": cmd.convener_id}
            | {f"attendeeIds.{i}": a for i, a in enumerate(cmd.attendee_ids)}
        )
        now = self.clock()
        policy = policy_of(self.policy).meetings
        meeting_day = local_date(cmd.starts_at)
        notice_latest = self.calendar.working_days_before(
            meeting_day, policy.notice_lead_working_days
        )
        rsvp_latest = self.calendar.working_days_before(meeting_day, policy.rsvp_lead_working_days)
        rule = f"会议召开前{policy.rsvp_lead_working_days}个工作日回执（R-MTG-01）"
        rsvp_clocks = tuple(
            self._until_end_of(now, max(rsvp_latest, local_date(now)), mtg.rsvp_kind(a), a, rule)
            for a in dict.fromkeys(cmd.attendee_ids)
        )
        meeting = mtg.schedule_meeting(
            meeting_id=str(uuid.uuid4()),
            kind=kind,
            title=cmd.title,
            convener_id=cmd.convener_id,
            starts_at=cmd.starts_at,
            place=cmd.place,
            attendee_ids=cmd.attendee_ids,
            agenda=cmd.agenda,
            urgent=cmd.urgent,
            routine_name=cmd.routine_name,
            routine_names=frozenset(r.name for r in policy.routine),
            today=local_date(now),
            notice_latest_on=notice_latest,
            rsvp_clocks=rsvp_clocks,
            actor=actor,
            at=now,
        )
        payload = MeetingScheduledV1(
            **self._common(None, meeting, actor),
            kind=meeting.kind.value,
            routine_name=meeting.routine_name,
            title=meeting.title,
            starts_at=meeting.starts_at,
            place=meeting.place,
            attendee_ids=list(meeting.attendee_ids),
            agenda=list(meeting.agenda),
            urgent=meeting.urgent,
            late_notice=meeting.late_notice,
            notice_latest_on=meeting.notice_latest_on,
            deadlines=self._deadlines_of(meeting, [c.kind for c in meeting.clocks]),
        )
        await self.meetings.add(meeting, [self._event(payload, meeting.id, caller.correlation_id)])
        if self.routine is not None and meeting.routine_name and kind is mtg.MeetingKind.ROUTINE:
            # The routine clock is met in a write of its own: a crash between the two leaves
            # the clock open (a reminder too many, never a meeting lost).
            await self.routine.when_routine_meeting_scheduled(
                meeting.routine_name,
                meeting.convener_id,
                meeting.id,
                meeting_day,
                now,
                caller.correlation_id,
            )
        return replace(meeting, version=1)

    async def rsvp(self, cmd: RsvpMeeting, caller: Caller) -> mtg.Meeting:
        """R-MTG-01: an attendee's answer; late answers are recorded as late."""
        actor = acting(caller)
        before = await self._authorized(cmd.meeting_id, actor, "rsvpMeeting")
        now = self.clock()
        agency = actor.agency_id or ""
        clock = next((c for c in before.clocks if c.kind == mtg.rsvp_kind(agency)), None)
        due = clock.due if clock is not None else before.starts_at
        after = before.record_rsvp(
            attending=cmd.attending, delegate=cmd.delegate, rsvp_due=due, actor=actor, at=now
        )
        answer = after.rsvp_of(agency)
        assert answer is not None
        payload = MeetingRsvpRecordedV1(
            **self._common(before, after, actor),
            agency_id=agency,
            attending=answer.attending,
            delegate=answer.delegate,
            late=answer.late,
            answered_at=now,
            deadlines=self._deadlines_of(after, [mtg.rsvp_kind(agency)]),
        )
        return await self._save(after, [payload], caller.correlation_id)

    async def draft_minutes(self, cmd: DraftMinutes, caller: Caller) -> mtg.Meeting:
        actor = acting(caller)
        before = await self._authorized(cmd.meeting_id, actor, "draftMeetingMinutes")
        now = self.clock()
        after = before.draft_minutes(
            decisions=cmd.decisions, tasks=cmd.tasks, today=local_date(now), actor=actor, at=now
        )
        assert after.minutes is not None
        payload = MeetingMinutesDraftedV1(
            **self._common(before, after, actor),
            revision=after.minutes.revision,
            decisions=after.minutes.decisions,
            tasks=self._tasks(after),
            awaiting_agreement_of=list(after.pending_agreement()),
        )
        return await self._save(after, [payload], caller.correlation_id)

    async def record_position(self, cmd: AnswerMinutes, caller: Caller) -> mtg.Meeting:
        actor = acting(caller)
        before = await self._authorized(cmd.meeting_id, actor, "answerMeetingMinutes")
        now = self.clock()
        after = before.record_position(
            revision=cmd.revision, agrees=cmd.agrees, comment=cmd.comment, actor=actor, at=now
        )
        payload = MeetingMinutesAgreedV1(
            **self._common(before, after, actor),
            agency_id=actor.agency_id or "",
            revision=cmd.revision,
            agrees=cmd.agrees,
            comment=cmd.comment.strip(),
            awaiting_agreement_of=list(after.pending_agreement()),
        )
        return await self._save(after, [payload], caller.correlation_id)

    async def issue_minutes(self, cmd: IssueMinutes, caller: Caller) -> mtg.Meeting:
        """R-MTG-01: issue after every attending agency agreed; each task's clock starts."""
        actor = acting(caller)
        before = await self._authorized(cmd.meeting_id, actor, "issueMeetingMinutes")
        now = self.clock()
        issued = before.issue_minutes(number=cmd.number, actor=actor, at=now)
        assert issued.minutes is not None
        clocks = tuple(
            self._until_end_of(
                now,
                t.deadline,
                mtg.task_kind(t.id),
                t.owner_agency_id,
                f"会议纪要{issued.minutes.number}确定的完成期限（R-MTG-01）",
            )
            for t in issued.minutes.tasks
        )
        after = issued.with_task_clocks(clocks)
        payload = MeetingMinutesIssuedV1(
            **self._common(before, after, actor),
            number=issued.minutes.number,
            revision=issued.minutes.revision,
            attendee_ids=list(after.attending_ids),
            tasks=self._tasks(after),
            issued_at=now,
            deadlines=self._deadlines_of(after, [c.kind for c in clocks]),
        )
        return await self._save(after, [payload], caller.correlation_id)

    async def _filing_offices(self) -> frozenset[str]:
        found: set[str] = set()
        for kind in LEGAL_OFFICE_KINDS:
            found |= {a.id for a in await self.agencies.of_kind(kind.value) if not a.internal_unit}
        return frozenset(found)

    async def file_minutes(self, cmd: FileMinutes, caller: Caller) -> mtg.Meeting:
        """R-MTG-01: filed with the government or the legal office (which one, and when)."""
        actor = acting(caller)
        before = await self._authorized(cmd.meeting_id, actor, "fileMeetingMinutes")
        now = self.clock()
        after = before.file_minutes(
            with_agency_id=cmd.with_agency_id,
            allowed=await self._filing_offices(),
            actor=actor,
            at=now,
        )
        assert after.minutes is not None
        payload = MeetingMinutesFiledV1(
            **self._common(before, after, actor),
            number=after.minutes.number,
            filed_with_agency_id=cmd.with_agency_id,
            filed_at=now,
        )
        return await self._save(after, [payload], caller.correlation_id)

    async def complete_task(self, cmd: CompleteMeetingTask, caller: Caller) -> mtg.Meeting:
        """R-MTG-01: the owner reports its task done; the task's clock is met."""
        actor = acting(caller)
        before = await self._authorized(cmd.meeting_id, actor, "completeMeetingTask")
        now = self.clock()
        after = before.complete_task(cmd.task_id, result=cmd.result, actor=actor, at=now)
        assert after.minutes is not None
        task = next(t for t in after.minutes.tasks if t.id == cmd.task_id)
        clock = next((c for c in after.clocks if c.kind == mtg.task_kind(cmd.task_id)), None)
        payload = MeetingTaskDoneV1(
            **self._common(before, after, actor),
            task_id=cmd.task_id,
            owner_agency_id=task.owner_agency_id,
            result=task.result,
            done_at=now,
            late=clock is not None and now > clock.due,
            deadlines=self._deadlines_of(after, [mtg.task_kind(cmd.task_id)]),
        )
        return await self._save(after, [payload], caller.correlation_id)

    async def list(self, q: ListQuery, *, caller: Caller, limit: int) -> list[mtg.Meeting]:
        """The caller's agency's meetings; the supervising roles may list any agency's."""
        return await self.meetings.search(self._own(q, caller), limit=limit)

    async def count(self, q: ListQuery, *, caller: Caller) -> int:
        """How many meetings :meth:`list` lists for ``q``, all pages together."""
        return await self.meetings.count(self._own(q, caller))

    @staticmethod
    def _own(q: ListQuery, caller: Caller) -> ListQuery:
        actor = acting(caller)
        scope = access.list_scope(actor, "meeting")
        if scope == access.Scope.NOTHING:
            access.authorize_on(actor, "meeting", access.oversight_relations(actor))
        if scope != access.Scope.ALL:
            if q.agency_id and q.agency_id != actor.agency_id:
                raise Forbidden(
                    "an agency lists its own meetings", field="agencyId", code="NOT_YOUR_AGENCY"
                )
            return replace(q, agency_id=actor.agency_id)
        if q.direction is not None and not q.agency_id:
            return replace(q, agency_id=actor.agency_id or "")
        return q


def _noon(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time().replace(hour=12), tzinfo=SHANGHAI)
