"""Agencies in the graph (R-AG-01…03): the agency by id, the district's list, and the
registration command."""

from __future__ import annotations

from typing import Annotated

import strawberry

from coordination.application.handlers import RegisterAgency
from coordination.domain.model import Liaison as LiaisonModel
from coordination.entrypoints.graphql.types import Agency, AgencyKind, Info, as_result, connection
from kernel.graphql import INPUT, AfterArg, Connection, FirstArg, IdArg, UserError, page_size


@strawberry.type
class AgencyQuery:
    @strawberry.field(description="One agency by id.")
    async def agency(self, info: Info, id: IdArg) -> Agency | None:
        info.context.principal()
        model = await info.context.agency_loader.load(str(id))
        return Agency.from_model(model) if model else None

    @strawberry.field(description="Agencies of the district, by id, cursor-paginated.")
    async def agencies(
        self,
        info: Info,
        kind: Annotated[
            AgencyKind | None, strawberry.argument(description="only agencies of this kind")
        ] = None,
        first: FirstArg = 50,
        after: AfterArg = None,
    ) -> Connection[Agency]:
        info.context.principal()
        first = page_size(first)
        of_kind = kind.value if kind else None
        queries = info.context.queries
        rows = await queries.agencies(kind=of_kind, after=after, limit=first + 1)
        return connection(
            rows,
            first,
            cursor=lambda a: a.id,
            node=Agency.from_model,
            after=after,
            count=lambda: queries.agencies_count(kind=of_kind),
        )


@strawberry.input(description="An agency's liaison (联络员).")
class LiaisonInput:
    name: str = strawberry.field(description="the liaison's name")
    phone: str = strawberry.field(description="the liaison's phone")
    duty: str = strawberry.field(
        default="referral", description="what the liaison is responsible for"
    )


@strawberry.input(description="An agency to register, or its new registration (R-AG-01/02).")
class RegisterAgencyInput:
    id: strawberry.ID = strawberry.field(description="the agency's id")
    name: str = strawberry.field(
        description="its official name in Chinese, as letters and notices address it"
    )
    kind: AgencyKind = strawberry.field(description="what kind of agency it is")
    internal_unit: bool = strawberry.field(
        default=False, description="an internal unit (内设机构), which does not act in its own name"
    )
    parent_id: strawberry.ID | None = strawberry.field(
        default=None, description="the agency an internal unit belongs to"
    )
    liaisons: list[LiaisonInput] = strawberry.field(
        default_factory=list, description="its liaisons (联络员)"
    )
    document_code: str = strawberry.field(
        default="", description="机关代字 heading the agency's letter numbers, e.g. 抚市监"
    )
    commanded_by_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="A resident unit (派驻机构): the township that commands it (R-AG-01, HC #7)",
    )
    guided_by_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="A resident unit (派驻机构): the department that guides it (HC #7)",
    )


RegisterAgencyResult = Annotated[
    Agency | UserError,
    strawberry.union(
        "RegisterAgencyResult",
        description="What the mutation answers: the Agency as it is now, or the "
        "UserError that refused it (nothing was changed).",
    ),
]


@strawberry.type
class AgencyMutation:
    @strawberry.mutation(description="Register an agency or update its registration.")
    async def register_agency(
        self, info: Info, input: Annotated[RegisterAgencyInput, INPUT]
    ) -> RegisterAgencyResult:
        caller = info.context.caller()
        return await as_result(
            info.context.handlers.register_agency(
                RegisterAgency(
                    agency_id=str(input.id),
                    name=input.name,
                    kind=input.kind.value,
                    internal_unit=input.internal_unit,
                    parent_id=str(input.parent_id) if input.parent_id else None,
                    liaisons=tuple(
                        LiaisonModel(name=x.name, phone=x.phone, duty=x.duty)
                        for x in input.liaisons
                    ),
                    document_code=input.document_code,
                    commanded_by_id=str(input.commanded_by_id) if input.commanded_by_id else None,
                    guided_by_id=str(input.guided_by_id) if input.guided_by_id else None,
                ),
                caller,
            ),
            Agency.from_model,
        )
