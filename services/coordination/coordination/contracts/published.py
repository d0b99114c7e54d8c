"""Events the coordination service publishes (a contract for other services and bureaus)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from coordination.contracts.cooperation import (
    AssistanceLetterSentV1,
    AssistanceMediatedV1,
    AssistanceMediationRequestedV1,
    AssistanceRefusedV1,
    AssistanceRepliedV1,
    AssistanceRequestedV1,
    AssistanceResultReportedV1,
    CooperationEvent,
    InformationAnswerAccessedV1,
    InformationQueryAnsweredV1,
    InformationQueryAskedV1,
    InformationQueryDeclinedV1,
    TechnicalSupportAnsweredV1,
    TechnicalSupportDispatchedV1,
    TechnicalSupportExtendedV1,
    TechnicalSupportRequestedV1,
)
from coordination.contracts.dispatch import DISPATCH_EVENTS
from coordination.contracts.duties import DUTY_EVENTS
from coordination.contracts.meetings import MEETING_EVENTS
from kernel.contracts.calendar import HolidayScheduleV1
from kernel.contracts.catalogue import CatalogueEntryV1
from kernel.contracts.deadlines import DeadlineMovedV1, DeadlineV1
from kernel.envelope import EventPayload


class LiaisonV1(EventPayload):
    name: str
    phone: str
    duty: str = "referral"


class AgencyRegisteredV1(EventPayload):
    """An agency was registered or its registration changed (full snapshot)."""

    event_type = "agency.registered.v1"

    agency_id: str
    name: str
    kind: str
    district: str
    internal_unit: bool = False
    parent_id: str | None = None
    liaisons: list[LiaisonV1] = Field(default_factory=list)
    #: 机关代字 heading the agency's letter numbers (文号), e.g. 抚市监; "" when not set.
    document_code: str = ""
    version: int


class CatalogueChangeAnnouncedV1(EventPayload):
    """A catalogue change to announce to the townships it touches (R-CAT-01, R-NTF-02); notify
    puts it in their inboxes. The entry itself travels as ``catalogue.entry_changed.v1``."""

    event_type = "catalogue.change_announced.v1"

    township_ids: list[str]
    code: str
    name: str
    version: int
    change: str
    """created | revised | withdrawn | routing_rule_added"""
    summary_zh: str
    actor_id: str
    actor_agency_id: str | None = None
    state_before: str | None = None
    state_after: str | None = None


class DisputeStepV1(BaseModel):
    """A ladder step (R-DSP-02) as carried in dispute events."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    number: int
    name: str
    name_zh: str
    decided_by_agency_id: str
    due: datetime


class DisputeOpenedV1(EventPayload):
    """A jurisdiction dispute was opened (R-DSP-01); its first step's clock starts."""

    event_type = "dispute.opened.v1"

    dispute_id: str
    kind: str
    """jurisdiction | transfer_to_department (R-DSP-04)"""
    referral_id: str | None = None
    matter_code: str
    township_id: str
    party_ids: list[str]
    interim_handler_id: str | None = None
    reasons: str
    step: DisputeStepV1
    opened_at: datetime
    actor_id: str
    actor_agency_id: str | None = None
    state_before: str | None = None
    state_after: str | None = "open"
    deadlines: list[DeadlineV1] = Field(default_factory=list)


class DisputeEscalatedV1(EventPayload):
    """The dispute went up the ladder; the new step's clock replaces the old one."""

    event_type = "dispute.escalated.v1"

    dispute_id: str
    referral_id: str | None = None
    matter_code: str
    from_step: int
    step: DisputeStepV1
    cause: str
    """escalated_deadline_missed | escalated_by_party | opinion_given"""
    opinion: str = ""
    """The advisory step's opinion (处理意见) the next step decides with (R-DSP-02)."""
    escalated_at: datetime
    actor_id: str
    actor_agency_id: str | None = None
    state_before: str | None = "open"
    state_after: str | None = "open"
    deadlines: list[DeadlineV1] = Field(default_factory=list)


