"""Events the referral service publishes (a contract for other services and bureaus).

Every payload of a state change carries ``actor_id``, ``actor_agency_id``, ``state_before``
and ``state_after`` (None where meaningless) so that notify can keep the full-process record
(R-SUP-01) without knowing these aggregates, and ``deadlines`` with every statutory clock
the change started, moved, met or cancelled (kernel.contracts.deadlines.DeadlineV1).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from kernel.contracts.deadlines import DeadlineMovedV1, DeadlineV1
from kernel.envelope import EventPayload


class _ReferralChange(EventPayload):
    referral_id: str
    sender_id: str
    receiver_id: str = ""
    matter_code: str = ""
    actor_id: str
    actor_agency_id: str = ""
    state_before: str | None = None
    state_after: str | None = None
    at: datetime | None = None
    deadlines: list[DeadlineV1] = Field(default_factory=list)


class ReferralDraftedV1(_ReferralChange):
    """A referral was started; the send clock from discovery runs (R-REF-04). An ongoing
    violation carries the stop order and the immediate notice to the competent agency
    (R-REF-05): notify alerts ``receiver_id`` at once."""

    event_type = "referral.drafted.v1"

    title: str
    urgent: bool = False
    township_id: str | None = None
    complaint_id: str | None = None
    route: str = "ordinary"
    ongoing_violation: bool = False
    stop_order: str | None = None
    immediate_notice: str | None = None


class ReferralDraftedFromDispatchV1(_ReferralChange):
    """R-GRD-01 (转为移送): the referral service drafted a referral from a grid dispatch in
    the township's name (``sender_id``); coordination links the dispatch to it, and the
    township's staff are told to complete it (the matter, the party, the letter and the
    source material it sends — the dispatch's photos are referenced by ``photo_ids``)."""

    event_type = "referral.drafted_from_dispatch.v1"

    dispatch_id: str
    title: str
    township_id: str | None = None
    photo_ids: list[str] = Field(default_factory=list)


class ReferralDraftCompletedV1(_ReferralChange):
    """The sender named the matter (``matter_code``) and the party of a draft, e.g. one made
    from a grid dispatch (R-GRD-01)."""

    event_type = "referral.draft_completed.v1"

    party: str = ""


class ReferralSubmittedV1(_ReferralChange):
    event_type = "referral.submitted.v1"


class ReferralApprovedV1(_ReferralChange):
    event_type = "referral.approved.v1"


class ReferralMaterialChangedV1(_ReferralChange):
    """A material record was added or removed (name, type, size, SHA-256; no content)."""

    event_type = "referral.material_changed.v1"

    material_id: str
    kind: str
    name: str
    media_type: str
    size: int
    sha256: str
    removed: bool = False
    # True when the content is stored (uploaded or the generated 移送函), not just declared.
    has_content: bool = False


class ReferralSendDeadlineExtendedV1(_ReferralChange):
    """R-REF-04: the send limit extended; the receiver is told in advance (notify)."""

    event_type = "referral.send_deadline_extended.v1"

    working_days: int
    reason: str
    notified_agency_id: str


class ReferralSentV1(_ReferralChange):
    """A referral left the sender; the receiver must state in writing whether it accepts by
    ``accept_due`` (R-REF-06; None where the district sets no limit)."""

    event_type = "referral.sent.v1"

    title: str
    urgent: bool
    sent_at: datetime
    accept_due: datetime | None = None
    electronic: bool = False
    #: SHA-256 of the issued transfer letter the sending agency signed (R-REF-12).
    letter_sha256: str | None = None
    #: 发文字号 of the issued transfer letter, e.g. 抚市监〔2026〕12号.
    letter_number: str = ""
    competence_override_reason: str = ""
    #: ``ordinary``, ``upward`` (R-REF-09) or ``crime`` (R-REF-10: drafted straight to the
    #: police; ``referral.crime_transferred.v1`` goes out with it and is the police's notice).
    route: str = "ordinary"


