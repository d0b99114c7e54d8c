"""Mutations of the crime route (R-REF-10, R-REF-14; State Council Decree 310). Refusals
come back as a UserError with a stable code (FORBIDDEN, INVALID_STATE, VALIDATION_FAILED,
NOT_FOUND) and the field at fault."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from referral.application import commands as c
from referral.entrypoints.graphql.context import Info
from referral.entrypoints.graphql.results import ReferralId, crime_result
from referral.entrypoints.graphql.types import ReferralResult


async def transfer_referral_to_police(
    info: Info,
    id: ReferralId,
    police_id: Annotated[
        strawberry.ID,
        strawberry.argument(description="the public security organ's (公安机关) agency id"),
    ],
    reason: Annotated[
        str, strawberry.argument(description="why the case is suspected to be a crime; required")
    ],
) -> ReferralResult:
    cmd = c.TransferToPolice(str(id), str(police_id), reason)
    return await crime_result(info, lambda h, caller: h.transfer_to_police(cmd, caller))


async def record_police_decision(
    info: Info,
    id: ReferralId,
    filed: Annotated[bool, strawberry.argument(description="true: 立案; false: 不立案")],
    note: Annotated[
        str, strawberry.argument(description="the police's written note with the decision")
    ],
    reasons: Annotated[
        str, strawberry.argument(description="不立案: the reasons in writing (required)")
    ] = "",
) -> ReferralResult:
    cmd = c.RecordPoliceDecision(str(id), filed, note, reasons)
    return await crime_result(info, lambda h, caller: h.record_police_decision(cmd, caller))


async def report_suspected_crime(
    info: Info,
    id: ReferralId,
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
    return await crime_result(info, lambda h, caller: h.report_suspected_crime(cmd, caller))


async def decide_crime_transfer(
    info: Info,
    id: ReferralId,
    approve: Annotated[
        bool, strawberry.argument(description="true: transfer; false: refuse (with a reason)")
    ],
    reason: Annotated[str, strawberry.argument(description="why (required when refusing)")] = "",
) -> ReferralResult:
    cmd = c.DecideCrimeTransfer(str(id), approve, reason)
    return await crime_result(info, lambda h, caller: h.decide_transfer(cmd, caller))


async def request_crime_reconsideration(
    info: Info,
    id: ReferralId,
    reason: Annotated[
        str, strawberry.argument(description="why the 不立案 should be reconsidered")
    ],
) -> ReferralResult:
    cmd = c.RequestCrimeReconsideration(str(id), reason)
    return await crime_result(info, lambda h, caller: h.request_reconsideration(cmd, caller))


async def answer_crime_reconsideration(
    info: Info,
    id: ReferralId,
    filed: Annotated[bool, strawberry.argument(description="true: 立案; false: 不立案")],
    note: Annotated[str, strawberry.argument(description="the police's written answer")],
    reasons: Annotated[str, strawberry.argument(description="不立案 upheld: the reasons")] = "",
) -> ReferralResult:
    cmd = c.AnswerCrimeReconsideration(str(id), filed, note, reasons)
    return await crime_result(info, lambda h, caller: h.answer_reconsideration(cmd, caller))


async def request_procuratorate_supervision(
    info: Info,
    id: ReferralId,
    procuratorate_id: Annotated[
        strawberry.ID, strawberry.argument(description="the procuratorate (检察院)")
    ],
    reason: Annotated[
        str, strawberry.argument(description="why the procuratorate should supervise")
    ],
) -> ReferralResult:
    cmd = c.RequestProcuratorateSupervision(str(id), str(procuratorate_id), reason)
    return await crime_result(info, lambda h, caller: h.request_supervision(cmd, caller))


async def reopen_case_after_not_filed(
    info: Info,
    id: ReferralId,
    note: Annotated[str, strawberry.argument(description="how the administrative case goes on")],
) -> ReferralResult:
    cmd = c.AcceptNotFiled(str(id), note)
    return await crime_result(info, lambda h, caller: h.accept_not_filed(cmd, caller))


async def record_crime_materials_handover(
    info: Info,
    id: ReferralId,
    note: Annotated[str, strawberry.argument(description="what was handed over")],
) -> ReferralResult:
    cmd = c.RecordMaterialsHandover(str(id), note)
    return await crime_result(info, lambda h, caller: h.record_handover(cmd, caller))


async def record_crime_fine_paid(
    info: Info,
    id: ReferralId,
    decision_number: Annotated[str, strawberry.argument(description="the penalty decision's 文号")],
    amount_yuan: Annotated[int, strawberry.argument(description="the fine paid, in yuan")],
    paid_at: Annotated[datetime, strawberry.argument(description="when it was paid")],
    receipt: Annotated[str, strawberry.argument(description="the payment receipt's number")] = "",
) -> ReferralResult:
    cmd = c.RecordFinePaid(str(id), decision_number, amount_yuan, paid_at, receipt)
    return await crime_result(info, lambda h, caller: h.record_fine_paid(cmd, caller))
