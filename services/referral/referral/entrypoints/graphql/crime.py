"""Mutations of the crime route (R-REF-10, R-REF-14; State Council Decree 310). Refusals
come back as a UserError with a stable code (FORBIDDEN, INVALID_STATE, VALIDATION_FAILED,
NOT_FOUND) and the field at fault."""

from __future__ import annotations

from datetime import datetime

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
    id: strawberry.ID,
    filed: bool,
    note: str,
    reasons: str = "",
) -> ReferralResult:
    cmd = c.RecordPoliceDecision(str(id), filed, note, reasons)
    h = info.context.handlers.crime
    return await referral_result(info, h.record_police_decision(cmd, info.context.caller()))


async def report_suspected_crime(
    info: Info, id: strawberry.ID, police_id: strawberry.ID, reason: str
) -> ReferralResult:
    cmd = c.ReportSuspectedCrime(str(id), str(police_id), reason)
    h = info.context.handlers.crime
    return await referral_result(info, h.report_suspected_crime(cmd, info.context.caller()))


async def decide_crime_transfer(
    info: Info, id: strawberry.ID, approve: bool, reason: str = ""
) -> ReferralResult:
    cmd = c.DecideCrimeTransfer(str(id), approve, reason)
    h = info.context.handlers.crime
    return await referral_result(info, h.decide_transfer(cmd, info.context.caller()))


async def request_crime_reconsideration(
    info: Info, id: strawberry.ID, reason: str
) -> ReferralResult:
    cmd = c.RequestCrimeReconsideration(str(id), reason)
    h = info.context.handlers.crime
    return await referral_result(info, h.request_reconsideration(cmd, info.context.caller()))


async def answer_crime_reconsideration(
    info: Info, id: strawberry.ID, filed: bool, note: str, reasons: str = ""
) -> ReferralResult:
    cmd = c.AnswerCrimeReconsideration(str(id), filed, note, reasons)
    h = info.context.handlers.crime
    return await referral_result(info, h.answer_reconsideration(cmd, info.context.caller()))


async def request_procuratorate_supervision(
    info: Info, id: strawberry.ID, procuratorate_id: strawberry.ID, reason: str
) -> ReferralResult:
    cmd = c.RequestProcuratorateSupervision(str(id), str(procuratorate_id), reason)
    h = info.context.handlers.crime
    return await referral_result(info, h.request_supervision(cmd, info.context.caller()))


async def reopen_case_after_not_filed(info: Info, id: strawberry.ID, note: str) -> ReferralResult:
    cmd = c.AcceptNotFiled(str(id), note)
    h = info.context.handlers.crime
    return await referral_result(info, h.accept_not_filed(cmd, info.context.caller()))


async def record_crime_materials_handover(
    info: Info, id: strawberry.ID, note: str
) -> ReferralResult:
    cmd = c.RecordMaterialsHandover(str(id), note)
    h = info.context.handlers.crime
    return await referral_result(info, h.record_handover(cmd, info.context.caller()))


async def record_crime_fine_paid(
    info: Info,
    id: strawberry.ID,
    decision_number: str,
    amount_yuan: int,
    paid_at: datetime,
    receipt: str = "",
) -> ReferralResult:
    cmd = c.RecordFinePaid(str(id), decision_number, amount_yuan, paid_at, receipt)
    h = info.context.handlers.crime
    return await referral_result(info, h.record_fine_paid(cmd, info.context.caller()))
