"""Cooperation duties in the graph: assistance (协助执法, R-AST-01/02), technical support
(技术支撑, R-TEC-01/02) and information queries (信息查询, R-INF-01). Mutations return
``Result | UserError``; reading an information answer is a mutation because it writes the
access log (who, when)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, TypeVar

import strawberry

from coordination.application.catalogue import actor_of
from coordination.application.cooperation import (
    AnswerInformation,
    AnswerTechnicalSupport,
    AskInformation,
    PhoneCallInput,
    ReplyToAssistance,
    RequestAssistance,
    RequestTechnicalSupport,
)
from coordination.domain import assistance as ast
from coordination.domain import information as inf
from coordination.domain import technical as tec
from coordination.domain.cooperation import Clock, Transition
from coordination.entrypoints.graphql.catalogue import load_agency
from coordination.entrypoints.graphql.schema import Agency, Info
from coordination.entrypoints.http.paths import reply_letter_path, request_letter_path
from kernel.errors import DomainError
from kernel.graphql import PageInfo, UserError, graphql_error

strawberry.enum(ast.AssistanceStatus, name="AssistanceStatus")
strawberry.enum(
    ast.MediationOutcome,
    name="AssistanceMediationOutcome",
    description="assist (the helper must help) or refusal_upheld (R-AST-02)",
)
strawberry.enum(tec.SupportKind, name="TechnicalSupportKind", description="认定 / 鉴定 / 咨询意见")
strawberry.enum(tec.SupportStatus, name="TechnicalSupportStatus")
strawberry.enum(
    inf.Classification,
    name="InformationClassification",
    description="public (公开), internal (内部), confidential: only the parties read it",
)
strawberry.enum(inf.QueryStatus, name="InformationQueryStatus")
strawberry.enum(
    inf.DeclineGrounds,
    name="InformationDeclineGrounds",
    description="secrecy (only with a cited legal provision) or not_held",
)
AssistanceStatus = ast.AssistanceStatus
AssistanceMediationOutcome = ast.MediationOutcome
TechnicalSupportKind = tec.SupportKind
TechnicalSupportStatus = tec.SupportStatus
InformationClassification = inf.Classification
InformationQueryStatus = inf.QueryStatus
InformationDeclineGrounds = inf.DeclineGrounds

T = TypeVar("T")


@strawberry.type(description="A statutory clock of a cooperation duty (reply due etc.).")
class CooperationDeadline:
    kind: str
    responsible_agency_id: strawberry.ID
    due: datetime
    state: str = strawberry.field(description="open | met | cancelled")
    rule: str
    explanation: str = strawberry.field(description="how the due time was computed (Chinese)")

    @classmethod
    def of(cls, c: Clock, info: Info) -> CooperationDeadline:
        return cls(
            kind=c.kind,
            responsible_agency_id=strawberry.ID(c.responsible_agency_id),
            due=c.due,
            state=c.state,
            rule=c.rule,
            explanation=info.context.calendar.explain_dict(c.explanation),
        )


@strawberry.type(description="One recorded action (who, for which agency, when, before/after).")
class CooperationTransition:
    action: str
    actor_id: str
    agency_id: strawberry.ID | None
    at: datetime
    before: str | None
    after: str
    note: str

    @classmethod
    def of(cls, t: Transition) -> CooperationTransition:
        return cls(
            action=t.action,
            actor_id=t.actor_id,
            agency_id=strawberry.ID(t.agency_id) if t.agency_id else None,
            at=t.at,
            before=t.before,
            after=t.after,
            note=t.note,
        )


async def _run(action: Awaitable[Any], convert: Callable[[Any], T]) -> T | UserError:
    try:
        model = await action
    except DomainError as exc:
        return UserError(code=exc.code, message=exc.message, field=exc.field)
    return convert(model)


def _page(first: int) -> int:
    return max(1, min(first, 200))


C = TypeVar("C")


def _connection(
    rows: Sequence[Any], first: int, info: Info, connection: type[C], edge: Any, node: Any
) -> C:
    """A Relay connection of the first ``first`` rows (one more was fetched to tell whether
    there is a next page); cursors are the aggregates' ids, ``node.of(row, info)`` the node."""
    page = rows[:first]
    return connection(
        edges=[edge(cursor=r.id, node=node.of(r, info)) for r in page],  # type: ignore[call-arg]
        page_info=PageInfo(
            has_next_page=len(rows) > first, end_cursor=page[-1].id if page else None
        ),
    )


