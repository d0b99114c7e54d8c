"""The coordination subgraph: Agency is the entity other subgraphs extend."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.federation import Schema

from coordination.adapters.repository import (
    AgencyRepository,
    CatalogueRepository,
    DisputeRepository,
)
from coordination.application.catalogue import CatalogueHandlers
from coordination.application.cooperation import (
    AssistanceHandlers,
    InformationQueryHandlers,
    TechnicalSupportHandlers,
)
from coordination.application.disputes import DisputeHandlers
from coordination.application.handlers import CoordinationHandlers, RegisterAgency
from coordination.application.joint import JointHandlers
from coordination.application.meetings import MeetingHandlers
from coordination.domain.model import Agency as AgencyModel
from coordination.domain.model import AgencyKind as DomainAgencyKind
from coordination.domain.model import Liaison as LiaisonModel
from kernel.auth import TokenVerifier
from kernel.calendar import WorkingCalendar
from kernel.errors import DomainError
from kernel.graphql import PageInfo, RequestContext, UserError, schema_extensions

# The domain's enum is exposed as is (one source of truth for the values).
strawberry.enum(DomainAgencyKind, name="AgencyKind", description="R-AG-01 kinds of agency")
AgencyKind = DomainAgencyKind


class CoordinationContext(RequestContext):
    def __init__(
        self,
        verifier: TokenVerifier,
        district: str,
        handlers: CoordinationHandlers,
        agencies: AgencyRepository,
        catalogue_handlers: CatalogueHandlers,
        dispute_handlers: DisputeHandlers,
        calendar: WorkingCalendar,
        assistance: AssistanceHandlers,
        technical_support: TechnicalSupportHandlers,
        information: InformationQueryHandlers,
        *,
        meetings: MeetingHandlers | None = None,
        joint: JointHandlers,
    ) -> None:
        super().__init__(verifier, district)
        self.joint = joint  # joint enforcement (R-JNT-01…05)
        self.meetings = meetings  # consultation meetings (R-MTG-01)
        self.assistance = assistance
        self.technical_support = technical_support
        self.information = information
        self.handlers = handlers
        self.agencies = agencies
        self.catalogue_handlers = catalogue_handlers
        self.dispute_handlers = dispute_handlers
        self.catalogue: CatalogueRepository = catalogue_handlers.catalogue
        self.disputes: DisputeRepository = dispute_handlers.disputes
        self.calendar = calendar
        self.agency_loader: DataLoader[str, AgencyModel | None] = DataLoader(self._load_agencies)

    async def _load_agencies(self, ids: list[str]) -> list[AgencyModel | None]:
        found = await self.agencies.get_many(ids)
        return [found.get(i) for i in ids]


Info = strawberry.Info[CoordinationContext, None]


@strawberry.type(description="A liaison person (联络员) of an agency, R-AG-03.")
class Liaison:
    name: str
    phone: str
    duty: str


@strawberry.federation.type(keys=["id"], description="An agency (执法主体 / 单位) of the district.")
class Agency:
    id: strawberry.ID
    name: str
    kind: AgencyKind
    district: str
    internal_unit: bool = strawberry.field(
        description="内设机构/直属机构/派出机构: never sends or receives a referral (R-AG-02)"
    )
    parent_id: strawberry.ID | None
    liaisons: list[Liaison]

    @classmethod
    def from_model(cls, a: AgencyModel) -> Agency:
        return cls(
            id=strawberry.ID(a.id),
            name=a.name,
            kind=a.kind,
            district=a.district,
            internal_unit=a.internal_unit,
            parent_id=strawberry.ID(a.parent_id) if a.parent_id else None,
            liaisons=[Liaison(name=x.name, phone=x.phone, duty=x.duty) for x in a.liaisons],
        )

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Agency | None:
        info.context.principal()
        model = await info.context.agency_loader.load(str(id))
        return cls.from_model(model) if model else None


@strawberry.type
class AgencyEdge:
    cursor: str
    node: Agency


@strawberry.type
class AgencyConnection:
    edges: list[AgencyEdge]
    page_info: PageInfo


@strawberry.type
class AgencyQuery:
    @strawberry.field(description="One agency by id.")
    async def agency(self, info: Info, id: strawberry.ID) -> Agency | None:
        info.context.principal()
        model = await info.context.agency_loader.load(str(id))
        return Agency.from_model(model) if model else None

    @strawberry.field(description="Agencies of the district, by id, cursor-paginated.")
    async def agencies(
        self,
        info: Info,
        kind: AgencyKind | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> AgencyConnection:
        info.context.principal()
        first = max(1, min(first, 200))
        rows = await info.context.agencies.list(
            kind=kind.value if kind else None, after=after, limit=first + 1
        )
        page = rows[:first]
        return AgencyConnection(
            edges=[AgencyEdge(cursor=a.id, node=Agency.from_model(a)) for a in page],
            page_info=PageInfo(
                has_next_page=len(rows) > first, end_cursor=page[-1].id if page else None
            ),
        )


@strawberry.input
class LiaisonInput:
    name: str
    phone: str
    duty: str = "referral"


@strawberry.input
class RegisterAgencyInput:
    id: strawberry.ID
    name: str
    kind: AgencyKind
    internal_unit: bool = False
    parent_id: strawberry.ID | None = None
    liaisons: list[LiaisonInput] = strawberry.field(default_factory=list)


RegisterAgencyResult = Annotated[Agency | UserError, strawberry.union("RegisterAgencyResult")]


@strawberry.type
class AgencyMutation:
    @strawberry.mutation(description="Register an agency or update its registration.")
    async def register_agency(self, info: Info, input: RegisterAgencyInput) -> RegisterAgencyResult:
        principal = info.context.principal()
        try:
            agency = await info.context.handlers.register_agency(
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
                ),
                actor=principal,
                correlation_id=info.context.correlation_id,
            )
        except DomainError as exc:
            return UserError(code=exc.code, message=exc.message, field=exc.field)
        return Agency.from_model(agency)


def build_schema(production: bool = False) -> Schema:
    from coordination.entrypoints.graphql.catalogue import CatalogueMutation, CatalogueQuery
    from coordination.entrypoints.graphql.cooperation import (
        CooperationMutation,
        CooperationQuery,
    )
    from coordination.entrypoints.graphql.disputes import Dispute, DisputeMutation, DisputeQuery
    from coordination.entrypoints.graphql.joint import JointMutation, JointQuery
    from coordination.entrypoints.graphql.meetings import MeetingMutation, MeetingQuery

    @strawberry.type
    class Query(
        AgencyQuery, CatalogueQuery, DisputeQuery, CooperationQuery, MeetingQuery, JointQuery
    ):
        pass

    @strawberry.type
    class Mutation(
        AgencyMutation,
        CatalogueMutation,
        DisputeMutation,
        CooperationMutation,
        MeetingMutation,
        JointMutation,
    ):
        pass

    return Schema(
        query=Query,
        mutation=Mutation,
        types=[Agency, Dispute, UserError],
        federation_version="2.9",
        extensions=schema_extensions(production),
    )
