"""The referral subgraph's smaller object types: a referral's clocks, record, materials,
competence, decline, rulings, 督办, signature and what the viewer may do. They reference no
entity of this subgraph, so ``types`` (Referral, Complaint) builds on them."""

from __future__ import annotations

from datetime import datetime

import strawberry

from kernel.calendar import WorkingCalendar
from kernel.contracts.deadlines import DeadlineV1
from kernel.graphql import link, link_id
from referral.domain.model import DeadlineInfo
from referral.entrypoints.graphql.agency import Agency, _agency
from referral.entrypoints.graphql.context import Info, ReferralStatus


def _explanation(root: ReferralDeadline) -> str:
    d = root._info
    return root._calendar.explain_dict(d.explanation, lang="zh") if d.explanation else ""


def _remaining_working_days(root: ReferralDeadline) -> int:
    return root._calendar.working_days_between(root._now, root._info.due)


def _provisional(root: ReferralDeadline) -> bool:
    return bool(DeadlineV1.calendar_fields(root._info.explanation).get("provisional"))


def _mode(root: ReferralDeadline) -> str | None:
    mode = DeadlineV1.calendar_fields(root._info.explanation).get("mode")
    return None if mode is None else str(mode)


@strawberry.type(description="A statutory clock and how its due time was computed.")
class ReferralDeadline:
    kind: str = strawberry.field(
        description="send | accept | report | crime_head_decision | crime_transfer | "
        "crime_police_decision | crime_reconsideration_request | crime_reconsideration_answer "
        "| crime_supervision_request | crime_supervision_outcome | crime_handover (R-REF-14)"
    )
    key: str = strawberry.field(description="stable identity of the clock (as in events)")
    state: str = strawberry.field(description="open | met | cancelled")
    rule: str = strawberry.field(description="the rule and limit that set the clock, in Chinese")
    due: datetime = strawberry.field(description="when the clock runs out (Asia/Shanghai)")
    # The explanation, the working days left and the calendar fields are computed only when
    # a query asks for them: rendering the Chinese explanation and counting working days for
    # every row was about a fifth of a list page's CPU (issue 21, P4 profile, session 13).
    explanation: str = strawberry.field(
        resolver=_explanation, description="how the due time was computed (Chinese)"
    )
    remaining_working_days: int = strawberry.field(
        resolver=_remaining_working_days, description="working days left; negative when overdue"
    )
    overdue: bool = strawberry.field(description="still open and past due")
    responsible: Agency | None = strawberry.field(description="the agency that must act by then")
    provisional: bool = strawberry.field(
        resolver=_provisional,
        description="computed across a year whose holidays the State Council has not yet "
        "announced: the due time may move when the official schedule is loaded (the "
        "explanation says which year)",
    )
    mode: str | None = strawberry.field(
        resolver=_mode, description="working_days | clock | calendar_days: how the clock counts"
    )
    _info: strawberry.Private[DeadlineInfo]
    _calendar: strawberry.Private[WorkingCalendar]
    _now: strawberry.Private[datetime]

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
            overdue=d.state == "open" and now > d.due,
            responsible=_agency(d.responsible_agency_id),
            _info=d,
            _calendar=calendar,
            _now=now,
        )


@strawberry.type(description="One recorded act: who did what, when, from which state.")
class ReferralTransition:
    action: str = strawberry.field(description="what was done, e.g. submit, accept, decline")
    actor_id: str = strawberry.field(description="the person who did it")
    actor_name: str = strawberry.field(description="that person's name")
    agency_id: str = strawberry.field(description="the agency the person acted for")
    at: datetime = strawberry.field(description="when it was done")
    before: ReferralStatus | None = strawberry.field(
        description="the status before it (null for the draft)"
    )
    after: ReferralStatus = strawberry.field(description="the status after it")
    note: str = strawberry.field(description="what the person wrote with it, if anything")


@strawberry.type(
    description="A material (R-REF-02): its record and, once uploaded or generated, its content."
)
class ReferralMaterial:
    id: strawberry.ID = strawberry.field(description="the material's id within the referral")
    kind: str = strawberry.field(description="transfer_letter (移送函) | source | evidence")
    name: str = strawberry.field(description="its file name")
    media_type: str = strawberry.field(description="its media type, e.g. application/pdf")
    size: int = strawberry.field(description="its size in bytes")
    sha256: str = strawberry.field(description="the SHA-256 of its content, hexadecimal")
    added_by: str = strawberry.field(description="who attached it (person id)")
    added_at: datetime = strawberry.field(description="when it was attached")
    has_content: bool = strawberry.field(
        description="Whether the content is stored (uploaded, or the generated 移送函)"
    )
    download_url: str | None = strawberry.field(
        description="Path of the content on the referral service (GET with the same Bearer "
        "token; not through the gateway): parties and supervisors only. Null until stored."
    )