class DisputeAgreementProposedV1(EventPayload):
    """A party proposed the agreement (协议) that settles the dispute (R-DSP-03); it binds
    when each party's leader has confirmed this revision (issue 16, finding 1)."""

    event_type = "dispute.agreement_proposed.v1"

    dispute_id: str
    referral_id: str | None = None
    matter_code: str
    party_ids: list[str]
    revision: int
    basis: str
    responsible_agency_id: str
    proposed_at: datetime
    actor_id: str
    actor_agency_id: str | None = None
    state_before: str | None = "open"
    state_after: str | None = "open"


class DisputeAgreementConfirmedV1(EventPayload):
    """A party's leader confirmed the proposed agreement (R-DSP-03), recorded for the
    full-process record (R-SUP-01); the last confirmation is followed by dispute.ruled.v1."""

    event_type = "dispute.agreement_confirmed.v1"

    dispute_id: str
    referral_id: str | None = None
    matter_code: str
    revision: int
    agency_id: str
    awaiting_confirmation_of: list[str] = Field(default_factory=list)
    confirmed_at: datetime
    actor_id: str
    actor_agency_id: str | None = None
    state_before: str | None = "open"
    state_after: str | None = "open"


class DisputeRuledV1(EventPayload):
    """The binding outcome (R-DSP-03): the referral waiting on it goes to
    ``responsible_agency_id``; ``rule_id`` names the catalogue routing rule it became (None for
    a one-case transfer to the department, R-DSP-04)."""

    event_type = "dispute.ruled.v1"

    dispute_id: str
    referral_id: str | None = None
    kind: str = "jurisdiction"
    matter_code: str
    township_id: str
    responsible_agency_id: str
    outcome_kind: str
    """agreement | minutes | decision"""
    basis: str
    signatories: list[str] = Field(default_factory=list)
    rule_id: str | None = None
    ruled_at: datetime
    actor_id: str
    actor_agency_id: str | None = None
    state_before: str | None = "open"
    state_after: str | None = "ruled"
    deadlines: list[DeadlineV1] = Field(default_factory=list)


# --------------------------------------------------------------------------- joint enforcement


class _JointEvent(CooperationEvent):
    """Common fields of the joint-enforcement events (联合执法, R-JNT-01…05)."""

    operation_id: str
    lead_id: str
    cooperating_ids: list[str]


