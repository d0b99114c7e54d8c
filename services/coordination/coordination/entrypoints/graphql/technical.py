"""Technical support in the graph (技术支撑, R-TEC-01/02): a township's request to a
department, staff on site, extensions and the written answer with its conclusion. Mutations
return ``Result | UserError``."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from coordination.application.actions import technical_actions
from coordination.application.technical import (
    AnswerTechnicalSupport,
    DispatchTechnicalStaff,
    ExtendTechnicalSupport,
    RequestTechnicalSupport,
)
from coordination.domain import technical as tec
from coordination.entrypoints.graphql.request_kinds import (
    RequestNode,
    request_filter,
    request_result,
)
from coordination.entrypoints.graphql.types import (
    CooperationDeadline,
    CooperationTransition,
    Info,
    actions_of,
    agency_field,
    clocks_and_history,
)
from kernel.graphql import INPUT, UserError, expose_enum, mirrored

expose_enum(
    tec.SupportKind,
    "TechnicalSupportKind",
    "认定 / 鉴定 / 咨询意见",
    {
        "identification": "认定: whether a fact is so",
        "appraisal": "鉴定: an expert appraisal",
        "consultation": "咨询: an opinion on a question",
    },
)
expose_enum(
    tec.SupportStatus,
    "TechnicalSupportStatus",
    "Where a technical-support request (技术支撑) stands (R-TEC-01)",
    {
        "requested": "awaiting the department's written opinion",
        "answered": "the department answered (认定 / 鉴定 / 咨询意见)",
    },
)
TechnicalSupportKind = tec.SupportKind
TechnicalSupportStatus = tec.SupportStatus


@strawberry.type(description="Staff sent on site (派员现场处置): who, when.")
class TechnicalDispatch:
    staff: list[str] = strawberry.field(description="who was sent")
    dispatched_at: datetime = strawberry.field(description="when staff were sent")
    recorded_by: str = strawberry.field(description="who recorded it (person id)")


@strawberry.type(description="An extension announced before the limit ran out.")
class TechnicalExtension:
    reason: str = strawberry.field(description="why it was extended")
    announced_at: datetime = strawberry.field(description="when the extension was announced")
    previous_due: datetime = strawberry.field(description="the due time before")
    new_due: datetime = strawberry.field(description="the new due time")
    total_working_days: int = strawberry.field(description="the limit in all, in working days")


@strawberry.type(description="The written answer; it states a conclusion (R-TEC-02).")
class TechnicalAnswer:
    conclusion: str = strawberry.field(description="the conclusion (认定、鉴定或咨询意见)")
    current_state_description: str = strawberry.field(
        description="the state found on site, where asked"
    )
    document_number: str = strawberry.field(description="the answer's number (文号)")
    answered_by: str = strawberry.field(description="who answered (person id)")
    answered_at: datetime = strawberry.field(description="when it was answered")
    late: bool = strawberry.field(description="it came after the limit")


@strawberry.federation.type(
    keys=["id"], description="A request for technical support (认定/鉴定/咨询, R-TEC-01)."
)
class TechnicalSupportRequest(RequestNode):
    handlers_of = "technical_support"

    id: strawberry.ID = strawberry.field(description="the request's id")
    township_id: strawberry.ID = strawberry.field(description="the asking township")
    department_id: strawberry.ID = strawberry.field(description="the department asked")
    kind: TechnicalSupportKind = strawberry.field(
        description="identification (认定), appraisal (鉴定) or consultation (咨询)"
    )
    question: str = strawberry.field(description="what the township asks")
    document_number: str = strawberry.field(description="the request's number (文号)")
    urgent: bool = strawberry.field(description="urgent: the shorter limit applies")
    evidence_at_risk: bool = strawberry.field(
        description="evidence may be lost: staff go on site at once"
    )
    status: TechnicalSupportStatus = strawberry.field(description="where the request stands")
    requested_at: datetime = strawberry.field(description="when it was requested")
    reply_working_days: int = strawberry.field(description="the reply limit, in working days")
    dispatches: list[TechnicalDispatch] = strawberry.field(description="staff sent on site")
    extensions: list[TechnicalExtension] = strawberry.field(
        description="the extensions of the reply limit"
    )
    answer: TechnicalAnswer | None = strawberry.field(
        description="the department's written answer; null before"
    )
    deadlines: list[CooperationDeadline] = strawberry.field(description="its clocks")
    history: list[CooperationTransition] = strawberry.field(
        description="every step taken on it, oldest first"
    )

    township = agency_field("township_id", "the asking township, resolved")
    department = agency_field("department_id", "the department asked, resolved")

    viewer_can, available_actions = actions_of(
        technical_actions, "technical_support", "technical-support request"
    )

    @classmethod
    def of(cls, r: tec.TechnicalSupportRequest, info: Info) -> TechnicalSupportRequest:
        return mirrored(
            cls,
            r,
            dispatches=[mirrored(TechnicalDispatch, d) for d in r.dispatches],
            extensions=[mirrored(TechnicalExtension, e) for e in r.extensions],
            answer=mirrored(TechnicalAnswer, r.answer) if r.answer else None,
            **clocks_and_history(r, info),
        )


if TYPE_CHECKING:
    TechnicalResult = TechnicalSupportRequest | UserError
else:
    TechnicalResult = request_result(TechnicalSupportRequest)


@strawberry.input(
    description="A township's request for technical support (技术支撑) to a department (R-TEC-01)."
)
class RequestTechnicalSupportInput:
    township_id: strawberry.ID = strawberry.field(description="the asking township (yours)")
    department_id: strawberry.ID = strawberry.field(description="the department asked")
    kind: TechnicalSupportKind = strawberry.field(
        description="identification, appraisal or consultation"
    )
    question: str = strawberry.field(description="what the township asks")
    document_number: str = strawberry.field(description="执法协作文书 文号")
    urgent: bool = strawberry.field(default=False, description="urgent: the shorter limit applies")
    evidence_at_risk: bool = strawberry.field(
        default=False, description="evidence may be lost: staff go on site at once"
    )


@strawberry.input(description="The structured answer: a conclusion is required (R-TEC-02).")
class TechnicalAnswerInput:
    conclusion: str | None = strawberry.field(
        default=None, description="the 认定 / 鉴定 / 咨询 conclusion (required, non-empty)"
    )
    current_state_description: str | None = strawberry.field(
        default=None, description="optional; a description of the state is not a conclusion"
    )


@strawberry.input(
    description="The department's written answer to a technical-support request (R-TEC-02)."
)
class AnswerTechnicalSupportInput:
    request_id: strawberry.ID = strawberry.field(description="the request answered")
    answer: TechnicalAnswerInput = strawberry.field(
        description="the conclusion or the state found on site"
    )
    document_number: str = strawberry.field(description="书面意见 / 鉴定结论 文号")


TechnicalSupportRequestFilter = request_filter(TechnicalSupportRequest, tec.SupportStatus)


@strawberry.type
class TechnicalSupportQuery:
    technical_support_request = TechnicalSupportRequest.read_field(
        "One technical-support request by id (null when absent or not yours to see: the "
        "township, the department and the supervising roles see it)."
    )
    technical_support_requests = TechnicalSupportRequest.list_field(
        "Technical-support requests (技术支撑) of an agency, newest first by the time they "
        "were requested; only those you are a party to unless your role supervises.",
        TechnicalSupportRequestFilter,
    )


TechnicalIdArg = Annotated[
    strawberry.ID, strawberry.argument(description="the technical-support request's id (技术支持)")
]


@strawberry.type
class TechnicalSupportMutation:
    @strawberry.mutation(description="R-TEC-01: a township's cooperation document.")
    async def request_technical_support(
        self, info: Info, input: Annotated[RequestTechnicalSupportInput, INPUT]
    ) -> TechnicalResult:
        cmd = RequestTechnicalSupport(
            township_id=str(input.township_id),
            department_id=str(input.department_id),
            kind=input.kind.value,
            question=input.question,
            document_number=input.document_number,
            urgent=input.urgent,
            evidence_at_risk=input.evidence_at_risk,
        )
        return await TechnicalSupportRequest.result_of(
            info, lambda h, caller: h.request(cmd, caller)
        )

    @strawberry.mutation(description="R-TEC-01: staff sent on site (who; when is now).")
    async def dispatch_technical_staff(
        self,
        info: Info,
        request_id: TechnicalIdArg,
        staff: Annotated[list[str], strawberry.argument(description="who is sent on site")],
    ) -> TechnicalResult:
        cmd = DispatchTechnicalStaff(str(request_id), tuple(staff))
        return await TechnicalSupportRequest.result_of(
            info, lambda h, caller: h.dispatch_on_site(cmd, caller)
        )

    @strawberry.mutation(
        description="R-TEC-01: extend the limit to workingDays in all (from the request), "
        "announced before the limit runs out, never past the district's maximum."
    )
    async def extend_technical_support(
        self,
        info: Info,
        request_id: TechnicalIdArg,
        working_days: Annotated[
            int,
            strawberry.argument(
                description="the new limit in working days in all (from the request)"
            ),
        ],
        reason: Annotated[str, strawberry.argument(description="why more time is needed")],
    ) -> TechnicalResult:
        cmd = ExtendTechnicalSupport(str(request_id), working_days, reason)
        return await TechnicalSupportRequest.result_of(
            info, lambda h, caller: h.extend(cmd, caller)
        )

    @strawberry.mutation(description="R-TEC-02: the written answer, stating a conclusion.")
    async def answer_technical_support(
        self, info: Info, input: Annotated[AnswerTechnicalSupportInput, INPUT]
    ) -> TechnicalResult:
        cmd = AnswerTechnicalSupport(
            request_id=str(input.request_id),
            conclusion=input.answer.conclusion or "",
            current_state_description=input.answer.current_state_description or "",
            document_number=input.document_number,
        )
        return await TechnicalSupportRequest.result_of(
            info, lambda h, caller: h.answer(cmd, caller)
        )