# --------------------------------------------------------------------------- assistance


@strawberry.type(description="An emergency request made by phone first (who, when).")
class AssistancePhoneCall:
    caller: str
    called: str
    at: datetime


@strawberry.type(description="A refusal to cooperate, kept for accountability (R-AST-02).")
class AssistanceRefusal:
    grounds: str
    legal_provision: str
    letter_number: str
    refused_by: str
    at: datetime


@strawberry.type(description="Mediation by the legal office (R-AST-02).")
class AssistanceMediation:
    mediator_id: strawberry.ID
    disagreement: str
    requested_at: datetime
    outcome: AssistanceMediationOutcome | None
    basis: str
    decided_at: datetime | None


@strawberry.type(description="A result reported by the helper or the requester.")
class AssistanceResultReport:
    side: str = strawberry.field(description="helper (协助执法情况) | requester (执法结果)")
    summary: str
    reported_by: str
    at: datetime


@strawberry.type(description="A request for assistance (协助执法, R-AST-01).")
class AssistanceRequest:
    id: strawberry.ID
    requester_id: strawberry.ID
    helper_id: strawberry.ID
    matters: list[str]
    urgent: bool
    status: AssistanceStatus
    requested_at: datetime
    letter_number: str | None = strawberry.field(description="协助执法函; null until sent")
    letter_sent_at: datetime | None
    phone_call: AssistancePhoneCall | None
    reply_letter_number: str | None = strawberry.field(description="协助执法复函")
    replied_at: datetime | None
    agreed_start_on: date | None
    refusal: AssistanceRefusal | None
    mediation: AssistanceMediation | None
    results: list[AssistanceResultReport]
    deadlines: list[CooperationDeadline]
    history: list[CooperationTransition]

    @strawberry.field(description="协助执法函 PDF on the coordination service, once sent")
    def request_letter_url(self) -> str | None:
        return request_letter_path(str(self.id)) if self.letter_number else None

    @strawberry.field(description="协助执法复函 PDF on the coordination service, once replied")
    def reply_letter_url(self) -> str | None:
        return reply_letter_path(str(self.id)) if self.reply_letter_number else None

    @strawberry.field
    async def requester(self, info: Info) -> Agency | None:
        return await load_agency(info, str(self.requester_id))

    @strawberry.field
    async def helper(self, info: Info) -> Agency | None:
        return await load_agency(info, str(self.helper_id))

    @classmethod
    def of(cls, r: ast.AssistanceRequest, info: Info) -> AssistanceRequest:
        m, f, c = r.mediation, r.refusal, r.phone_call
        return cls(
            id=strawberry.ID(r.id),
            requester_id=strawberry.ID(r.requester_id),
            helper_id=strawberry.ID(r.helper_id),
            matters=list(r.matters),
            urgent=r.urgent,
            status=r.status,
            requested_at=r.requested_at,
            letter_number=r.letter_number,
            letter_sent_at=r.letter_sent_at,
            phone_call=AssistancePhoneCall(caller=c.caller, called=c.called, at=c.at)
            if c
            else None,
            reply_letter_number=r.reply_letter_number,
            replied_at=r.replied_at,
            agreed_start_on=r.agreed_start_on,
            refusal=AssistanceRefusal(
                grounds=f.grounds,
                legal_provision=f.legal_provision,
                letter_number=f.letter_number,
                refused_by=f.refused_by,
                at=f.at,
            )
            if f
            else None,
            mediation=AssistanceMediation(
                mediator_id=strawberry.ID(m.mediator_agency_id),
                disagreement=m.disagreement,
                requested_at=m.requested_at,
                outcome=m.outcome,
                basis=m.basis,
                decided_at=m.decided_at,
            )
            if m
            else None,
            results=[
                AssistanceResultReport(
                    side=x.side, summary=x.summary, reported_by=x.reported_by, at=x.at
                )
                for x in r.results
            ],
            deadlines=[CooperationDeadline.of(k, info) for k in r.clocks],
            history=[CooperationTransition.of(t) for t in r.history],
        )


