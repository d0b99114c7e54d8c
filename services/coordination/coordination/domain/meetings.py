"""Consultation meetings (协调会商 / 联席会议, R-MTG-01; FY (四)3, CQ 四(二)).

A meeting is routine (例行会议, held on the district's period) or special (专题会议). The
convener sends a notice (会议通知) with time, place, attendees (agencies) and agenda at least
``notice_lead_working_days`` before the meeting; attendees answer (回执) at least
``rsvp_lead_working_days`` before. After the meeting the convener drafts the minutes (会议纪要)
with the decided tasks, each with an owner agency and a deadline. Every attending agency
records agreement or an objection; an objection blocks issue until a revised draft is agreed.
Issued minutes are filed (备案) with the government or the legal office, and their tasks are
tracked until each owner reports its task done.

A late notice is refused, except for a special meeting marked urgent (紧急专题会商): a
dispute or an emergency cannot wait five working days, and CQ 四(二) lets 专题会议 be called
"根据工作需要". A routine meeting is planned on the district's period, so it has no excuse.

Pure Python: no I/O. Clocks (RSVP due, task due) are computed by the application layer.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from coordination.domain.cooperation import (
    Actor,
    Clock,
    RecordsTransitions,
    Transition,
    meet,
    put_clock,
    require_agency,
    require_text,
)
from coordination.domain.errors import Forbidden, InvalidState, ValidationFailed

RSVP = "meeting.rsvp"  # one clock per attendee: f"{RSVP}:{agency_id}"
TASK = "meeting.task"  # one clock per decided task: f"{TASK}:{task_id}"


def rsvp_kind(agency_id: str) -> str:
    return f"{RSVP}:{agency_id}"


def task_kind(task_id: str) -> str:
    return f"{TASK}:{task_id}"


class MeetingKind(StrEnum):
    ROUTINE = "routine"  # 例行会议
    SPECIAL = "special"  # 专题会议


class MeetingStatus(StrEnum):
    SCHEDULED = "scheduled"  # notice sent, RSVPs coming in
    MINUTES_DRAFTED = "minutes_drafted"  # a draft awaits every attendee's agreement
    MINUTES_ISSUED = "minutes_issued"  # agreed and issued; tasks running
    FILED = "filed"  # filed with the government / legal office; tasks running
    COMPLETED = "completed"  # filed and every task done


@dataclass(frozen=True)
class Rsvp:
    """An attendee's answer to the notice (参会回执)."""

    agency_id: str
    attending: bool
    delegate: str  # who attends for the agency
    answered_by: str
    at: datetime
    late: bool  # answered after the RSVP limit


@dataclass(frozen=True)
class TaskDraft:
    """A decided task as the convener writes it in the draft."""

    description: str
    owner_agency_id: str
    deadline: date


@dataclass(frozen=True)
class MinutesTask:
    id: str
    description: str
    owner_agency_id: str
    deadline: date
    done_at: datetime | None = None
    done_by: str | None = None
    result: str = ""

    @property
    def done(self) -> bool:
        return self.done_at is not None


@dataclass(frozen=True)
class Position:
    """An attendee's agreement with, or objection to, one revision of the draft."""

    agency_id: str
    revision: int
    agrees: bool
    comment: str
    recorded_by: str
    at: datetime


@dataclass(frozen=True)
class Minutes:
    revision: int
    decisions: str  # 会议议定事项 (the body of the minutes)
    tasks: tuple[MinutesTask, ...]
    drafted_by: str
    drafted_at: datetime
    number: str = ""  # 纪要编号, given at issue
    issued_at: datetime | None = None
    issued_by: str | None = None


@dataclass(frozen=True)
class Filing:
    """Where the issued minutes were filed (备案) and when."""

    agency_id: str
    filed_at: datetime
    filed_by: str


