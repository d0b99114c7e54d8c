"""The read side of notify: the queries that filter, scope and page what a caller may read
(an agency's inbox, the full-process record, the webhooks and their deliveries), answering
with typed models rather than store documents."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from kernel.auth import Principal
from kernel.authz import Relation
from kernel.changes import ChangeSignal
from kernel.errors import Forbidden, ValidationFailed
from kernel.store import Document
from notify.adapters.record import RecordRepository
from notify.adapters.repository import InboxRepository
from notify.adapters.watch import DeadlineRepository
from notify.adapters.webhooks import WebhookRepository
from notify.application import access
from notify.domain.model import InboxItem
from notify.domain.record import RecordEntry
from notify.domain.watch import WatchedDeadline

__all__ = [
    "NotifyQueries",
    "RecordFilter",
    "WebhookDeliveryView",
    "WebhookView",
    "WorkQueueFilter",
    "delivery_view",
    "webhook_view",
]


@dataclass(frozen=True)
class WebhookView:
    """A webhook subscription as its readers see it (never its secret)."""

    id: str
    owner_agency_id: str
    url: str
    event_types: tuple[str, ...]
    agency_ids: tuple[str, ...]
    matter_codes: tuple[str, ...]
    active: bool
    created_at: datetime


@dataclass(frozen=True)
class WebhookDeliveryView:
    """One delivery of one event to a webhook (without the body it signs and sends)."""

    id: str
    subscription_id: str
    event_id: str
    event_type: str
    state: str
    attempts: int
    next_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


def webhook_view(doc: Document) -> WebhookView:
    return WebhookView(
        id=doc["_id"],
        owner_agency_id=doc["owner_agency_id"],
        url=doc["url"],
        event_types=tuple(doc.get("event_types") or ()),
        agency_ids=tuple(doc.get("agency_ids") or ()),
        matter_codes=tuple(doc.get("matter_codes") or ()),
        active=bool(doc.get("active")),
        created_at=doc["created_at"],
    )


def delivery_view(doc: Document) -> WebhookDeliveryView:
    return WebhookDeliveryView(
        id=doc["_id"],
        subscription_id=doc["subscription_id"],
        event_id=doc["event_id"],
        event_type=doc["event_type"],
        state=doc["state"],
        attempts=int(doc.get("attempts") or 0),
        next_attempt_at=doc.get("next_attempt_at"),
        last_status=doc.get("last_status"),
        last_error=doc.get("last_error"),
        created_at=doc["created_at"],
        delivered_at=doc.get("delivered_at"),
    )


@dataclass(frozen=True)
class RecordFilter:
    """Filters of the full-process record; all optional, combined."""

    subject: str | None = None
    agency_id: str | None = None
    types: tuple[str, ...] | None = None
    time_from: datetime | None = None
    time_to: datetime | None = None


@dataclass(frozen=True)
class WorkQueueFilter:
    """What of an agency's clocks the work queue lists: open ones (``paused``: those stopped
    while something else decides), of some subject types, overdue only, or due before a time."""

    paused: bool = False
    subject_types: tuple[str, ...] | None = None
    overdue_only: bool = False
    due_before: datetime | None = None

    def bound(self, now: datetime) -> datetime | None:
        """The upper bound on ``due`` the filter sets, "overdue" being "due before now"."""
        bounds = [b for b in (self.due_before, now if self.overdue_only else None) if b]
        return min(bounds) if bounds else None


class NotifyQueries:
    def __init__(
        self,
        *,
        district: str,
        inbox: InboxRepository,
        records: RecordRepository,
        webhooks: WebhookRepository,
        deadlines: DeadlineRepository,
    ) -> None:
        self.district = district
        self._inbox = inbox
        self._records = records
        self._webhooks = webhooks
        self._deadlines = deadlines

    def now(self) -> datetime:
        """The inbox's clock (the deployment's), for live reads that start from now."""
        return self._inbox.now()

    @property
    def inbox_changes(self) -> ChangeSignal:
        """Wakes live inbox reads at each new item (MongoDB change streams; else a timeout)."""
        return self._inbox.changes

    @property
    def work_changes_signal(self) -> ChangeSignal:
        """Wakes live work-queue reads at each stored clock state (as ``inbox_changes``)."""
        return self._deadlines.changes

    async def notices_of(self, subject_ids: list[str]) -> list[list[InboxItem]]:
        """Every inbox item about each subject, in the order of ``subject_ids`` (a batch
        loader: the caller keeps only what the reader may see)."""
        found = await self._inbox.for_subjects(subject_ids)
        return [found.get(i, []) for i in subject_ids]

    async def added_since(
        self, agency_id: str, since: datetime, *, limit: int = 100
    ) -> list[tuple[datetime, InboxItem]]:
        """Items stored for the agency at or after ``since``, oldest first (live updates)."""
        return await self._inbox.added_since(agency_id, since, limit=limit)

    async def inbox(
        self,
        agency_id: str,
        *,
        unread_only: bool,
        before: tuple[datetime, str] | None,
        limit: int,
    ) -> list[InboxItem]:
        """An agency's inbox, newest first, before the cursor ``(created_at, id)``. Whether
        the caller may read it is the entrypoint's check (``access.INBOX``)."""
        return await self._inbox.for_agency(
            agency_id, unread_only=unread_only, before=before, limit=limit
        )

    async def inbox_count(self, agency_id: str, *, unread_only: bool) -> int:
        """How many items :meth:`inbox` lists, all pages together; ``unread_only``: those
        awaiting a receipt (签收)."""
        return await self._inbox.count(agency_id, unread_only=unread_only)

    async def work_queue(
        self,
        agency_id: str,
        where: WorkQueueFilter,
        *,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[WatchedDeadline]:
        """What is due for the agency (every kind of clock whose responsible agency it is),
        soonest first, after the cursor ``(due, key)``. Whether the caller may read it is the
        entrypoint's check (``access.INBOX``, as for the inbox)."""
        return await self._deadlines.queue_page(
            agency_id,
            "paused" if where.paused else "open",
            subject_types=where.subject_types,
            due_before=where.bound(self.now()),
            after=after,
            limit=limit,
        )

    async def work_changes(
        self, agency_id: str, since: datetime, *, limit: int = 100
    ) -> list[tuple[datetime, WatchedDeadline]]:
        """The agency's clocks changed at or after ``since`` (when stored), oldest first:
        the live work queue (``workQueueChanged``)."""
        return await self._deadlines.changed_since(agency_id, since, limit=limit)

    async def work_queue_count(
        self, agency_id: str, where: WorkQueueFilter, *, overdue: bool = False
    ) -> int:
        """How many clocks the filter lists, all pages together; ``overdue``: of those, the
        ones past due now."""
        now = self.now()
        bound = where.bound(now)
        if overdue:
            bound = min(b for b in (bound, now) if b is not None)
        return await self._deadlines.queue_count(
            agency_id,
            "paused" if where.paused else "open",
            subject_types=where.subject_types,
            due_before=bound,
        )

    def record_scope(self, principal: Principal, where: RecordFilter) -> RecordFilter:
        """The filter as the caller may apply it: unchanged for the supervising roles, its
        agency fixed to the caller's own for everyone else (another agency is Forbidden)."""
        if access.record_crime_only(principal):
            # The procuratorate reads the crime route's entries, nothing else (R-REF-14).
            asked = where.types if where.types is not None else tuple(access.CRIME_EVENTS)
            crime = tuple(sorted(t for t in asked if t in access.CRIME_EVENTS))
            where = replace(where, types=crime)
            own = None
        else:
            own = access.record_scope(principal)
        if own is not None:
            if where.agency_id is not None and where.agency_id != own:
                raise Forbidden(
                    "only supervisors may read the record of another agency",
                    field="filter.agencyId",
                )
            where = replace(where, agency_id=own)
        if where.time_from and where.time_to and where.time_from >= where.time_to:
            raise ValidationFailed("timeFrom must be before timeTo", field="filter.timeFrom")
        return where

    async def process_record(
        self,
        scoped: RecordFilter,
        *,
        after_seq: int | None,
        limit: int,
        descending: bool = False,
    ) -> list[RecordEntry]:
        """The full-process record, oldest first (newest first when ``descending``), after
        the cursor ``seq``; ``scoped`` is what :meth:`record_scope` returned for the caller."""
        if scoped.types is not None and not scoped.types:
            return []  # no type the caller may read was asked for (the store reads [] as all)
        found: list[RecordEntry] = await self._search(
            scoped, after_seq=after_seq, limit=limit, descending=descending
        )
        return found

    async def process_record_count(self, scoped: RecordFilter) -> int:
        """How many entries :meth:`process_record` lists for ``scoped``, all pages together."""
        if scoped.types is not None and not scoped.types:
            return 0
        counted: int = await self._search(scoped, count=True)
        return counted

    async def _search(self, scoped: RecordFilter, **paging: Any) -> Any:
        return await self._records.search(
            district=self.district,
            subject=scoped.subject,
            agency_id=scoped.agency_id,
            types=list(scoped.types) if scoped.types is not None else None,
            time_from=scoped.time_from,
            time_to=scoped.time_to,
            **paging,
        )

    async def visible_webhooks(self, principal: Principal) -> list[WebhookView]:
        """The webhooks the matrix (``notify.webhooks``) lets the caller read: every one for
        the supervising roles, its own agency's otherwise; none for anyone else."""
        supervising = access.oversight_relations(principal)
        owner: str | None
        if supervising and access.may(principal, "webhooks", supervising):
            owner = None
        else:
            access.authorize_on(principal, "webhooks", {Relation.RECEIVER})
            owner = principal.agency_id
        return [webhook_view(d) for d in await self._webhooks.subscriptions_of(owner)]

    async def webhook_deliveries(
        self,
        subscription_id: str,
        *,
        state: str | None,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[WebhookDeliveryView]:
        """A webhook's deliveries, oldest first, after the cursor ``(created_at, id)``; the
        webhook itself was read through :meth:`visible_webhooks`."""
        rows: list[Any] = await self._webhooks.list_deliveries(
            subscription_id, state=state, after=after, limit=limit
        )
        return [delivery_view(d) for d in rows]

    async def webhook_deliveries_count(self, subscription_id: str, *, state: str | None) -> int:
        """How many deliveries :meth:`webhook_deliveries` lists, all pages together."""
        return await self._webhooks.count_deliveries(subscription_id, state=state)