class ReferralWithdrawnV1(_ReferralChange):
    event_type = "referral.withdrawn.v1"

    reason: str


class ReferralAcceptedV1(_ReferralChange):
    """R-REF-06: the written statement of acceptance (受理情况)."""

    event_type = "referral.accepted.v1"

    statement: str
    report_due: datetime | None = None


class ReferralDeclinedV1(_ReferralChange):
    """R-REF-07: the receiver declines; coordination opens a jurisdiction dispute."""

    event_type = "referral.declined.v1"

    township_id: str | None = None
    reasons: str
    catalogue_basis: str
    interim_handler_id: str
    declined_at: datetime


class ReferralOngoingViolationReportedV1(_ReferralChange):
    """R-REF-05: the violation is still going on; the finder ordered it stopped and tells the
    competent agency (``receiver_id``) immediately — an urgent notice with the "immediately"
    alert, at the draft, before the referral is sent (which is then urgent too)."""

    event_type = "referral.ongoing_violation_reported.v1"

    title: str
    place: str = ""
    party: str = ""
    urgent: bool = True
    stop_order: str
    stop_ordered_at: datetime
    immediate_notice: str
    notified_at: datetime


class ReferralForwardedV1(_ReferralChange):
    """R-REF-07, CQ 四(二): the receiver had no jurisdiction and passed the case at once to
    the competent agency (``receiver_id``), which must state acceptance by ``accept_due``;
    the first receiver (``first_receiver_id``) stays responsible until then (首接负责)."""

    event_type = "referral.forwarded.v1"

    previous_receiver_id: str
    first_receiver_id: str
    reasons: str
    accept_due: datetime | None = None


class ReferralReassignedV1(_ReferralChange):
    """A dispute ruling named another agency responsible: it must now state acceptance."""

    event_type = "referral.reassigned.v1"

    previous_receiver_id: str
    dispute_id: str | None = None
    basis: str = ""
    accept_due: datetime | None = None


class ReferralReceiverConfirmedV1(_ReferralChange):
    """A dispute ruling confirmed the original receiver: a new accept clock runs."""

    event_type = "referral.receiver_confirmed.v1"

    dispute_id: str
    basis: str = ""
    accept_due: datetime | None = None


class ReferralReturnedToSenderV1(_ReferralChange):
    """A dispute ruling named the sender itself responsible; the referral is closed."""

    event_type = "referral.returned_to_sender.v1"

    dispute_id: str
    basis: str = ""


class ReferralHandledV1(_ReferralChange):
    event_type = "referral.handled.v1"

    summary: str


class ReferralPenaltyRecordedV1(_ReferralChange):
    event_type = "referral.penalty_recorded.v1"

    decision_number: str
    kinds: list[str] = Field(default_factory=list)
    fine_yuan: int | None = None


class ReferralResultReportedV1(_ReferralChange):
    """R-REF-08: 处理结果通报 to the sender (and, for a complaint, the complainant)."""

    event_type = "referral.result_reported.v1"

    result: str
    complaint_id: str | None = None


class ReferralClosedV1(_ReferralChange):
    event_type = "referral.closed.v1"


class ReferralSupervisedV1(_ReferralChange):
    """R-REF-13: 督办 of a lingering case; notify tells the receiver's leader. The 督办's own
    clock (kind ``referral.supervision``) is in ``deadlines``; ``supervision_due`` repeats its
    due time."""

    event_type = "referral.supervised.v1"

    note: str
    supervision_due: datetime | None = None


class ReferralSupervisionAnsweredV1(_ReferralChange):
    """R-REF-13: the receiver answered the 督办 in writing; its clock stops and the
    supervising agencies (``supervising_agency_ids``) are told."""

    event_type = "referral.supervision_answered.v1"

    answer: str
    supervising_agency_ids: list[str] = Field(default_factory=list)


class ReferralConsentRecordedV1(_ReferralChange):
    """R-REF-09: the department agreed to take a township's major or difficult case."""

    event_type = "referral.department_consent_recorded.v1"

    note: str = ""


