"""The referral subgraph's object types: Referral and Complaint are entities; Agency is
referenced by id and resolved by the coordination subgraph."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from kernel.calendar import WorkingCalendar
from kernel.graphql import UserError, action_fields, link, link_id
from referral.application.access import may_read_material_content, may_read_referral_complaint
from referral.application.actions import viewer_can
from referral.domain.complaint import Complaint as ComplaintModel
from referral.domain.model import Referral as ReferralModel
from referral.entrypoints.graphql.agency import Agency, _agency
from referral.entrypoints.graphql.context import ComplaintStatus, Info, ReferralStatus
from referral.entrypoints.graphql.crime_types import ReferralCrimeTransfer, _crime_steps
from referral.entrypoints.graphql.parts import (
    ReferralCompetence,
    ReferralDeadline,
    ReferralDecline,
    ReferralExtension,
    ReferralMaterial,
    ReferralOngoingViolation,
    ReferralRuling,
    ReferralSignature,
    ReferralSupervision,
    ReferralTransition,
    ReferralUpwardTransfer,
)
from referral.entrypoints.http.files import download_path, letter_path


def referral_history(root: Referral) -> list[ReferralTransition]:
    return [
        ReferralTransition(
            action=t.action,
            actor_id=t.actor_id,
            actor_name=t.actor_name,
            agency_id=t.agency_id,
            at=t.at,
            before=t.before,
            after=t.after,
            note=t.note,
        )
        for t in root._clocks[0].history
    ]


def referral_materials(root: Referral) -> list[ReferralMaterial]:
    r = root._clocks[0]
    return [
        ReferralMaterial(
            id=strawberry.ID(m.id),
            kind=m.kind.value,
            name=m.name,
            media_type=m.media_type,
            size=m.size,
            sha256=m.sha256,
            added_by=m.added_by,
            added_at=m.added_at,
            has_content=m.file_id is not None,
            download_url=(
                download_path(r.id, m.id) if m.file_id and root._content_visible else None
            ),
        )
        for m in r.materials
    ]


def referral_rulings(root: Referral) -> list[ReferralRuling]:
    return [
        ReferralRuling(
            dispute_id=x.dispute_id,
            responsible_agency_id=strawberry.ID(x.responsible_agency_id),
            responsible_agency=Agency(id=strawberry.ID(x.responsible_agency_id)),
            outcome_kind=x.outcome_kind,
            basis=x.basis,
            ruled_at=x.ruled_at,
            reassigned=x.reassigned,
        )
        for x in root._clocks[0].rulings
    ]


def referral_supervisions(root: Referral) -> list[ReferralSupervision]:
    return [
        ReferralSupervision(
            by=s.by,
            agency_id=strawberry.ID(s.agency_id),
            agency=Agency(id=strawberry.ID(s.agency_id)),
            at=s.at,
            note=s.note,
            due=s.due,
            answer=s.answer,
            answered_at=s.answered_at,
        )
        for s in root._clocks[0].supervisions
    ]


@strawberry.federation.type(keys=["id"], description="A case transfer (案件移送).")
class Referral:
    id: strawberry.ID = strawberry.field(description="the referral's id")
    status: ReferralStatus = strawberry.field(description="where the referral stands")
    route: str = strawberry.field(description="ordinary | upward (R-REF-09) | crime (R-REF-10)")
    matter_code: str = strawberry.field(
        description="the catalogue matter (事项编码) the case concerns"
    )
    title: str = strawberry.field(description="a short title of the case")
    facts: str = strawberry.field(description="the basic facts of the violation (基本违法事实)")
    party: str = strawberry.field(description="the party (当事人) the case is against")
    place: str = strawberry.field(description="where the violation happened")
    township_id: str | None = strawberry.field(description="the township where it happened, if any")
    found_at: datetime = strawberry.field(description="when the violation was discovered")
    urgent: bool = strawberry.field(description="the case is urgent (shorter clocks)")
    created_at: datetime = strawberry.field(description="when it was drafted")
    sent_at: datetime | None = strawberry.field(description="when it was sent; null while a draft")
    sender_id: strawberry.ID = link_id("the sending agency")
    receiver_id: strawberry.ID = link_id("the receiving agency")
    sender: Agency | None = link("the sending agency", "senderId")
    receiver: Agency | None = link("the receiving agency", "receiverId")
    previous_receiver_ids: list[strawberry.ID] = strawberry.field(
        description="the agencies the referral went to before (R-REF-08), oldest first"
    )
    previous_receivers: list[Agency | None] = strawberry.field(
        description="`previousReceiverIds` resolved by coordination; an item is null when "
        "its agency cannot be resolved"
    )
    # The clocks are built (with their working-day explanations) only when a query asks for
    # them: eagerly they were ~9 % of a referral read's CPU (issue 21, P6 profile). So are
    # the lists (history, materials, rulings, supervisions): a list page rarely asks for them
    # (issue 21, P4 profile, session 13).
    _clocks: strawberry.Private[tuple[ReferralModel, WorkingCalendar, datetime]]
    _content_visible: strawberry.Private[bool]

    @strawberry.field(
        description="the receiver's clock to accept or decline (R-REF-06); null before sending"
    )
    def accept_deadline(self) -> ReferralDeadline | None:
        r, calendar, now = self._clocks
        return (
            ReferralDeadline.from_info(r.accept_deadline, calendar, now)
            if r.accept_deadline
            else None
        )

    @strawberry.field(description="every clock of the referral, with its working-day explanation")
    def deadlines(self) -> list[ReferralDeadline]:
        r, calendar, now = self._clocks
        return [ReferralDeadline.from_info(d, calendar, now) for d in r.deadlines]

    overdue: bool = strawberry.field(description="some open clock of the referral has run out")
    history: list[ReferralTransition] = strawberry.field(
        resolver=referral_history, description="every step taken on the referral, oldest first"
    )
    materials: list[ReferralMaterial] = strawberry.field(
        resolver=referral_materials, description="the attached materials (letter, source, evidence)"
    )
    transfer_letter_url: str | None = strawberry.field(
        description="Path of the stored 移送函 PDF on the referral service "
        "(GET /referrals/{id}/letter.pdf), null until generated or uploaded"
    )
    competence: ReferralCompetence | None = strawberry.field(
        description="what the catalogue said about who is competent, when drafted"
    )
    extension: ReferralExtension | None = strawberry.field(
        description="the extended send limit (R-REF-04); null unless extended"
    )
    ongoing_violation: ReferralOngoingViolation | None = strawberry.field(
        description="the stop order and notice of an ongoing violation (R-REF-05)"
    )
    acceptance_statement: str = strawberry.field(
        description="the receiver's written acceptance (受理情况); empty before"
    )
    handling_summary: str = strawberry.field(
        description="how the receiver handled the case; empty before"
    )
    result: str = strawberry.field(
        description="the handling result reported back (R-REF-08); empty before"
    )
    decline: ReferralDecline | None = strawberry.field(
        description="the receiver's decline (R-REF-07); null unless declined"
    )
    rulings: list[ReferralRuling] = strawberry.field(
        resolver=referral_rulings,
        description="the dispute rulings that bound this referral (R-DSP-03)",
    )
    supervisions: list[ReferralSupervision] = strawberry.field(
        resolver=referral_supervisions,
        description="the supervisions (督办) issued on it (R-REF-13)",
    )
    upward: ReferralUpwardTransfer | None = strawberry.field(
        description="the consent and filing of an upward transfer (R-REF-09)"
    )
    crime: ReferralCrimeTransfer | None = strawberry.field(
        description="the crime route (两法衔接, R-REF-10 / R-REF-14); null when the case never "
        "took the crime route"
    )
    electronic: bool = strawberry.field(
        description="sent electronically (R-REF-12) rather than on paper"
    )
    letter_number: str = strawberry.field(
        description="发文字号 of the issued transfer letter (机关代字〔年〕序号号, the sending "
        "agency's sequence for the year), given at sending; empty before"
    )
    signature: ReferralSignature | None = strawberry.field(
        description="the electronic signature of the letter (R-REF-12), if signed"
    )
    complaint_id: strawberry.ID | None = strawberry.field(
        description="the complaint this referral was made from, if any (R-CMP-03)"
    )
    dispatch_id: strawberry.ID | None = strawberry.field(
        description="The grid dispatch (派单) this referral was drafted from (R-GRD-01), if any"
    )
    dispatch_photo_ids: list[str] = strawberry.field(
        description="The dispatch's photos, by coordination's photo ids (R-GRD-01): source "
        "material by reference, not files of this referral; upload what is sent"
    )

    viewer_can, available_actions = action_fields(
        lambda info, rid: viewer_can(info.context.handlers.referrals, rid, info.context.caller()),
        "referral",
    )

    @strawberry.field(description="The complaint this referral was created from (R-CMP-03).")
    async def complaint(self, info: Info) -> Complaint | None:
        if self.complaint_id is None:
            return None
        # The complaint's own readers and the handling receiver, who tells the complainant
        # the result (R-CMP-04); null for everyone else who reads the case.
        ctx = info.context
        referral = await ctx.referral_loader.load(str(self.id))
        model = await ctx.complaint_loader.load(str(self.complaint_id))
        if referral is None or model is None:
            return None
        if not may_read_referral_complaint(ctx.principal(), referral, model):
            return None
        return Complaint.from_model(model)

    @classmethod
    def from_model(
        cls, r: ReferralModel, calendar: WorkingCalendar, now: datetime, *, content_visible: bool
    ) -> Referral:
        return cls(
            id=strawberry.ID(r.id),
            status=r.status,
            route=r.route.value,
            matter_code=r.matter_code,
            title=r.title,
            facts=r.facts,
            party=r.party,
            place=r.place,
            township_id=r.township_id,
            found_at=r.found_at,
            urgent=r.urgent,
            created_at=r.created_at,
            sent_at=r.sent_at,
            sender_id=strawberry.ID(r.sender_id),
            receiver_id=strawberry.ID(r.receiver_id),
            sender=Agency(id=strawberry.ID(r.sender_id)),
            receiver=Agency(id=strawberry.ID(r.receiver_id)),
            previous_receiver_ids=[strawberry.ID(a) for a in r.previous_receivers],
            previous_receivers=[Agency(id=strawberry.ID(a)) for a in r.previous_receivers],
            _clocks=(r, calendar, now),
            _content_visible=content_visible,
            overdue=r.is_overdue(now),
            transfer_letter_url=(
                letter_path(r.id) if r.latest_letter_file() and content_visible else None
            ),
            competence=(
                ReferralCompetence(
                    resolved_agency=_agency(r.competence.resolved_agency_id),
                    reason=r.competence.reason,
                    explanation=r.competence.explanation,
                    major_penalty=r.competence.major_penalty,
                    checked_at=r.competence.checked_at,
                    override_reason=r.competence.override_reason,
                )
                if r.competence
                else None
            ),
            extension=(
                ReferralExtension(
                    working_days=r.extension.working_days,
                    reason=r.extension.reason,
                    notified_agency_id=strawberry.ID(r.extension.notified_agency_id),
                    notified_agency=Agency(id=strawberry.ID(r.extension.notified_agency_id)),
                    notified_at=r.extension.notified_at,
                )
                if r.extension
                else None
            ),
            ongoing_violation=(
                ReferralOngoingViolation(
                    stop_order=r.ongoing.stop_order,
                    stop_ordered_at=r.ongoing.stop_ordered_at,
                    notice=r.ongoing.notice,
                    notified_at=r.ongoing.notified_at,
                )
                if r.ongoing
                else None
            ),
            acceptance_statement=r.acceptance_statement,
            handling_summary=r.handling_summary,
            result=r.result,
            decline=(
                ReferralDecline(
                    reasons=r.decline_info.reasons,
                    catalogue_basis=r.decline_info.catalogue_basis,
                    interim_handler_id=strawberry.ID(r.decline_info.interim_handler_id),
                    interim_handler=Agency(id=strawberry.ID(r.decline_info.interim_handler_id)),
                    by=r.decline_info.by,
                    at=r.decline_info.at,
                )
                if r.decline_info
                else None
            ),
            upward=(
                ReferralUpwardTransfer(
                    consent_by=r.upward.consent_by,
                    consent_at=r.upward.consent_at,
                    filing_number=r.upward.filing_number,
                    filed_at=r.upward.filed_at,
                )
                if r.upward
                else None
            ),
            crime=(
                ReferralCrimeTransfer(
                    police_id=strawberry.ID(r.crime.police_id),
                    police=Agency(id=strawberry.ID(r.crime.police_id)),
                    reason=r.crime.reason,
                    transferred_at=r.crime.transferred_at,
                    decision=r.crime.decision,
                    decision_note=r.crime.decision_note,
                    decided_at=r.crime.decided_at,
                    **_crime_steps(r.crime),
                )
                if r.crime
                else None
            ),
            electronic=r.electronic,
            letter_number=r.letter_number,
            signature=(
                ReferralSignature(
                    signer_id=r.signature.signer_id,
                    signer_name=r.signature.signer_name,
                    signed_at=r.signature.signed_at,
                    letter_sha256=r.signature.letter_sha256,
                    agency_id=r.signature.agency_id,
                    algorithm=r.signature.algorithm,
                    key_id=r.signature.key_id,
                    value=r.signature.value,
                    letter_number=r.signature.letter_number,
                    material_id=(
                        strawberry.ID(r.signature.material_id) if r.signature.material_id else None
                    ),
                    referral_id=r.id,
                    content_visible=content_visible,
                )
                if r.signature
                else None
            ),
            complaint_id=strawberry.ID(r.complaint_id) if r.complaint_id else None,
            dispatch_id=strawberry.ID(r.dispatch_id) if r.dispatch_id else None,
            dispatch_photo_ids=list(r.dispatch_photo_ids),
        )

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Referral | None:
        model = await info.context.visible_referral(str(id))
        return referral_view(info, model) if model else None


@strawberry.type(description="A notice sent about a complaint (answer, handover, result).")
class ComplaintNotice:
    kind: str = strawberry.field(
        description="answer | handover | referred | result | result_to_agency"
    )
    text: str = strawberry.field(description="the notice's text, in Chinese")
    at: datetime = strawberry.field(description="when the notice was sent")
    by_agency_id: strawberry.ID = link_id("the agency that sent the notice")
    by_agency: Agency | None = link("the agency that sent the notice", "byAgencyId")
    to_agency: Agency | None = strawberry.field(
        description="set when an agency that passed it on is told; else the complainant"
    )


@strawberry.type(description="One step taken on a complaint.")
class ComplaintTransition:
    action: str = strawberry.field(description="what was done, e.g. register, answer, hand_over")
    actor_id: str = strawberry.field(description="the person who did it")
    agency_id: str = strawberry.field(description="the agency the person acted for")
    at: datetime = strawberry.field(description="when it was done")
    before: ComplaintStatus | None = strawberry.field(
        description="the status before it (null when registered)"
    )
    after: ComplaintStatus = strawberry.field(description="the status after it")
    note: str = strawberry.field(description="what the person wrote with it, if anything")


@strawberry.federation.type(keys=["id"], description="A complaint or report (举报投诉).")
class Complaint:
    id: strawberry.ID = strawberry.field(description="the complaint's id")
    status: ComplaintStatus = strawberry.field(description="where the complaint stands")
    first_agency_id: strawberry.ID = link_id("首问: the agency that received it")
    first_agency: Agency | None = link("首问: the agency that received it", "firstAgencyId")
    owner_id: strawberry.ID = link_id("the agency handling it now")
    owner: Agency | None = link("the agency handling it now", "ownerId")
    complainant_name: str = strawberry.field(
        description="who complained (may be empty for an anonymous report)"
    )
    complainant_contact: str = strawberry.field(
        description="how to reach the complainant (to tell the result)"
    )
    content: str = strawberry.field(description="what the complaint says")
    matter_code: str = strawberry.field(description="the catalogue matter it concerns")
    place: str = strawberry.field(description="where the reported conduct happened")
    received_at: datetime = strawberry.field(description="when the first agency received it (首问)")
    handover_to: Agency | None = strawberry.field(description="the agency it was handed to, if any")
    handover_mode: str | None = strawberry.field(
        description="how it was passed on: guide (引导) or material (转交材料); null if not"
    )
    case_number: str = strawberry.field(
        description="the case number (立案编号) once a case was opened"
    )
    answer: str = strawberry.field(description="the answer given to the complainant, if any")
    result: str = strawberry.field(description="the handling result told to the complainant")
    notices: list[ComplaintNotice] = strawberry.field(
        description="the notices sent about it (answer, handover, result)"
    )
    history: list[ComplaintTransition] = strawberry.field(
        description="every step taken on the complaint, oldest first"
    )
    referral_id: strawberry.ID | None = strawberry.field(
        description="the referral made from it, if any (R-CMP-03)"
    )

    @strawberry.field(description="The referral created from this complaint.")
    async def referral(self, info: Info) -> Referral | None:
        if self.referral_id is None:
            return None
        model = await info.context.visible_referral(str(self.referral_id))
        return referral_view(info, model) if model else None

    @classmethod
    def from_model(cls, c: ComplaintModel) -> Complaint:
        return cls(
            id=strawberry.ID(c.id),
            status=c.status,
            first_agency_id=strawberry.ID(c.first_agency_id),
            first_agency=Agency(id=strawberry.ID(c.first_agency_id)),
            owner_id=strawberry.ID(c.owner_agency_id),
            owner=Agency(id=strawberry.ID(c.owner_agency_id)),
            complainant_name=c.complainant_name,
            complainant_contact=c.complainant_contact,
            content=c.content,
            matter_code=c.matter_code,
            place=c.place,
            received_at=c.received_at,
            handover_to=_agency(c.handover.to_agency_id if c.handover else None),
            handover_mode=c.handover.mode.value if c.handover else None,
            case_number=c.case_number,
            answer=c.answer,
            result=c.result,
            notices=[
                ComplaintNotice(
                    kind=n.kind,
                    text=n.text,
                    at=n.at,
                    by_agency_id=strawberry.ID(n.by_agency_id),
                    by_agency=Agency(id=strawberry.ID(n.by_agency_id)),
                    to_agency=_agency(n.to_agency_id),
                )
                for n in c.notices
            ],
            history=[
                ComplaintTransition(
                    action=t.action,
                    actor_id=t.actor_id,
                    agency_id=t.agency_id,
                    at=t.at,
                    before=t.before,
                    after=t.after,
                    note=t.note,
                )
                for t in c.history
            ],
            referral_id=strawberry.ID(c.referral_id) if c.referral_id else None,
        )

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Complaint | None:
        model = await info.context.visible_complaint(str(id))
        return cls.from_model(model) if model else None


def referral_view(info: Info, model: ReferralModel) -> Referral:
    """The graph's view of a referral the caller may read; material contents (download
    URLs, the letter) only where the matrix lets the caller read them."""
    ctx = info.context
    content = may_read_material_content(ctx.principal(), model)
    return Referral.from_model(model, ctx.calendar, ctx.now(), content_visible=content)


@strawberry.type(description="R-REF-12: consent to receive electronically from one agency.")
class ElectronicConsent:
    receiver_id: strawberry.ID = link_id("the receiving agency")
    receiver: Agency | None = link("the receiving agency", "receiverId")
    sender_id: strawberry.ID = link_id("the sending agency")
    sender: Agency | None = link("the sending agency", "senderId")
    consented: bool = strawberry.field(
        description="whether the receiver accepts electronic transfers from the sender (R-REF-12)"
    )


@strawberry.type(description="A referral that stayed with its receiver when a power moved.")
class StayedReferral:
    referral_id: strawberry.ID = strawberry.field(description="the referral that stayed")
    reason: str = strawberry.field(description="why it stayed with its receiver")


@strawberry.type(description="R-REF-11: what moved to the township and what stayed.")
class DelegationTransferReport:
    moved: list[strawberry.ID] = strawberry.field(
        description="the referrals moved to the new holder of the power"
    )
    stayed: list[StayedReferral] = strawberry.field(
        description="the referrals left where they were, each with why"
    )


ReferralResult = Annotated[
    Referral | UserError,
    strawberry.union(
        "ReferralResult",
        description="What the mutation answers: the Referral as it is now, or the "
        "UserError that refused it (nothing was changed).",
    ),
]
ComplaintResult = Annotated[
    Complaint | UserError,
    strawberry.union(
        "ComplaintResult",
        description="What the mutation answers: the Complaint as it is now, or the "
        "UserError that refused it (nothing was changed).",
    ),
]
ElectronicConsentResult = Annotated[
    ElectronicConsent | UserError,
    strawberry.union(
        "ElectronicConsentResult",
        description="What the mutation answers: the ElectronicConsent as it is now, or the "
        "UserError that refused it (nothing was changed).",
    ),
]
DelegationTransferResult = Annotated[
    DelegationTransferReport | UserError,
    strawberry.union(
        "DelegationTransferResult",
        description="What the mutation answers: the DelegationTransferReport as it is now, or the "
        "UserError that refused it (nothing was changed).",
    ),
]
