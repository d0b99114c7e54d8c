"""The referral service's commands: what a caller asks for, as frozen values. The
entrypoints build them from the graph's input (or an HTTP form), the handlers take
``(command, caller)``."""

from __future__ import annotations

from collections.abc import AsyncIterable
from dataclasses import dataclass
from datetime import datetime

# -- referrals (drafting and the lifecycle) -------------------------------------------


@dataclass(frozen=True)
class DraftReferral:
    sender_id: str
    receiver_id: str
    matter_code: str
    title: str
    facts: str
    party: str
    place: str
    found_at: datetime
    urgent: bool = False
    township_id: str | None = None
    penalty_kinds: tuple[str, ...] = ()
    possible_fine_yuan: int | None = None
    competence_reason: str = ""
    ongoing: bool = False
    stop_order: str = ""
    stop_ordered_at: datetime | None = None
    immediate_notice: str = ""
    notified_at: datetime | None = None
    major_or_difficult: bool = False
    forwarded_from: str | None = None
    complaint_id: str | None = None


@dataclass(frozen=True)
class CompleteReferralDraft:
    """The sender names what a draft did not know yet — the matter (事项) and the party —
    e.g. a draft made from a grid dispatch (R-GRD-01); the catalogue is checked as at
    drafting (R-CAT-02/03)."""

    referral_id: str
    matter_code: str
    party: str = ""
    competence_reason: str = ""


@dataclass(frozen=True)
class ExtendSendDeadline:
    """R-REF-04: more working days to send, with prior notice to the receiver."""

    referral_id: str
    working_days: int
    reason: str
    notify_receiver: bool


@dataclass(frozen=True)
class SubmitReferral:
    referral_id: str


@dataclass(frozen=True)
class ApproveReferral:
    referral_id: str


@dataclass(frozen=True)
class SendReferral:
    referral_id: str
    #: R-REF-12: a signed electronic transfer (the receiver must have consented).
    electronic: bool = False


@dataclass(frozen=True)
class WithdrawReferral:
    referral_id: str
    reason: str


@dataclass(frozen=True)
class AcceptReferral:
    referral_id: str
    statement: str


@dataclass(frozen=True)
class ForwardReferral:
    """R-REF-07, CQ 四(二): a receiver without jurisdiction passes the case at once to the
    competent agency and stays responsible until it accepts (首接负责)."""

    referral_id: str
    to_agency_id: str
    reasons: str


@dataclass(frozen=True)
class DeclineReferral:
    """R-REF-07: the receiver's leader declines, citing the catalogue, naming who handles
    the case meanwhile."""

    referral_id: str
    reasons: str
    catalogue_basis: str
    interim_handler_id: str


@dataclass(frozen=True)
class RecordPenalty:
    referral_id: str
    decision_number: str
    kinds: tuple[str, ...]
    fine_yuan: int | None


@dataclass(frozen=True)
class MarkHandled:
    referral_id: str
    summary: str


@dataclass(frozen=True)
class ReportResult:
    referral_id: str
    result: str


@dataclass(frozen=True)
class CloseReferral:
    referral_id: str


@dataclass(frozen=True)
class AnswerSupervision:
    """R-REF-13: the receiver answers a 督办 in writing (acting on the case answers it too)."""

    referral_id: str
    answer: str


@dataclass(frozen=True)
class SuperviseReferral:
    """R-REF-13: 督办 a lingering case."""

    referral_id: str
    note: str


@dataclass(frozen=True)
class ConsentToUpwardReferral:
    """R-REF-09: the department's leader consents to a case passed up."""

    referral_id: str
    note: str = ""


@dataclass(frozen=True)
class RecordJusticeFiling:
    """R-REF-09: the filing (备案) with the justice bureau."""

    referral_id: str
    filing_number: str


@dataclass(frozen=True)
class SetElectronicConsent:
    """R-REF-12: the caller's agency consents (or not) to receive electronically."""

    sender_id: str
    consented: bool


# -- materials and the transfer letter (R-REF-02) -------------------------------------


@dataclass(frozen=True)
class AddMaterial:
    """A material recorded by its description (the content may be uploaded separately)."""

    referral_id: str
    kind: str
    name: str
    media_type: str
    size: int
    sha256: str


@dataclass(frozen=True)
class UploadMaterial:
    """A material whose content arrives as a stream (checked for size and digest)."""

    referral_id: str
    kind: str
    name: str
    media_type: str
    content: AsyncIterable[bytes]
    declared_sha256: str | None = None


@dataclass(frozen=True)
class GenerateTransferLetter:
    referral_id: str


@dataclass(frozen=True)
class RemoveMaterial:
    referral_id: str
    material_id: str


# -- the crime route (R-REF-10) --------------------------------------------------------


@dataclass(frozen=True)
class TransferToPolice:
    referral_id: str
    police_id: str
    reason: str


@dataclass(frozen=True)
class RecordPoliceDecision:
    referral_id: str
    filed: bool
    note: str
    reasons: str = ""  # 不立案: the reasons (说明理由, Decree 310 第八条)


@dataclass(frozen=True)
class ReportSuspectedCrime:
    """R-REF-14: the written report (书面报告) to the agency head."""

    referral_id: str
    police_id: str
    reason: str


@dataclass(frozen=True)
class DecideCrimeTransfer:
    """R-REF-14: the head approves or refuses (with reasons) within 3 days."""

    referral_id: str
    approve: bool
    reason: str = ""


@dataclass(frozen=True)
class RequestCrimeReconsideration:
    referral_id: str
    reason: str


@dataclass(frozen=True)
class AnswerCrimeReconsideration:
    referral_id: str
    filed: bool
    note: str
    reasons: str = ""


@dataclass(frozen=True)
class RequestProcuratorateSupervision:
    referral_id: str
    procuratorate_id: str
    reason: str


@dataclass(frozen=True)
class AcceptNotFiled:
    """不立案 is final: the administrative case reopens (R-REF-10)."""

    referral_id: str
    note: str


@dataclass(frozen=True)
class RecordMaterialsHandover:
    referral_id: str
    note: str


@dataclass(frozen=True)
class RecordFinePaid:
    referral_id: str
    decision_number: str
    amount_yuan: int
    paid_at: datetime
    receipt: str = ""


# -- delegation (R-REF-11) ---------------------------------------------------------------


@dataclass(frozen=True)
class TransferAtDelegation:
    """Move a department's open referrals of a delegated matter to the township."""

    department_id: str
    matter_code: str
    township_id: str
    basis: str


# -- complaints (R-CMP) ------------------------------------------------------------------


@dataclass(frozen=True)
class RegisterComplaint:
    complainant_name: str
    complainant_contact: str
    content: str
    matter_code: str = ""
    place: str = ""
    township_id: str | None = None


@dataclass(frozen=True)
class AnswerComplaint:
    complaint_id: str
    answer: str


@dataclass(frozen=True)
class OpenCaseFromComplaint:
    complaint_id: str
    case_number: str


@dataclass(frozen=True)
class ReferComplaint:
    complaint_id: str
    draft: DraftReferral


@dataclass(frozen=True)
class RequestComplaintHandover:
    complaint_id: str
    to_agency_id: str
    mode: str
    reason: str


@dataclass(frozen=True)
class AnswerComplaintHandover:
    complaint_id: str
    consent: bool
    note: str = ""


@dataclass(frozen=True)
class TellComplainantResult:
    complaint_id: str
    result: str
