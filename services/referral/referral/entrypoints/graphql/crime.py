"""Mutations of the crime route (R-REF-10, R-REF-14; State Council Decree 310). Refusals
come back as a UserError with a stable code (FORBIDDEN, INVALID_STATE, VALIDATION_FAILED,
NOT_FOUND) and the field at fault."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from referral.application import commands as c
from referral.entrypoints.graphql.context import Info
from referral.entrypoints.graphql.results import referral_result
from referral.entrypoints.graphql.types import ReferralResult


async def transfer_referral_to_police(
    info: Info, id: strawberry.ID, police_id: strawberry.ID, reason: str
) -> ReferralResult:
    cmd = c.TransferToPolice(str(id), str(police_id), reason)
    h = info.context.handlers.crime
    return await referral_result(info, h.transfer_to_police(cmd, info.context.caller()))


async def record_police_decision(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="the referral")],
    filed: Annotated[bool, strawberry.argument(description="true: 立案; false: 不立案")],
    note: str,
    reasons: Annotated[
        str, strawberry.argument(description="不立案: the reasons in writing (required)")
    ] = "",
) -> ReferralResult:
    cmd = c.RecordPoliceDecision(str(id), filed, note, reasons)
    h = info.context.handlers.crime
    return await referral_result(info, h.record_police_decision(cmd, info.context.caller()))


async def report_suspected_crime(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="the referral")],
    police_id: Annotated[
        strawberry.ID, strawberry.argument(description="the public security organ (公安机关)")
    ],
    reason: Annotated[
        str,
        strawberry.argument(
            description="the written report: why the case is suspected to be a crime"
        ),
    ],
) -> ReferralResult:
    cmd = c.ReportSuspectedCrime(str(id), str(police_id), reason)
    h = info.context.handlers.crime
    return await referral_result(info, h.report_suspected_crime(cmd, info.context.caller()))


async def decide_crime_transfer(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="the referral")],
    approve: Annotated[
        bool, strawberry.argument(description="true: transfer; false: refuse (with a reason)")
    ],
    reason: Annotated[str, strawberry.argument(description="why (required when refusing)")] = "",
) -> ReferralResult:
    cmd = c.DecideCrimeTransfer(str(id), approve, reason)
    h = info.context.handlers.crime
    return await referral_result(info, h.decide_transfer(cmd, info.context.caller()))


async def request_crime_reconsideration(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="the referral")],
    reason: Annotated[
        str, strawberry.argument(description="why the 不立案 should be reconsidered")
    ],
) -> ReferralResult:
    cmd = c.RequestCrimeReconsideration(str(id), reason)
    h = info.context.handlers.crime
    return await referral_result(info, h.request_reconsideration(cmd, info.context.caller()))


async def answer_crime_reconsideration(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="the referral")],
    filed: Annotated[bool, strawberry.argument(description="true: 立案; false: 不立案")],
    note: Annotated[str, strawberry.argument(description="the police's written answer")],
    reasons: Annotated[str, strawberry.argument(description="不立案 upheld: the reasons")] = "",
) -> ReferralResult:
    cmd = c.AnswerCrimeReconsideration(str(id), filed, note, reasons)
    h = info.context.handlers.crime
    return await referral_result(info, h.answer_reconsideration(cmd, info.context.caller()))


async def request_procuratorate_supervision(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="the referral")],
    procuratorate_id: Annotated[
        strawberry.ID, strawberry.argument(description="the procuratorate (检察院)")
    ],
    reason: Annotated[
        str, strawberry.argument(description="why the procuratorate should supervise")
    ],
) -> ReferralResult:
    cmd = c.RequestProcuratorateSupervision(str(id), str(procuratorate_id), reason)
    h = info.context.handlers.crime
    return await referral_result(info, h.request_supervision(cmd, info.context.caller()))


async def reopen_case_after_not_filed(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="the referral")],
    note: Annotated[str, strawberry.argument(description="how the administrative case goes on")],
) -> ReferralResult:
    cmd = c.AcceptNotFiled(str(id), note)
    h = info.context.handlers.crime
    return await referral_result(info, h.accept_not_filed(cmd, info.context.caller()))


async def record_crime_materials_handover(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="the referral")],
    note: Annotated[str, strawberry.argument(description="what was handed over")],
) -> ReferralResult:
    cmd = c.RecordMaterialsHandover(str(id), note)
    h = info.context.handlers.crime
    return await referral_result(info, h.record_handover(cmd, info.context.caller()))


async def record_crime_fine_paid(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="the referral")],
    decision_number: Annotated[str, strawberry.argument(description="the penalty decision's 文号")],
    amount_yuan: Annotated[int, strawberry.argument(description="the fine paid, in yuan")],
    paid_at: Annotated[datetime, strawberry.argument(description="when it was paid")],
    receipt: Annotated[str, strawberry.argument(description="the payment receipt's number")] = "",
) -> ReferralResult:
    cmd = c.RecordFinePaid(str(id), decision_number, amount_yuan, paid_at, receipt)
    h = info.context.handlers.crime
    return await referral_result(info, h.record_fine_paid(cmd, info.context.caller()))