@strawberry.type(description="Who the catalogue names for this matter, place, date, severity.")
class ReferralCompetence:
    resolved_agency: Agency | None = strawberry.field(
        description="the agency the catalogue names competent (null: none)"
    )
    reason: str = strawberry.field(
        description="the sender's reason for addressing another agency than the catalogue's, if any"
    )
    explanation: str = strawberry.field(
        description="why the catalogue names that agency (matter, place, date), in Chinese"
    )
    major_penalty: bool = strawberry.field(
        description="whether the case may end in a major penalty (重大处罚)"
    )
    checked_at: datetime = strawberry.field(description="when the catalogue was consulted")
    override_reason: str = strawberry.field(description="why the sender addressed another")


@strawberry.type(description="The receiver's decline of a referral (R-REF-07).")
class ReferralDecline:
    reasons: str = strawberry.field(description="why the receiver holds it is not competent")
    catalogue_basis: str = strawberry.field(
        description="the catalogue entry the decline rests on (R-REF-07)"
    )
    interim_handler_id: strawberry.ID = link_id("the agency handling the case meanwhile (R-REF-07)")
    interim_handler: Agency | None = link(
        "the agency handling the case meanwhile (R-REF-07)", "interimHandlerId"
    )
    by: str = strawberry.field(description="who declined (person id)")
    at: datetime = strawberry.field(description="when the receiver declined")


@strawberry.type(description="A dispute ruling that bound a referral (R-DSP-03).")
class ReferralRuling:
    dispute_id: str = strawberry.field(description="the dispute that ruled (R-DSP-03)")
    responsible_agency_id: strawberry.ID = link_id(
        "the agency the ruling made responsible (R-DSP-03)"
    )
    responsible_agency: Agency | None = link(
        "the agency the ruling made responsible (R-DSP-03)", "responsibleAgencyId"
    )
    outcome_kind: str = strawberry.field(description="agreement | minutes | decision")
    basis: str = strawberry.field(
        description="the ruling's basis (minutes number, decision 文号 or agreement)"
    )
    ruled_at: datetime = strawberry.field(description="when the ruling bound")
    reassigned: bool = strawberry.field(
        description="whether the ruling moved the referral to another receiver"
    )


@strawberry.type(description="A supervision (督办) issued on a referral (R-REF-13).")
class ReferralSupervision:
    by: str = strawberry.field(description="who issued it (person id)")
    agency_id: strawberry.ID = link_id("the supervising agency")
    agency: Agency | None = link("the supervising agency", "agencyId")
    at: datetime = strawberry.field(description="when the supervision (督办) was issued")
    note: str = strawberry.field(description="what the supervising body asks")
    due: datetime | None = strawberry.field(
        default=None, description="its own clock (R-REF-13): answer or act by then"
    )
    answer: str = strawberry.field(default="", description="the receiver's written answer")
    answered_at: datetime | None = strawberry.field(
        default=None, description="when it answered; null while the 督办 is open"
    )


@strawberry.type(description="R-REF-09: the department's consent and the justice filing.")
class ReferralUpwardTransfer:
    consent_by: str = strawberry.field(description="who consented for the department")
    consent_at: datetime | None = strawberry.field(
        description="when the department consented (R-REF-09)"
    )
    filing_number: str = strawberry.field(description="the filing number (备案号)")
    filed_at: datetime | None = strawberry.field(
        description="when the transfer was filed with the justice bureau (备案)"
    )


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
    signer_id: str = strawberry.field(description="who signed it (person id)")
    signer_name: str = strawberry.field(description="that person's name")
    signed_at: datetime = strawberry.field(description="when the letter was signed")
    letter_sha256: str = strawberry.field(description="SHA-256 of the signed letter PDF")
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


@strawberry.type(description="The extended send limit (R-REF-04).")
class ReferralExtension:
    working_days: int = strawberry.field(
        description="the extended limit, in working days from discovery"
    )
    reason: str = strawberry.field(description="why the send limit was extended")
    notified_agency_id: strawberry.ID = link_id("the agency told of the extension")
    notified_agency: Agency | None = link("the agency told of the extension", "notifiedAgencyId")
    notified_at: datetime = strawberry.field(
        description="when the receiver was told of the extension"
    )


@strawberry.type(description="R-REF-05: stop order and immediate notice.")
class ReferralOngoingViolation:
    stop_order: str = strawberry.field(description="the order to stop the violation (责令停止)")
    stop_ordered_at: datetime = strawberry.field(description="when the stop was ordered")
    notice: str = strawberry.field(description="the immediate notice to the competent agency")
    notified_at: datetime = strawberry.field(description="when it was notified")
