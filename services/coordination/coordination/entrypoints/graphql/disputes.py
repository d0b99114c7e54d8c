"""Jurisdiction disputes in the graph (R-DSP-01…04): Dispute is an entity other subgraphs
may extend (referral links its declined referrals to it), and its reads; the actions are in
dispute_mutations.py."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Annotated

import strawberry

from coordination.application.actions import dispute_actions
from coordination.domain.dispute import Dispute as DisputeModel
from coordination.domain.dispute import DisputeKind as DomainDisputeKind
from coordination.domain.dispute import DisputeStatus as DomainDisputeStatus
from coordination.domain.dispute import OutcomeKind as DomainOutcomeKind
from coordination.domain.dispute import StepRecord
from coordination.domain.dispute import TransferReason as DomainTransferReason
from coordination.entrypoints.graphql.types import (
    AfterArg,
    Agency,
    FirstArg,
    Info,
    OrderArg,
    actions_of,
    agency_field,
    list_query,
    load_agency,
    time_connection,
)
from kernel.contracts.deadlines import DeadlineV1
from kernel.graphql import (
    Connection,
    ListOrder,
    expose_enum,
    mirrored,
    page_size,
)

expose_enum(
    DomainDisputeStatus,
    "DisputeStatus",
    "open or ruled",
    {
        "open": "being settled up the ladder (R-DSP-02); the interim handler acts meanwhile",
        "ruled": "settled by a binding outcome (R-DSP-03); see `Dispute.outcome`",
    },
)
expose_enum(
    DomainDisputeKind,
    "DisputeKind",
    "jurisdiction (R-DSP-01) or a township's request to pass a case up (R-DSP-04)",
    {
        "jurisdiction": "管辖争议: agencies dispute who handles a case or a duty (R-DSP-01)",
        "transfer_to_department": "a township asks that a major, complex or recusal case go "
        "to the original department (R-DSP-04); `transferReason` says why",
    },
)
expose_enum(
    DomainOutcomeKind,
    "DisputeOutcomeKind",
    "signed agreement (协议), meeting minutes (会议纪要) or decision (决定), R-DSP-03",
    {
        "agreement": "协议: an agreement each party's leader confirmed "
        "(proposeDisputeAgreement, confirmDisputeAgreement)",
        "minutes": "会议纪要: issued minutes of a consultation meeting every party attended and "
        "agreed to (R-MTG-01)",
        "decision": "决定: the decision of the step's deciding body or the government",
    },
)
expose_enum(
    DomainTransferReason,
    "CaseTransferReason",
    "major (重大), complex (复杂) or recusal (回避), R-DSP-04",
    {
        "major": "重大: a major case, beyond what the township should handle",
        "complex": "复杂: a complex (疑难复杂) case needing the department's expertise",
        "recusal": "需要回避: the township's officials must recuse themselves",
    },
)
DisputeStatus = DomainDisputeStatus
DisputeKind = DomainDisputeKind
DisputeOutcomeKind = DomainOutcomeKind
CaseTransferReason = DomainTransferReason


@strawberry.type(description="One step of the district's dispute ladder (R-DSP-02).")
class DisputeStep:
    number: int = strawberry.field(
        description="the step's place on the district's ladder, 1 first (R-DSP-02)"
    )
    name: str = strawberry.field(
        description="the step's key from the district policy, e.g. negotiation, "
        "coordination_body, government_decision"
    )
    name_zh: str = strawberry.field(
        description="the step's Chinese name from the district policy, e.g. 双方协商解决"
    )
    decided_by_id: strawberry.ID = strawberry.field(
        description="the agency id of the body that decides this step (see `decidedBy`)"
    )
    started_at: datetime = strawberry.field(
        description="when the dispute reached this step (+08:00)"
    )
    due: datetime = strawberry.field(
        description="when the step's time limit runs out (+08:00; working days of the "
        "district's calendar, R-DSP-02); past it a party may escalate"
    )
    explanation: str = strawberry.field(description="how the due time was computed (Chinese)")
    ended_at: datetime | None = strawberry.field(
        description="when the step ended (+08:00); null while the dispute is at this step"
    )
    ended_by: str | None = strawberry.field(
        description="escalated_deadline_missed | escalated_by_party | opinion_given | ruled"
    )
    overdue: bool = strawberry.field(
        description="the step is still running and its due time has passed"
    )
    advisory: bool = strawberry.field(
        description="the step's body gives an opinion for the next step; it cannot rule"
    )
    opinion: str = strawberry.field(description="the advisory step's opinion (处理意见), if given")
    provisional: bool = strawberry.field(
        description="the step's clock was computed across a year whose holidays are not yet "
        "officially announced"
    )

    decided_by = agency_field("decided_by_id", "the body that decides this step")

    @classmethod
    def from_record(cls, s: StepRecord, explanation: str, now: datetime) -> DisputeStep:
        p = s.plan
        return cls(
            number=p.number,
            name=p.name,
            name_zh=p.name_zh,
            decided_by_id=strawberry.ID(p.decided_by_agency_id),
            started_at=p.started_at,
            due=p.due,
            explanation=explanation,
            ended_at=s.ended_at,
            ended_by=s.ended_by,
            overdue=s.ended_at is None and now > p.due,
            advisory=p.advisory,
            opinion=s.opinion,
            provisional=bool(DeadlineV1.calendar_fields(p.explanation).get("provisional")),
        )


@strawberry.type(description="The binding outcome of a dispute (R-DSP-03).")
class DisputeOutcome:
    kind: DisputeOutcomeKind = strawberry.field(
        description="agreement (协议), minutes (会议纪要) or decision (决定)"
    )
    basis: str = strawberry.field(
        description="the agreement, minutes or decision the outcome rests on (its 文号 or title)"
    )
    signatories: list[strawberry.ID] = strawberry.field(
        description="agency ids of those who agreed to it: the parties whose leaders confirmed "
        "the agreement, or the agencies that agreed the minutes; empty for a decision"
    )
    responsible_agency_id: strawberry.ID = strawberry.field(
        description="the agency id made responsible for the case or duty (see `responsibleAgency`)"
    )
    ruled_at: datetime = strawberry.field(description="when the outcome bound (+08:00)")
    rule_id: str | None = strawberry.field(
        description="the catalogue routing rule it became (None: a one-case transfer)"
    )

    responsible_agency = agency_field(
        "responsible_agency_id",
        "the agency made responsible; null when it is unknown to the directory",
    )


@strawberry.type(description="A party's leader confirmed the proposed agreement.")
class AgreementConfirmation:
    agency_id: strawberry.ID = strawberry.field(description="the party that confirmed")
    person_id: str = strawberry.field(description="its leader who confirmed")
    at: datetime = strawberry.field(description="when the leader confirmed (+08:00)")


@strawberry.type(
    description="An agreement (协议) a party proposed; it binds when each party's leader has "
    "confirmed this revision (R-DSP-03)."
)
class ProposedAgreement:
    revision: int = strawberry.field(
        description="1, 2, …: a new proposal clears the confirmations of the one before"
    )
    basis: str = strawberry.field(description="the agreement (文号 or title)")
    responsible_agency_id: strawberry.ID = strawberry.field(
        description="the party the agreement makes responsible"
    )
    proposed_by_agency_id: strawberry.ID = strawberry.field(description="the proposing party")
    proposed_at: datetime = strawberry.field(description="when it was proposed")
    confirmations: list[AgreementConfirmation] = strawberry.field(
        description="the parties' leaders who confirmed this revision"
    )
    awaiting_confirmation_of: list[strawberry.ID] = strawberry.field(
        description="the parties whose leader has not confirmed yet"
    )


@strawberry.type(description="One recorded transition of a dispute.")
class DisputeTransition:
    action: str = strawberry.field(
        description="what happened: open | escalate (a step ended, by a party, a missed "
        "deadline or an advisory opinion) | propose_agreement | confirm_agreement | rule"
    )
    actor_id: str = strawberry.field(
        description="the person id of who did it (`system` when a timer or an event acted)"
    )
    agency_id: strawberry.ID | None = strawberry.field(
        description="the agency the person acted for; null when the system acted"
    )
    at: datetime = strawberry.field(description="when it happened (+08:00)")
    before: DisputeStatus | None = strawberry.field(
        description="the status before; null for the opening"
    )
    after: DisputeStatus = strawberry.field(description="the status after")
    note: str = strawberry.field(
        description="what was written with it (Chinese): the reasons, the steps passed, the "
        "basis or the agreement's revision; may be empty"
    )


@strawberry.federation.type(keys=["id"], description="A jurisdiction dispute (职责争议).")
class Dispute:
    id: strawberry.ID = strawberry.field(
        description="the dispute's id (争议), unique in the district; a declined referral "
        "links to its dispute as `Referral.dispute`"
    )
    kind: DisputeKind = strawberry.field(
        description="a jurisdiction dispute or a township's case-transfer request"
    )
    status: DisputeStatus = strawberry.field(description="open or ruled")
    matter_code: str = strawberry.field(
        description="the disputed matter's code in the enforcement catalogue (事项清单, R-CAT-01)"
    )
    matter_name: str = strawberry.field(
        description="the matter's name as given when the dispute was opened; may be empty"
    )
    township_id: strawberry.ID = strawberry.field(
        description="agency id of the township (乡镇) where the case arose (see `township`)"
    )
    party_ids: list[strawberry.ID] = strawberry.field(
        description="agency ids of the parties to the dispute (see `parties`)"
    )
    interim_handler_id: strawberry.ID | None = strawberry.field(
        description="acts while the dispute is open (先予协同处置, R-DSP-01)"
    )
    reasons: str = strawberry.field(description="why it was opened, as its opener wrote it")
    referral_id: strawberry.ID | None = strawberry.field(
        description="the referral (移送) whose decline or transfer request it settles; null "
        "when it arose outside a referral"
    )
    transfer_reason: CaseTransferReason | None = strawberry.field(
        description="TRANSFER_TO_DEPARTMENT only: why the township asks (R-DSP-04); null "
        "for a jurisdiction dispute"
    )
    opened_at: datetime = strawberry.field(description="when it was opened (+08:00)")
    current_step: DisputeStep = strawberry.field(
        description="the ladder step it is at (the last one reached, once ruled)"
    )
    steps: list[DisputeStep] = strawberry.field(
        description="every ladder step it reached, first to current (R-DSP-02)"
    )
    outcome: DisputeOutcome | None = strawberry.field(
        description="the binding outcome (R-DSP-03); null while open"
    )
    history: list[DisputeTransition] = strawberry.field(
        description="every recorded transition, oldest first"
    )
    agreement: ProposedAgreement | None = strawberry.field(
        description="the agreement proposed and its confirmations (null: none proposed)"
    )

    @strawberry.field(
        description="the parties, resolved; a party unknown to the directory is left out"
    )
    async def parties(self, info: Info) -> list[Agency]:
        found = [await load_agency(info, str(p)) for p in self.party_ids]
        return [a for a in found if a is not None]

    interim_handler = agency_field(
        "interim_handler_id",
        "the agency acting while the dispute is open (先予协同处置, R-DSP-01); "
        "null when none was named or it is unknown",
    )

    township = agency_field(
        "township_id", "the township where the case arose; null when unknown to the directory"
    )

    @classmethod
    def from_model(cls, d: DisputeModel, info: Info) -> Dispute:
        cal = info.context.calendar
        # The deployment's clock, as the handlers and notify's deadline watch use it.
        now = info.context.dispute_handlers.clock()
        steps = [
            DisputeStep.from_record(s, cal.explain_dict(s.plan.explanation), now) for s in d.steps
        ]
        o = d.outcome
        return cls(
            id=strawberry.ID(d.id),
            kind=d.kind,
            status=d.status,
            matter_code=d.matter_code,
            matter_name=d.matter_name,
            township_id=strawberry.ID(d.township_id),
            party_ids=[strawberry.ID(p) for p in d.parties],
            interim_handler_id=strawberry.ID(d.interim_handler_id)
            if d.interim_handler_id
            else None,
            reasons=d.reasons,
            referral_id=strawberry.ID(d.referral_id) if d.referral_id else None,
            transfer_reason=d.transfer_reason,
            opened_at=d.opened_at,
            current_step=steps[-1],
            steps=steps,
            outcome=mirrored(DisputeOutcome, o) if o else None,
            history=[mirrored(DisputeTransition, t) for t in d.history],
            agreement=(
                ProposedAgreement(
                    revision=d.agreement.revision,
                    basis=d.agreement.basis,
                    responsible_agency_id=strawberry.ID(d.agreement.responsible_agency_id),
                    proposed_by_agency_id=strawberry.ID(d.agreement.proposed_by_agency_id),
                    proposed_at=d.agreement.proposed_at,
                    confirmations=[
                        mirrored(AgreementConfirmation, c) for c in d.agreement.confirmations
                    ],
                    awaiting_confirmation_of=[
                        strawberry.ID(p) for p in d.parties if not d.agreement.confirmed_by(p)
                    ],
                )
                if d.agreement
                else None
            ),
        )

    viewer_can, available_actions = actions_of(dispute_actions, "dispute_handlers", "dispute")

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Dispute | None:
        return await _visible_dispute(info, str(id))


async def _visible_dispute(info: Info, dispute_id: str) -> Dispute | None:
    """The dispute, or None when it is absent or not the caller's to see: both read the same
    (the matrix, coordination.dispute), by id and through a federation reference alike."""
    model = await info.context.queries.dispute(dispute_id, info.context.caller())
    return Dispute.from_model(model, info) if model else None


@strawberry.input(description="What a list of disputes shows; all optional, combined.")
class DisputeFilter:
    statuses: list[DisputeStatus] | None = strawberry.field(
        default=None, description="only those in any of these statuses"
    )
    since: datetime | None = strawberry.field(
        default=None, description="only those opened at or after this instant"
    )
    until: datetime | None = strawberry.field(
        default=None, description="only those opened before this instant (exclusive)"
    )


@strawberry.type
class DisputeQuery:
    @strawberry.field(
        description="One dispute by id (null when absent or not yours to see: the parties, the "
        "interim handler, the township, the deciding body and the supervising roles see it)."
    )
    async def dispute(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="the dispute's id")],
    ) -> Dispute | None:
        return await _visible_dispute(info, str(id))

    @strawberry.field(
        description="Disputes (争议), latest opened first, by status, party and opening time; "
        "only those your agency takes part in unless your role supervises."
    )
    async def disputes(
        self,
        info: Info,
        status: Annotated[
            DisputeStatus | None,
            strawberry.argument(description="only disputes in this status (see `filter`)"),
        ] = None,
        agency_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="only those of this party")
        ] = None,
        first: FirstArg = 50,
        after: AfterArg = None,
        filter: Annotated[
            DisputeFilter | None,
            strawberry.argument(
                description="statuses and opening time, combined with `status` and `agencyId`"
            ),
        ] = None,
        order_by: OrderArg = ListOrder.NEWEST_FIRST,
    ) -> Connection[Dispute]:
        first = page_size(first)
        caller = info.context.caller()
        q = list_query(agency_id, filter, order_by, after)
        if status is not None:
            q = replace(q, statuses=(*q.statuses, status.value))
        queries = info.context.queries
        rows = await queries.disputes(caller, q, limit=first + 1)
        return time_connection(
            rows,
            first,
            at=lambda d: d.opened_at,
            node=lambda d: Dispute.from_model(d, info),
            after=after,
            count=lambda: queries.disputes_count(caller, q),
        )
