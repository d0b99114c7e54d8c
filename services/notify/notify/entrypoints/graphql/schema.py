"""The notify subgraph: inbox items, and the inbox fields it adds to Agency and Referral."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal, cast

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
from notify.application import access
from notify.application.copies import CopyRules
from notify.application.handlers import AcknowledgeInboxItem, NotifyHandlers
from notify.application.supervision import RateAgency, Supervision
from notify.application.webhooks import (
    RegisterWebhook,
    ReplayDelivery,
    RotateWebhookSecret,
    Webhooks,
)
from notify.domain import supervision as sup
from notify.domain.copies import ApprovalReport, HazardReport
from notify.domain.model import InboxItem as InboxItemModel
from notify.domain.record import RecordEntry

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
        copies: CopyRules,
        supervision: Supervision,
    ) -> None:
        super().__init__(verifier, district)
        self.webhooks = webhooks
        self.copies = copies
        self.supervision = supervision
        self.district = district
        self.handlers = handlers
        self.inbox = inbox
        self.records = records
        self.notices_loader: DataLoader[str, list[InboxItemModel]] = DataLoader(self._by_subject)

    async def _by_subject(self, ids: list[str]) -> list[list[InboxItemModel]]:
        found = await self.inbox.for_subjects(ids)
        return [found.get(i, []) for i in ids]

    def may_read_inbox_of(self, agency_id: str) -> bool:
        """The matrix's ``notify.inbox``: the agency's own staff, the supervising roles."""
        p = self.principal()
        return access.may(p, access.INBOX, access.agency_relations(p, agency_id))


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
    links: list[str] = strawberry.field(
        description="downloads the item points at: paths on the notify service, fetched with "
        "the same Bearer token (e.g. the monthly reminder list's PDF and .xlsx)"
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
            links=list(m.links),
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
    try:
        own = access.record_scope(p)
    except DomainError as exc:
        raise graphql_error(exc.message, exc.code, field=exc.field) from exc
    if own is not None:
        if agency_id is not None and agency_id != own:
            raise graphql_error(
                "only supervisors may read the record of another agency",
                ErrorCode.FORBIDDEN,
                field="filter.agencyId",
            )
        agency_id = own
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


@strawberry.type(description="On-time figures of one kind of clock (R-SUP-02).")
class SupervisionClockFigures:
    on_time: int = strawberry.field(description="met at or before the due time")
    late: int = strawberry.field(description="met after the due time")
    overdue: int = strawberry.field(description="still open past the due time")
    pending: int = strawberry.field(description="open, not yet due (not in the rate)")
    counted: int = strawberry.field(description="onTime + late + overdue")
    rate: float | None = strawberry.field(description="onTime / counted; null when 0")

    @classmethod
    def from_model(cls, c: sup.OnTime) -> SupervisionClockFigures:
        return cls(
            on_time=c.on_time,
            late=c.late,
            overdue=c.overdue,
            pending=c.pending,
            counted=c.counted,
            rate=c.rate,
        )


@strawberry.type(description="One agency's line of a supervision report.")
class SupervisionAgencyFigures:
    agency_id: strawberry.ID
    name: str
    kind: str
    send: SupervisionClockFigures = strawberry.field(description="移送 (referral.send)")
    accept: SupervisionClockFigures = strawberry.field(description="受理 (referral.accept)")
    report: SupervisionClockFigures = strawberry.field(description="结果通报 (referral.report)")
    overdue: int = strawberry.field(description="clocks of any kind still open past due")
    late: int = strawberry.field(description="clocks of any kind met after due")
    disputes_opened: int
    disputes_ruled: int
    dispute_days_average: float | None = strawberry.field(
        description="average days from opening to ruling of the disputes ruled in the period"
    )
    refusals: int = strawberry.field(description="refusals to cooperate (拒绝协助)")
    ratings_received: int
    rating_average: float | None

    @classmethod
    def from_model(cls, a: sup.AgencyFigures) -> SupervisionAgencyFigures:
        return cls(
            agency_id=strawberry.ID(a.agency_id),
            name=a.name,
            kind=a.kind,
            send=SupervisionClockFigures.from_model(a.clocks["send"]),
            accept=SupervisionClockFigures.from_model(a.clocks["accept"]),
            report=SupervisionClockFigures.from_model(a.clocks["report"]),
            overdue=a.overdue,
            late=a.late,
            disputes_opened=a.disputes_opened,
            disputes_ruled=a.disputes_ruled,
            dispute_days_average=a.dispute_days_average,
            refusals=a.refusals,
            ratings_received=a.ratings_received,
            rating_average=a.rating_average,
        )


@strawberry.type(description="A clock of the period not met on time.")
class SupervisionOverdueDeadline:
    key: str
    kind: str
    subject_type: str
    subject_id: strawberry.ID
    responsible_agency_id: strawberry.ID
    due: datetime
    outcome: str = strawberry.field(description="overdue (still open) | late (met after due)")
    days_over: float
    rule: str


@strawberry.type(description="A jurisdiction dispute opened or ruled in the period.")
class SupervisionDispute:
    dispute_id: strawberry.ID
    matter_code: str
    party_ids: list[strawberry.ID]
    opened_at: datetime | None
    ruled_at: datetime | None
    days: float | None


@strawberry.type(description="A refusal to cooperate, recorded for accountability.")
class SupervisionRefusal:
    event_id: strawberry.ID
    agency_id: strawberry.ID
    at: datetime
    subject: str | None
    reason: str


@strawberry.type(description="One agency's rating of another for a quarter (R-SUP-03).")
class AgencyRating:
    id: strawberry.ID
    period: str
    direction: str = strawberry.field(
        description="township_to_department (反向考评) | department_to_township"
    )
    rater_agency_id: strawberry.ID
    ratee_agency_id: strawberry.ID
    score: int
    comment: str
    rated_at: datetime

    @classmethod
    def from_model(cls, r: sup.Rating) -> AgencyRating:
        return cls(
            id=strawberry.ID(r.id),
            period=r.period,
            direction=r.direction,
            rater_agency_id=strawberry.ID(r.rater_agency_id),
            ratee_agency_id=strawberry.ID(r.ratee_agency_id),
            score=r.score,
            comment=r.comment,
            rated_at=r.rated_at,
        )


@strawberry.type(
    description="A supervision report (月提示 / 季通报, R-SUP-02) computed now from the "
    "clocks, the full-process record and the ratings."
)
class SupervisionReport:
    kind: str = strawberry.field(description="monthly | quarterly")
    period: str = strawberry.field(description="2026-03 or 2026-Q1")
    period_zh: str
    period_start: datetime
    period_end: datetime = strawberry.field(description="exclusive")
    generated_at: datetime
    agencies: list[SupervisionAgencyFigures]
    overdue: list[SupervisionOverdueDeadline]
    disputes: list[SupervisionDispute]
    refusals: list[SupervisionRefusal]
    ratings: list[AgencyRating]
    download_path: str = strawberry.field(
        description="the .xlsx of this report on the notify service (Bearer-authenticated)"
    )
    pdf_path: str = strawberry.field(
        description="the PDF of this report, with charts, on the notify service "
        "(Bearer-authenticated)"
    )

    @classmethod
    def from_model(cls, r: sup.SupervisionReport) -> SupervisionReport:
        return cls(
            kind=r.kind,
            period=r.period.label,
            period_zh=r.period.label_zh,
            period_start=r.period.start,
            period_end=r.period.end,
            generated_at=r.generated_at,
            agencies=[SupervisionAgencyFigures.from_model(a) for a in r.agencies],
            overdue=[
                SupervisionOverdueDeadline(
                    key=e.deadline.key,
                    kind=e.deadline.kind,
                    subject_type=e.deadline.subject_type,
                    subject_id=strawberry.ID(e.deadline.subject_id),
                    responsible_agency_id=strawberry.ID(e.deadline.responsible_agency_id),
                    due=e.deadline.due,
                    outcome=e.outcome,
                    days_over=e.days_over,
                    rule=e.deadline.rule,
                )
                for e in r.overdue
            ],
            disputes=[
                SupervisionDispute(
                    dispute_id=strawberry.ID(d.dispute_id),
                    matter_code=d.matter_code,
                    party_ids=[strawberry.ID(p) for p in d.party_ids],
                    opened_at=d.opened_at,
                    ruled_at=d.ruled_at,
                    days=d.days,
                )
                for d in r.disputes
            ],
            refusals=[
                SupervisionRefusal(
                    event_id=strawberry.ID(x.event_id),
                    agency_id=strawberry.ID(x.agency_id),
                    at=x.at,
                    subject=x.subject,
                    reason=x.reason,
                )
                for x in r.refusals
            ],
            ratings=[AgencyRating.from_model(x) for x in r.ratings],
            download_path=f"/reports/{r.kind}/{r.period.label}.xlsx",
            pdf_path=f"/reports/{r.kind}/{r.period.label}.pdf",
        )


def _period(make: Callable[[], sup.Period]) -> sup.Period:
    try:
        return make()
    except DomainError as exc:
        raise graphql_error(exc.message, ErrorCode.VALIDATION, field=exc.field) from exc


async def _report(
    info: Info, kind: Literal["monthly", "quarterly"], period: sup.Period
) -> SupervisionReport:
    p = info.context.principal()
    try:
        report = await info.context.supervision.report(p, kind, period)
    except DomainError as exc:
        raise graphql_error(exc.message, exc.code, field=exc.field) from exc
    return SupervisionReport.from_model(report)


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
        try:
            docs = await info.context.webhooks.visible_subscriptions(p)
        except DomainError as exc:
            raise graphql_error(exc.message, exc.code, field=exc.field) from exc
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

    @strawberry.field(
        description="The monthly reminder list (月提示, R-SUP-02) for a month such as 2026-03: "
        "per-agency figures of the clocks that fell due in it, and the clocks not met on "
        "time. Supervisors, the government and the justice bureau."
    )
    async def monthly_reminder_list(self, info: Info, month: str) -> SupervisionReport:
        period = _period(lambda: sup.month(month))
        return await _report(info, "monthly", period)

    @strawberry.field(
        description="The quarterly bulletin (季通报, R-SUP-02, R-SUP-03): per-agency figures, "
        "disputes, refusals to cooperate and the two-way ratings of the quarter."
    )
    async def quarterly_bulletin(self, info: Info, year: int, quarter: int) -> SupervisionReport:
        period = _period(lambda: sup.quarter(year, quarter))
        return await _report(info, "quarterly", period)


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
            # The stream lives no longer than the token that opened it (issue 16, finding 9).
            info.context.reauthenticate()


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
        description="the HMAC key for the signatures; shown this once, stored encrypted by "
        "notify and never shown again; store it safely"
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
RotateWebhookSecretResult = Annotated[
    WebhookRegistration | UserError, strawberry.union("RotateWebhookSecretResult")
]
ReplayDeliveryResult = Annotated[
    WebhookDelivery | UserError, strawberry.union("ReplayDeliveryResult")
]

AcknowledgeResult = Annotated[InboxItem | UserError, strawberry.union("AcknowledgeResult")]
ReportCopyResult = Annotated[InboxItem | UserError, strawberry.union("ReportCopyResult")]
RateAgencyResult = Annotated[AgencyRating | UserError, strawberry.union("RateAgencyResult")]


@strawberry.input(description="An administrative approval (行政审批) to copy to a township.")
class ReportApprovalInput:
    number: str = strawberry.field(description="the approval's document number")
    matter_code: str
    township_id: strawberry.ID = strawberry.field(description="the township of the place")
    summary: str
    urgent: bool = False


@strawberry.input(description="A major safety hazard or hot spot of violations (R-NTF-03).")
class ReportHazardInput:
    kind: str = strawberry.field(description="hazard (重大安全隐患) | hotspot (违法行为高发)")
    matter_code: str = strawberry.field(description="names the competent department")
    place: str
    description: str
    urgent: bool = False


@strawberry.input(description="A township's rating of a department's guidance and support.")
class RateDepartmentInput:
    department_id: strawberry.ID
    score: int = strawberry.field(description="1 (poor) to 5 (excellent)")
    comment: str = ""


@strawberry.input(description="A department's rating of a township's cooperation.")
class RateTownshipInput:
    township_id: strawberry.ID
    score: int = strawberry.field(description="1 (poor) to 5 (excellent)")
    comment: str = ""


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Sign for an inbox item (签收, R-NTF-04).")
    async def acknowledge_inbox_item(self, info: Info, id: strawberry.ID) -> AcknowledgeResult:
        caller = info.context.caller()
        try:
            item = await info.context.handlers.acknowledge(AcknowledgeInboxItem(str(id)), caller)
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
        caller = info.context.caller()
        command = RegisterWebhook(
            input.url,
            tuple(input.event_types),
            tuple(str(a) for a in input.agency_ids),
            tuple(input.matter_codes),
        )
        try:
            doc, secret = await info.context.webhooks.register(command, caller)
        except DomainError as exc:
            return UserError(code=exc.code, message=exc.message, field=exc.field)
        return WebhookRegistration(webhook=Webhook.from_document(doc), secret=secret)

    @strawberry.mutation(
        description="A new signing secret for your bureau system's webhook; the old one stops "
        "working at once. The answer carries the new secret, once."
    )
    async def rotate_webhook_secret(
        self, info: Info, id: strawberry.ID
    ) -> RotateWebhookSecretResult:
        caller = info.context.caller()
        try:
            doc, secret = await info.context.webhooks.rotate_secret(
                RotateWebhookSecret(str(id)), caller
            )
        except DomainError as exc:
            return UserError(code=exc.code, message=exc.message, field=exc.field)
        return WebhookRegistration(webhook=Webhook.from_document(doc), secret=secret)

    @strawberry.mutation(description="Deliver a dead (or delivered) delivery again.")
    async def replay_webhook_delivery(self, info: Info, id: strawberry.ID) -> ReplayDeliveryResult:
        caller = info.context.caller()
        try:
            doc = await info.context.webhooks.replay(ReplayDelivery(str(id)), caller)
        except DomainError as exc:
            return UserError(code=exc.code, message=exc.message, field=exc.field)
        return WebhookDelivery.from_document(doc)

    @strawberry.mutation(
        description="Report an administrative approval (行政审批) of your department or approval "
        "bureau; it is copied to the township at once (抄告, R-NTF-01; urgent: marked urgent). "
        "Returns the township's inbox item."
    )
    async def report_approval(self, info: Info, input: ReportApprovalInput) -> ReportCopyResult:
        caller = info.context.caller()
        report = ApprovalReport(
            input.number, input.matter_code, str(input.township_id), input.summary, input.urgent
        )
        try:
            item = await info.context.copies.report_approval(report, caller)
        except DomainError as exc:
            return UserError(code=exc.code, message=exc.message, field=exc.field)
        return InboxItem.from_model(item)

    @strawberry.mutation(
        description="A township reports a major safety hazard or a hot spot of violations to "
        "the competent department (R-NTF-03). Returns the department's inbox item."
    )
    async def report_hazard(self, info: Info, input: ReportHazardInput) -> ReportCopyResult:
        caller = info.context.caller()
        report = HazardReport(
            input.kind, input.matter_code, input.place, input.description, input.urgent
        )
        try:
            item = await info.context.copies.report_hazard(report, caller)
        except DomainError as exc:
            return UserError(code=exc.code, message=exc.message, field=exc.field)
        return InboxItem.from_model(item)

    @strawberry.mutation(
        description="A township rates a department's guidance and support (反向考评, R-SUP-03), "
        "once per quarter."
    )
    async def rate_department(self, info: Info, input: RateDepartmentInput) -> RateAgencyResult:
        return await _rate(
            info, "township_to_department", str(input.department_id), input.score, input.comment
        )

    @strawberry.mutation(description="A department rates a township (R-SUP-03), once per quarter.")
    async def rate_township(self, info: Info, input: RateTownshipInput) -> RateAgencyResult:
        return await _rate(
            info, "department_to_township", str(input.township_id), input.score, input.comment
        )


async def _rate(
    info: Info, direction: sup.Direction, ratee: str, score: int, comment: str
) -> RateAgencyResult:
    caller = info.context.caller()
    try:
        rating = await info.context.supervision.rate(
            RateAgency(direction, ratee, score, comment), caller
        )
    except DomainError as exc:
        return UserError(code=exc.code, message=exc.message, field=exc.field)
    return AgencyRating.from_model(rating)


def build_schema(production: bool = False) -> Schema:
    return Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Agency, Referral, InboxItem, UserError],
        federation_version="2.9",
        extensions=schema_extensions(production),
    )
