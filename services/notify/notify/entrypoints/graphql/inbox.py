"""Inboxes (通知/待办): an agency's items, their receipt (签收), the live inbox, the notices of
a referral, and the reports copied to another agency's inbox (抄告)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from datetime import datetime, timedelta
from typing import Annotated

import strawberry

from kernel.graphql import (
    Connection,
    Edge,
    ErrorCode,
    UserError,
    encode_cursor,
    graphql_error,
    page_size,
    paginate,
)
from notify.application.handlers import AcknowledgeInboxItem
from notify.domain.copies import (
    ApprovalReport,
    HazardReport,
    PenaltyDecisionReport,
    StandardChange,
)
from notify.domain.model import InboxItem as InboxItemModel
from notify.entrypoints.graphql.types import InboxItem, Info, answer, time_id_cursor

# Live inbox: how often the store is polled, and how far back each poll looks again so that
# an item stored by a replica whose clock runs slightly behind is still delivered (seen ids
# are remembered, so nothing is delivered twice).
POLL_SECONDS = 0.5
LOOKBACK = timedelta(seconds=10)

FORBIDDEN_INBOX = "only staff of this agency or a supervisor may read its inbox"


@strawberry.type
class InboxEdge(Edge[InboxItem]):
    pass


@strawberry.type
class InboxConnection(Connection[InboxItem]):
    edges: list[InboxEdge]  # type: ignore[assignment]


def _cursor(m: InboxItemModel) -> str:
    return encode_cursor([m.created_at.isoformat(), m.id])


async def _inbox_page(
    info: Info, agency_id: str, unread_only: bool, first: int, after: str | None
) -> InboxConnection:
    if not info.context.may_read_inbox_of(agency_id):
        raise graphql_error(FORBIDDEN_INBOX, ErrorCode.FORBIDDEN)
    first = page_size(first)
    rows = await info.context.queries.inbox(
        agency_id, unread_only=unread_only, before=time_id_cursor(after), limit=first + 1
    )
    connection: InboxConnection = paginate(
        rows,
        first,
        cursor=_cursor,
        node=InboxItem.from_model,
        connection=InboxConnection,
        edge=InboxEdge,
    )
    return connection


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


@strawberry.field(description="The caller's agency's inbox.")
async def my_inbox(
    info: Info, unread_only: bool = False, first: int = 20, after: str | None = None
) -> InboxConnection:
    p = info.context.principal()
    return await _inbox_page(info, p.agency_id, unread_only, first, after)


@strawberry.subscription(
    description="Items arriving in an agency's inbox from now on (staff of the agency or "
    "a supervisor)."
)
async def inbox_item_added(info: Info, agency_id: strawberry.ID) -> AsyncGenerator[InboxItem, None]:
    agency = str(agency_id)
    if not info.context.may_read_inbox_of(agency):
        raise graphql_error(FORBIDDEN_INBOX, ErrorCode.FORBIDDEN)
    inbox = info.context.queries
    # Polling the store rather than an in-process broadcast: an item stored by another
    # replica (or written while this one was busy) is seen all the same, on the embedded
    # store too (it has no change streams to listen to).
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


AcknowledgeResult = Annotated[InboxItem | UserError, strawberry.union("AcknowledgeResult")]
ReportCopyResult = Annotated[InboxItem | UserError, strawberry.union("ReportCopyResult")]


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


@strawberry.input(
    description="R-NTF-01: a penalty decision on a township's own case (not from a referral)."
)
class ReportPenaltyDecisionInput:
    decision_number: str = strawberry.field(description="行政处罚决定书文号")
    matter_code: str = strawberry.field(description="names the department to copy it to")
    party: str = strawberry.field(description="当事人")
    kinds: list[str] = strawberry.field(description="kinds of penalty (警告, 罚款, …)")
    fine_yuan: int | None = None
    summary: str = ""


@strawberry.input(description="R-NTF-02: a change to a standard or an interpretation.")
class AnnounceStandardChangeInput:
    kind: str = strawberry.field(
        description="standard (标准) | interpretation (解释) | legal_basis (法律依据)"
    )
    title: str
    summary: str = strawberry.field(description="what changed")
    township_ids: list[strawberry.ID] = strawberry.field(description="the townships concerned")
    matter_codes: list[str] = strawberry.field(default_factory=list)
    effective_on: str = strawberry.field(default="", description="YYYY-MM-DD, if any")


@strawberry.type(description="R-NTF-02: the notices a change announcement put in inboxes.")
class StandardChangeAnnouncement:
    notices: list[InboxItem]


AnnounceResult = Annotated[
    StandardChangeAnnouncement | UserError, strawberry.union("AnnounceStandardChangeResult")
]


@strawberry.mutation(description="Sign for an inbox item (签收, R-NTF-04).")
async def acknowledge_inbox_item(info: Info, id: strawberry.ID) -> AcknowledgeResult:
    caller = info.context.caller()
    command = AcknowledgeInboxItem(str(id))
    return await answer(info.context.handlers.acknowledge(command, caller), InboxItem.from_model)


@strawberry.mutation(
    description="Report an administrative approval (行政审批) of your department or approval "
    "bureau; it is copied to the township at once (抄告, R-NTF-01; urgent: marked urgent). "
    "Returns the township's inbox item."
)
async def report_approval(info: Info, input: ReportApprovalInput) -> ReportCopyResult:
    caller = info.context.caller()
    report = ApprovalReport(
        input.number, input.matter_code, str(input.township_id), input.summary, input.urgent
    )
    return await answer(info.context.copies.report_approval(report, caller), InboxItem.from_model)


@strawberry.mutation(
    description="A township reports a major safety hazard or a hot spot of violations to "
    "the competent department (R-NTF-03). Returns the department's inbox item."
)
async def report_hazard(info: Info, input: ReportHazardInput) -> ReportCopyResult:
    caller = info.context.caller()
    report = HazardReport(
        input.kind, input.matter_code, input.place, input.description, input.urgent
    )
    return await answer(info.context.copies.report_hazard(report, caller), InboxItem.from_model)


@strawberry.mutation(
    description="A township copies a penalty decision on a case of its own to the department "
    "owning the matter for the record (抄告备案, R-NTF-01). Returns the department's inbox item."
)
async def report_penalty_decision(
    info: Info, input: ReportPenaltyDecisionInput
) -> ReportCopyResult:
    caller = info.context.caller()
    report = PenaltyDecisionReport(
        input.decision_number,
        input.matter_code,
        input.party,
        tuple(input.kinds),
        input.fine_yuan,
        input.summary,
    )
    return await answer(
        info.context.copies.report_penalty_decision(report, caller), InboxItem.from_model
    )


@strawberry.mutation(
    description="Announce a change to a standard or an interpretation to the townships "
    "concerned (R-NTF-02); each gets an inbox notice with a receipt. Returns the notices."
)
async def announce_standard_change(
    info: Info, input: AnnounceStandardChangeInput
) -> AnnounceResult:
    caller = info.context.caller()
    change = StandardChange(
        input.kind,
        input.title,
        input.summary,
        tuple(input.matter_codes),
        tuple(str(t) for t in input.township_ids),
        input.effective_on,
    )
    return await answer(
        info.context.copies.announce_standard_change(change, caller),
        lambda items: StandardChangeAnnouncement(notices=[InboxItem.from_model(i) for i in items]),
    )
