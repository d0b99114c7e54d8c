"""Events of consultation meetings (R-MTG-01), published by the coordination service.

Kept beside ``published.py`` (which lists them in ``PUBLISHED``) so the meeting contract reads
in one place. Every payload carries the actor and the state before/after (R-SUP-01) and a
``deadlines`` block for the clocks it starts or meets (RSVPs, decided tasks).
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from kernel.contracts.deadlines import DeadlineV1
from kernel.envelope import EventPayload


class _MeetingEvent(EventPayload):
    meeting_id: str
    convener_id: str
    actor_id: str
    actor_agency_id: str | None = None
    state_before: str | None = None
    state_after: str | None = None
    deadlines: list[DeadlineV1] = Field(default_factory=list)


class MeetingTaskV1(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    task_id: str
    description: str
    owner_agency_id: str
    deadline: date


class MeetingScheduledV1(_MeetingEvent):
    """The notice (会议通知): time, place, attendees, agenda; one RSVP clock per attendee."""

    event_type = "meeting.scheduled.v1"

    kind: str
    """routine | special"""
    routine_name: str | None = None
    title: str
    starts_at: datetime
    place: str
    attendee_ids: list[str]
    agenda: list[str]
    urgent: bool = False
    late_notice: bool = False
    """True only for an urgent special meeting noticed later than the district's lead time."""
    notice_latest_on: date


class MeetingRsvpRecordedV1(_MeetingEvent):
    event_type = "meeting.rsvp_recorded.v1"

    agency_id: str
    attending: bool
    delegate: str = ""
    late: bool = False
    answered_at: datetime


class MeetingMinutesDraftedV1(_MeetingEvent):
    event_type = "meeting.minutes_drafted.v1"

    revision: int
    decisions: str
    tasks: list[MeetingTaskV1]
    awaiting_agreement_of: list[str]


class MeetingMinutesAgreedV1(_MeetingEvent):
    """An attending agency's position on a draft: agreement, or an objection (agrees=False)."""

    event_type = "meeting.minutes_agreed.v1"

    agency_id: str
    revision: int
    agrees: bool
    comment: str = ""
    awaiting_agreement_of: list[str]


class MeetingMinutesIssuedV1(_MeetingEvent):
    """Issued minutes: the decided tasks with their deadlines (one clock per task)."""

    event_type = "meeting.minutes_issued.v1"

    number: str
    revision: int
    attendee_ids: list[str]
    tasks: list[MeetingTaskV1]
    issued_at: datetime


class MeetingMinutesFiledV1(_MeetingEvent):
    event_type = "meeting.minutes_filed.v1"

    number: str
    filed_with_agency_id: str
    filed_at: datetime


class MeetingTaskDoneV1(_MeetingEvent):
    event_type = "meeting.task_done.v1"

    task_id: str
    owner_agency_id: str
    result: str
    done_at: datetime
    late: bool = False


class MeetingRoutineDueV1(EventPayload):
    """R-MTG-01: the next routine meeting ``convener_id`` owes on the district's period; the
    clock (kind ``meeting.routine``) runs to the period's end, the one it replaces is met
    (``met_by_meeting_id``: the routine meeting scheduled)."""

    event_type = "meeting.routine_due.v1"

    routine_id: str
    name: str
    name_zh: str
    convener_id: str
    period: str
    due: datetime
    met_by_meeting_id: str | None = None
    actor_id: str = "system"
    deadlines: list[DeadlineV1] = Field(default_factory=list)


MEETING_EVENTS: list[type[EventPayload]] = [
    MeetingScheduledV1,
    MeetingRsvpRecordedV1,
    MeetingMinutesDraftedV1,
    MeetingMinutesAgreedV1,
    MeetingMinutesIssuedV1,
    MeetingMinutesFiledV1,
    MeetingTaskDoneV1,
    MeetingRoutineDueV1,
]
