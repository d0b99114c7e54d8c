"""Mutations of a referral's lifecycle: draft, approval, sending, acceptance or decline,
results, supervision, cases passed up and consent to electronic transfer."""

from __future__ import annotations

from typing import Annotated

import strawberry

from kernel.graphql import UserError, guard
from referral.application import commands as c
from referral.entrypoints.graphql.agency import Agency
from referral.entrypoints.graphql.context import Info
from referral.entrypoints.graphql.inputs import DraftReferralInput, draft_command
from referral.entrypoints.graphql.results import ReferralId, referral_result
from referral.entrypoints.graphql.types import (
    ElectronicConsent,
    ElectronicConsentResult,
    ReferralResult,
)


async def draft_referral(
    info: Info,
    input: Annotated[DraftReferralInput, strawberry.argument(description="the mutation's input")],
) -> ReferralResult:
    caller = info.context.caller()
    cmd = draft_command(input)
    if isinstance(cmd, UserError):
        return cmd
    return await referral_result(info, info.context.handlers.referrals.draft(cmd, caller))


async def extend_referral_send_deadline(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="the referral's id")],
    working_days: Annotated[
        int, strawberry.argument(description="how many working days (工作日) the deadline moves by")
    ],
    reason: Annotated[
        str, strawberry.argument(description="why, in writing (shown to the other party)")
    ],
    notify_receiver: Annotated[
        bool,
        strawberry.argument(description="tell the receiving agency of the extension (事先告知)"),
    ],
) -> ReferralResult:
    cmd = c.ExtendSendDeadline(str(id), working_days, reason, notify_receiver)
    h = info.context.handlers.referrals
    return await referral_result(info, h.extend_send_deadline(cmd, info.context.caller()))


async def submit_referral(
    info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="the referral's id")]
) -> ReferralResult:
    h = info.context.handlers.referrals
    return await referral_result(info, h.submit(c.SubmitReferral(str(id)), info.context.caller()))


async def approve_referral(
    info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="the referral's id")]
) -> ReferralResult:
    h = info.context.handlers.referrals
    return await referral_result(info, h.approve(c.ApproveReferral(str(id)), info.context.caller()))


async def send_referral(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="the referral's id")],
    electronic: Annotated[
        bool,
        strawberry.argument(
            description="send electronically, where the receiver consented (R-REF-12)"
        ),
    ] = False,
) -> ReferralResult:
    h = info.context.handlers.referrals
    return await referral_result(
        info, h.send(c.SendReferral(str(id), electronic), info.context.caller())
    )


async def complete_referral_draft(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="the referral's id")],
    matter_code: Annotated[
        str, strawberry.argument(description="the matter's catalogue code (事项编码)")
    ],
    party: Annotated[
        str, strawberry.argument(description="the party (当事人); empty keeps the one written")
    ] = "",
    competence_reason: Annotated[
        str,
        strawberry.argument(
            description="why the receiver, where the catalogue names another (R-CAT-02)"
        ),
    ] = "",
) -> ReferralResult:
    h = info.context.handlers.referrals
    return await referral_result(
        info,
        h.complete_draft(
            c.CompleteReferralDraft(str(id), matter_code, party, competence_reason),
            info.context.caller(),
        ),
    )


async def withdraw_referral(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="the referral's id")],
    reason: Annotated[
        str, strawberry.argument(description="why, in writing (shown to the other party)")
    ],
) -> ReferralResult:
    h = info.context.handlers.referrals
    return await referral_result(
        info, h.withdraw(c.WithdrawReferral(str(id), reason), info.context.caller())
    )


async def accept_referral(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="the referral's id")],
    statement: Annotated[
        str, strawberry.argument(description="the written statement of acceptance (书面受理意见)")
    ],
) -> ReferralResult:
    h = info.context.handlers.referrals
    return await referral_result(
        info, h.accept(c.AcceptReferral(str(id), statement), info.context.caller())
    )


async def decline_referral(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="the referral's id")],
    reasons: Annotated[str, strawberry.argument(description="the written reasons (理由)")],
    catalogue_basis: Annotated[
        str,
        strawberry.argument(
            description="the catalogue entry or law that makes it not yours (清单依据)"
        ),
    ],
    interim_handler_id: Annotated[
        strawberry.ID,
        strawberry.argument(
            description="the agency that handles the case meanwhile (临时处置机关)"
        ),
    ],
) -> ReferralResult:
    cmd = c.DeclineReferral(str(id), reasons, catalogue_basis, str(interim_handler_id))
    h = info.context.handlers.referrals
    return await referral_result(info, h.decline(cmd, info.context.caller()))


