"""The referral subgraph: Referral is an entity; Agency is referenced by id and resolved by
the coordination subgraph."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.federation import Schema
from strawberry.federation.schema_directives import Key
from strawberry.federation.types import FieldSet

from kernel.auth import TokenVerifier
from kernel.calendar import WorkingCalendar
from kernel.errors import DomainError
from kernel.graphql import PageInfo, RequestContext, UserError, schema_extensions
from referral.adapters.repository import ReferralRepository
from referral.application.handlers import DraftReferral, ReferralHandlers
from referral.domain.model import DeadlineInfo
from referral.domain.model import Referral as ReferralModel
from referral.domain.model import Status as DomainStatus

# The domain's enum is registered with the graph as is (one source of truth for the values).
strawberry.enum(
    DomainStatus, name="ReferralStatus", description="Where a referral stands in its lifecycle"
)
ReferralStatus = DomainStatus


class ReferralContext(RequestContext):
    def __init__(
        self,
        verifier: TokenVerifier,
        district: str,
        handlers: ReferralHandlers,
        referrals: ReferralRepository,
        calendar: WorkingCalendar,
    ) -> None:
        super().__init__(verifier, district)
        self.handlers = handlers
        self.referrals = referrals
        self.calendar = calendar
        self.referral_loader: DataLoader[str, ReferralModel | None] = DataLoader(self._load)

    async def _load(self, ids: list[str]) -> list[ReferralModel | None]:
        found = await self.referrals.get_many(ids)
        return [found.get(i) for i in ids]


Info = strawberry.Info[ReferralContext, None]


@strawberry.federation.type(keys=[Key(fields=FieldSet("id"), resolvable=False)])
class Agency:
    id: strawberry.ID


@strawberry.type(description="A deadline and how it was computed.")
class ReferralDeadline:
    kind: str = strawberry.field(description="accept | send | report")
    due: datetime
    explanation: str = strawberry.field(description="how the due time was computed (Chinese)")
    remaining_working_days: int = strawberry.field(
        description="working days left; negative when overdue"
    )
    overdue: bool

    @classmethod
    def from_info(cls, d: DeadlineInfo, calendar: WorkingCalendar) -> ReferralDeadline:
        now = datetime.now(UTC)
        return cls(
            kind=d.kind,
            due=d.due,
            explanation=calendar.explain_dict(d.explanation, lang="zh"),
            remaining_working_days=calendar.working_days_between(now, d.due),
            overdue=now > d.due,
        )


@strawberry.type(description="One recorded transition: who did what, when, from which state.")
class ReferralTransition:
    action: str
    actor_id: str
    actor_name: str
    agency_id: str
    at: datetime
    before: ReferralStatus | None
    after: ReferralStatus
    note: str


@strawberry.federation.type(keys=["id"], description="A case transfer (案件移送).")
class Referral:
    id: strawberry.ID
    status: ReferralStatus
    matter_code: str
    title: str
    facts: str
    party: str
    place: str
    found_at: datetime
    urgent: bool
    created_at: datetime
    sent_at: datetime | None
    sender: Agency
    receiver: Agency
    accept_deadline: ReferralDeadline | None
    history: list[ReferralTransition]

    @classmethod
    def from_model(cls, r: ReferralModel, calendar: WorkingCalendar) -> Referral:
        return cls(
            id=strawberry.ID(r.id),
            status=r.status,
            matter_code=r.matter_code,
            title=r.title,
            facts=r.facts,
            party=r.party,
            place=r.place,
            found_at=r.found_at,
            urgent=r.urgent,
            created_at=r.created_at,
            sent_at=r.sent_at,
            sender=Agency(id=strawberry.ID(r.sender_id)),
            receiver=Agency(id=strawberry.ID(r.receiver_id)),
            accept_deadline=(
                ReferralDeadline.from_info(r.accept_deadline, calendar)
                if r.accept_deadline
                else None
            ),
            history=[
                ReferralTransition(
                    action=t.action,
                    actor_id=t.actor_id,
                    actor_name=t.actor_name,
                    agency_id=t.agency_id,
                    at=t.at,
                    before=t.before,
                    after=t.after,
                    note=t.note,
                )
                for t in r.history
            ],
        )

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Referral | None:
        info.context.principal()
        model = await info.context.referral_loader.load(str(id))
        return cls.from_model(model, info.context.calendar) if model else None


@strawberry.type
class ReferralEdge:
    cursor: str
    node: Referral


@strawberry.type
class ReferralConnection:
    edges: list[ReferralEdge]
    page_info: PageInfo


@strawberry.type
class Query:
    @strawberry.field(description="One referral by id.")
    async def referral(self, info: Info, id: strawberry.ID) -> Referral | None:
        info.context.principal()
        model = await info.context.referral_loader.load(str(id))
        return Referral.from_model(model, info.context.calendar) if model else None

    @strawberry.field(description="Referrals, filtered, cursor-paginated by id.")
    async def referrals(
        self,
        info: Info,
        status: ReferralStatus | None = None,
        sender_id: strawberry.ID | None = None,
        receiver_id: strawberry.ID | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> ReferralConnection:
        info.context.principal()
        first = max(1, min(first, 200))
        rows = await info.context.referrals.list(
            status=status.value if status else None,
            sender_id=str(sender_id) if sender_id else None,
            receiver_id=str(receiver_id) if receiver_id else None,
            after=after,
            limit=first + 1,
        )
        page = rows[:first]
        cal = info.context.calendar
        return ReferralConnection(
            edges=[ReferralEdge(cursor=r.id, node=Referral.from_model(r, cal)) for r in page],
            page_info=PageInfo(
                has_next_page=len(rows) > first, end_cursor=page[-1].id if page else None
            ),
        )


@strawberry.input
class DraftReferralInput:
    sender_id: strawberry.ID
    receiver_id: strawberry.ID
    matter_code: str
    title: str
    facts: str = strawberry.field(description="基本违法事实, in writing")
    party: str = ""
    place: str = ""
    found_at: datetime = strawberry.field(description="when the violation was found")
    urgent: bool = False


ReferralResult = Annotated[Referral | UserError, strawberry.union("ReferralResult")]


async def _run(info: Info, action: Any) -> Referral | UserError:
    try:
        model = await action
    except DomainError as exc:
        return UserError(code=exc.code, message=exc.message, field=exc.field)
    return Referral.from_model(model, info.context.calendar)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Start a referral in the sending agency.")
    async def draft_referral(self, info: Info, input: DraftReferralInput) -> ReferralResult:
        p = info.context.principal()
        if input.found_at.tzinfo is None:
            return UserError(
                code="VALIDATION_FAILED",
                message="foundAt needs a time zone offset, e.g. 2026-03-02T09:00:00+08:00",
                field="foundAt",
            )
        cmd = DraftReferral(
            sender_id=str(input.sender_id),
            receiver_id=str(input.receiver_id),
            matter_code=input.matter_code,
            title=input.title,
            facts=input.facts,
            party=input.party,
            place=input.place,
            found_at=input.found_at,
            urgent=input.urgent,
        )
        return await _run(
            info, info.context.handlers.draft_referral(cmd, p, info.context.correlation_id)
        )

    @strawberry.mutation(description="Submit a draft to the agency's leader for approval.")
    async def submit_referral(self, info: Info, id: strawberry.ID) -> ReferralResult:
        p = info.context.principal()
        return await _run(
            info, info.context.handlers.submit_for_approval(str(id), p, info.context.correlation_id)
        )

    @strawberry.mutation(description="A leader of the sending agency approves (R-REF-03).")
    async def approve_referral(self, info: Info, id: strawberry.ID) -> ReferralResult:
        p = info.context.principal()
        return await _run(
            info, info.context.handlers.approve(str(id), p, info.context.correlation_id)
        )

    @strawberry.mutation(description="Send an approved referral to the receiving agency.")
    async def send_referral(self, info: Info, id: strawberry.ID) -> ReferralResult:
        p = info.context.principal()
        return await _run(info, info.context.handlers.send(str(id), p, info.context.correlation_id))


def build_schema(production: bool = False) -> Schema:
    return Schema(
        query=Query,
        mutation=Mutation,
        types=[Referral, Agency, UserError],
        federation_version="2.9",
        extensions=schema_extensions(production),
    )
