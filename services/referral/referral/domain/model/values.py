"""The referral's value objects: who acts, materials, clocks and the records it keeps.

Immutable records the :class:`~referral.domain.model.Referral` aggregate holds (materials,
statutory clocks, the competence check, extension, decline, ruling, supervision, upward and
crime transfers, signature, penalty). Pure Python: no I/O, no framework imports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from kernel.errors import InvalidState, ValidationFailed
from referral.domain.errors import MaterialContentMissing


class MaterialKind(StrEnum):
    TRANSFER_LETTER = "transfer_letter"  # 移送函
    SOURCE = "source"  # 案件来源材料: 现场检查记录, photos, complaint material
    EVIDENCE = "evidence"  # 初步证据


class Route(StrEnum):
    ORDINARY = "ordinary"
    UPWARD = "upward"  # R-REF-09: a township passes a major or difficult case up
    CRIME = "crime"  # R-REF-10: to public security (两法衔接)


# Accepted attachment types and the per-file limit: the one place both the material record
# and the content upload (POST /referrals/{id}/materials) are checked against.
ALLOWED_MEDIA_TYPES = frozenset(
    {
        "application/pdf",
        "image/jpeg",
        "image/png",
        "image/tiff",
        # Photos taken on phones (R-GRD-01: a grid member's photos become source material).
        "image/heic",
        "image/webp",
        "video/mp4",
        "audio/mpeg",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/ofd",
        "text/plain",
    }
)
MAX_MATERIAL_BYTES = 200 * 1024 * 1024
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Actor:
    person_id: str
    person_name: str
    agency_id: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class AgencyRef:
    """What the referral service knows of an agency (read model fed by coordination)."""

    id: str
    name: str
    kind: str
    internal_unit: bool


@dataclass(frozen=True)
class DeadlineInfo:
    """One statutory clock with how its due time was computed (kernel.calendar record)."""

    kind: str  # "send", "accept", "report"
    due: datetime
    explanation: dict[str, Any]
    state: str = "open"  # open | met | cancelled
    rule: str = ""
    responsible_agency_id: str = ""
    key: str = ""


@dataclass(frozen=True)
class Material:
    id: str
    kind: MaterialKind
    name: str
    media_type: str
    size: int
    sha256: str
    added_by: str
    added_at: datetime
    file_id: str | None = None  # the content in the store's files, once uploaded/generated


def check_material(material: Material) -> None:
    """R-REF-02: materials are records (kind, name, type, size, SHA-256)."""
    if not material.name.strip():
        raise ValidationFailed("a material needs a name", field="name", code="REQUIRED")
    if material.media_type not in ALLOWED_MEDIA_TYPES:
        raise ValidationFailed(
            f"media type {material.media_type!r} is not accepted; one of: "
            + ", ".join(sorted(ALLOWED_MEDIA_TYPES)),
            field="mediaType",
            code="UNKNOWN_VALUE",
        )
    if material.size <= 0 or material.size > MAX_MATERIAL_BYTES:
        raise ValidationFailed(
            f"size must be between 1 byte and {MAX_MATERIAL_BYTES} bytes, got {material.size}",
            field="size",
            code="OUT_OF_RANGE",
        )
    if not _SHA256.match(material.sha256):
        raise ValidationFailed(
            "sha256 must be 64 lowercase hexadecimal digits", field="sha256", code="BAD_FORMAT"
        )


def check_complete(facts: str, materials: tuple[Material, ...]) -> None:
    """R-REF-02: no sending without the letter, the written facts and a source, each
    material with its content stored."""
    if not facts.strip():
        raise ValidationFailed(
            "the basic facts (基本违法事实) are missing", field="facts", code="REQUIRED"
        )
    if not any(m.kind is MaterialKind.TRANSFER_LETTER for m in materials):
        raise ValidationFailed(
            "the transfer letter (移送函) is missing; add a material of kind "
            "transfer_letter (R-REF-02)",
            field="materials",
            code="REQUIRED",
        )
    if not any(m.kind is MaterialKind.SOURCE for m in materials):
        raise ValidationFailed(
            "at least one source material (现场检查记录, photos, complaint material) "
            "is required (R-REF-02)",
            field="materials",
            code="REQUIRED",
        )
    # Materials are files: a record whose content was never stored is a phantom (a declared
    # hash proves nothing). Whether the stored content is still what the server hashed is
    # the application's check at sending (it reads the store).
    for m in materials:
        if m.file_id is None:
            raise MaterialContentMissing(
                f"material {m.name!r} ({m.kind.value}) is a record only: upload its content "
                "(POST /referrals/{id}/materials) or, for the letter, generate it "
                "(generateTransferLetter) before sending (R-REF-02)",
                field="materials",
            )


@dataclass(frozen=True)
class Competence:
    """R-CAT-02/03: who the catalogue names for the matter, place, date and severity."""

    resolved_agency_id: str | None
    reason: str  # kernel.contracts.catalogue.ResolutionReason
    explanation: str
    major_penalty: bool
    checked_at: datetime
    rule_id: str | None = None
    override_reason: str = ""  # why the sender sends elsewhere (recorded, R-CAT-02)


@dataclass(frozen=True)
class Extension:
    """R-REF-04: the send limit extended, announced to the receiver first."""

    working_days: int
    reason: str
    notified_agency_id: str
    notified_at: datetime
    by: str


def check_extension(
    *,
    urgent: bool,
    working_days: int,
    max_working_days: int,
    limit_working_days: int,
    reason: str,
    notify_receiver: bool,
) -> None:
    """R-REF-04: an extension is announced to the receiver first and never passes the
    district maximum (counted from discovery); an urgent referral is never extended."""
    if urgent:
        raise InvalidState(
            "an urgent referral is on the urgent clock and cannot be extended",
            field="workingDays",
            code="WRONG_ROUTE",
        )
    if not reason.strip():
        raise ValidationFailed("state why the extension is needed", field="reason", code="REQUIRED")
    if not notify_receiver:
        raise ValidationFailed(
            "an extension needs prior notice to the receiver (应事先告知)",
            field="notifyReceiver",
            code="REQUIRED",
        )
    if working_days <= limit_working_days:
        raise ValidationFailed(
            f"an extension must go beyond the {limit_working_days} working-day limit",
            field="workingDays",
            code="OUT_OF_RANGE",
        )
    if working_days > max_working_days:
        raise ValidationFailed(
            f"the send limit can be extended to at most {max_working_days} working days "
            f"from discovery, asked {working_days} (R-REF-04)",
            field="workingDays",
            code="OUT_OF_RANGE",
        )


@dataclass(frozen=True)
class OngoingViolation:
    """R-REF-05: stop order issued at once and the competent agency told immediately."""

    stop_order: str
    stop_ordered_at: datetime
    notice: str
    notified_at: datetime


@dataclass(frozen=True)
class Decline:
    """R-REF-07: reasons citing the catalogue and the interim handler (先予协同处置)."""

    reasons: str
    catalogue_basis: str
    interim_handler_id: str
    by: str
    agency_id: str
    at: datetime


@dataclass(frozen=True)
class Ruling:
    dispute_id: str
    responsible_agency_id: str
    outcome_kind: str
    basis: str
    rule_id: str
    ruled_at: datetime
    applied_at: datetime
    reassigned: bool


@dataclass(frozen=True)
class Supervision:
    """R-REF-13: 督办 by the government or its delegate."""

    by: str
    agency_id: str
    at: datetime
    note: str
    due: datetime | None = None  # its own clock (R-REF-13): the receiver answers by then
    answer: str = ""
    answered_at: datetime | None = None


@dataclass(frozen=True)
class UpwardTransfer:
    """R-REF-09: the department's consent and the filing with the justice bureau (备案)."""

    consent_by: str = ""
    consent_at: datetime | None = None
    consent_note: str = ""
    filing_number: str = ""
    filed_with_id: str = ""
    filed_at: datetime | None = None