@strawberry.type
class AssistanceRequestEdge:
    cursor: str
    node: AssistanceRequest


@strawberry.type
class AssistanceRequestConnection:
    edges: list[AssistanceRequestEdge]
    page_info: PageInfo


def _assistance_page(
    rows: list[ast.AssistanceRequest], first: int, info: Info
) -> AssistanceRequestConnection:
    return _connection(
        rows, first, info, AssistanceRequestConnection, AssistanceRequestEdge, AssistanceRequest
    )


AssistanceResult = Annotated[
    AssistanceRequest | UserError, strawberry.union("AssistanceRequestResult")
]


@strawberry.input
class AssistancePhoneCallInput:
    caller: str = strawberry.field(description="who called, for the requester")
    called: str = strawberry.field(description="who took the call at the helper")
    at: datetime | None = strawberry.field(default=None, description="default: now")


@strawberry.input
class RequestAssistanceInput:
    requester_id: strawberry.ID
    helper_id: strawberry.ID
    matters: list[str]
    urgent: bool = False
    letter_number: str | None = strawberry.field(
        default=None, description="协助执法函 文号; may follow later after an emergency phone call"
    )
    phone_call: AssistancePhoneCallInput | None = None


@strawberry.input
class ReplyToAssistanceInput:
    request_id: strawberry.ID
    will_help: bool
    reply_letter_number: str = strawberry.field(description="协助执法复函 文号")
    agreed_start_on: date | None = strawberry.field(
        default=None, description="required when helping a non-urgent request"
    )
    refusal_grounds: str = strawberry.field(default="", description="法定事由 (refusal only)")
    legal_provision: str = strawberry.field(default="", description="cited law (refusal only)")


# --------------------------------------------------------------------------- technical


@strawberry.type(description="Staff sent on site (派员现场处置): who, when.")
class TechnicalDispatch:
    staff: list[str]
    dispatched_at: datetime
    recorded_by: str


@strawberry.type(description="An extension announced before the limit ran out.")
class TechnicalExtension:
    reason: str
    announced_at: datetime
    previous_due: datetime
    new_due: datetime
    total_working_days: int


@strawberry.type(description="The written answer; it states a conclusion (R-TEC-02).")
class TechnicalAnswer:
    conclusion: str
    current_state_description: str
    document_number: str
    answered_by: str
    answered_at: datetime
    late: bool


