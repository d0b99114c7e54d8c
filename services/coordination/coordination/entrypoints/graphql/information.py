"""Information queries in the graph (信息查询, R-INF-01): asking, answering free of charge
with a classification, declining, and reading an answer. Reading an answer is a mutation
because it writes the access log (who, when). Mutations return ``Result | UserError``."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry

from coordination.application.actions import information_actions
from coordination.application.information import (
    AnswerInformation,
    AskInformation,
    DeclineInformationQuery,
    InformationQueryHandlers,
    ReadInformationAnswer,
)
from coordination.domain import information as inf
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
    as_result,
    clocks_and_history,
)
from kernel.caller import Caller
from kernel.errors import DomainError, ValidationFailed
from kernel.graphql import (
    INPUT,
    UserError,
    expose_enum,
    graphql_error,
    mirrored,
    moved,
    refusals_at,
    replaced_by,
)

expose_enum(
    inf.Classification,
    "InformationClassification",
    "public (公开), internal (内部), confidential: only the parties read it",
    {
        "public": "公开: anyone of the district may read it",
        "internal": "内部: the parties' staff",
        "confidential": "confidential: only the parties read it, each reading logged",
    },
)
expose_enum(
    inf.QueryStatus,
    "InformationQueryStatus",
    "Where an information query (信息查询) stands (R-INF-01)",
    {
        "asked": "awaiting the holder's answer",
        "answered": "the holder answered (reading the answer is logged)",
        "declined": "the holder declined (secrecy with a cited provision, or not held)",
    },
)
expose_enum(
    inf.DeclineGrounds,
    "InformationDeclineGrounds",
    "secrecy (only with a cited legal provision) or not_held",
    {
        "secrecy": "保密: only with a cited legal provision",
        "not_held": "the holder does not hold it",
    },
)
InformationClassification = inf.Classification
InformationQueryStatus = inf.QueryStatus
InformationDeclineGrounds = inf.DeclineGrounds


@strawberry.type(description="Why a query was not answered (R-INF-01).")
class InformationDecline:
    grounds: InformationDeclineGrounds = strawberry.field(description="secrecy or not_held")
    reason: str = strawberry.field(description="why it is not answered, in writing")
    legal_provision: str = strawberry.field(description="the provision cited (secrecy)")
    declined_by: str = strawberry.field(description="who declined (person id)")
    at: datetime = strawberry.field(description="when it was declined")


@strawberry.federation.type(
    keys=["id"], description="An information query between agencies (信息查询, R-INF-01)."
)
class InformationQuery(RequestNode):
    handlers_of = "information"
    listed_by = "asked_at"

    id: strawberry.ID = strawberry.field(description="the query's id")
    requester_id: strawberry.ID = strawberry.field(description="the asking agency")
    holder_id: strawberry.ID = strawberry.field(
        description="the agency asked (holds the information)"
    )
    subject: str = strawberry.field(description="what information is asked for")
    purpose: str = strawberry.field(description="why the information is needed")
    urgent: bool = strawberry.field(description="urgent: the shorter limit applies")
    status: InformationQueryStatus = strawberry.field(description="where the query stands")
    asked_at: datetime = strawberry.field(description="when it was asked")
    classification: InformationClassification | None = strawberry.field(
        description="of the answer; read the content with readInformationAnswer (logged)"
    )
    answered_at: datetime | None = strawberry.field(description="when it was answered")
    decline: InformationDecline | None = strawberry.field(
        description="the refusal and its grounds, if declined"
    )
    deadlines: list[CooperationDeadline] = strawberry.field(description="its clock")
    history: list[CooperationTransition] = strawberry.field(
        description="every step taken on it, oldest first"
    )

    requester = agency_field("requester_id", "the asking agency, resolved")
    holder = agency_field("holder_id", "the agency asked, resolved")

    viewer_can, available_actions = actions_of(
        information_actions, "information", "information query"
    )

    @classmethod
    def of(cls, q: inf.InformationQuery, info: Info) -> InformationQuery:
        a = q.answer
        return mirrored(
            cls,
            q,
            classification=a.classification if a else None,
            answered_at=a.answered_at if a else None,
            decline=mirrored(InformationDecline, q.decline) if q.decline else None,
            **clocks_and_history(q, info),
        )


@strawberry.type(description="The content of an answer; reading it is logged.")
class InformationAnswer:
    query_id: strawberry.ID = strawberry.field(description="the query answered")
    content: str = strawberry.field(description="the information given")
    classification: InformationClassification = strawberry.field(
        description="public, internal or confidential"
    )
    answered_by: str = strawberry.field(description="who answered (person id)")
    answered_at: datetime = strawberry.field(description="when it was answered")
    late: bool = strawberry.field(description="it came after the limit")


@strawberry.type(description="One reading of an answer (who, when), R-INF-01.")
class InformationAnswerAccess:
    reader_id: str = strawberry.field(description="who read it (person id)")
    reader_agency_id: strawberry.ID | None = strawberry.field(description="the reader's agency")
    classification: InformationClassification = strawberry.field(
        description="the answer's classification then"
    )
    at: datetime = strawberry.field(description="when it was read")

    reader_agency = agency_field("reader_agency_id", "the reader's agency, resolved")


if TYPE_CHECKING:
    InformationResult = InformationQuery | UserError
    InformationAnswerResult = InformationAnswer | UserError
else:
    InformationResult = request_result(InformationQuery)
    InformationAnswerResult = request_result(InformationAnswer)
InformationQueryFilter = request_filter(InformationQuery, inf.QueryStatus)


@strawberry.input(
    description="An information query to the agency that holds the information (R-INF-01)."
)
class AskInformationInput:
    requester_id: strawberry.ID = strawberry.field(description="the asking agency (yours)")
    holder_id: strawberry.ID = strawberry.field(description="the agency that holds the information")
    subject: str = strawberry.field(description="what information is asked for")
    purpose: str = strawberry.field(description="why it is needed")
    urgent: bool = strawberry.field(default=False, description="urgent: the shorter limit applies")


@strawberry.input(description="The holder's answer to an information query (R-INF-01).")
class AnswerInformationQueryInput:
    query_id: strawberry.ID = strawberry.field(description="the query answered")
    content: str = strawberry.field(description="the information given")
    classification: InformationClassification = strawberry.field(
        description="how the information is classified (public, internal, confidential)"
    )
    fee_yuan: Decimal | None = strawberry.field(
        default=None,
        description="queries are free (R-INF-01): any fee is refused",
        deprecation_reason=replaced_by("feeFen", "integer fen, 分"),
    )
    fee_fen: int | None = strawberry.field(
        default=None,
        description="the fee in fen (分): queries are free (R-INF-01), so anything but 0 is "
        "refused",
    )

    def fee(self) -> Decimal | None:
        """The fee in yuan as the command takes it, from `feeFen` or the deprecated
        `feeYuan` (both only when equal); a negative `feeFen` is bad input."""
        if self.fee_fen is None:
            return self.fee_yuan
        if self.fee_fen < 0:
            raise ValidationFailed("a fee cannot be negative", field="feeFen", code="OUT_OF_RANGE")
        yuan = Decimal(self.fee_fen) / 100
        if self.fee_yuan is not None and self.fee_yuan != yuan:
            raise ValidationFailed(
                f"feeFen ({self.fee_fen}) and the deprecated feeYuan ({self.fee_yuan}) differ; "
                "give feeFen only",
                field="feeFen",
                code="INPUTS_DISAGREE",
            )
        return yuan


@strawberry.input(
    description="The holder's refusal of an information query, with its grounds (R-INF-01)."
)
class DeclineInformationQueryInput:
    query_id: strawberry.ID = strawberry.field(description="the query declined")
    grounds: InformationDeclineGrounds = strawberry.field(description="secrecy or not held")
    reason: str = strawberry.field(description="why it is not answered, in writing")
    legal_provision: str = strawberry.field(default="", description="required for secrecy")


# The root fields (the object type InformationQuery is the query itself).
@strawberry.type
class InformationQueries:
    information_query = InformationQuery.read_field(
        "One information query by id, without the answer's content (null when absent or not "
        "yours to see: the requester, the holder and the supervising roles)."
    )
    information_queries = InformationQuery.list_field(
        "Information queries (信息查询) an agency asked or holds, newest first by the time "
        "they were asked; only those you are a party to unless your role supervises.",
        InformationQueryFilter,
    )

    @strawberry.field(
        description="Who read an answer, when (R-INF-01): for the data's owner and supervisors."
    )
    async def information_answer_access_log(
        self,
        info: Info,
        query_id: Annotated[
            strawberry.ID, strawberry.argument(description="the information query's id")
        ],
    ) -> list[InformationAnswerAccess]:
        caller = info.context.caller()
        try:
            rows = await info.context.information.access_log_of(str(query_id), caller)
        except DomainError as exc:
            raise graphql_error(exc.message, exc.stable_code, field=exc.field) from exc
        return [mirrored(InformationAnswerAccess, a) for a in rows]


@strawberry.type
class InformationMutation:
    @strawberry.mutation(description="R-INF-01: ask another agency for information.")
    async def ask_information(
        self, info: Info, input: Annotated[AskInformationInput, INPUT]
    ) -> InformationResult:
        cmd = AskInformation(
            requester_id=str(input.requester_id),
            holder_id=str(input.holder_id),
            subject=input.subject,
            purpose=input.purpose,
            urgent=input.urgent,
        )
        return await InformationQuery.result_of(info, lambda h, caller: h.ask(cmd, caller))

    @strawberry.mutation(
        description="R-INF-01: answer free of charge, recording the data's classification."
    )
    async def answer_information_query(
        self, info: Info, input: Annotated[AnswerInformationQueryInput, INPUT]
    ) -> InformationResult:
        def answer(h: InformationQueryHandlers, caller: Caller) -> Awaitable[inf.InformationQuery]:
            cmd = AnswerInformation(
                query_id=str(input.query_id),
                content=input.content,
                classification=input.classification.value,
                fee_yuan=input.fee(),
            )
            return refusals_at(h.answer(cmd, caller), moved(input.fee_yuan, "feeYuan", "feeFen"))

        return await InformationQuery.result_of(info, answer)

    @strawberry.mutation(description="R-INF-01: decline (secrecy only with a cited law).")
    async def decline_information_query(
        self, info: Info, input: Annotated[DeclineInformationQueryInput, INPUT]
    ) -> InformationResult:
        cmd = DeclineInformationQuery(
            str(input.query_id), input.grounds.value, input.reason, input.legal_provision
        )
        return await InformationQuery.result_of(info, lambda h, caller: h.decline(cmd, caller))

    @strawberry.mutation(
        description="R-INF-01: read an answer's content (classification permitting); the "
        "reading is logged (who, when)."
    )
    async def read_information_answer(
        self,
        info: Info,
        query_id: Annotated[
            strawberry.ID,
            strawberry.argument(
                description="the query whose answer is read (the reading is logged)"
            ),
        ],
    ) -> InformationAnswerResult:
        caller = info.context.caller()
        return await as_result(
            info.context.information.read_answer(ReadInformationAnswer(str(query_id)), caller),
            lambda a: mirrored(InformationAnswer, a, query_id=query_id),
        )