def check_upward_ready(upward: UpwardTransfer | None) -> None:
    """R-REF-09: a major or difficult case goes up only with the department's consent and
    the filing with the justice bureau (备案) recorded."""
    up = upward or UpwardTransfer()
    if up.consent_at is None:
        raise InvalidState(
            "a major or difficult case goes up only with the department's consent "
            "recorded first (R-REF-09)",
            field="consent",
            code="NOT_YET",
        )
    if up.filed_at is None:
        raise InvalidState(
            "file the transfer with the justice bureau (备案) before sending (R-REF-09)",
            field="filing",
            code="NOT_YET",
        )


class CrimeStage(StrEnum):
    """Where a crime transfer stands (R-REF-14, State Council Decree 310); each stage but the
    two ends runs one clock (``CRIME_CLOCK_OF``)."""

    REPORTED = "reported"  # 书面报告: the head approves or refuses within 3 days (第五条)
    REFUSED = "refused"  # 不批准移送, the reasons on record; the administrative case goes on
    APPROVED = "approved"  # 批准移送: to public security within 24 hours (第五条)
    TRANSFERRED = "transferred"  # with public security: 立案 / 不立案 within 3 days (第八条)
    NOT_FILED = "not_filed"  # 不予立案通知: reconsideration within 3 days (第九条)
    RECONSIDERATION = "reconsideration"  # 提请复议: the police answer within 3 days (第九条)
    UPHELD = "upheld"  # 复议维持不立案: the procuratorate asked within 3 days (第九条)
    SUPERVISION = "supervision"  # 建议人民检察院立案监督: the agency records the outcome (default)
    FILED = "filed"  # 立案: materials handed over within 3 days (第十二条)
    HANDED_OVER = "handed_over"  # 移交完毕: the crime route ends with the police
    CLOSED_NOT_FILED = "closed_not_filed"  # 不立案 final: the administrative case reopens