@strawberry.type(description="A request for technical support (认定/鉴定/咨询, R-TEC-01).")
class TechnicalSupportRequest:
    id: strawberry.ID
    township_id: strawberry.ID
    department_id: strawberry.ID
    kind: TechnicalSupportKind
    question: str
    document_number: str
    urgent: bool
    evidence_at_risk: bool
    status: TechnicalSupportStatus
    requested_at: datetime
    reply_working_days: int
    dispatches: list[TechnicalDispatch]
    extensions: list[TechnicalExtension]
    answer: TechnicalAnswer | None
    deadlines: list[CooperationDeadline]
    history: list[CooperationTransition]

    @strawberry.field
    async def township(self, info: Info) -> Agency | None:
        return await load_agency(info, str(self.township_id))

    @strawberry.field
    async def department(self, info: Info) -> Agency | None:
        return await load_agency(info, str(self.department_id))

    @classmethod
    def of(cls, r: tec.TechnicalSupportRequest, info: Info) -> TechnicalSupportRequest:
        a = r.answer
        return cls(
            id=strawberry.ID(r.id),
            township_id=strawberry.ID(r.township_id),
            department_id=strawberry.ID(r.department_id),
            kind=r.kind,
            question=r.question,
            document_number=r.document_number,
            urgent=r.urgent,
            evidence_at_risk=r.evidence_at_risk,
            status=r.status,
            requested_at=r.requested_at,
            reply_working_days=r.reply_working_days,
            dispatches=[
                TechnicalDispatch(
                    staff=list(d.staff), dispatched_at=d.dispatched_at, recorded_by=d.recorded_by
                )
                for d in r.dispatches
            ],
            extensions=[
                TechnicalExtension(
                    reason=e.reason,
                    announced_at=e.announced_at,
                    previous_due=e.previous_due,
                    new_due=e.new_due,
                    total_working_days=e.total_working_days,
                )
                for e in r.extensions
            ],
            answer=TechnicalAnswer(
                conclusion=a.conclusion,
                current_state_description=a.current_state_description,
                document_number=a.document_number,
                answered_by=a.answered_by,
                answered_at=a.answered_at,
                late=a.late,
            )
            if a
            else None,
            deadlines=[CooperationDeadline.of(k, info) for k in r.clocks],
            history=[CooperationTransition.of(t) for t in r.history],
        )


@strawberry.type
class TechnicalSupportRequestEdge:
    cursor: str
    node: TechnicalSupportRequest


@strawberry.type
class TechnicalSupportRequestConnection:
    edges: list[TechnicalSupportRequestEdge]
    page_info: PageInfo


TechnicalResult = Annotated[
    TechnicalSupportRequest | UserError, strawberry.union("TechnicalSupportRequestResult")
]


@strawberry.input
class RequestTechnicalSupportInput:
    township_id: strawberry.ID
    department_id: strawberry.ID
    kind: TechnicalSupportKind
    question: str
    document_number: str = strawberry.field(description="执法协作文书 文号")
    urgent: bool = False
    evidence_at_risk: bool = False


@strawberry.input(description="The structured answer: a conclusion is required (R-TEC-02).")
class TechnicalAnswerInput:
    conclusion: str | None = strawberry.field(
        default=None, description="the 认定 / 鉴定 / 咨询 conclusion (required, non-empty)"
    )
    current_state_description: str | None = strawberry.field(
        default=None, description="optional; a description of the state is not a conclusion"
    )


@strawberry.input
class AnswerTechnicalSupportInput:
    request_id: strawberry.ID
    answer: TechnicalAnswerInput
    document_number: str = strawberry.field(description="书面意见 / 鉴定结论 文号")


# --------------------------------------------------------------------------- information


@strawberry.type(description="Why a query was not answered (R-INF-01).")
class InformationDecline:
    grounds: InformationDeclineGrounds
    reason: str
    legal_provision: str
    declined_by: str
    at: datetime


@strawberry.type(description="An information query between agencies (信息查询, R-INF-01).")
class InformationQuery:
    id: strawberry.ID
    requester_id: strawberry.ID
    holder_id: strawberry.ID
    subject: str
    purpose: str
    urgent: bool
    status: InformationQueryStatus
    asked_at: datetime
    classification: InformationClassification | None = strawberry.field(
        description="of the answer; read the content with readInformationAnswer (logged)"
    )
    answered_at: datetime | None
    decline: InformationDecline | None
    deadlines: list[CooperationDeadline]
    history: list[CooperationTransition]

    @strawberry.field
    async def requester(self, info: Info) -> Agency | None:
        return await load_agency(info, str(self.requester_id))

    @strawberry.field
    async def holder(self, info: Info) -> Agency | None:
        return await load_agency(info, str(self.holder_id))

    @classmethod
    def of(cls, q: inf.InformationQuery, info: Info) -> InformationQuery:
        d = q.decline
        return cls(
            id=strawberry.ID(q.id),
            requester_id=strawberry.ID(q.requester_id),
            holder_id=strawberry.ID(q.holder_id),
            subject=q.subject,
            purpose=q.purpose,
            urgent=q.urgent,
            status=q.status,
            asked_at=q.asked_at,
            classification=q.answer.classification if q.answer else None,
            answered_at=q.answer.answered_at if q.answer else None,
            decline=InformationDecline(
                grounds=d.grounds,
                reason=d.reason,
                legal_provision=d.legal_provision,
                declined_by=d.declined_by,
                at=d.at,
            )
            if d
            else None,
            deadlines=[CooperationDeadline.of(k, info) for k in q.clocks],
            history=[CooperationTransition.of(t) for t in q.history],
        )


