"""What the modules of notify's subgraph share: the request context, the inbox item, and the
two ways a refused command or query reaches the client."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TypeVar

import strawberry
from strawberry.dataloader import DataLoader

from kernel.auth import TokenVerifier
from kernel.errors import DomainError
from kernel.graphql import (
    ErrorCode,
    RequestContext,
    UserError,
    decode_cursor,
    graphql_error,
    guard,
)
from notify.application import access
from notify.application.copies import CopyRules
from notify.application.handlers import NotifyHandlers
from notify.application.queries import NotifyQueries
from notify.application.supervision import Supervision
from notify.application.webhooks import Webhooks
from notify.domain.model import InboxItem as InboxItemModel

M = TypeVar("M")
R = TypeVar("R")


class NotifyContext(RequestContext):
    def __init__(
        self,
        verifier: TokenVerifier,
        district: str,
        handlers: NotifyHandlers,
        queries: NotifyQueries,
        webhooks: Webhooks,
        copies: CopyRules,
        supervision: Supervision,
    ) -> None:
        super().__init__(verifier, district)
        self.webhooks = webhooks
        self.copies = copies
        self.supervision = supervision
        self.district = district
        self.handlers = handlers
        self.queries = queries
        self.notices_loader: DataLoader[str, list[InboxItemModel]] = DataLoader(queries.notices_of)

    def may_read_inbox_of(self, agency_id: str) -> bool:
        """The matrix's ``notify.inbox``: the agency's own staff, the supervising roles."""
        p = self.principal()
        return access.may(p, access.INBOX, access.agency_relations(p, agency_id))

    def may_read_work_queue_of(self, agency_id: str) -> bool:
        """The matrix's ``notify.workQueue``: the agency's own staff, the supervising roles."""
        p = self.principal()
        return access.may(p, access.WORK_QUEUE, access.agency_relations(p, agency_id))


Info = strawberry.Info[NotifyContext, None]


@contextmanager
def refused_as_graphql_error() -> Iterator[None]:
    """Where a query is refused, a ``DomainError`` leaves as a GraphQL error with the
    domain's code and field (a query has no ``UserError`` in its type)."""
    try:
        yield
    except DomainError as exc:
        raise graphql_error(exc.message, exc.stable_code, field=exc.field) from exc


async def _presented(action: Awaitable[M], present: Callable[[M], R]) -> R:
    return present(await action)


async def answer(action: Awaitable[M], present: Callable[[M], R]) -> R | UserError:
    """A mutation's answer: what the command returned, presented as a graph type, or the
    ``UserError`` of its refusal."""
    return await guard(_presented(action, present))


def time_id_cursor(after: str | None) -> tuple[datetime, str] | None:
    """The ``(created_at, id)`` position a ``[isoformat, id]`` cursor names, if any."""
    if not after:
        return None
    values = decode_cursor(after)
    try:
        return (datetime.fromisoformat(str(values[0])), str(values[1]))
    except (IndexError, ValueError) as exc:
        raise graphql_error(f"invalid cursor {after!r}", ErrorCode.VALIDATION) from exc


@strawberry.type(description="An item in an agency's inbox (通知/待办), with its receipt (签收).")
class InboxItem:
    id: strawberry.ID = strawberry.field(description="the item's id")
    agency_id: strawberry.ID = strawberry.field(description="the agency whose inbox holds it")
    kind: str = strawberry.field(
        description="what kind of notice it is (see the notification matrix)"
    )
    title: str = strawberry.field(description="the notice's title, in Chinese")
    body: str = strawberry.field(description="the notice's text, in Chinese")
    subject_type: str = strawberry.field(description="the type of what it is about, e.g. Referral")
    subject_id: strawberry.ID = strawberry.field(description="the id of what it is about")
    created_at: datetime = strawberry.field(description="when it arrived")
    due_at: datetime | None = strawberry.field(
        description="when the act it asks for is due, if it asks for one"
    )
    urgent: bool = strawberry.field(description="the matter is urgent")
    read_at: datetime | None = strawberry.field(
        description="when it was signed for (签收); null while unread"
    )
    read_by: str | None = strawberry.field(description="who signed for it (person id)")
    audience: str = strawberry.field(
        description="agency: for its staff; leader: for its head (负责人), e.g. an escalation"
    )
    links: list[str] = strawberry.field(
        description="downloads the item points at: paths on the notify service, fetched with "
        "the same Bearer token (e.g. the monthly reminder list's PDF and .xlsx)"
    )

    @strawberry.field(description="nobody has signed for it yet")
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
            audience=m.audience,
            links=list(m.links),
        )