#: The clock each running stage keeps (DeadlineInfo.kind; notify sees ``referral.<kind>``).
CRIME_CLOCK_OF: dict[CrimeStage, str] = {
    CrimeStage.REPORTED: "crime_head_decision",
    CrimeStage.APPROVED: "crime_transfer",
    CrimeStage.TRANSFERRED: "crime_police_decision",
    CrimeStage.NOT_FILED: "crime_reconsideration_request",
    CrimeStage.RECONSIDERATION: "crime_reconsideration_answer",
    CrimeStage.UPHELD: "crime_supervision_request",
    CrimeStage.SUPERVISION: "crime_supervision_outcome",
    CrimeStage.FILED: "crime_handover",
}
CRIME_CLOCKS: tuple[str, ...] = tuple(CRIME_CLOCK_OF.values())


@dataclass(frozen=True)
class FinePaid:
    """A fine given and paid before the transfer: it stands and counts against a later
    criminal fine (依法折抵相应罚金, Decree 310 第十一条; 行政处罚法第三十五条)."""

    decision_number: str
    amount_yuan: int
    paid_at: datetime
    receipt: str
    recorded_by: str
    recorded_at: datetime


@dataclass(frozen=True)
class CrimeTransfer:
    """R-REF-10 / R-REF-14: the case sent to public security (Decree 310) and each step of
    it: the head's decision, the transfer, the police decision with its reasons, the
    reconsideration, the procuratorate's supervision, the hand-over of materials."""

    police_id: str
    reason: str
    transferred_at: datetime | None  # None until it actually reaches the police
    by: str
    decision: str = ""  # "" (pending) | filed (立案) | not_filed (不立案)
    decision_note: str = ""
    decided_at: datetime | None = None
    stage: CrimeStage = CrimeStage.TRANSFERRED
    agency_id: str = ""  # the transferring agency (its head decides; it hands over)
    reported_at: datetime | None = None
    reported_by: str = ""
    head_decided_at: datetime | None = None
    head_decided_by: str = ""
    head_refusal_reason: str = ""  # 不予批准的理由 (记录在案)
    decision_reasons: str = ""  # 不立案的理由 (说明理由)
    reconsideration_requested_at: datetime | None = None
    reconsideration_reason: str = ""
    reconsideration_decision: str = ""  # "" | filed | not_filed
    reconsideration_note: str = ""
    reconsideration_answered_at: datetime | None = None
    procuratorate_id: str = ""
    supervision_requested_at: datetime | None = None
    supervision_reason: str = ""
    handed_over_at: datetime | None = None
    handover_note: str = ""
    closed_at: datetime | None = None  # 不立案 final / hand-over done
    penalties_standing: tuple[str, ...] = ()  # decisions given before the transfer: they stand
    fine_paid: FinePaid | None = None


@dataclass(frozen=True)
class Signature:
    """R-REF-12: the sending agency's electronic signature over the issued transfer letter's
    stored bytes (``kernel.signing``): who sent it, when, the letter's SHA-256 and 文号, the
    algorithm, the agency key's id and the signature (base64 DER)."""

    signer_id: str
    signer_name: str
    signed_at: datetime
    letter_sha256: str
    agency_id: str = ""
    algorithm: str = ""  # "" on signatures recorded before letters were signed for real
    key_id: str = ""
    value: str = ""
    letter_number: str = ""
    material_id: str = ""


@dataclass(frozen=True)
class Penalty:
    kinds: tuple[str, ...]
    fine_yuan: int | None
    decision_number: str
    at: datetime
