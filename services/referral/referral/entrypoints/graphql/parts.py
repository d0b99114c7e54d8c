"""The referral subgraph's smaller object types: a referral's clocks, record, materials,
competence, decline, rulings, 督办, signature and what the viewer may do. They reference no
entity of this subgraph, so ``types`` (Referral, Complaint) builds on them."""

from __future__ import annotations

from datetime import datetime

import strawberry

from kernel.calendar import WorkingCalendar
from kernel.contracts.deadlines import DeadlineV1
from kernel.graphql import UserError
from referral.domain.model import DeadlineInfo
from referral.entrypoints.graphql.agency import Agency, _agency
from referral.entrypoints.graphql.context import Info, ReferralStatus


@strawberry.type(description="A statutory clock and how its due time was computed.")
class ReferralDeadline:
    kind: str = strawberry.field(
        description="send | accept | report | crime_head_decision | crime_transfer | "
        "crime_police_decision | crime_reconsideration_request | crime_reconsideration_answer "
        "| crime_supervision_request | crime_supervision_outcome | crime_handover (R-REF-14)"
    )
    key: str = strawberry.field(description="stable identity of the clock (as in events)")
    state: str = strawberry.field(description="open | met | cancelled")
    rule: str
    due: datetime
    explanation: str = strawberry.field(description="how the due time was computed (Chinese)")
    remaining_working_days: int = strawberry.field(
        description="working days left; negative when overdue"
    )
    overdue: bool = strawberry.field(description="still open and past due")
    responsible: Agency | None
    provisional: bool = strawberry.field(
        description="computed across a year whose holidays the State Council has not yet "
        "announced: the due time may move when the official schedule is loaded (the "
        "explanation says which year)"
    )
    mode: str | None = strawberry.field(
        description="working_days | clock | calendar_days: how the clock counts"
    )

    @classmethod
    def from_info(
        cls, d: DeadlineInfo, calendar: WorkingCalendar, now: datetime
    ) -> ReferralDeadline:
        return cls(
            kind=d.kind,
            key=d.key,
            state=d.state,
            rule=d.rule,
            due=d.due,
            explanation=calendar.explain_dict(d.explanation, lang="zh") if d.explanation else "",
            remaining_working_days=calendar.working_days_between(now, d.due),
            overdue=d.state == "open" and now > d.due,
            responsible=_agency(d.responsible_agency_id),
            provisional=bool(DeadlineV1.calendar_fields(d.explanation).get("provisional")),
            mode=DeadlineV1.calendar_fields(d.explanation).get("mode"),
        )


@strawberry.type(description="One recorded act: who did what, when, from which state.")
class ReferralTransition:
    action: str
    actor_id: str
    actor_name: str
    agency_id: str
    at: datetime
    before: ReferralStatus | None
    after: ReferralStatus
    note: str


@strawberry.type(
    description="A material (R-REF-02): its record and, once uploaded or generated, its content."
)
class ReferralMaterial:
    id: strawberry.ID
    kind: str = strawberry.field(description="transfer_letter (移送函) | source | evidence")
    name: str
    media_type: str
    size: int
    sha256: str
    added_by: str
    added_at: datetime
    has_content: bool = strawberry.field(
        description="Whether the content is stored (uploaded, or the generated 移送函)"
    )
    download_url: str | None = strawberry.field(
        description="Path of the content on the referral service (GET with the same Bearer "
        "token; not through the gateway): parties and supervisors only. Null until stored."
    )


@strawberry.type(description="Who the catalogue names for this matter, place, date, severity.")
class ReferralCompetence:
    resolved_agency: Agency | None
    reason: str
    explanation: str
    major_penalty: bool
    checked_at: datetime
    override_reason: str = strawberry.field(description="why the sender addressed another")


@strawberry.type
class ReferralDecline:
    reasons: str
    catalogue_basis: str
    interim_handler: Agency
    by: str
    at: datetime


@strawberry.type
class ReferralRuling:
    dispute_id: str
    responsible_agency: Agency
    outcome_kind: str
    basis: str
    ruled_at: datetime
    reassigned: bool


@strawberry.type
class ReferralSupervision:
    by: str
    agency: Agency
    at: datetime
    note: str
    due: datetime | None = strawberry.field(
        default=None, description="its own clock (R-REF-13): answer or act by then"
    )
    answer: str = strawberry.field(default="", description="the receiver's written answer")
    answered_at: datetime | None = strawberry.field(
        default=None, description="when it answered; null while the 督办 is open"
    )


@strawberry.type(description="R-REF-09: the department's consent and the justice filing.")
class ReferralUpwardTransfer:
    consent_by: str
    consent_at: datetime | None
    filing_number: str
    filed_at: datetime | None


@strawberry.type(description="R-REF-12: whether a signed letter verifies.")
class SignatureVerification:
    valid: bool = strawberry.field(
        description="the stored letter still hashes to what the agency's key signed"
    )
    reason: str = strawberry.field(description="why it does not verify; empty when valid")


@strawberry.type(
    description="R-REF-12: the sending agency's electronic signature over the issued transfer "
    "letter's stored bytes (ECDSA P-256 with SHA-256, docs/security.md). Anyone with the "
    "agency's public key (letterSigningKeys) can check it, e.g. `liandong letter verify`."
)
class ReferralSignature:
    signer_id: str
    signer_name: str
    signed_at: datetime
    letter_sha256: str
    agency_id: str = strawberry.field(description="the agency whose key signed")
    algorithm: str = strawberry.field(description="ECDSA-P256-SHA256; empty: recorded unsigned")
    key_id: str = strawberry.field(description="the agency key's id (letterSigningKeys)")
    value: str = strawberry.field(description="the signature, base64 of its DER encoding")
    letter_number: str = strawberry.field(description="发文字号 of the signed letter")
    material_id: strawberry.ID | None = strawberry.field(description="the signed letter")
    referral_id: strawberry.Private[str]
    content_visible: strawberry.Private[bool]

    @strawberry.field(
        description="The stored letter hashed again and the signature checked with the "
        "agency's public key; null for callers who may not read the letter's content"
    )
    async def verification(self, info: Info) -> SignatureVerification | None:
        if not self.content_visible:
            return None
        model = await info.context.visible_referral(self.referral_id)
        if model is None:
            return None
        result = await info.context.handlers.letters.verify(model)
        return SignatureVerification(valid=result.valid, reason=result.reason)


@strawberry.type
class ReferralExtension:
    working_days: int
    reason: str
    notified_agency: Agency
    notified_at: datetime


@strawberry.type(description="R-REF-05: stop order and immediate notice.")
class ReferralOngoingViolation:
    stop_order: str
    stop_ordered_at: datetime
    notice: str
    notified_at: datetime


@strawberry.type(description="Whether you may run one mutation on a referral now.")
class ViewerCan:
    action: str = strawberry.field(description="the mutation's name, e.g. acceptReferral")
    allowed: bool = strawberry.field(description="it would succeed now")
    refusal: UserError | None = strawberry.field(
        description="what it would answer otherwise (code, Chinese message, field)"
    )