class JointLiaisonV1(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    agency_id: str
    role: str
    """general (牵头单位总联络员) | daily (配合单位日常联络员)"""
    name: str
    phone: str


class JointInitiatedV1(_JointEvent):
    """R-JNT-01: a joint operation was initiated — who, for which agency, on what basis."""

    event_type = "joint.initiated.v1"

    title: str
    basis: str
    """higher_authority | prominent_violations | legal_office_request"""
    basis_reference: str
    requested_by_agency_id: str | None = None
    initiated_at: datetime


class JointPlanSubmittedV1(_JointEvent):
    """R-JNT-02: the lead submitted (a version of) the plan; the cooperating agencies are
    asked to comment."""

    event_type = "joint.plan_submitted.v1"

    plan_version: int
    field: str
    general_liaison: JointLiaisonV1
    submitted_at: datetime


class JointPlanCommentedV1(_JointEvent):
    """R-JNT-02 / R-JNT-03: a cooperating agency commented and named its daily liaison."""

    event_type = "joint.plan_commented.v1"

    agency_id: str
    plan_version: int
    comment: str
    daily_liaison: JointLiaisonV1
    awaiting_comments_from: list[str]
    commented_at: datetime


class JointStartedV1(_JointEvent):
    """R-JNT-01…03: the operation started (every comment in, every liaison named); carries
    who initiated it and on what basis."""

    event_type = "joint.started.v1"

    title: str
    basis: str
    basis_reference: str
    initiated_by: str
    initiator_agency_id: str | None = None
    requested_by_agency_id: str | None = None
    plan_version: int
    liaisons: list[JointLiaisonV1]
    started_at: datetime


class JointInspectOnceWarningV1(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    previous_inspection_id: str
    previous_agency_id: str
    previous_operation_id: str
    previous_inspected_at: datetime
    window_days: int
    message_zh: str


class JointTaskAssignedV1(_JointEvent):
    """R-JNT-04: a task with a deadline; its report clock (``joint.task_report``) starts."""

    event_type = "joint.task_assigned.v1"

    task_id: str
    agency_id: str
    description: str
    deadline: str
    """ISO date"""
    report_due: datetime
    inspect_once_warnings: list[JointInspectOnceWarningV1] = Field(default_factory=list)
    """R-JNT-05 before the fact: targets the task names that another agency inspected within
    the district's window (综合查一次)."""


class JointTaskReportedV1(_JointEvent):
    """R-JNT-04: the cooperating agency reported the task; its report clock is met."""

    event_type = "joint.task_reported.v1"

    task_id: str
    agency_id: str
    summary: str
    late: bool
    reported_at: datetime


class JointInabilityStatedV1(_JointEvent):
    """R-JNT-04: the cooperating agency explained in writing why it cannot do the task."""

    event_type = "joint.inability_stated.v1"

    task_id: str
    agency_id: str
    reasons: str
    late: bool
    stated_at: datetime


class JointInabilityDecidedV1(_JointEvent):
    """R-JNT-04: the lead accepted or rejected the reason; a rejected one may be reported to
    the government (``reported_to_government_id``), and its report clock runs again."""

    event_type = "joint.inability_decided.v1"

    task_id: str
    agency_id: str
    accepted: bool
    decision_reason: str
    reasons: str
    reported_to_government_id: str | None = None
    decided_at: datetime


class JointInspectionRecordedV1(_JointEvent):
    """R-JNT-05: an inspection of a target, with the inspect-once warning (综合查一次) when
    another agency inspected the same target within the district's window."""

    event_type = "joint.inspection_recorded.v1"

    inspection_id: str
    task_id: str
    agency_id: str
    target_key: str
    target_licence_number: str = ""
    target_name: str = ""
    target_address: str = ""
    findings: str
    inspected_at: datetime
    warning: JointInspectOnceWarningV1 | None = None


PUBLISHED = [
    AgencyRegisteredV1,
    CatalogueEntryV1,
    CatalogueChangeAnnouncedV1,
    DisputeOpenedV1,
    DisputeEscalatedV1,
    DisputeAgreementProposedV1,
    DisputeAgreementConfirmedV1,
    DisputeRuledV1,
    AssistanceRequestedV1,
    AssistanceLetterSentV1,
    AssistanceRepliedV1,
    AssistanceRefusedV1,
    AssistanceMediationRequestedV1,
    AssistanceMediatedV1,
    AssistanceResultReportedV1,
    TechnicalSupportRequestedV1,
    TechnicalSupportDispatchedV1,
    TechnicalSupportExtendedV1,
    TechnicalSupportAnsweredV1,
    InformationQueryAskedV1,
    InformationQueryAnsweredV1,
    InformationQueryDeclinedV1,
    InformationAnswerAccessedV1,
    JointInitiatedV1,
    JointPlanSubmittedV1,
    JointPlanCommentedV1,
    JointStartedV1,
    JointTaskAssignedV1,
    JointTaskReportedV1,
    JointInabilityStatedV1,
    JointInabilityDecidedV1,
    JointInspectionRecordedV1,
]
# Consultation meetings (R-MTG-01): see contracts/meetings.py.
PUBLISHED += MEETING_EVENTS
# The district's calendar (issue 20): each loaded official holiday schedule, and the open
# clocks it moved (kernel contracts, shared by every service).
PUBLISHED += [HolidayScheduleV1, DeadlineMovedV1]
# On-site dispatch, correction opinions, participation notices, joint rulings
# (R-REF-15, R-NTF-05, R-NTF-06, R-SUP-04): see contracts/duties.py.
PUBLISHED += DUTY_EVENTS
# Grid dispatch (R-GRD-01): see contracts/dispatch.py.
PUBLISHED += DISPATCH_EVENTS
