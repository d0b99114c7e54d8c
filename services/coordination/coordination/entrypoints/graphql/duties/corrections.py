"""Correction opinions (纠正意见, R-NTF-05) in the graph."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Self

import strawberry

from coordination.application import duties as d
from coordination.domain import correction as cor
from coordination.entrypoints.graphql.duties.common import (
    CorrectionFinding,
    CorrectionStatus,
    DutyNode,
    paged,
)
from coordination.entrypoints.graphql.types import (
    CooperationDeadline,
    CooperationTransition,
    Info,
    agency_field,
    clocks_and_history,
)
from kernel.graphql import INPUT, UserError, mirrored


@strawberry.type(description="The township's reply: what it corrected.")
class CorrectionResponse:
    corrected: str = strawberry.field(description="what the township corrected")
    document_number: str = strawberry.field(description="the document's number (文号)")
    responded_by: str = strawberry.field(description="who replied (person)")
    responded_at: datetime = strawberry.field(description="when the township replied")
    late: bool = strawberry.field(description="after the limit")


@strawberry.federation.type(
    keys=["id"],
    description="A department's correction opinion (纠正意见) to a township, copied to the "
    "justice bureau (R-NTF-05).",
)
class CorrectionOpinion(DutyNode):
    duty = "corrections"

    id: strawberry.ID = strawberry.field(description="the correction opinion's id")
    department_id: strawberry.ID = strawberry.field(
        description="the agency id of the department that issues the opinion"
    )
    township_id: strawberry.ID = strawberry.field(
        description="the agency id of the township (乡镇) whose enforcement is corrected"
    )
    justice_bureau_id: strawberry.ID = strawberry.field(
        description="the justice bureau copied (抄送司法局)"
    )
    finding: CorrectionFinding = strawberry.field(
        description="wrong (执法错误) or unlawful (违法执法)"
    )
    case_reference: str = strawberry.field(description="the case or enforcement act concerned")
    problems: str = strawberry.field(description="what is wrong or unlawful")
    opinion: str = strawberry.field(description="the correction asked for (纠正意见)")
    document_number: str = strawberry.field(description="the document's number (文号)")
    status: CorrectionStatus = strawberry.field(description="where it stands")
    issued_at: datetime = strawberry.field(description="when the opinion was given")
    response_working_days: int = strawberry.field(
        description="working days the township has to reply (district policy)"
    )
    response: CorrectionResponse | None = strawberry.field(
        description="the township's reply, once given"
    )
    deadlines: list[CooperationDeadline] = strawberry.field(description="its statutory clocks")
    history: list[CooperationTransition] = strawberry.field(
        description="every recorded action (R-SUP-01)"
    )

    township = agency_field("township_id", "the township corrected; null when unknown")
    department = agency_field("department_id", "the department that issued it; null when unknown")

    @classmethod
    def of(cls, o: cor.CorrectionOpinion, info: Info) -> Self:
        return mirrored(
            cls,
            o,
            response=mirrored(CorrectionResponse, o.response) if o.response else None,
            **clocks_and_history(o, info),
        )


CorrectionOpinionConnection = paged(CorrectionOpinion, "correction opinion", "Correction opinions")


CorrectionResult = Annotated[
    CorrectionOpinion | UserError,
    strawberry.union(
        "CorrectionOpinionResult",
        description="The correction opinion, or why the command was refused",
    ),
]


@strawberry.input(description="R-NTF-05: a correction opinion to a township")
class IssueCorrectionOpinionInput:
    department_id: strawberry.ID = strawberry.field(
        description="the agency id of the department that issues the opinion"
    )
    township_id: strawberry.ID = strawberry.field(
        description="the agency id of the township (乡镇) whose enforcement is corrected"
    )
    finding: CorrectionFinding = strawberry.field(
        description="wrong (执法错误) or unlawful (违法执法)"
    )
    case_reference: str = strawberry.field(description="the case or enforcement act concerned")
    problems: str = strawberry.field(description="what is wrong or unlawful")
    opinion: str = strawberry.field(description="纠正意见")
    document_number: str = strawberry.field(description="文号")


@strawberry.type
class CorrectionQuery:
    correction_opinion = CorrectionOpinion.read_field(
        "One correction opinion (parties and supervising roles)."
    )
    correction_opinions = CorrectionOpinion.list_field(
        "Correction opinions you are a party to (or copied on)."
    )


@strawberry.type
class CorrectionMutation:
    @strawberry.mutation(
        description="R-NTF-05: a correction opinion to a township, copied to the justice bureau."
    )
    async def issue_correction_opinion(
        self,
        info: Info,
        input: Annotated[IssueCorrectionOpinionInput, INPUT],
    ) -> CorrectionResult:
        cmd = d.IssueCorrectionOpinion(
            department_id=str(input.department_id),
            township_id=str(input.township_id),
            finding=input.finding.value,
            case_reference=input.case_reference,
            problems=input.problems,
            opinion=input.opinion,
            document_number=input.document_number,
        )
        return await CorrectionOpinion.result_of(info, lambda h, caller: h.issue(cmd, caller))

    @strawberry.mutation(description="R-NTF-05: the township's reply: what it corrected.")
    async def respond_to_correction_opinion(
        self,
        info: Info,
        opinion_id: Annotated[
            strawberry.ID, strawberry.argument(description="the correction opinion")
        ],
        corrected: Annotated[str, strawberry.argument(description="what was corrected (纠正情况)")],
        document_number: Annotated[
            str, strawberry.argument(description="the document's number (文号)")
        ],
    ) -> CorrectionResult:
        cmd = d.RespondToCorrectionOpinion(str(opinion_id), corrected, document_number)
        return await CorrectionOpinion.result_of(info, lambda h, caller: h.respond(cmd, caller))
