"""The notify subgraph: inbox items, and the inbox fields it adds to Agency and Referral."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.federation import Schema

from kernel.auth import TokenVerifier
from kernel.errors import DomainError
from kernel.graphql import (
    ErrorCode,
    PageInfo,
    RequestContext,
    UserError,
    decode_cursor,
    encode_cursor,
    graphql_error,
    schema_extensions,
)
from notify.adapters.repository import InboxRepository
from notify.application.handlers import NotifyHandlers
from notify.domain.model import InboxItem as InboxItemModel

SUPERVISORY_ROLES = frozenset({"supervisor", "government"})


class NotifyContext(RequestContext):
    def __init__(
        self,
        verifier: TokenVerifier,
        district: str,
        handlers: NotifyHandlers,
        inbox: InboxRepository,
    ) -> None:
        super().__init__(verifier, district)
        self.handlers = handlers
        self.inbox = inbox
        self.notices_loader: DataLoader[str, list[InboxItemModel]] = DataLoader(self._by_subject)

    async def _by_subject(self, ids: list[str]) -> list[list[InboxItemModel]]:
        found = await self.inbox.for_subjects(ids)
        return [found.get(i, []) for i in ids]

    def may_read_inbox_of(self, agency_id: str) -> bool:
        p = self.principal()
        return p.agency_id == agency_id or bool(SUPERVISORY_ROLES & set(p.roles))


Info = strawberry.Info[NotifyContext, None]


@strawberry.type(description="An item in an agency's inbox (通知/待办), with its receipt (签收).")
class InboxItem:
    id: strawberry.ID
    agency_id: strawberry.ID
    kind: str
    title: str
    body: str
    subject_type: str
    subject_id: strawberry.ID
    created_at: datetime
    due_at: datetime | None
    urgent: bool
    read_at: datetime | None
    read_by: str | None

    @strawberry.field
    def unread(self) -> bool:
        return self.read_at is None

    @classmethod
    def from_model(cls, m: InboxItemModel) -> InboxItem:
        return cls(
            id=strawberry.ID(m.id),
            agency_id=strawberry.ID(m.agency_id),
            kind=m.kind,
            title=m.title,
            body=m.body,
            subject_type=m.subject_type,
            subject_id=strawberry.ID(m.subject_id),
            created_at=m.created_at,
            due_at=m.due_at,
            urgent=m.urgent,
            read_at=m.read_at,
            read_by=m.read_by,
        )


@strawberry.type
class InboxEdge:
    cursor: str
    node: InboxItem


@strawberry.type
class InboxConnection:
    edges: list[InboxEdge]
    page_info: PageInfo


async def _inbox_page(
    info: Info, agency_id: str, unread_only: bool, first: int, after: str | None
) -> InboxConnection:
    if not info.context.may_read_inbox_of(agency_id):
        raise graphql_error(
            "only staff of this agency or a supervisor may read its inbox", ErrorCode.FORBIDDEN
        )
    first = max(1, min(first, 200))
    before: tuple[datetime, str] | None = None
    if after:
        values = decode_cursor(after)
        try:
            before = (datetime.fromisoformat(str(values[0])), str(values[1]))
        except (IndexError, ValueError) as exc:
            raise graphql_error(f"invalid cursor {after!r}", ErrorCode.VALIDATION) from exc
    rows = await info.context.inbox.for_agency(
        agency_id, unread_only=unread_only, before=before, limit=first + 1
    )
    page = rows[:first]
    edges = [
        InboxEdge(
            cursor=encode_cursor([m.created_at.isoformat(), m.id]), node=InboxItem.from_model(m)
        )
        for m in page
    ]
    return InboxConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(rows) > first, end_cursor=edges[-1].cursor if edges else None
        ),
    )


@strawberry.federation.type(keys=["id"])
class Agency:
    id: strawberry.ID

    @strawberry.field(description="This agency's inbox, newest first.")
    async def inbox(
        self, info: Info, unread_only: bool = False, first: int = 20, after: str | None = None
    ) -> InboxConnection:
        return await _inbox_page(info, str(self.id), unread_only, first, after)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Agency:
        return cls(id=id)


@strawberry.federation.type(keys=["id"])
class Referral:
    id: strawberry.ID

    @strawberry.field(description="Notices sent about this referral, to agencies you may see.")
    async def notices(self, info: Info) -> list[InboxItem]:
        items = await info.context.notices_loader.load(str(self.id))
        return [
            InboxItem.from_model(m) for m in items if info.context.may_read_inbox_of(m.agency_id)
        ]

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Referral:
        return cls(id=id)


@strawberry.type
class Query:
    @strawberry.field(description="The caller's agency's inbox.")
    async def my_inbox(
        self, info: Info, unread_only: bool = False, first: int = 20, after: str | None = None
    ) -> InboxConnection:
        p = info.context.principal()
        return await _inbox_page(info, p.agency_id, unread_only, first, after)


AcknowledgeResult = Annotated[InboxItem | UserError, strawberry.union("AcknowledgeResult")]


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Sign for an inbox item (签收, R-NTF-04).")
    async def acknowledge_inbox_item(self, info: Info, id: strawberry.ID) -> AcknowledgeResult:
        p = info.context.principal()
        try:
            item = await info.context.handlers.acknowledge(str(id), p)
        except DomainError as exc:
            return UserError(code=exc.code, message=exc.message, field=exc.field)
        return InboxItem.from_model(item)


def build_schema(production: bool = False) -> Schema:
    return Schema(
        query=Query,
        mutation=Mutation,
        types=[Agency, Referral, InboxItem, UserError],
        federation_version="2.9",
        extensions=schema_extensions(production),
    )
