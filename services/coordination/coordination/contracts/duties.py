"""Events of on-site dispatch (R-REF-15), correction opinions (R-NTF-05), written
participation notices (R-NTF-06) and joint rulings with clue transfer (R-SUP-04), published by
the coordination service.

Kept beside ``published.py`` (which lists them in ``PUBLISHED``). Every payload names the
agencies addressed (notify's notification matrix reads them), the actor and the state
before/after (R-SUP-01), and a ``deadlines`` block for the clocks it starts or meets.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from kernel.contracts.deadlines import DeadlineV1
from kernel.envelope import EventPayload


class _DutyEvent(EventPayload):
    actor_id: str
    actor_agency_id: str | None = None
    state_before: str | None = None
    state_after: str | None = None
    deadlines: list[DeadlineV1] = Field(default_factory=list)


# ------------------------------------------------------------------ R-REF-15 on-site dispatch


class _OnSiteEvent(_DutyEvent):
    request_id: str
    notifier_id: str
    receiver_id: str
    situation: str
    """urgent_case (紧急案件) | hazard (重大治安、安全隐患)"""
    place: str
    urgent: bool = True


class OnSiteRequestedV1(_OnSiteEvent):
    """R-REF-15: the receiver is told to send staff on site at once; its ``on_site.dispatch``
    clock runs out after the policy's ``immediately`` hours."""

    event_type = "on_site.requested.v1"

    description: str
    referral_id: str | None = None
    notified_at: datetime


class OnSiteDispatchedV1(_OnSiteEvent):
    """R-REF-15: staff sent (who, when); ``late`` when after the limit."""

    event_type = "on_site.dispatched.v1"

    staff: list[str]
    late: bool
    dispatched_at: datetime


class OnSiteArrivedV1(_OnSiteEvent):
    """R-REF-15: the staff arrived on site."""

    event_type = "on_site.arrived.v1"

    arrived_at: datetime


class OnSiteHandledV1(_OnSiteEvent):
    """R-REF-15: how it was handled on site."""

    event_type = "on_site.handled.v1"

    handling: str
    handled_at: datetime


class OnSiteExplainedV1(_OnSiteEvent):
    """HL 四(四): the receiver said why it does not send staff (说明理由)."""

    event_type = "on_site.explained.v1"

    reason: str
    late: bool
    explained_at: datetime


class OnSiteReportedToGovernmentV1(_OnSiteEvent):
    """HL 四(四): the notifier reports to the government a receiver that neither acted nor
    explained within the limit."""

    event_type = "on_site.reported_to_government.v1"

    government_id: str
    text: str
    due: datetime
    """When the receiver's limit ran out."""
    reported_at: datetime


# ------------------------------------------------------------ R-NTF-05 correction opinions


class _CorrectionEvent(_DutyEvent):
    opinion_id: str
    department_id: str
    township_id: str
    justice_bureau_id: str
    document_number: str


class CorrectionOpinionIssuedV1(_CorrectionEvent):
    """R-NTF-05: the department's correction opinion (纠正意见) to the township, copied to the
    justice bureau; the township's ``correction.response`` clock starts."""

    event_type = "correction.issued.v1"

    finding: str
    """error (执法错误) | unlawful (违法执法)"""
    case_reference: str
    problems: str
    opinion: str
    issued_at: datetime


class CorrectionOpinionRespondedV1(_CorrectionEvent):
    """R-NTF-05: the township's reply: what it corrected; ``late`` past the clock."""

    event_type = "correction.responded.v1"

    opinion_document_number: str
    corrected: str
    late: bool
    responded_at: datetime


# ------------------------------------------------------- R-NTF-06 participation notices


class PhoneNoticeV1(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    caller: str
    called: str
    at: datetime


class _ParticipationEvent(_DutyEvent):
    notice_id: str
    department_id: str
    township_id: str
    purpose: str
    """inspection (专项监督检查) | approval (行政审批) | confirmation (行政确认)"""
    subject: str
    starts_at: datetime


class ParticipationNotifiedV1(_ParticipationEvent):
    """R-NTF-06: the written notice — or, in an emergency, the phone call that precedes it
    (then the department's ``participation.written_notice`` clock runs); the township's
    ``participation.attend`` clock runs to the time set."""

    event_type = "participation.notified.v1"

    place: str
    purpose_zh: str
    """专项监督检查 | 行政审批 | 行政确认"""
    form_zh: str
    """How it was given: 书面通知（文号） or 电话通知（书面手续后补）."""
    document_number: str | None = None
    phone_call: PhoneNoticeV1 | None = None
    urgent: bool = False
    notified_at: datetime


class ParticipationWrittenNoticeSentV1(_ParticipationEvent):
    """R-NTF-06: the writing that follows an emergency phone notice; ``late`` past its clock."""

    event_type = "participation.written_notice_sent.v1"

    document_number: str
    late: bool
    sent_at: datetime


class ParticipationConfirmedV1(_ParticipationEvent):
    """R-NTF-06: the township confirmed who takes part."""

    event_type = "participation.confirmed.v1"

    participants: list[str]
    confirmed_at: datetime


# ------------------------------------------------------- R-SUP-04 joint ruling, clues


class _JointRulingEvent(_DutyEvent):
    ruling_id: str
    platform_id: str
    responsible_agency_id: str
    participant_ids: list[str] = Field(default_factory=list)
    source: str
    """dispute_ruling | joint_task"""
    source_id: str


class JointRulingStartedV1(_JointRulingEvent):
    """R-SUP-04: the platform starts a joint ruling (联合裁定) on a unit that failed or refused
    to carry out a ruling or task; its ``joint_ruling.decide`` clock starts."""

    event_type = "joint_ruling.started.v1"

    task_id: str | None = None
    failure: str
    started_at: datetime


class JointRulingRuledV1(_JointRulingEvent):
    """R-SUP-04: the joint ruling's decision."""

    event_type = "joint_ruling.ruled.v1"

    decision: str
    basis: str
    ruled_at: datetime


class CluesTransferredV1(_JointRulingEvent):
    """R-SUP-04: clues passed to the discipline commission or the organisation department
    (向纪委监委、组织部移交线索)."""

    event_type = "joint_ruling.clues_transferred.v1"

    recipient_id: str
    clues: str
    failure: str
    transferred_at: datetime


DUTY_EVENTS: list[type[EventPayload]] = [
    OnSiteRequestedV1,
    OnSiteDispatchedV1,
    OnSiteArrivedV1,
    OnSiteHandledV1,
    OnSiteExplainedV1,
    OnSiteReportedToGovernmentV1,
    CorrectionOpinionIssuedV1,
    CorrectionOpinionRespondedV1,
    ParticipationNotifiedV1,
    ParticipationWrittenNoticeSentV1,
    ParticipationConfirmedV1,
    JointRulingStartedV1,
    JointRulingRuledV1,
    CluesTransferredV1,
]
