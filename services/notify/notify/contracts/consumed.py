"""Tolerant readers of the events notify consumes (only the fields it needs)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from kernel.contracts.deadlines import DeadlineV1
from kernel.envelope import EventPayload


class AgencyRegistered(EventPayload):
    event_type = "agency.registered.v1"

    agency_id: str
    name: str
    kind: str
    version: int


class ReferralSent(EventPayload):
    event_type = "referral.sent.v1"

    referral_id: str
    sender_id: str
    receiver_id: str
    title: str
    urgent: bool = False
    sent_at: datetime
    accept_due: datetime | None = None
    #: ``crime``: drafted straight to the police, who are told by the crime transfer sent with
    #: it (``referral.crime_transferred.v1``), so this adds no notice of its own.
    route: str = "ordinary"


class PenaltyRecorded(EventPayload):
    """``referral.penalty_recorded.v1``: a penalty decision (行政处罚决定) in a referred case."""

    event_type = "referral.penalty_recorded.v1"

    referral_id: str
    sender_id: str
    receiver_id: str = ""
    matter_code: str = ""
    decision_number: str
    kinds: list[str] = Field(default_factory=list)
    fine_yuan: int | None = None
    actor_id: str = ""
    actor_agency_id: str = ""
    at: datetime | None = None


class CatalogueEntryChanged(EventPayload):
    """``catalogue.entry_changed.v1`` (kernel.contracts.catalogue.CatalogueEntryV1), read for the
    department that owns each matter and the matter's name."""

    event_type = "catalogue.entry_changed.v1"

    code: str
    name: str
    original_department_id: str
    withdrawn: bool = False
    version: int


class CatalogueChangeAnnounced(EventPayload):
    """``catalogue.change_announced.v1``: a change of legal basis, standard or interpretation
    to be announced to the townships concerned (R-NTF-02)."""

    event_type = "catalogue.change_announced.v1"

    township_ids: list[str]
    code: str
    name: str
    version: int
    change: str = ""
    summary_zh: str = ""


# -- coordination: joint enforcement (R-JNT-04) and meetings (R-MTG-01) ------------------


class JointTaskAssigned(EventPayload):
    """``joint.task_assigned.v1``: a cooperating agency's task and its report clock."""

    event_type = "joint.task_assigned.v1"

    operation_id: str
    lead_id: str
    task_id: str
    agency_id: str
    description: str
    deadline: date
    report_due: datetime
    deadlines: list[DeadlineV1] = Field(default_factory=list)


class MeetingTask(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    task_id: str
    description: str
    owner_agency_id: str
    deadline: date


class MeetingScheduled(EventPayload):
    """``meeting.scheduled.v1``: the notice to the attendees, with their RSVP clocks."""

    event_type = "meeting.scheduled.v1"

    meeting_id: str
    convener_id: str
    title: str
    starts_at: datetime
    place: str
    attendee_ids: list[str]
    agenda: list[str] = Field(default_factory=list)
    urgent: bool = False
    deadlines: list[DeadlineV1] = Field(default_factory=list)


class MeetingMinutesDrafted(EventPayload):
    """``meeting.minutes_drafted.v1``: a revision of the minutes awaits agreement."""

    event_type = "meeting.minutes_drafted.v1"

    meeting_id: str
    convener_id: str
    revision: int
    tasks: list[MeetingTask] = Field(default_factory=list)
    awaiting_agreement_of: list[str]


class MeetingMinutesIssued(EventPayload):
    """``meeting.minutes_issued.v1``: agreed and issued; the decided tasks' clocks start."""

    event_type = "meeting.minutes_issued.v1"

    meeting_id: str
    number: str
    tasks: list[MeetingTask] = Field(default_factory=list)
    deadlines: list[DeadlineV1] = Field(default_factory=list)
