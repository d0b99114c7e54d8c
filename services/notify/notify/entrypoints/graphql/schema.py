"""The notify subgraph: inbox items, and the inbox fields it adds to Agency and Referral."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from datetime import datetime, timedelta
from typing import Annotated, Any, cast

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.federation import Schema
from strawberry.scalars import JSON

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
from notify.adapters.record import RecordRepository
from notify.adapters.repository import InboxRepository
from notify.application.handlers import NotifyHandlers
from notify.application.webhooks import Webhooks
from notify.domain.model import InboxItem as InboxItemModel
from notify.domain.record import RecordEntry

SUPERVISORY_ROLES = frozenset({"supervisor", "government"})
# Who may read the whole full-process record; everyone else sees what concerns their agency.
RECORD_ROLES = frozenset({"supervisor", "government", "judicial_observer"})
# Live inbox: how often the store is polled, and how far back each poll looks again so that
# an item stored by a replica whose clock runs slightly behind is still delivered (seen ids
# are remembered, so nothing is delivered twice).
POLL_SECONDS = 0.5
LOOKBACK = timedelta(seconds=10)


class NotifyContext(RequestContext):
    def __init__(
        self,
        verifier: TokenVerifier,
        district: str,
        handlers: NotifyHandlers,
        inbox: InboxRepository,
        records: RecordRepository,
        webhooks: Webhooks,
    ) -> None:
        super().__init__(verifier, district)
        self.webhooks = webhooks
        self.district = district
        self.handlers = handlers
        self.inbox = inbox
        self.records = records
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
    audience: str = strawberry.field(
        description="agency: for its staff; leader: for its head (负责人), e.g. an escalation"
    )

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
            audience=m.audience,
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


@strawberry.type(
    description="One entry of the full-process record (执法全过程记录, R-SUP-01): an event of "
    "the district with its actor, agency, time and before/after state. Append-only."
)
class ProcessRecordEntry:
    id: strawberry.ID = strawberry.field(description="the event id")
    seq: int = strawberry.field(description="position in the district's record, increasing")
    type: str
    subject: str | None
    time: datetime
    district: str
    service: str
    correlation_id: str
    actor_id: str | None
    actor_agency_id: strawberry.ID | None
    state_before: JSON | None
    state_after: JSON | None
    agency_ids: list[strawberry.ID] = strawberry.field(description="agencies the event names")
    payload: JSON

    @classmethod
    def from_model(cls, e: RecordEntry) -> ProcessRecordEntry:
        return cls(
            id=strawberry.ID(e.event_id),
            seq=e.seq,
            type=e.type,
            subject=e.subject,
            time=e.time,
            district=e.district,
            service=e.service,
            correlation_id=e.correlation_id,
            actor_id=e.actor_id,
            actor_agency_id=strawberry.ID(e.actor_agency_id) if e.actor_agency_id else None,
            state_before=e.state_before,
            state_after=e.state_after,
            agency_ids=[strawberry.ID(a) for a in e.agency_ids],
            payload=cast(JSON, e.payload),
        )


@strawberry.type
class ProcessRecordEdge:
    cursor: str
    node: ProcessRecordEntry


@strawberry.type
class ProcessRecordConnection:
    edges: list[ProcessRecordEdge]
    page_info: PageInfo


@strawberry.input(description="Filters of the full-process record; all optional, combined.")
class ProcessRecordFilter:
    subject: str | None = None
    agency_id: strawberry.ID | None = None
    types: list[str] | None = None
    time_from: datetime | None = strawberry.field(default=None, description="inclusive")
    time_to: datetime | None = strawberry.field(default=None, description="exclusive")


async def _record_page(
    info: Info, where: ProcessRecordFilter | None, first: int, after: str | None
) -> ProcessRecordConnection:
    p = info.context.principal()
    where = where or ProcessRecordFilter()
    agency_id = str(where.agency_id) if where.agency_id else None
    if not RECORD_ROLES & set(p.roles):
        if agency_id is not None and agency_id != p.agency_id:
            raise graphql_error(
                "only supervisors may read the record of another agency", ErrorCode.FORBIDDEN
            )
        agency_id = p.agency_id
    if where.time_from and where.time_to and where.time_from >= where.time_to:
        raise graphql_error(
            "timeFrom must be before timeTo", ErrorCode.VALIDATION, field="filter.timeFrom"
        )
    after_seq: int | None = None
    if after:
        values = decode_cursor(after)
        if len(values) != 1 or not isinstance(values[0], int):
            raise graphql_error(f"invalid cursor {after!r}", ErrorCode.VALIDATION, field="after")
        after_seq = values[0]
    first = max(1, min(first, 200))
    rows = await info.context.records.search(
        district=info.context.district,
        subject=where.subject,
        agency_id=agency_id,
        types=where.types,
        time_from=where.time_from,
        time_to=where.time_to,
        after_seq=after_seq,
        limit=first + 1,
    )
    page = rows[:first]
    edges = [
        ProcessRecordEdge(cursor=encode_cursor([e.seq]), node=ProcessRecordEntry.from_model(e))
        for e in page
    ]
    return ProcessRecordConnection(
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

    @strawberry.field(description="The webhooks of the caller's agency (all: supervisors).")
    async def webhooks(self, info: Info) -> list[Webhook]:
        p = info.context.principal()
        owner = None if SUPERVISORY_ROLES & set(p.roles) else p.agency_id
        docs = await info.context.webhooks.repo.subscriptions_of(owner)
        return [Webhook.from_document(d) for d in docs]

    @strawberry.field(
        description="The full-process record (执法全过程记录, R-SUP-01), oldest first. "
        "Supervisors see every entry; others the entries that name their agency."
    )
    async def process_record(
        self,
        info: Info,
        filter: ProcessRecordFilter | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> ProcessRecordConnection:
        return await _record_page(info, filter, first, after)


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Items arriving in an agency's inbox from now on (staff of the agency or "
        "a supervisor)."
    )
    async def inbox_item_added(
        self, info: Info, agency_id: strawberry.ID
    ) -> AsyncGenerator[InboxItem, None]:
        agency = str(agency_id)
        if not info.context.may_read_inbox_of(agency):
            raise graphql_error(
                "only staff of this agency or a supervisor may read its inbox", ErrorCode.FORBIDDEN
            )
        inbox = info.context.inbox
        # Polling the store rather than an in-process broadcast: an item stored by another
        # replica (or written while this one was busy) is seen all the same, and FerretDB has
        # no change streams to listen to.
        start = inbox.now()
        cursor = start
        seen: dict[str, datetime] = {}
        while True:
            rows = await inbox.added_since(agency, cursor - LOOKBACK, limit=500)
            for added_at, item in rows:
                if added_at < start or item.id in seen:
                    continue
                seen[item.id] = added_at
                cursor = max(cursor, added_at)
                yield InboxItem.from_model(item)
            horizon = cursor - LOOKBACK
            for key in [k for k, at in seen.items() if at < horizon]:
                del seen[key]
            await asyncio.sleep(POLL_SECONDS)


@strawberry.type(description="One delivery of one event to a webhook, with its attempts.")
class WebhookDelivery:
    id: strawberry.ID
    event_id: strawberry.ID
    event_type: str
    state: str = strawberry.field(description="pending | delivering | delivered | dead")
    attempts: int
    next_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None

    @classmethod
    def from_document(cls, d: dict[str, Any]) -> WebhookDelivery:
        return cls(
            id=strawberry.ID(d["_id"]),
            event_id=strawberry.ID(d["event_id"]),
            event_type=d["event_type"],
            state=d["state"],
            attempts=int(d.get("attempts") or 0),
            next_attempt_at=d.get("next_attempt_at"),
            last_status=d.get("last_status"),
            last_error=d.get("last_error"),
            created_at=d["created_at"],
            delivered_at=d.get("delivered_at"),
        )


@strawberry.type
class WebhookDeliveryEdge:
    cursor: str
    node: WebhookDelivery


@strawberry.type
class WebhookDeliveryConnection:
    edges: list[WebhookDeliveryEdge]
    page_info: PageInfo


@strawberry.type(
    description="A bureau system's subscription to the district's events by HTTP POST "
    "(signed with HMAC-SHA256; see the AsyncAPI document)."
)
class Webhook:
    id: strawberry.ID
    owner_agency_id: strawberry.ID
    url: str
    event_types: list[str]
    agency_ids: list[strawberry.ID]
    matter_codes: list[str]
    active: bool
    created_at: datetime

    @strawberry.field(description="Deliveries to this webhook, oldest first.")
    async def deliveries(
        self, info: Info, state: str | None = None, first: int = 50, after: str | None = None
    ) -> WebhookDeliveryConnection:
        last: tuple[datetime, str] | None = None
        if after:
            values = decode_cursor(after)
            try:
                last = (datetime.fromisoformat(str(values[0])), str(values[1]))
            except (IndexError, ValueError) as exc:
                raise graphql_error(f"invalid cursor {after!r}", ErrorCode.VALIDATION) from exc
        first = max(1, min(first, 200))
        rows = await info.context.webhooks.repo.list_deliveries(
            str(self.id), state=state, after=last, limit=first + 1
        )
        edges = [
            WebhookDeliveryEdge(
                cursor=encode_cursor([d["created_at"].isoformat(), d["_id"]]),
                node=WebhookDelivery.from_document(d),
            )
            for d in rows[:first]
        ]
        return WebhookDeliveryConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=len(rows) > first, end_cursor=edges[-1].cursor if edges else None
            ),
        )

    @classmethod
    def from_document(cls, d: dict[str, Any]) -> Webhook:
        return cls(
            id=strawberry.ID(d["_id"]),
            owner_agency_id=strawberry.ID(d["owner_agency_id"]),
            url=d["url"],
            event_types=list(d.get("event_types") or []),
            agency_ids=[strawberry.ID(a) for a in d.get("agency_ids") or []],
            matter_codes=list(d.get("matter_codes") or []),
            active=bool(d.get("active")),
            created_at=d["created_at"],
        )


@strawberry.type
class WebhookRegistration:
    webhook: Webhook
    secret: str = strawberry.field(
        description="the HMAC key for the signatures; shown this once, store it safely"
    )


@strawberry.input
class RegisterWebhookInput:
    url: str
    event_types: list[str] = strawberry.field(
        default_factory=list, description="e.g. referral.sent.v1; empty: every type"
    )
    agency_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="events naming one of these agencies; empty: any"
    )
    matter_codes: list[str] = strawberry.field(
        default_factory=list, description="events about one of these matters; empty: any"
    )


RegisterWebhookResult = Annotated[
    WebhookRegistration | UserError, strawberry.union("RegisterWebhookResult")
]
ReplayDeliveryResult = Annotated[
    WebhookDelivery | UserError, strawberry.union("ReplayDeliveryResult")
]

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

    @strawberry.mutation(
        description="Register a webhook for a bureau system (role bureau_system); the answer "
        "carries the signing secret, once."
    )
    async def register_webhook(
        self, info: Info, input: RegisterWebhookInput
    ) -> RegisterWebhookResult:
        p = info.context.principal()
        try:
            doc, secret = await info.context.webhooks.register(
                p,
                input.url,
                list(input.event_types),
                [str(a) for a in input.agency_ids],
                list(input.matter_codes),
            )
        except DomainError as exc:
            return UserError(code=exc.code, message=exc.message, field=exc.field)
        return WebhookRegistration(webhook=Webhook.from_document(doc), secret=secret)

    @strawberry.mutation(description="Deliver a dead (or delivered) delivery again.")
    async def replay_webhook_delivery(self, info: Info, id: strawberry.ID) -> ReplayDeliveryResult:
        p = info.context.principal()
        try:
            doc = await info.context.webhooks.replay(p, str(id))
        except DomainError as exc:
            return UserError(code=exc.code, message=exc.message, field=exc.field)
        return WebhookDelivery.from_document(doc)


def build_schema(production: bool = False) -> Schema:
    return Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Agency, Referral, InboxItem, UserError],
        federation_version="2.9",
        extensions=schema_extensions(production),
    )