@strawberry.type(description="The content of an answer; reading it is logged.")
class InformationAnswer:
    query_id: strawberry.ID
    content: str
    classification: InformationClassification
    answered_by: str
    answered_at: datetime
    late: bool


@strawberry.type(description="One reading of an answer (who, when), R-INF-01.")
class InformationAnswerAccess:
    reader_id: str
    reader_agency_id: strawberry.ID | None
    classification: InformationClassification
    at: datetime

    @strawberry.field
    async def reader_agency(self, info: Info) -> Agency | None:
        return await load_agency(
            info, str(self.reader_agency_id) if self.reader_agency_id else None
        )


@strawberry.type
class InformationQueryEdge:
    cursor: str
    node: InformationQuery


@strawberry.type
class InformationQueryConnection:
    edges: list[InformationQueryEdge]
    page_info: PageInfo


InformationResult = Annotated[
    InformationQuery | UserError, strawberry.union("InformationQueryResult")
]
InformationAnswerResult = Annotated[
    InformationAnswer | UserError, strawberry.union("InformationAnswerResult")
]


@strawberry.input
class AskInformationInput:
    requester_id: strawberry.ID
    holder_id: strawberry.ID
    subject: str
    purpose: str
    urgent: bool = False


@strawberry.input
class AnswerInformationQueryInput:
    query_id: strawberry.ID
    content: str
    classification: InformationClassification
    fee_yuan: Decimal | None = strawberry.field(
        default=None, description="queries are free (R-INF-01): any fee is refused"
    )


@strawberry.input
class DeclineInformationQueryInput:
    query_id: strawberry.ID
    grounds: InformationDeclineGrounds
    reason: str
    legal_provision: str = strawberry.field(default="", description="required for secrecy")


# --------------------------------------------------------------------------- root fields