class ReferralFiledWithJusticeV1(_ReferralChange):
    """R-REF-09: the upward transfer filed (备案) with the justice bureau."""

    event_type = "referral.filed_with_justice.v1"

    justice_bureau_id: str
    filing_number: str


class ReferralCrimeTransferredV1(_ReferralChange):
    """R-REF-10 / R-REF-14: suspected crime sent to public security (两法衔接); the police's
    3-day decision clock (Decree 310 第八条) is in ``deadlines``. ``agency_id``: the
    transferring agency (also on the send of a referral drafted to the police)."""

    event_type = "referral.crime_transferred.v1"

    police_id: str
    reason: str
    agency_id: str = ""
    penalties_standing: list[str] = Field(default_factory=list)


class ReferralPoliceDecidedV1(_ReferralChange):
    """R-REF-10 / R-REF-14: 立案 (filed: the agency's 3-day hand-over clock) or 不立案 (not
    filed, with reasons: the agency's 3-day reconsideration window). ``reconsideration``:
    this is the answer to the agency's request for reconsideration (复议决定; 不立案 upheld
    opens the window to ask the procuratorate)."""

    event_type = "referral.police_decided.v1"

    police_id: str
    filed: bool
    note: str
    agency_id: str = ""
    reasons: str = ""
    reconsideration: bool = False


class ReferralCrimeReportedV1(_ReferralChange):
    """R-REF-14: the written report of a suspected crime (书面报告) to the agency head, who
    approves or refuses within 3 days (Decree 310 第五条; the clock in ``deadlines``). Also
    on the submit of a referral drafted to the police."""

    event_type = "referral.crime_reported.v1"

    agency_id: str
    police_id: str
    reason: str


class ReferralCrimeTransferDecidedV1(_ReferralChange):
    """R-REF-14: the head approved the transfer (the 24-hour transfer clock starts) or
    refused it with the reasons on record (记录在案)."""

    event_type = "referral.crime_transfer_decided.v1"

    agency_id: str
    police_id: str
    approved: bool
    reason: str = ""


class ReferralCrimeReconsiderationRequestedV1(_ReferralChange):
    """R-REF-14: the agency asks the police to reconsider 不立案 (提请复议); the police answer
    within 3 days (Decree 310 第九条; the clock in ``deadlines``)."""

    event_type = "referral.crime_reconsideration_requested.v1"

    agency_id: str
    police_id: str
    reason: str


class ReferralCrimeSupervisionRequestedV1(_ReferralChange):
    """R-REF-14: the agency asks the procuratorate to supervise the police's decision not to
    file (建议人民检察院依法进行立案监督, Decree 310 第九条)."""

    event_type = "referral.crime_supervision_requested.v1"

    agency_id: str
    police_id: str
    procuratorate_id: str
    reason: str
    police_note: str = ""
    police_reasons: str = ""


class ReferralCrimeCaseReopenedV1(_ReferralChange):
    """R-REF-10: 不立案 is final; the administrative case reopens with a new report clock
    (Decree 310 第十条); a referral drafted to the police returns to its sender."""

    event_type = "referral.crime_case_reopened.v1"

    agency_id: str
    police_id: str
    note: str


class ReferralCrimeMaterialsHandedOverV1(_ReferralChange):
    """R-REF-14: after 立案 the agency handed over the seized goods and materials (Decree
    310 第十二条); the administrative file closes."""

    event_type = "referral.crime_materials_handed_over.v1"

    agency_id: str
    police_id: str
    note: str


class ReferralCrimeFinePaidRecordedV1(_ReferralChange):
    """R-REF-14: a fine given before the transfer and paid; the penalty stands and the
    amount counts against a later criminal fine (依法折抵相应罚金, Decree 310 第十一条)."""

    event_type = "referral.crime_fine_paid_recorded.v1"

    agency_id: str
    police_id: str
    decision_number: str
    amount_yuan: int
    paid_at: datetime


