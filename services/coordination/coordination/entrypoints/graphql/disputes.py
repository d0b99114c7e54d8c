"""Jurisdiction disputes in the graph (R-DSP-01…04): Dispute is an entity other subgraphs
may extend (referral links its declined referrals to it)."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import replace
from datetime import datetime
from typing import Annotated

import strawberry

from coordination.application.actions import dispute_actions
from coordination.application.disputes import (
    ConfirmDisputeAgreement,
    EscalateDispute,
    GiveDisputeOpinion,
    OpenDispute,
    ProposeDisputeAgreement,
    RequestCaseTransfer,
    RuleDispute,
)
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
    as_result,
    list_query,
    load_agency,
    time_connection,
)
from kernel.contracts.deadlines import DeadlineV1
from kernel.graphql import Connection, ListOrder, UserError, action_fields, page_size

strawberry.enum(DomainDisputeStatus, name="DisputeStatus", description="open or ruled")
strawberry.enum(
    DomainDisputeKind,
    name="DisputeKind",
    description="jurisdiction (R-DSP-01) or a township's request to pass a case up (R-DSP-04)",
)
strawberry.enum(
    DomainOutcomeKind,
    name="DisputeOutcomeKind",
    description="signed agreement (协议), meeting minutes (会议纪要) or decision (决定), R-DSP-03",
)
strawberry.enum(
    DomainTransferReason,
    name="CaseTransferReason",
    description="major (重大), complex (复杂) or recusal (回避), R-DSP-04",
)
DisputeStatus = DomainDisputeStatus
DisputeKind = DomainDisputeKind
DisputeOutcomeKind = DomainOutcomeKind
CaseTransferReason = DomainTransferReason


@strawberry.type(description="One step of the district's dispute ladder (R-DSP-02).")
class DisputeStep:
    number: int
    name: str
    name_zh: str
    decided_by_id: strawberry.ID
    started_at: datetime
    due: datetime
    explanation: str = strawberry.field(description="how the due time was computed (Chinese)")
    ended_at: datetime | None
    ended_by: str | None = strawberry.field(
        description="escalated_deadline_missed | escalated_by_party | opinion_given | ruled"
    )
    overdue: bool
    advisory: bool = strawberry.field(
        description="the step's body gives an opinion for the next step; it cannot rule"
    )
    opinion: str = strawberry.field(description="the advisory step's opinion (处理意见), if given")
    provisional: bool = strawberry.field(
        description="the step's clock was computed across a year whose holidays are not yet "
        "officially announced"
    )

    @strawberry.field(description="the body that decides this step")
    async def decided_by(self, info: Info) -> Agency | None:
        return await load_agency(info, str(self.decided_by_id))

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
    kind: DisputeOutcomeKind
    basis: str
    signatories: list[strawberry.ID]
    responsible_agency_id: strawberry.ID
    ruled_at: datetime
    rule_id: str | None = strawberry.field(
        description="the catalogue routing rule it became (None: a one-case transfer)"
    )

    @strawberry.field
    async def responsible_agency(self, info: Info) -> Agency | None:
        return await load_agency(info, str(self.responsible_agency_id))


@strawberry.type(description="A party's leader confirmed the proposed agreement.")
class AgreementConfirmation:
    agency_id: strawberry.ID = strawberry.field(description="the party that confirmed")
    person_id: str = strawberry.field(description="its leader who confirmed")
    at: datetime = strawberry.field(description="when")


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
    action: str
    actor_id: str
    agency_id: strawberry.ID | None
    at: datetime
    before: DisputeStatus | None
    after: DisputeStatus
    note: str


@strawberry.federation.type(keys=["id"], description="A jurisdiction dispute (职责争议).")
class Dispute:
    id: strawberry.ID
    kind: DisputeKind
    status: DisputeStatus
    matter_code: str
    matter_name: str
    township_id: strawberry.ID
    party_ids: list[strawberry.ID]
    interim_handler_id: strawberry.ID | None = strawberry.field(
        description="acts while the dispute is open (先予协同处置, R-DSP-01)"
    )
    reasons: str
    referral_id: strawberry.ID | None
    transfer_reason: CaseTransferReason | None
    opened_at: datetime
    current_step: DisputeStep
    steps: list[DisputeStep]
    outcome: DisputeOutcome | None
    history: list[DisputeTransition]
    agreement: ProposedAgreement | None = strawberry.field(
        description="the agreement proposed and its confirmations (null: none proposed)"
    )

    @strawberry.field
    async def parties(self, info: Info) -> list[Agency]:
        found = [await load_agency(info, str(p)) for p in self.party_ids]
        return [a for a in found if a is not None]

    @strawberry.field
    async def interim_handler(self, info: Info) -> Agency | None:
        return await load_agency(
            info, str(self.interim_handler_id) if self.interim_handler_id else None
        )

    @strawberry.field
    async def township(self, info: Info) -> Agency | None:
        return await load_agency(info, str(self.township_id))

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
            outcome=(
                DisputeOutcome(
                    kind=o.kind,
                    basis=o.basis,
                    signatories=[strawberry.ID(s) for s in o.signatories],
                    responsible_agency_id=strawberry.ID(o.responsible_agency_id),
                    ruled_at=o.ruled_at,
                    rule_id=o.rule_id,
                )
                if o
                else None
            ),
            history=[
                DisputeTransition(
                    action=t.action,
                    actor_id=t.actor_id,
                    agency_id=strawberry.ID(t.agency_id) if t.agency_id else None,
                    at=t.at,
                    before=t.before,
                    after=t.after,
                    note=t.note,
                )
                for t in d.history
            ],
            agreement=(
                ProposedAgreement(
                    revision=d.agreement.revision,
                    basis=d.agreement.basis,
                    responsible_agency_id=strawberry.ID(d.agreement.responsible_agency_id),
                    proposed_by_agency_id=strawberry.ID(d.agreement.proposed_by_agency_id),
                    proposed_at=d.agreement.proposed_at,
                    confirmations=[
                        AgreementConfirmation(
                            agency_id=strawberry.ID(c.agency_id), person_id=c.person_id, at=c.at
                        )
                        for c in d.agreement.confirmations
                    ],
                    awaiting_confirmation_of=[
                        strawberry.ID(p) for p in d.parties if not d.agreement.confirmed_by(p)
                    ],
                )
                if d.agreement
                else None
            ),
        )

    viewer_can, available_actions = action_fields(
        lambda info, i: dispute_actions(info.context.dispute_handlers, i, info.context.caller()),
        "dispute",
    )

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Dispute | None:
        return await _visible_dispute(info, str(id))


async def _visible_dispute(info: Info, dispute_id: str) -> Dispute | None:
    """The dispute, or None when it is absent or not the caller's to see: both read the same
    (the matrix, coordination.dispute), by id and through a federation reference alike."""
    model = await info.context.queries.dispute(dispute_id, info.context.caller())
    return Dispute.from_model(model, info) if model else None


DisputeResult = Annotated[
    Dispute | UserError,
    strawberry.union(
        "DisputeResult",
        description="What the mutation answers: the Dispute as it is now, or the "
        "UserError that refused it (nothing was changed).",
    ),
]


async def _run(info: Info, action: Awaitable[DisputeModel]) -> Dispute | UserError:
    return await as_result(action, lambda d: Dispute.from_model(d, info))


@strawberry.type
class DisputeQuery:
    @strawberry.field(
        description="One dispute by id (null when absent or not yours to see: the parties, the "
        "interim handler, the township, the deciding body and the supervising roles see it)."
    )
    async def dispute(self, info: Info, id: strawberry.ID) -> Dispute | None:
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
            DisputeFilter | None, strawberry.argument(description="statuses, opening time")
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


@strawberry.input
class OpenDisputeInput:
    matter_code: str
    township_id: strawberry.ID = strawberry.field(description="where the case arose")
    party_ids: list[strawberry.ID]
    reasons: str
    interim_handler_id: strawberry.ID | None = strawberry.field(
        default=None, description="who acts meanwhile (先予协同处置); one of the parties"
    )
    referral_id: strawberry.ID | None = None
    matter_name: str = ""


@strawberry.input
class RuleDisputeInput:
    dispute_id: strawberry.ID
    outcome_kind: DisputeOutcomeKind
    basis: str = strawberry.field(
        default="", description="the decision (文号); minutes are cited by their own number"
    )
    responsible_agency_id: strawberry.ID
    meeting_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="MINUTES: the consultation meeting whose minutes were agreed and issued "
        "(R-MTG-01); every party took part and agreed",
    )


@strawberry.input(description="An agreement a party proposes to settle a dispute.")
class ProposeDisputeAgreementInput:
    dispute_id: strawberry.ID = strawberry.field(description="the dispute it settles")
    basis: str = strawberry.field(description="the agreement (文号 or title)")
    responsible_agency_id: strawberry.ID = strawberry.field(description="one of the parties")


@strawberry.input
class RequestCaseTransferInput:
    matter_code: str
    township_id: strawberry.ID
    reason: CaseTransferReason
    explanation: str
    department_id: strawberry.ID | None = strawberry.field(
        default=None, description="default: the matter's original department in the catalogue"
    )
    referral_id: strawberry.ID | None = None
    decision_basis: str = strawberry.field(
        default="", description="the government deciding by itself cites its decision"
    )


@strawberry.type
class DisputeMutation:
    @strawberry.mutation(description="R-DSP-01: open a jurisdiction dispute.")
    async def open_dispute(self, info: Info, input: OpenDisputeInput) -> DisputeResult:
        caller = info.context.caller()
        cmd = OpenDispute(
            matter_code=input.matter_code,
            township_id=str(input.township_id),
            party_ids=tuple(str(x) for x in input.party_ids),
            reasons=input.reasons,
            interim_handler_id=str(input.interim_handler_id) if input.interim_handler_id else None,
            referral_id=str(input.referral_id) if input.referral_id else None,
            matter_name=input.matter_name,
        )
        return await _run(
            info,
            info.context.dispute_handlers.open(cmd, caller),
        )

    @strawberry.mutation(description="R-DSP-02: a party takes the dispute one step up.")
    async def escalate_dispute(self, info: Info, id: strawberry.ID) -> DisputeResult:
        caller = info.context.caller()
        return await _run(
            info,
            info.context.dispute_handlers.escalate(EscalateDispute(str(id)), caller),
        )

    @strawberry.mutation(
        description="R-DSP-02: the body of an advisory step (FY: 市委编办和市司法局) gives its "
        "opinion (处理意见); the dispute goes to the next step, which decides with it. "
        "Refused (INVALID_STATE) at a step that decides."
    )
    async def give_dispute_opinion(
        self, info: Info, id: strawberry.ID, opinion: str
    ) -> DisputeResult:
        caller = info.context.caller()
        return await _run(
            info,
            info.context.dispute_handlers.give_opinion(
                GiveDisputeOpinion(str(id), opinion), caller
            ),
        )

    @strawberry.mutation(
        description="R-DSP-03: record the outcome (minutes of an agreed meeting, or the "
        "deciding body's decision); it binds, becomes a catalogue routing rule and moves the "
        "waiting referral. An AGREEMENT is refused here: propose it and have each party's "
        "leader confirm it."
    )
    async def rule_dispute(self, info: Info, input: RuleDisputeInput) -> DisputeResult:
        caller = info.context.caller()
        cmd = RuleDispute(
            dispute_id=str(input.dispute_id),
            outcome_kind=input.outcome_kind.value,
            basis=input.basis,
            responsible_agency_id=str(input.responsible_agency_id),
            meeting_id=str(input.meeting_id) if input.meeting_id else None,
        )
        return await _run(
            info,
            info.context.dispute_handlers.rule(cmd, caller),
        )

    @strawberry.mutation(
        description="R-DSP-03: a party proposes the agreement (协议) that settles the dispute; "
        "a new proposal replaces the previous one and its confirmations."
    )
    async def propose_dispute_agreement(
        self,
        info: Info,
        input: Annotated[
            ProposeDisputeAgreementInput, strawberry.argument(description="the agreement")
        ],
    ) -> DisputeResult:
        cmd = ProposeDisputeAgreement(
            dispute_id=str(input.dispute_id),
            basis=input.basis,
            responsible_agency_id=str(input.responsible_agency_id),
        )
        return await _run(
            info, info.context.dispute_handlers.propose_agreement(cmd, info.context.caller())
        )

    @strawberry.mutation(
        description="R-DSP-03: a party's leader (负责人) confirms the proposed agreement's "
        "revision; when every party's leader has confirmed it, it binds."
    )
    async def confirm_dispute_agreement(
        self,
        info: Info,
        dispute_id: Annotated[strawberry.ID, strawberry.argument(description="the dispute")],
        revision: Annotated[
            int, strawberry.argument(description="the revision the leader read and confirms")
        ],
    ) -> DisputeResult:
        cmd = ConfirmDisputeAgreement(str(dispute_id), revision)
        return await _run(
            info, info.context.dispute_handlers.confirm_agreement(cmd, info.context.caller())
        )

    @strawberry.mutation(
        description="R-DSP-04: a township asks that a major, complex or recusal case go to "
        "the original department; the government may decide so by itself."
    )
    async def request_case_transfer(
        self, info: Info, input: RequestCaseTransferInput
    ) -> DisputeResult:
        caller = info.context.caller()
        cmd = RequestCaseTransfer(
            matter_code=input.matter_code,
            township_id=str(input.township_id),
            reason=input.reason.value,
            explanation=input.explanation,
            department_id=str(input.department_id) if input.department_id else None,
            referral_id=str(input.referral_id) if input.referral_id else None,
            decision_basis=input.decision_basis,
        )
        return await _run(
            info,
            info.context.dispute_handlers.request_case_transfer(cmd, caller),
        )
