"""The actions on jurisdiction disputes in the graph (R-DSP-01…04): open, escalate, give an
opinion, rule, propose and confirm an agreement, and a township's case-transfer request. Each
answers ``Dispute | UserError``; the dispute itself and its reads are in disputes.py."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated

import strawberry

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
from coordination.entrypoints.graphql.disputes import (
    CaseTransferReason,
    Dispute,
    DisputeOutcomeKind,
)
from coordination.entrypoints.graphql.types import Info, as_result
from kernel.graphql import INPUT, UserError

__all__ = ["DisputeMutation"]


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


@strawberry.input(description="A jurisdiction dispute to open (R-DSP-01).")
class OpenDisputeInput:
    matter_code: str = strawberry.field(
        description="the disputed matter's code in the enforcement catalogue (R-CAT-01)"
    )
    township_id: strawberry.ID = strawberry.field(description="where the case arose")
    party_ids: list[strawberry.ID] = strawberry.field(
        description="agency ids of the parties, two or more; the caller's agency among them "
        "unless its role supervises"
    )
    reasons: str = strawberry.field(description="why the parties disagree; required")
    interim_handler_id: strawberry.ID | None = strawberry.field(
        default=None, description="who acts meanwhile (先予协同处置); one of the parties"
    )
    referral_id: strawberry.ID | None = strawberry.field(
        default=None, description="the referral (移送) the dispute arose from, if any"
    )
    matter_name: str = strawberry.field(
        default="", description="the matter's name, shown with the code; optional"
    )


@strawberry.input(description="The binding outcome of a dispute (R-DSP-03): minutes or a decision.")
class RuleDisputeInput:
    dispute_id: strawberry.ID = strawberry.field(description="the dispute to rule")
    outcome_kind: DisputeOutcomeKind = strawberry.field(
        description="MINUTES (with `meetingId`) or DECISION; AGREEMENT is refused here"
    )
    basis: str = strawberry.field(
        default="", description="the decision (文号); minutes are cited by their own number"
    )
    responsible_agency_id: strawberry.ID = strawberry.field(
        description="the agency made responsible for the case or duty"
    )
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


@strawberry.input(
    description="A township's request that a case go to the original department (R-DSP-04)."
)
class RequestCaseTransferInput:
    matter_code: str = strawberry.field(
        description="the case's matter code in the enforcement catalogue (R-CAT-01)"
    )
    township_id: strawberry.ID = strawberry.field(
        description="agency id of the township that holds the case and asks"
    )
    reason: CaseTransferReason = strawberry.field(description="major, complex or recusal")
    explanation: str = strawberry.field(description="why, in the township's words; required")
    department_id: strawberry.ID | None = strawberry.field(
        default=None, description="default: the matter's original department in the catalogue"
    )
    referral_id: strawberry.ID | None = strawberry.field(
        default=None, description="the referral (移送) that brought the case, if any"
    )
    decision_basis: str = strawberry.field(
        default="", description="the government deciding by itself cites its decision"
    )


@strawberry.type
class DisputeMutation:
    @strawberry.mutation(description="R-DSP-01: open a jurisdiction dispute.")
    async def open_dispute(
        self,
        info: Info,
        input: Annotated[OpenDisputeInput, INPUT],
    ) -> DisputeResult:
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
    async def escalate_dispute(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="the open dispute")],
    ) -> DisputeResult:
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
        self,
        info: Info,
        id: Annotated[
            strawberry.ID, strawberry.argument(description="the dispute at an advisory step")
        ],
        opinion: Annotated[
            str, strawberry.argument(description="the opinion (处理意见) for the next step")
        ],
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
    async def rule_dispute(
        self,
        info: Info,
        input: Annotated[RuleDisputeInput, INPUT],
    ) -> DisputeResult:
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
        dispute_id: Annotated[strawberry.ID, strawberry.argument(description="the dispute's id")],
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
        self,
        info: Info,
        input: Annotated[RequestCaseTransferInput, INPUT],
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