@dataclass(frozen=True)
class Meeting(RecordsTransitions):
    id: str
    kind: MeetingKind
    title: str
    convener_id: str
    starts_at: datetime
    place: str
    attendee_ids: tuple[str, ...]
    agenda: tuple[str, ...]
    urgent: bool
    status: MeetingStatus
    notice_sent_at: datetime
    notice_latest_on: date  # the last day a timely notice could be sent
    late_notice: bool  # sent after notice_latest_on (only an urgent special meeting may)
    routine_name: str | None = None
    rsvps: tuple[Rsvp, ...] = ()
    minutes: Minutes | None = None
    positions: tuple[Position, ...] = ()
    filing: Filing | None = None
    clocks: tuple[Clock, ...] = ()
    history: tuple[Transition, ...] = ()
    version: int = 0

    # -- reading ------------------------------------------------------------------------

    def rsvp_of(self, agency_id: str) -> Rsvp | None:
        return next((r for r in self.rsvps if r.agency_id == agency_id), None)

    @property
    def attending_ids(self) -> tuple[str, ...]:
        """Attendees that have not declined: each of them must agree to the minutes."""
        return tuple(a for a in self.attendee_ids if (r := self.rsvp_of(a)) is None or r.attending)

    def parties(self) -> frozenset[str]:
        return frozenset((self.convener_id, *self.attendee_ids))

    def current_positions(self) -> tuple[Position, ...]:
        if self.minutes is None:
            return ()
        return tuple(p for p in self.positions if p.revision == self.minutes.revision)

    def pending_agreement(self) -> tuple[str, ...]:
        """Attending agencies that have not agreed to the current draft (objections count)."""
        agreed = {p.agency_id for p in self.current_positions() if p.agrees}
        return tuple(a for a in self.attending_ids if a != self.convener_id and a not in agreed)

    # -- commands -----------------------------------------------------------------------

    def record_rsvp(
        self, *, attending: bool, delegate: str, rsvp_due: datetime, actor: Actor, at: datetime
    ) -> Meeting:
        """R-MTG-01: an attendee answers; after the RSVP limit the answer is recorded as late
        (the meeting still needs to know who comes)."""
        agency = actor.agency_id
        if agency is None or agency not in self.attendee_ids:
            raise Forbidden("only an invited agency answers the notice", code="NOT_A_PARTY")
        if self.status is not MeetingStatus.SCHEDULED or at >= self.starts_at:
            raise InvalidState(
                "the meeting has already taken place", field="id", code="ALREADY_DONE"
            )
        name = delegate.strip()
        if attending and not name:
            raise ValidationFailed(
                "name who attends for the agency", field="delegate", code="REQUIRED"
            )
        late = at > rsvp_due
        rsvp = Rsvp(agency, attending, name, actor.person_id, at, late)
        rsvps = (*(r for r in self.rsvps if r.agency_id != agency), rsvp)
        note = ("参会：" + name if attending else "不参会") + ("（逾期回执）" if late else "")
        return replace(
            self,
            rsvps=rsvps,
            clocks=meet(self.clocks, rsvp_kind(agency)),
            history=self._record("rsvp", actor, at, self.status, note),
        )

    def draft_minutes(
        self,
        *,
        decisions: str,
        tasks: tuple[TaskDraft, ...],
        today: date,
        actor: Actor,
        at: datetime,
    ) -> Meeting:
        """R-MTG-01: the convener drafts (or revises) the minutes with the decided tasks; a
        revision clears the agreements given to the previous draft."""
        require_agency(actor, self.convener_id, "the convener drafts the minutes")
        if self.status not in (MeetingStatus.SCHEDULED, MeetingStatus.MINUTES_DRAFTED):
            raise InvalidState("the minutes were already issued", field="id", code="ALREADY_DONE")
        if at < self.starts_at:
            raise InvalidState(
                "minutes are drafted after the meeting has taken place", field="id", code="NOT_YET"
            )
        text = require_text(decisions, "state what the meeting decided (议定事项)", "decisions")
        if not tasks:
            raise ValidationFailed(
                "the minutes list the decided tasks, each with an owner and a deadline",
                field="tasks",
                code="REQUIRED",
            )
        built: list[MinutesTask] = []
        for i, t in enumerate(tasks):
            desc = require_text(t.description, "describe the task", f"tasks.{i}.description")
            if t.owner_agency_id not in self.parties():
                raise ValidationFailed(
                    f"{t.owner_agency_id!r} did not take part in the meeting; a task is owned "
                    "by the convener or an attendee",
                    field=f"tasks.{i}.ownerAgencyId",
                )
            if t.deadline <= today:
                raise ValidationFailed(
                    "a task's deadline lies after today",
                    field=f"tasks.{i}.deadline",
                    code="IN_THE_PAST",
                )
            built.append(MinutesTask(f"t{i + 1}", desc, t.owner_agency_id, t.deadline))
        revision = self.minutes.revision + 1 if self.minutes else 1
        minutes = Minutes(revision, text, tuple(built), actor.person_id, at)
        return replace(
            self,
            status=MeetingStatus.MINUTES_DRAFTED,
            minutes=minutes,
            history=self._record(
                "draft_minutes", actor, at, MeetingStatus.MINUTES_DRAFTED, f"第{revision}稿"
            ),
        )

    def record_position(
        self, *, revision: int, agrees: bool, comment: str, actor: Actor, at: datetime
    ) -> Meeting:
        """R-MTG-01: an attending agency agrees with the draft, or objects (with reasons)."""
        if self.status is not MeetingStatus.MINUTES_DRAFTED or self.minutes is None:
            raise InvalidState("there is no draft awaiting agreement", field="id", code="NOT_YET")
        agency = actor.agency_id
        if agency is None or agency not in self.attending_ids or agency == self.convener_id:
            raise Forbidden(
                "only an attending agency agrees to or objects to the minutes", code="NOT_A_PARTY"
            )
        if revision != self.minutes.revision:
            raise InvalidState(
                f"draft {revision} was replaced by draft {self.minutes.revision}; "
                "answer the current draft",
                field="revision",
                code="STALE_REVISION",
            )
        note = comment.strip()
        if not agrees and not note:
            raise ValidationFailed(
                "an objection states what must change", field="comment", code="REQUIRED"
            )
        position = Position(agency, revision, agrees, note, actor.person_id, at)
        positions = (
            *(p for p in self.positions if not (p.agency_id == agency and p.revision == revision)),
            position,
        )
        return replace(
            self,
            positions=positions,
            history=self._record("agree" if agrees else "object", actor, at, self.status, note),
        )

    def issue_minutes(self, *, number: str, actor: Actor, at: datetime) -> Meeting:
        """R-MTG-01: issued only when every attending agency agrees to the current draft."""
        require_agency(actor, self.convener_id, "the convener issues the minutes")
        if self.status is not MeetingStatus.MINUTES_DRAFTED or self.minutes is None:
            raise InvalidState("there is no draft to issue", field="id", code="NOT_YET")
        objections = [p.agency_id for p in self.current_positions() if not p.agrees]
        if objections:
            raise InvalidState(
                f"{'、'.join(objections)} objected to draft {self.minutes.revision}; revise the "
                "draft and obtain their agreement first",
                field="id",
                code="AGREEMENT_PENDING",
            )
        pending = self.pending_agreement()
        if pending:
            raise InvalidState(
                f"the minutes are issued after every attending agency agrees; waiting for "
                f"{'、'.join(pending)}",
                field="id",
                code="AGREEMENT_PENDING",
            )
        no = require_text(number, "give the minutes their number (纪要编号)", "number")
        minutes = replace(self.minutes, number=no, issued_at=at, issued_by=actor.person_id)
        return replace(
            self,
            status=MeetingStatus.MINUTES_ISSUED,
            minutes=minutes,
            history=self._record("issue_minutes", actor, at, MeetingStatus.MINUTES_ISSUED, no),
        )

    def with_task_clocks(self, clocks: tuple[Clock, ...]) -> Meeting:
        """The application hands in one clock per task once the minutes are issued."""
        merged = self.clocks
        for c in clocks:
            merged = put_clock(merged, c)
        return replace(self, clocks=merged)

    def file_minutes(
        self, *, with_agency_id: str, allowed: frozenset[str], actor: Actor, at: datetime
    ) -> Meeting:
        """R-MTG-01: issued minutes are filed with the government or the legal office
        (``allowed``: the agencies of those kinds)."""
        require_agency(actor, self.convener_id, "the convener files the minutes")
        if self.status is not MeetingStatus.MINUTES_ISSUED:
            raise InvalidState(
                "only issued minutes are filed, once"
                if self.status is not MeetingStatus.MINUTES_DRAFTED
                else "the minutes are not issued yet",
                field="id",
                code="NOT_YET",
            )
        if with_agency_id not in allowed:
            raise ValidationFailed(
                "minutes are filed with the government or the legal office (政府 / 法制机构)",
                field="withAgencyId",
                code="WRONG_AGENCY_KIND",
            )
        after = self._status_after_tasks(MeetingStatus.FILED, filed=True)
        return replace(
            self,
            status=after,
            filing=Filing(with_agency_id, at, actor.person_id),
            history=self._record("file_minutes", actor, at, after, with_agency_id),
        )

    def _status_after_tasks(self, otherwise: MeetingStatus, *, filed: bool) -> MeetingStatus:
        assert self.minutes is not None
        if filed and all(t.done for t in self.minutes.tasks):
            return MeetingStatus.COMPLETED
        return otherwise

    def complete_task(self, task_id: str, *, result: str, actor: Actor, at: datetime) -> Meeting:
        """R-MTG-01: the owner agency reports its task done; the meeting is completed when the
        minutes are filed and every task is done."""
        if self.status not in (MeetingStatus.MINUTES_ISSUED, MeetingStatus.FILED):
            raise InvalidState(
                "tasks run once the minutes are issued", field="taskId", code="NOT_YET"
            )
        assert self.minutes is not None
        task = next((t for t in self.minutes.tasks if t.id == task_id), None)
        if task is None:
            raise ValidationFailed(f"the minutes have no task {task_id!r}", field="taskId")
        if actor.agency_id != task.owner_agency_id:
            raise Forbidden(
                f"task {task_id} is owned by {task.owner_agency_id}; it reports it",
                code="NOT_A_PARTY",
            )
        if task.done:
            raise InvalidState(
                f"task {task_id} is already done", field="taskId", code="ALREADY_DONE"
            )
        text = require_text(result, "describe what was done", "result")
        done = replace(task, done_at=at, done_by=actor.person_id, result=text)
        minutes = replace(
            self.minutes, tasks=tuple(done if t.id == task_id else t for t in self.minutes.tasks)
        )
        moved = replace(self, minutes=minutes)
        after = moved._status_after_tasks(self.status, filed=self.status is MeetingStatus.FILED)
        return replace(
            moved,
            status=after,
            clocks=meet(self.clocks, task_kind(task_id)),
            history=self._record("task_done", actor, at, after, f"{task_id}：{text}"),
        )