class ReferralMovedAtDelegationV1(_ReferralChange):
    """R-REF-11: moved from the department to the township the power was delegated to."""

    event_type = "referral.moved_at_delegation.v1"

    previous_receiver_id: str
    basis: str = ""


class ElectronicConsentChangedV1(EventPayload):
    """R-REF-12: an agency consents (or stops consenting) to receive electronically."""

    event_type = "referral.electronic_consent_changed.v1"

    receiver_id: str
    sender_id: str
    consented: bool
    actor_id: str
    actor_agency_id: str
    state_before: str | None = None
    state_after: str | None = None
    at: datetime


class _ComplaintChange(EventPayload):
    complaint_id: str
    owner_agency_id: str
    actor_id: str
    actor_agency_id: str
    state_before: str | None = None
    state_after: str | None = None
    at: datetime
    deadlines: list[DeadlineV1] = Field(default_factory=list)


class ComplaintRegisteredV1(_ComplaintChange):
    """R-CMP-01: the first agency registered it and owns it (首问责任制)."""

    event_type = "complaint.registered.v1"

    matter_code: str = ""


class ComplaintCheckedV1(_ComplaintChange):
    """R-CMP-03: outcome of the first check: answered | case_opened | referred."""

    event_type = "complaint.checked.v1"

    outcome: str
    referral_id: str | None = None
    case_number: str | None = None


class ComplaintHandoverRequestedV1(_ComplaintChange):
    """R-CMP-02: the owner asks another agency to take it; notify asks that agency."""

    event_type = "complaint.handover_requested.v1"

    to_agency_id: str
    mode: str
    reason: str


class ComplaintHandoverAnsweredV1(_ComplaintChange):
    event_type = "complaint.handover_answered.v1"

    to_agency_id: str
    consented: bool
    mode: str


class ComplainantNotifiedV1(_ComplaintChange):
    """A notice to the complainant (or to an agency that passed it on): notify delivers it.

    ``to_agency_id`` None: to the complainant at ``contact``."""

    event_type = "complaint.complainant_notified.v1"

    kind: str
    text: str
    contact: str
    to_agency_id: str | None = None


PUBLISHED: list[type[EventPayload]] = [
    ReferralDraftedV1,
    ReferralDraftedFromDispatchV1,
    ReferralDraftCompletedV1,
    ReferralSubmittedV1,
    ReferralApprovedV1,
    ReferralMaterialChangedV1,
    ReferralSendDeadlineExtendedV1,
    ReferralSentV1,
    ReferralWithdrawnV1,
    ReferralAcceptedV1,
    ReferralDeclinedV1,
    ReferralReassignedV1,
    ReferralForwardedV1,
    ReferralSupervisionAnsweredV1,
    ReferralOngoingViolationReportedV1,
    ReferralReceiverConfirmedV1,
    ReferralReturnedToSenderV1,
    ReferralHandledV1,
    ReferralPenaltyRecordedV1,
    ReferralResultReportedV1,
    ReferralClosedV1,
    ReferralSupervisedV1,
    ReferralConsentRecordedV1,
    ReferralFiledWithJusticeV1,
    ReferralCrimeTransferredV1,
    ReferralPoliceDecidedV1,
    ReferralMovedAtDelegationV1,
    ElectronicConsentChangedV1,
    ComplaintRegisteredV1,
    ComplaintCheckedV1,
    ComplaintHandoverRequestedV1,
    ComplaintHandoverAnsweredV1,
    ComplainantNotifiedV1,
    DeadlineMovedV1,
    ReferralCrimeReportedV1,
    ReferralCrimeTransferDecidedV1,
    ReferralCrimeReconsiderationRequestedV1,
    ReferralCrimeSupervisionRequestedV1,
    ReferralCrimeCaseReopenedV1,
    ReferralCrimeMaterialsHandedOverV1,
    ReferralCrimeFinePaidRecordedV1,
]
