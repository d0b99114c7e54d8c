"""Mutations of complaints (举报投诉, R-CMP)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from kernel.graphql import INPUT, IdArg, UserError, guard
from referral.application import commands as c
from referral.entrypoints.graphql.context import Info
from referral.entrypoints.graphql.inputs import (
    DraftReferralInput,
    RegisterComplaintInput,
    draft_command,
)
from referral.entrypoints.graphql.results import complaint_result
from referral.entrypoints.graphql.types import ComplaintResult, ReferralResult, referral_view


async def register_complaint(
    info: Info, input: Annotated[RegisterComplaintInput, INPUT]
) -> ComplaintResult:
    cmd = c.RegisterComplaint(
        input.complainant_name,
        input.complainant_contact,
        input.content,
        input.matter_code,
        input.place,
        str(input.township_id) if input.township_id else None,
    )
    h = info.context.handlers.complaints
    return await complaint_result(h.register(cmd, info.context.caller()))


async def answer_complaint(
    info: Info,
    id: IdArg,
    answer: Annotated[str, strawberry.argument(description="the answer to the complainant")],
) -> ComplaintResult:
    h = info.context.handlers.complaints
    return await complaint_result(
        h.answer(c.AnswerComplaint(str(id), answer), info.context.caller())
    )


async def open_case_from_complaint(
    info: Info,
    id: IdArg,
    case_number: Annotated[str, strawberry.argument(description="the case number (立案编号)")],
) -> ComplaintResult:
    h = info.context.handlers.complaints
    return await complaint_result(
        h.open_case(c.OpenCaseFromComplaint(str(id), case_number), info.context.caller())
    )


async def refer_complaint(
    info: Info, id: IdArg, input: Annotated[DraftReferralInput, INPUT]
) -> ReferralResult:
    caller = info.context.caller()
    draft = draft_command(input)
    if isinstance(draft, UserError):
        return draft
    h = info.context.handlers.complaints
    result = await guard(h.refer(c.ReferComplaint(str(id), draft), caller))
    if isinstance(result, UserError):
        return result
    return referral_view(info, result[1])


async def request_complaint_handover(
    info: Info,
    id: IdArg,
    to_agency_id: Annotated[
        strawberry.ID, strawberry.argument(description="the agency asked to take it")
    ],
    mode: Annotated[str, strawberry.argument(description="guide (引导) or material (转交材料)")],
    reason: Annotated[
        str, strawberry.argument(description="why the complaint goes to that agency")
    ],
) -> ComplaintResult:
    cmd = c.RequestComplaintHandover(str(id), str(to_agency_id), mode, reason)
    h = info.context.handlers.complaints
    return await complaint_result(h.request_handover(cmd, info.context.caller()))


async def answer_complaint_handover(
    info: Info,
    id: IdArg,
    consent: Annotated[
        bool, strawberry.argument(description="the asked agency takes the complaint")
    ],
    note: Annotated[str, strawberry.argument(description="why, if it does not")] = "",
) -> ComplaintResult:
    cmd = c.AnswerComplaintHandover(str(id), consent, note)
    h = info.context.handlers.complaints
    return await complaint_result(h.answer_handover(cmd, info.context.caller()))


async def tell_complainant_result(
    info: Info,
    id: IdArg,
    result: Annotated[str, strawberry.argument(description="the result told to the complainant")],
) -> ComplaintResult:
    h = info.context.handlers.complaints
    return await complaint_result(
        h.tell_result(c.TellComplainantResult(str(id), result), info.context.caller())
    )
