"""Assistance in the graph (协助执法, R-AST-01/02): the request, its letters, refusal,
mediation and results. Mutations return ``Result | UserError``."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from coordination.application.actions import assistance_actions
from coordination.application.assistance import (
    AssistanceHandlers,
    PhoneCallInput,
    RecordAssistanceMediation,
    ReferAssistanceToMediation,
    ReplyToAssistance,
    ReportAssistanceResult,
    RequestAssistance,
    SendAssistanceLetter,
)
from coordination.domain import assistance as ast
from coordination.entrypoints.graphql.request_kinds import (
    RequestNode,
    request_filter,
    request_result,
)
from coordination.entrypoints.graphql.types import (
    AfterArg,
    CooperationDeadline,
    CooperationTransition,
    FirstArg,
    Info,
    actions_of,
    agency_field,
    clocks_and_history,
    connection,
)
from coordination.entrypoints.http.paths import reply_letter_path, request_letter_path
from kernel.caller import Caller
from kernel.graphql import (
    INPUT,
    Connection,
    UserError,
    day_input,
    expose_enum,
    iso_day,
    mirrored,
    moved,
    page_size,
    refusals_at,
    replaced_by,
)

expose_enum(
    ast.AssistanceStatus,
    "AssistanceStatus",
    "Where an assistance request (协助执法) stands (R-AST-01/02)",
    {
        "requested": "awaiting the helper's reply letter (复函)",
        "accepted": "the helper helps, from the agreed date",
        "refused": "refused on legal grounds (法定事由)",
        "in_mediation": "the requester disagreed; the legal office mediates (协调)",
        "closed": "refusal upheld by mediation, or both results reported",
    },
)
expose_enum(
    ast.MediationOutcome,
    "AssistanceMediationOutcome",
    "assist (the helper must help) or refusal_upheld (R-AST-02)",
    {"assist": "the helper must help after all", "refusal_upheld": "the refusal stands"},
)
AssistanceStatus = ast.AssistanceStatus
AssistanceMediationOutcome = ast.MediationOutcome


@strawberry.type(description="An emergency request made by phone first (who, when).")
class AssistancePhoneCall:
    caller: str = strawberry.field(description="who called for the requester")
    called: str = strawberry.field(description="who took the call at the helper")
    at: datetime = strawberry.field(description="when the call was made")


@strawberry.type(description="A refusal to cooperate, kept for accountability (R-AST-02).")
class AssistanceRefusal:
    grounds: str = strawberry.field(description="the legal grounds (法定事由)")
    legal_provision: str = strawberry.field(description="the provision cited")
    letter_number: str = strawberry.field(description="the reply letter's number (文号)")
    refused_by: str = strawberry.field(description="who refused (person id)")
    at: datetime = strawberry.field(description="when it was refused")


@strawberry.type(description="Mediation by the legal office (R-AST-02).")
class AssistanceMediation:
    mediator_id: strawberry.ID = strawberry.field(description="the mediating legal office")
    disagreement: str = strawberry.field(description="why the requester disputes the refusal")
    requested_at: datetime = strawberry.field(description="when mediation was asked for")
    outcome: AssistanceMediationOutcome | None = strawberry.field(
        description="the outcome; null while mediation runs"
    )
    basis: str = strawberry.field(description="the basis of the mediation's outcome")
    decided_at: datetime | None = strawberry.field(description="when the outcome was decided")


@strawberry.type(description="A result reported by the helper or the requester.")
class AssistanceResultReport:
    side: str = strawberry.field(description="helper (协助执法情况) | requester (执法结果)")
    summary: str = strawberry.field(description="what was done")
    reported_by: str = strawberry.field(description="who reported it (person id)")
    at: datetime = strawberry.field(description="when it was reported")


@strawberry.federation.type(
    keys=["id"], description="A request for assistance (协助执法, R-AST-01)."
)
class AssistanceRequest(RequestNode):
    handlers_of = "assistance"

    id: strawberry.ID = strawberry.field(description="the request's id")
    requester_id: strawberry.ID = strawberry.field(description="the requesting agency")
    helper_id: strawberry.ID = strawberry.field(description="the agency asked to help")
    matters: list[str] = strawberry.field(description="what the helper is asked to do")
    urgent: bool = strawberry.field(description="an emergency: help at once")
    status: AssistanceStatus = strawberry.field(description="where the request stands")
    requested_at: datetime = strawberry.field(description="when it was requested")
    letter_number: str | None = strawberry.field(description="协助执法函; null until sent")
    letter_sent_at: datetime | None = strawberry.field(
        description="when the request letter was sent"
    )
    phone_call: AssistancePhoneCall | None = strawberry.field(
        description="the emergency phone call that came first, if any"
    )
    reply_letter_number: str | None = strawberry.field(description="协助执法复函")
    replied_at: datetime | None = strawberry.field(description="when the helper replied")
    agreed_start_on: date | None = strawberry.field(
        description="the day the helper starts helping",
        deprecation_reason=replaced_by("agreedStartDate"),
    )
    agreed_start_date: str | None = iso_day("agreed_start_on", "the day the helper starts helping")
    refusal: AssistanceRefusal | None = strawberry.field(
        description="the refusal and its grounds, if refused"
    )
    mediation: AssistanceMediation | None = strawberry.field(
        description="the legal office's mediation of a refusal (R-AST-02)"
    )
    results: list[AssistanceResultReport] = strawberry.field(
        description="the results reported by either side"
    )
    deadlines: list[CooperationDeadline] = strawberry.field(
        description="its clocks (reply, written letter)"
    )
    history: list[CooperationTransition] = strawberry.field(
        description="every step taken on it, oldest first"
    )

    @strawberry.field(description="协助执法函 PDF on the coordination service, once sent")
    def request_letter_url(self) -> str | None:
        return request_letter_path(str(self.id)) if self.letter_number else None

    @strawberry.field(description="协助执法复函 PDF on the coordination service, once replied")
    def reply_letter_url(self) -> str | None:
        return reply_letter_path(str(self.id)) if self.reply_letter_number else None

    requester = agency_field("requester_id", "the requesting agency, resolved")
    helper = agency_field("helper_id", "the agency asked to help, resolved")

    viewer_can, available_actions = actions_of(
        assistance_actions, "assistance", "assistance request"
    )

    @classmethod
    def of(cls, r: ast.AssistanceRequest, info: Info) -> AssistanceRequest:
        m = r.mediation
        return mirrored(
            cls,
            r,
            phone_call=mirrored(AssistancePhoneCall, r.phone_call) if r.phone_call else None,
            refusal=mirrored(AssistanceRefusal, r.refusal) if r.refusal else None,
            mediation=mirrored(AssistanceMediation, m, mediator_id=m.mediator_agency_id)
            if m
            else None,
            results=[mirrored(AssistanceResultReport, x) for x in r.results],
            **clocks_and_history(r, info),
        )


if TYPE_CHECKING:
    AssistanceResult = AssistanceRequest | UserError
else:
    AssistanceResult = request_result(AssistanceRequest)


@strawberry.input(description="The emergency phone call that precedes the letter (R-AST-01).")
class AssistancePhoneCallInput:
    caller: str = strawberry.field(description="who called, for the requester")
    called: str = strawberry.field(description="who took the call at the helper")
    at: datetime | None = strawberry.field(
        default=None, description="when the call was made (+08:00); default: now"
    )


@strawberry.input(description="A request for assistance (协助执法) to another agency (R-AST-01).")
class RequestAssistanceInput:
    requester_id: strawberry.ID = strawberry.field(description="the requesting agency (yours)")
    helper_id: strawberry.ID = strawberry.field(description="the agency asked to help")
    matters: list[str] = strawberry.field(description="what the helper is asked to do")
    urgent: bool = strawberry.field(default=False, description="an emergency: help at once")
    letter_number: str | None = strawberry.field(
        default=None, description="协助执法函 文号; may follow later after an emergency phone call"
    )
    phone_call: AssistancePhoneCallInput | None = strawberry.field(
        default=None, description="the emergency phone call made first, if any"
    )


@strawberry.input(
    description="The helper's reply letter (复函): help, or refuse on legal grounds (R-AST-01/02)."
)
class ReplyToAssistanceInput:
    request_id: strawberry.ID = strawberry.field(description="the request replied to")
    will_help: bool = strawberry.field(description="it helps (false: it refuses on legal grounds)")
    reply_letter_number: str = strawberry.field(description="协助执法复函 文号")
    agreed_start_on: date | None = strawberry.field(
        default=None,
        description="required when helping a non-urgent request",
        deprecation_reason=replaced_by("agreedStartDate"),
    )
    agreed_start_date: str | None = strawberry.field(
        default=None,
        description="the day the helper starts helping, YYYY-MM-DD; required when helping a "
        "non-urgent request",
    )
    refusal_grounds: str = strawberry.field(default="", description="法定事由 (refusal only)")
    legal_provision: str = strawberry.field(default="", description="cited law (refusal only)")


AssistanceRequestFilter = request_filter(AssistanceRequest, AssistanceStatus)


@strawberry.type
class AssistanceQuery:
    assistance_request = AssistanceRequest.read_field(
        "One assistance request by id (null when absent or not yours to see: the requester, "
        "the helper, the mediating legal office and the supervising roles see it)."
    )
    assistance_requests = AssistanceRequest.list_field(
        "Assistance requests (协助执法) an agency sent or received, newest first by the time "
        "they were requested; only those you are a party to unless your role supervises.",
        AssistanceRequestFilter,
    )

    @strawberry.field(
        description="Refusals to cooperate, per refusing agency (FY (五)4, R-AST-02): kept "
        "for accountability whatever mediation decided; only those you are a party to unless "
        "your role supervises."
    )
    async def assistance_refusals(
        self,
        info: Info,
        helper_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="only the refusals of this agency"),
        ] = None,
        first: FirstArg = 50,
        after: AfterArg = None,
    ) -> Connection[AssistanceRequest]:
        caller = info.context.caller()
        first = page_size(first)
        helper = str(helper_id) if helper_id else None
        handlers = info.context.assistance
        rows = await handlers.refusals_visible(
            helper_id=helper, after=after, limit=first + 1, caller=caller
        )
        return connection(
            rows,
            first,
            cursor=lambda r: r.id,
            node=lambda r: AssistanceRequest.of(r, info),
            after=after,
            count=lambda: handlers.refusals_count(helper_id=helper, caller=caller),
        )


AssistanceIdArg = Annotated[
    strawberry.ID, strawberry.argument(description="the assistance request's id (协助执法)")
]


@strawberry.type
class AssistanceMutation:
    @strawberry.mutation(
        description="R-AST-01: ask for assistance with a letter, or by phone first when urgent."
    )
    async def request_assistance(
        self, info: Info, input: Annotated[RequestAssistanceInput, INPUT]
    ) -> AssistanceResult:
        call = input.phone_call
        cmd = RequestAssistance(
            requester_id=str(input.requester_id),
            helper_id=str(input.helper_id),
            matters=tuple(input.matters),
            urgent=input.urgent,
            letter_number=input.letter_number,
            phone_call=PhoneCallInput(call.caller, call.called, call.at) if call else None,
        )
        return await AssistanceRequest.result_of(info, lambda h, caller: h.request(cmd, caller))

    @strawberry.mutation(description="R-AST-01: the written letter after a phone request.")
    async def send_assistance_letter(
        self,
        info: Info,
        request_id: AssistanceIdArg,
        letter_number: Annotated[
            str, strawberry.argument(description="the letter's number (文号)")
        ],
    ) -> AssistanceResult:
        cmd = SendAssistanceLetter(str(request_id), letter_number)
        return await AssistanceRequest.result_of(info, lambda h, caller: h.send_letter(cmd, caller))

    @strawberry.mutation(
        description="R-AST-01/02: the reply letter: help (urgent: at once; otherwise from the "
        "agreed date) or refuse on cited legal grounds."
    )
    async def reply_to_assistance(
        self, info: Info, input: Annotated[ReplyToAssistanceInput, INPUT]
    ) -> AssistanceResult:
        def reply(h: AssistanceHandlers, caller: Caller) -> Awaitable[ast.AssistanceRequest]:
            cmd = ReplyToAssistance(
                request_id=str(input.request_id),
                will_help=input.will_help,
                reply_letter_number=input.reply_letter_number,
                agreed_start_on=day_input(
                    input.agreed_start_on,
                    input.agreed_start_date,
                    field="agreedStartDate",
                    old_field="agreedStartOn",
                ),
                refusal_grounds=input.refusal_grounds,
                legal_provision=input.legal_provision,
            )
            old = moved(input.agreed_start_on, "agreedStartOn", "agreedStartDate")
            return refusals_at(h.reply(cmd, caller), old)

        return await AssistanceRequest.result_of(info, reply)

    @strawberry.mutation(description="R-AST-02: the requester disputes a refusal (legal office).")
    async def refer_assistance_to_mediation(
        self,
        info: Info,
        request_id: AssistanceIdArg,
        disagreement: Annotated[
            str, strawberry.argument(description="why the requester disputes the refusal")
        ],
    ) -> AssistanceResult:
        cmd = ReferAssistanceToMediation(str(request_id), disagreement)
        return await AssistanceRequest.result_of(
            info, lambda h, caller: h.refer_to_mediation(cmd, caller)
        )

    @strawberry.mutation(description="R-AST-02: the legal office records the mediation outcome.")
    async def record_assistance_mediation(
        self,
        info: Info,
        request_id: AssistanceIdArg,
        outcome: Annotated[
            AssistanceMediationOutcome, strawberry.argument(description="assist or refusal_upheld")
        ],
        basis: Annotated[str, strawberry.argument(description="the basis of the outcome")],
    ) -> AssistanceResult:
        cmd = RecordAssistanceMediation(str(request_id), outcome.value, basis)
        return await AssistanceRequest.result_of(
            info, lambda h, caller: h.record_mediation(cmd, caller)
        )

    @strawberry.mutation(description="Results both ways: the helper's or the requester's report.")
    async def report_assistance_result(
        self,
        info: Info,
        request_id: AssistanceIdArg,
        summary: Annotated[str, strawberry.argument(description="what was done")],
    ) -> AssistanceResult:
        cmd = ReportAssistanceResult(str(request_id), summary)
        return await AssistanceRequest.result_of(
            info, lambda h, caller: h.report_result(cmd, caller)
        )
