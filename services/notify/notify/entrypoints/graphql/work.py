"""The work queue (待办期限): "what is due for my agency", across every kind of statutory clock
the suite runs (referrals, disputes, requests, meetings, joint tasks, the duties), soonest
first, with counts, and its live changes. ``Agency.workQueue`` and ``viewer`` are in
inbox.py, beside the inbox.

notify already keeps the latest state of every clock (``deadline.*`` blocks of the events,
R-SUP-02); the queue reads them by the responsible agency. Each item links to its subject as
a federation entity, resolved by the subgraph that owns it (and read-checked there)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from datetime import datetime
from typing import Annotated

import strawberry

from kernel.graphql import (
    Connection,
    Edge,
    ErrorCode,
    encode_cursor,
    follow,
    graphql_error,
    page_size,
    paginate,
)
from notify.application.queries import WorkQueueFilter as WorkQueueWhere
from notify.domain.watch import WatchedDeadline
from notify.entrypoints.graphql.entities import WorkSubject, subject_of
from notify.entrypoints.graphql.types import Info, time_id_cursor

__all__ = [
    "WorkItem",
    "WorkQueueConnection",
    "WorkQueueFilter",
    "work_queue_changed",
    "work_queue_page",
]

FORBIDDEN_QUEUE = "only staff of this agency or a supervisor may read its work queue"


@strawberry.type(description="One open statutory clock of an agency: what is due, by when.")
class WorkItem:
    id: strawberry.ID = strawberry.field(
        description="the clock's stable key (as in the events' deadline blocks)"
    )
    kind: str = strawberry.field(description="which duty of its subject, e.g. accept, reply")
    subject_type: str = strawberry.field(
        description="Referral, Dispute, AssistanceRequest, TechnicalSupportRequest, "
        "InformationQuery, Meeting, JointTask, OnSiteRequest, CorrectionOpinion, "
        "ParticipationNotice, JointRuling or RoutineMeeting (a routine meeting due, no entity; "
        "new kinds of clocks may add others)"
    )
    subject_id: strawberry.ID = strawberry.field(description="the id of what it is about")
    due: datetime = strawberry.field(description="when it is due (Asia/Shanghai)")
    state: str = strawberry.field(
        description="open | paused in the queue; a live change may also say met or cancelled "
        "(the clock left the queue)"
    )
    rule: str = strawberry.field(description="the rule the limit comes from (Chinese)")
    explanation: str | None = strawberry.field(
        description="how the due time was computed (Chinese)"
    )
    overdue: bool = strawberry.field(description="past its due time now")
    remaining_seconds: int = strawberry.field(
        description="seconds until it is due; negative when overdue"
    )

    @strawberry.field(
        description="The subject as an entity of the subgraph that owns it (null for a kind "
        "of subject the graph has no type for, or one the reader may not see)."
    )
    def subject(self) -> WorkSubject | None:
        return subject_of(self.subject_type, str(self.subject_id))

    @classmethod
    def of(cls, d: WatchedDeadline, now: datetime) -> WorkItem:
        remaining = int((d.due - now).total_seconds())
        return cls(
            id=strawberry.ID(d.key),
            kind=d.kind,
            subject_type=d.subject_type,
            subject_id=strawberry.ID(d.subject_id),
            due=d.due,
            state=d.state,
            rule=d.rule,
            explanation=d.explanation_zh,
            overdue=remaining < 0,
            remaining_seconds=remaining,
        )


@strawberry.type(description="One work-queue clock and its cursor.")
class WorkItemEdge(Edge[WorkItem]):
    pass


@strawberry.type(description="A page of the work queue, with the counts of the whole filter.")
class WorkQueueConnection(Connection[WorkItem]):
    edges: list[WorkItemEdge] = strawberry.field(  # type: ignore[assignment]
        description="the page's clocks, soonest due first"
    )
    overdue: strawberry.Private[Callable[[], Awaitable[int]] | None] = None

    @strawberry.field(description="clocks the filter lists, all pages (counted when asked)")
    async def total_count(self) -> int:
        assert self.count is not None
        return await self.count()

    @strawberry.field(description="of those, the ones past due now (counted when asked)")
    async def overdue_count(self) -> int:
        assert self.overdue is not None
        return await self.overdue()


@strawberry.input(description="Which of the agency's clocks the work queue lists.")
class WorkQueueFilter:
    paused: bool = strawberry.field(
        default=False,
        description="the paused clocks (stopped while another body decides) instead of the "
        "running ones",
    )
    subject_types: list[str] | None = strawberry.field(
        default=None, description="only clocks of these subject types (see WorkItem.subjectType)"
    )
    overdue_only: bool = strawberry.field(default=False, description="only those past due now")
    due_before: datetime | None = strawberry.field(
        default=None, description="only those due before this time"
    )


def _cursor(d: WatchedDeadline) -> str:
    return encode_cursor([d.due.isoformat(), d.key])


async def work_queue_page(
    info: Info,
    agency_id: str,
    where: WorkQueueFilter | None,
    first: int,
    after: str | None,
) -> WorkQueueConnection:
    if not info.context.may_read_work_queue_of(agency_id):
        raise graphql_error(FORBIDDEN_QUEUE, ErrorCode.FORBIDDEN)
    where = where or WorkQueueFilter()
    if where.subject_types is not None and not where.subject_types:
        raise graphql_error(
            "filter.subjectTypes is empty: leave it out for every kind of clock",
            ErrorCode.VALIDATION,
            field="filter.subjectTypes",
        )
    scope = WorkQueueWhere(
        paused=where.paused,
        subject_types=tuple(where.subject_types) if where.subject_types is not None else None,
        overdue_only=where.overdue_only,
        due_before=where.due_before,
    )
    first = page_size(first)
    queries = info.context.queries
    rows = await queries.work_queue(agency_id, scope, after=time_id_cursor(after), limit=first + 1)
    now = queries.now()
    connection: WorkQueueConnection = paginate(
        rows,
        first,
        cursor=_cursor,
        node=lambda d: WorkItem.of(d, now),
        connection=WorkQueueConnection,
        edge=WorkItemEdge,
        after=after,
        count=lambda: queries.work_queue_count(agency_id, scope),
        overdue=lambda: queries.work_queue_count(agency_id, scope, overdue=True),
    )
    return connection


@strawberry.type(description="A change of one clock of an agency's work queue (live).")
class WorkItemChange:
    cursor: str = strawberry.field(
        description="pass it as `after` when subscribing again to resume after this change"
    )
    item: WorkItem = strawberry.field(description="the clock's state after the change")


@strawberry.subscription(
    description="Changes of an agency's work queue as they are stored: a clock created, moved, "
    "paused, met or cancelled (its staff or a supervisor). From now on, or resumed `after` the "
    "cursor of the last change received (e.g. after a reconnect), without repeats."
)
async def work_queue_changed(
    info: Info,
    agency_id: Annotated[
        strawberry.ID, strawberry.argument(description="the agency whose work queue is followed")
    ],
    after: Annotated[
        str | None,
        strawberry.argument(description="the cursor of the last change received, to resume"),
    ] = None,
) -> AsyncGenerator[WorkItemChange, None]:
    agency = str(agency_id)
    if not info.context.may_read_work_queue_of(agency):
        raise graphql_error(FORBIDDEN_QUEUE, ErrorCode.FORBIDDEN)
    queries = info.context.queries
    resume = time_id_cursor(after)

    async def stored(since: datetime) -> list[tuple[datetime, str, WatchedDeadline]]:
        changes = await queries.work_changes(agency, since, limit=500)
        return [(at, f"{d.key}@{at.isoformat()}", d) for at, d in changes]

    start = resume[0] if resume else queries.now()
    async for at, ident, deadline in follow(
        info, stored, start, after=resume, changes=queries.work_changes_signal
    ):
        yield WorkItemChange(
            cursor=encode_cursor([at.isoformat(), ident]),
            item=WorkItem.of(deadline, queries.now()),
        )
