"""The full-process record (执法全过程记录, R-SUP-01) as the graph reads it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, cast

import strawberry
from strawberry.scalars import JSON

from kernel.graphql import (
    AfterArg,
    Connection,
    Edge,
    ErrorCode,
    FirstArg,
    ListOrder,
    decode_cursor,
    encode_cursor,
    graphql_error,
    json_text,
    page_size,
    paginate,
    replaced_by,
)
from notify.application.queries import RecordFilter
from notify.domain.record import RecordEntry
from notify.entrypoints.graphql.types import Info, refused_as_graphql_error


@strawberry.type(
    description="One entry of the full-process record (执法全过程记录, R-SUP-01): an event of "
    "the district with its actor, agency, time and before/after state. Append-only."
)
class ProcessRecordEntry:
    id: strawberry.ID = strawberry.field(description="the event id")
    seq: int = strawberry.field(description="position in the district's record, increasing")
    type: str = strawberry.field(description="the event type, e.g. referral.sent.v1")
    subject: str | None = strawberry.field(description="the id of the aggregate the event is about")
    time: datetime = strawberry.field(description="when the event happened")
    district: str = strawberry.field(description="the district the event belongs to")
    service: str = strawberry.field(description="the service that published the event")
    correlation_id: str = strawberry.field(
        description="the request the event came from (ties its entries together)"
    )
    actor_id: str | None = strawberry.field(description="who acted (person id, or the service)")
    actor_agency_id: strawberry.ID | None = strawberry.field(
        description="the agency the actor acted for"
    )
    state_before: JSON | None = strawberry.field(
        description="the subject's state before it",
        deprecation_reason=replaced_by("stateBeforeJson"),
    )
    state_after: JSON | None = strawberry.field(
        description="the subject's state after the event",
        deprecation_reason=replaced_by("stateAfterJson"),
    )
    agency_ids: list[strawberry.ID] = strawberry.field(description="agencies the event names")
    payload: JSON = strawberry.field(
        description="the event's payload as published (JSON)",
        deprecation_reason=replaced_by("payloadJson"),
    )
    state_before_json: str | None = json_text(
        "state_before", "the subject's state before the event (null: none recorded)"
    )
    state_after_json: str | None = json_text(
        "state_after", "the subject's state after the event (null: none recorded)"
    )
    payload_json: str = json_text("payload", "the event's payload as published")

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


@strawberry.type(description="One process record entry and its cursor.")
class ProcessRecordEdge(Edge[ProcessRecordEntry]):
    pass


@strawberry.type(description="A page of the process record (全过程记录).")
class ProcessRecordConnection(Connection[ProcessRecordEntry]):
    edges: list[ProcessRecordEdge] = strawberry.field(  # type: ignore[assignment]
        description="the page's entries, in the order asked for"
    )


@strawberry.input(description="Filters of the full-process record; all optional, combined.")
class ProcessRecordFilter:
    subject: str | None = strawberry.field(
        default=None, description="only the entries about this aggregate id"
    )
    agency_id: strawberry.ID | None = strawberry.field(
        default=None, description="only the entries of this agency (yours unless you supervise)"
    )
    types: list[str] | None = strawberry.field(default=None, description="only these event types")
    time_from: datetime | None = strawberry.field(
        default=None, description="only entries at or after this instant (inclusive)"
    )
    time_to: datetime | None = strawberry.field(
        default=None, description="only entries before this instant (exclusive)"
    )

    def to_filter(self) -> RecordFilter:
        return RecordFilter(
            subject=self.subject,
            agency_id=str(self.agency_id) if self.agency_id else None,
            types=tuple(self.types) if self.types is not None else None,
            time_from=self.time_from,
            time_to=self.time_to,
        )


def _after_seq(after: str | None) -> int | None:
    if not after:
        return None
    values = decode_cursor(after)
    if len(values) != 1 or not isinstance(values[0], int):
        raise graphql_error(f"invalid cursor {after!r}", ErrorCode.VALIDATION, field="after")
    return values[0]


@strawberry.field(
    description="The full-process record (执法全过程记录, R-SUP-01), oldest first (`orderBy: "
    "NEWEST_FIRST` for the latest first). "
    "Supervisors see every entry; others the entries that name their agency."
)
async def process_record(
    info: Info,
    filter: Annotated[
        ProcessRecordFilter | None, strawberry.argument(description="subject, agency, event types")
    ] = None,
    first: FirstArg = 50,
    after: AfterArg = None,
    order_by: Annotated[
        ListOrder, strawberry.argument(description="oldest first (default) or newest first")
    ] = ListOrder.OLDEST_FIRST,
) -> ProcessRecordConnection:
    p = info.context.principal()
    where = (filter or ProcessRecordFilter()).to_filter()
    queries = info.context.queries
    with refused_as_graphql_error():
        scoped = queries.record_scope(p, where)
    after_seq = _after_seq(after)
    first = page_size(first)
    rows = await queries.process_record(
        scoped, after_seq=after_seq, limit=first + 1, descending=order_by.descending
    )

    async def count() -> int:
        return await queries.process_record_count(scoped)

    connection: ProcessRecordConnection = paginate(
        rows,
        first,
        cursor=lambda e: encode_cursor([e.seq]),
        node=ProcessRecordEntry.from_model,
        connection=ProcessRecordConnection,
        edge=ProcessRecordEdge,
        after=after,
        count=count,
    )
    return connection