async def forward_referral(
    info: Info,
    id: ReferralId,
    to_agency_id: Annotated[
        strawberry.ID, strawberry.argument(description="the competent agency (the catalogue's)")
    ],
    reasons: Annotated[str, strawberry.argument(description="why it is not yours (written)")],
) -> ReferralResult:
    cmd = c.ForwardReferral(str(id), str(to_agency_id), reasons)
    h = info.context.handlers.referrals
    return await referral_result(info, h.forward(cmd, info.context.caller()))


async def answer_supervision(
    info: Info,
    id: ReferralId,
    answer: Annotated[str, strawberry.argument(description="the written answer to the 督办")],
) -> ReferralResult:
    cmd = c.AnswerSupervision(str(id), answer)
    h = info.context.handlers.referrals
    return await referral_result(info, h.answer_supervision(cmd, info.context.caller()))


async def record_referral_penalty(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="the referral's id")],
    decision_number: Annotated[
        str,
        strawberry.argument(description="the penalty decision's document number (处罚决定书文号)"),
    ],
    kinds: Annotated[
        list[str] | None, strawberry.argument(description="the kinds of penalty imposed (处罚种类)")
    ] = None,
    fine_yuan: Annotated[
        int | None, strawberry.argument(description="the fine in yuan, if any")
    ] = None,
) -> ReferralResult:
    cmd = c.RecordPenalty(str(id), decision_number, tuple(kinds or ()), fine_yuan)
    h = info.context.handlers.referrals
    return await referral_result(info, h.record_penalty(cmd, info.context.caller()))


async def mark_referral_handled(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="the referral's id")],
    summary: Annotated[str, strawberry.argument(description="how the case was handled (处理情况)")],
) -> ReferralResult:
    h = info.context.handlers.referrals
    return await referral_result(
        info, h.mark_handled(c.MarkHandled(str(id), summary), info.context.caller())
    )


async def report_referral_result(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="the referral's id")],
    result: Annotated[
        str, strawberry.argument(description="the handling result told to the sender (处理结果)")
    ],
) -> ReferralResult:
    h = info.context.handlers.referrals
    return await referral_result(
        info, h.report_result(c.ReportResult(str(id), result), info.context.caller())
    )


async def close_referral(
    info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="the referral's id")]
) -> ReferralResult:
    h = info.context.handlers.referrals
    return await referral_result(info, h.close(c.CloseReferral(str(id)), info.context.caller()))


async def supervise_referral(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="the referral's id")],
    note: Annotated[str, strawberry.argument(description="a written note (说明)")],
) -> ReferralResult:
    h = info.context.handlers.referrals
    return await referral_result(
        info, h.supervise(c.SuperviseReferral(str(id), note), info.context.caller())
    )


async def consent_to_upward_referral(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="the referral's id")],
    note: Annotated[str, strawberry.argument(description="a written note (说明)")] = "",
) -> ReferralResult:
    h = info.context.handlers.referrals
    return await referral_result(
        info, h.consent_to_upward(c.ConsentToUpwardReferral(str(id), note), info.context.caller())
    )


async def record_referral_justice_filing(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="the referral's id")],
    filing_number: Annotated[
        str, strawberry.argument(description="the justice bureau's filing number (备案号)")
    ],
) -> ReferralResult:
    cmd = c.RecordJusticeFiling(str(id), filing_number)
    h = info.context.handlers.referrals
    return await referral_result(info, h.record_justice_filing(cmd, info.context.caller()))


async def set_electronic_transfer_consent(
    info: Info,
    sender_id: Annotated[strawberry.ID, strawberry.argument(description="the sending agency")],
    consented: Annotated[
        bool, strawberry.argument(description="true: electronic transfers from it are accepted")
    ],
) -> ElectronicConsentResult:
    caller = info.context.caller()
    h = info.context.handlers.referrals
    result = await guard(
        h.set_electronic_consent(c.SetElectronicConsent(str(sender_id), consented), caller)
    )
    if isinstance(result, UserError):
        return result
    return ElectronicConsent(
        receiver_id=strawberry.ID(caller.agency_id),
        receiver=Agency(id=strawberry.ID(caller.agency_id)),
        sender_id=sender_id,
        sender=Agency(id=sender_id),
        consented=result,
    )