def schedule_meeting(
    *,
    meeting_id: str,
    kind: MeetingKind,
    title: str,
    convener_id: str,
    starts_at: datetime,
    place: str,
    attendee_ids: tuple[str, ...],
    agenda: tuple[str, ...],
    urgent: bool,
    routine_name: str | None,
    routine_names: frozenset[str],
    today: date,
    notice_latest_on: date,
    rsvp_clocks: tuple[Clock, ...],
    actor: Actor,
    at: datetime,
) -> Meeting:
    """R-MTG-01: the notice (会议通知). ``notice_latest_on`` is the last day a notice
    ``notice_lead_working_days`` before the meeting could go out."""
    require_agency(actor, convener_id, "an agency convenes a meeting in its own name")
    name = require_text(title, "give the meeting a title (会议名称)", "title")
    where = require_text(place, "state where the meeting is held", "place")
    if starts_at <= at:
        raise ValidationFailed(
            "the meeting lies in the future", field="startsAt", code="IN_THE_FUTURE"
        )
    invited = tuple(dict.fromkeys(a.strip() for a in attendee_ids if a.strip()))
    if not invited:
        raise ValidationFailed("name the attending agencies", field="attendeeIds", code="REQUIRED")
    if convener_id in invited:
        raise ValidationFailed(
            "the convener is not its own attendee", field="attendeeIds", code="SELF_ADDRESSED"
        )
    items = tuple(a.strip() for a in agenda if a.strip())
    if not items:
        raise ValidationFailed("give the agenda (会议议题)", field="agenda", code="REQUIRED")
    if kind is MeetingKind.ROUTINE:
        if urgent:
            raise ValidationFailed(
                "a routine meeting is planned on the district's period; only a special "
                "meeting may be urgent",
                field="urgent",
            )
        if routine_name not in routine_names:
            allowed = ", ".join(sorted(routine_names)) or "none"
            raise ValidationFailed(
                f"name the district's routine meeting (one of: {allowed})",
                field="routineName",
                code="REQUIRED",
            )
    elif routine_name:
        raise ValidationFailed("a special meeting is not a routine one", field="routineName")
    late = today > notice_latest_on
    if late and not (kind is MeetingKind.SPECIAL and urgent):
        raise ValidationFailed(
            f"the notice must go out by {notice_latest_on.isoformat()} for a meeting on "
            f"{starts_at.date().isoformat()} (R-MTG-01); move the meeting, or mark a special "
            "meeting urgent",
            field="startsAt",
        )
    note = f"{where}；" + "；".join(items) + ("（紧急专题会商，通知时限不足）" if late else "")
    return Meeting(
        id=meeting_id,
        kind=kind,
        title=name,
        convener_id=convener_id,
        starts_at=starts_at,
        place=where,
        attendee_ids=invited,
        agenda=items,
        urgent=urgent,
        status=MeetingStatus.SCHEDULED,
        notice_sent_at=at,
        notice_latest_on=notice_latest_on,
        late_notice=late,
        routine_name=routine_name or None,
        clocks=tuple(c for c in rsvp_clocks if c.responsible_agency_id in invited),
        history=Meeting._opened("schedule", actor, at, MeetingStatus.SCHEDULED, note),
    )