@strawberry.type
class CooperationQuery:
    @strawberry.field(
        description="One assistance request by id (null when absent or not yours to see: the "
        "requester, the helper, the mediating legal office and the supervising roles see it)."
    )
    async def assistance_request(self, info: Info, id: strawberry.ID) -> AssistanceRequest | None:
        actor = actor_of(info.context.principal())
        r = await info.context.assistance.visible(str(id), actor=actor)
        return AssistanceRequest.of(r, info) if r else None

    @strawberry.field(
        description="Assistance requests an agency sent or received, by id; only those you "
        "are a party to unless your role supervises."
    )
    async def assistance_requests(
        self,
        info: Info,
        agency_id: strawberry.ID | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> AssistanceRequestConnection:
        actor = actor_of(info.context.principal())
        first = _page(first)
        rows = await info.context.assistance.list_visible(
            agency_id=str(agency_id) if agency_id else None,
            after=after,
            limit=first + 1,
            actor=actor,
        )
        return _assistance_page(rows, first, info)

    @strawberry.field(
        description="Refusals to cooperate, per refusing agency (FY (五)4, R-AST-02): kept "
        "for accountability whatever mediation decided; only those you are a party to unless "
        "your role supervises."
    )
    async def assistance_refusals(
        self,
        info: Info,
        helper_id: strawberry.ID | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> AssistanceRequestConnection:
        actor = actor_of(info.context.principal())
        first = _page(first)
        rows = await info.context.assistance.refusals_visible(
            helper_id=str(helper_id) if helper_id else None,
            after=after,
            limit=first + 1,
            actor=actor,
        )
        return _assistance_page(rows, first, info)

    @strawberry.field(
        description="One technical-support request by id (null when absent or not yours to "
        "see: the township, the department and the supervising roles see it)."
    )
    async def technical_support_request(
        self, info: Info, id: strawberry.ID
    ) -> TechnicalSupportRequest | None:
        actor = actor_of(info.context.principal())
        r = await info.context.technical_support.visible(str(id), actor=actor)
        return TechnicalSupportRequest.of(r, info) if r else None

    @strawberry.field(
        description="Technical-support requests of an agency, by id; only those you are a "
        "party to unless your role supervises."
    )
    async def technical_support_requests(
        self,
        info: Info,
        agency_id: strawberry.ID | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> TechnicalSupportRequestConnection:
        actor = actor_of(info.context.principal())
        first = _page(first)
        rows = await info.context.technical_support.list_visible(
            agency_id=str(agency_id) if agency_id else None,
            after=after,
            limit=first + 1,
            actor=actor,
        )
        return _connection(
            rows,
            first,
            info,
            TechnicalSupportRequestConnection,
            TechnicalSupportRequestEdge,
            TechnicalSupportRequest,
        )

    @strawberry.field(
        description="One information query by id, without the answer's content (null when "
        "absent or not yours to see: the requester, the holder and the supervising roles)."
    )
    async def information_query(self, info: Info, id: strawberry.ID) -> InformationQuery | None:
        actor = actor_of(info.context.principal())
        q = await info.context.information.visible(str(id), actor=actor)
        return InformationQuery.of(q, info) if q else None

    @strawberry.field(
        description="Information queries an agency asked or holds, by id; only those you are "
        "a party to unless your role supervises."
    )
    async def information_queries(
        self,
        info: Info,
        agency_id: strawberry.ID | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> InformationQueryConnection:
        actor = actor_of(info.context.principal())
        first = _page(first)
        rows = await info.context.information.list_visible(
            agency_id=str(agency_id) if agency_id else None,
            after=after,
            limit=first + 1,
            actor=actor,
        )
        return _connection(
            rows, first, info, InformationQueryConnection, InformationQueryEdge, InformationQuery
        )

    @strawberry.field(
        description="Who read an answer, when (R-INF-01): for the data's owner and supervisors."
    )
    async def information_answer_access_log(
        self, info: Info, query_id: strawberry.ID
    ) -> list[InformationAnswerAccess]:
        actor = actor_of(info.context.principal())
        try:
            rows = await info.context.information.access_log_of(str(query_id), actor=actor)
        except DomainError as exc:
            raise graphql_error(exc.message, exc.code, field=exc.field) from exc
        return [
            InformationAnswerAccess(
                reader_id=a.reader_id,
                reader_agency_id=strawberry.ID(a.reader_agency_id) if a.reader_agency_id else None,
                classification=a.classification,
                at=a.at,
            )
            for a in rows
        ]


@strawberry.type
class CooperationMutation:
    @strawberry.mutation(
        description="R-AST-01: ask for assistance with a letter, or by phone first when urgent."
    )
    async def request_assistance(
        self, info: Info, input: RequestAssistanceInput
    ) -> AssistanceResult:
        p = info.context.principal()
        call = input.phone_call
        cmd = RequestAssistance(
            requester_id=str(input.requester_id),
            helper_id=str(input.helper_id),
            matters=tuple(input.matters),
            urgent=input.urgent,
            letter_number=input.letter_number,
            phone_call=PhoneCallInput(call.caller, call.called, call.at) if call else None,
        )
        return await _run(
            info.context.assistance.request(
                cmd, actor=actor_of(p), correlation_id=info.context.correlation_id
            ),
            lambda r: AssistanceRequest.of(r, info),
        )

    @strawberry.mutation(description="R-AST-01: the written letter after a phone request.")
    async def send_assistance_letter(
        self, info: Info, request_id: strawberry.ID, letter_number: str
    ) -> AssistanceResult:
        p = info.context.principal()
        return await _run(
            info.context.assistance.send_letter(
                str(request_id),
                letter_number,
                actor=actor_of(p),
                correlation_id=info.context.correlation_id,
            ),
            lambda r: AssistanceRequest.of(r, info),
        )

    @strawberry.mutation(
        description="R-AST-01/02: the reply letter: help (urgent: at once; otherwise from the "
        "agreed date) or refuse on cited legal grounds."
    )
    async def reply_to_assistance(
        self, info: Info, input: ReplyToAssistanceInput
    ) -> AssistanceResult:
        p = info.context.principal()
        cmd = ReplyToAssistance(
            request_id=str(input.request_id),
            will_help=input.will_help,
            reply_letter_number=input.reply_letter_number,
            agreed_start_on=input.agreed_start_on,
            refusal_grounds=input.refusal_grounds,
            legal_provision=input.legal_provision,
        )
        return await _run(
            info.context.assistance.reply(
                cmd, actor=actor_of(p), correlation_id=info.context.correlation_id
            ),
            lambda r: AssistanceRequest.of(r, info),
        )

    @strawberry.mutation(description="R-AST-02: the requester disputes a refusal (legal office).")
    async def refer_assistance_to_mediation(
        self, info: Info, request_id: strawberry.ID, disagreement: str
    ) -> AssistanceResult:
        p = info.context.principal()
        return await _run(
            info.context.assistance.refer_to_mediation(
                str(request_id),
                disagreement,
                actor=actor_of(p),
                correlation_id=info.context.correlation_id,
            ),
            lambda r: AssistanceRequest.of(r, info),
        )

    @strawberry.mutation(description="R-AST-02: the legal office records the mediation outcome.")
    async def record_assistance_mediation(
        self,
        info: Info,
        request_id: strawberry.ID,
        outcome: AssistanceMediationOutcome,
        basis: str,
    ) -> AssistanceResult:
        p = info.context.principal()
        return await _run(
            info.context.assistance.record_mediation(
                str(request_id),
                outcome.value,
                basis,
                actor=actor_of(p),
                correlation_id=info.context.correlation_id,
            ),
            lambda r: AssistanceRequest.of(r, info),
        )

    @strawberry.mutation(description="Results both ways: the helper's or the requester's report.")
    async def report_assistance_result(
        self, info: Info, request_id: strawberry.ID, summary: str
    ) -> AssistanceResult:
        p = info.context.principal()
        return await _run(
            info.context.assistance.report_result(
                str(request_id),
                summary,
                actor=actor_of(p),
                correlation_id=info.context.correlation_id,
            ),
            lambda r: AssistanceRequest.of(r, info),
        )

    @strawberry.mutation(description="R-TEC-01: a township's cooperation document.")
    async def request_technical_support(
        self, info: Info, input: RequestTechnicalSupportInput
    ) -> TechnicalResult:
        p = info.context.principal()
        cmd = RequestTechnicalSupport(
            township_id=str(input.township_id),
            department_id=str(input.department_id),
            kind=input.kind.value,
            question=input.question,
            document_number=input.document_number,
            urgent=input.urgent,
            evidence_at_risk=input.evidence_at_risk,
        )
        return await _run(
            info.context.technical_support.request(
                cmd, actor=actor_of(p), correlation_id=info.context.correlation_id
            ),
            lambda r: TechnicalSupportRequest.of(r, info),
        )

    @strawberry.mutation(description="R-TEC-01: staff sent on site (who; when is now).")
    async def dispatch_technical_staff(
        self, info: Info, request_id: strawberry.ID, staff: list[str]
    ) -> TechnicalResult:
        p = info.context.principal()
        return await _run(
            info.context.technical_support.dispatch_on_site(
                str(request_id),
                tuple(staff),
                actor=actor_of(p),
                correlation_id=info.context.correlation_id,
            ),
            lambda r: TechnicalSupportRequest.of(r, info),
        )

    @strawberry.mutation(
        description="R-TEC-01: extend the limit to workingDays in all (from the request), "
        "announced before the limit runs out, never past the district's maximum."
    )
    async def extend_technical_support(
        self, info: Info, request_id: strawberry.ID, working_days: int, reason: str
    ) -> TechnicalResult:
        p = info.context.principal()
        return await _run(
            info.context.technical_support.extend(
                str(request_id),
                working_days,
                reason,
                actor=actor_of(p),
                correlation_id=info.context.correlation_id,
            ),
            lambda r: TechnicalSupportRequest.of(r, info),
        )

    @strawberry.mutation(description="R-TEC-02: the written answer, stating a conclusion.")
    async def answer_technical_support(
        self, info: Info, input: AnswerTechnicalSupportInput
    ) -> TechnicalResult:
        p = info.context.principal()
        cmd = AnswerTechnicalSupport(
            request_id=str(input.request_id),
            conclusion=input.answer.conclusion or "",
            current_state_description=input.answer.current_state_description or "",
            document_number=input.document_number,
        )
        return await _run(
            info.context.technical_support.answer(
                cmd, actor=actor_of(p), correlation_id=info.context.correlation_id
            ),
            lambda r: TechnicalSupportRequest.of(r, info),
        )

    @strawberry.mutation(description="R-INF-01: ask another agency for information.")
    async def ask_information(self, info: Info, input: AskInformationInput) -> InformationResult:
        p = info.context.principal()
        cmd = AskInformation(
            requester_id=str(input.requester_id),
            holder_id=str(input.holder_id),
            subject=input.subject,
            purpose=input.purpose,
            urgent=input.urgent,
        )
        return await _run(
            info.context.information.ask(
                cmd, actor=actor_of(p), correlation_id=info.context.correlation_id
            ),
            lambda q: InformationQuery.of(q, info),
        )

    @strawberry.mutation(
        description="R-INF-01: answer free of charge, recording the data's classification."
    )
    async def answer_information_query(
        self, info: Info, input: AnswerInformationQueryInput
    ) -> InformationResult:
        p = info.context.principal()
        cmd = AnswerInformation(
            query_id=str(input.query_id),
            content=input.content,
            classification=input.classification.value,
            fee_yuan=input.fee_yuan,
        )
        return await _run(
            info.context.information.answer(
                cmd, actor=actor_of(p), correlation_id=info.context.correlation_id
            ),
            lambda q: InformationQuery.of(q, info),
        )

    @strawberry.mutation(description="R-INF-01: decline (secrecy only with a cited law).")
    async def decline_information_query(
        self, info: Info, input: DeclineInformationQueryInput
    ) -> InformationResult:
        p = info.context.principal()
        return await _run(
            info.context.information.decline(
                str(input.query_id),
                input.grounds.value,
                input.reason,
                input.legal_provision,
                actor=actor_of(p),
                correlation_id=info.context.correlation_id,
            ),
            lambda q: InformationQuery.of(q, info),
        )

    @strawberry.mutation(
        description="R-INF-01: read an answer's content (classification permitting); the "
        "reading is logged (who, when)."
    )
    async def read_information_answer(
        self, info: Info, query_id: strawberry.ID
    ) -> InformationAnswerResult:
        p = info.context.principal()

        def convert(a: inf.QueryAnswer) -> InformationAnswer:
            return InformationAnswer(
                query_id=query_id,
                content=a.content,
                classification=a.classification,
                answered_by=a.answered_by,
                answered_at=a.answered_at,
                late=a.late,
            )

        return await _run(
            info.context.information.read_answer(
                str(query_id), actor=actor_of(p), correlation_id=info.context.correlation_id
            ),
            convert,
        )
