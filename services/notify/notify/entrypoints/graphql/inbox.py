"""Inboxes (通知/待办): an agency's items, their receipt (签收), the live inbox, the notices of
a referral, and the reports copied to another agency's inbox (抄告)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Annotated

import strawberry

from kernel.graphql import (
    INPUT,
    AfterArg,
    Connection,
    Edge,
    ErrorCode,
    FirstArg,
    IdArg,
    UserError,
    encode_cursor,
    follow,
    graphql_error,
    link,
    link_id,
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
from notify.entrypoints.graphql.work import WorkQueueConnection, WorkQueueFilter, work_queue_page

FORBIDDEN_INBOX = "only staff of this agency or a supervisor may read its inbox"


@strawberry.type(description="One inbox item and its cursor.")
class InboxEdge(Edge[InboxItem]):
    pass


@strawberry.type(description="A page of an agency's inbox.")
class InboxConnection(Connection[InboxItem]):
    edges: list[InboxEdge] = strawberry.field(  # type: ignore[assignment]
        description="the page's items, newest first"
    )


def _cursor(m: InboxItemModel) -> str:
    return encode_cursor([m.created_at.isoformat(), m.id])


async def _inbox_page(
    info: Info, agency_id: str, unread_only: bool, first: int, after: str | None
) -> InboxConnection:
    if not info.context.may_read_inbox_of(agency_id):
        raise graphql_error(FORBIDDEN_INBOX, ErrorCode.FORBIDDEN)
    first = page_size(first)
    queries = info.context.queries
    rows = await queries.inbox(
        agency_id, unread_only=unread_only, before=time_id_cursor(after), limit=first + 1
    )
    connection: InboxConnection = paginate(
        rows,
        first,
        cursor=_cursor,
        node=InboxItem.from_model,
        connection=InboxConnection,
        edge=InboxEdge,
        after=after,
        count=lambda: queries.inbox_count(agency_id, unread_only=unread_only),
    )
    return connection


@strawberry.federation.type(keys=["id"])
class Agency:
    id: strawberry.ID

    @strawberry.field(description="This agency's inbox, newest first.")
    async def inbox(
        self,
        info: Info,
        unread_only: Annotated[
            bool, strawberry.argument(description="only the items nobody has signed for")
        ] = False,
        first: FirstArg = 20,
        after: AfterArg = None,
    ) -> InboxConnection:
        return await _inbox_page(info, str(self.id), unread_only, first, after)

    @strawberry.field(
        description="Items of this agency's inbox awaiting a receipt (签收); its staff and "
        "the supervising roles may read it."
    )
    async def unread_count(self, info: Info) -> int:
        if not info.context.may_read_inbox_of(str(self.id)):
            raise graphql_error(FORBIDDEN_INBOX, ErrorCode.FORBIDDEN)
        return await info.context.queries.inbox_count(str(self.id), unread_only=True)

    @strawberry.field(
        description="What is due for this agency: its open clocks of every kind, soonest "
        "first, with counts (its staff and the supervising roles)."
    )
    async def work_queue(
        self,
        info: Info,
        filter: Annotated[
            WorkQueueFilter | None, strawberry.argument(description="which clocks; all open")
        ] = None,
        first: Annotated[int, strawberry.argument(description="page size, 1 to 200")] = 20,
        after: Annotated[
            str | None, strawberry.argument(description="the endCursor of the page before")
        ] = None,
    ) -> WorkQueueConnection:
        return await work_queue_page(info, str(self.id), filter, first, after)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Agency:
        return cls(id=id)


@strawberry.field(description="The caller's agency's inbox.")
async def my_inbox(
    info: Info,
    unread_only: Annotated[
        bool, strawberry.argument(description="only the items nobody has signed for")
    ] = False,
    first: FirstArg = 20,
    after: AfterArg = None,
) -> InboxConnection:
    p = info.context.principal()
    return await _inbox_page(info, p.agency_id, unread_only, first, after)


@strawberry.type(description="Who is asking: the caller's agency and roles, and their work.")
class Viewer:
    person_id: strawberry.ID = strawberry.field(description="the caller's person id")
    person_name: str = strawberry.field(description="the caller's name")
    district: str = strawberry.field(description="the district the token is for")
    roles: list[str] = strawberry.field(description="the token's roles, e.g. clerk, leader")
    agency_id: strawberry.ID = link_id("the caller's agency")
    agency: Agency | None = link(
        "the caller's agency (its name and kind come from coordination; its inbox, unread "
        "count and work queue from notify)",
        "agencyId",
    )


@strawberry.field(description="The caller as the token says: person, agency, roles.")
def viewer(info: Info) -> Viewer:
    p = info.context.principal()
    return Viewer(
        person_id=strawberry.ID(p.person_id),
        person_name=p.person_name,
        district=p.district,
        roles=list(p.roles),
        agency_id=strawberry.ID(p.agency_id),
        agency=Agency(id=strawberry.ID(p.agency_id)),
    )


@strawberry.subscription(
    description="Items arriving in an agency's inbox from now on (staff of the agency or "
    "a supervisor)."
)
async def inbox_item_added(
    info: Info,
    agency_id: Annotated[
        strawberry.ID, strawberry.argument(description="the agency whose inbox is followed")
    ],
) -> AsyncGenerator[InboxItem, None]:
    agency = str(agency_id)
    if not info.context.may_read_inbox_of(agency):
        raise graphql_error(FORBIDDEN_INBOX, ErrorCode.FORBIDDEN)
    inbox = info.context.queries

    async def stored(since: datetime) -> list[tuple[datetime, str, InboxItemModel]]:
        return [
            (at, item.id, item) for at, item in await inbox.added_since(agency, since, limit=500)
        ]

    async for _, _, item in follow(info, stored, inbox.now(), changes=inbox.inbox_changes):
        yield InboxItem.from_model(item)


AcknowledgeResult = Annotated[
    InboxItem | UserError,
    strawberry.union(
        "AcknowledgeResult",
        description="What the mutation answers: the InboxItem as it is now, or the "
        "UserError that refused it (nothing was changed).",
    ),
]
ReportCopyResult = Annotated[
    InboxItem | UserError,
    strawberry.union(
        "ReportCopyResult",
        description="What the mutation answers: the InboxItem as it is now, or the "
        "UserError that refused it (nothing was changed).",
    ),
]


@strawberry.input(description="An administrative approval (行政审批) to copy to a township.")
class ReportApprovalInput:
    number: str = strawberry.field(description="the approval's document number")
    matter_code: str = strawberry.field(description="the catalogue matter approved")
    township_id: strawberry.ID = strawberry.field(description="the township of the place")
    summary: str = strawberry.field(description="what was approved")
    urgent: bool = strawberry.field(default=False, description="urgent for the township")


@strawberry.input(description="A major safety hazard or hot spot of violations (R-NTF-03).")
class ReportHazardInput:
    kind: str = strawberry.field(description="hazard (重大安全隐患) | hotspot (违法行为高发)")
    matter_code: str = strawberry.field(description="names the competent department")
    place: str = strawberry.field(description="where the hazard is")
    description: str = strawberry.field(description="what the hazard or hot spot is")
    urgent: bool = strawberry.field(default=False, description="urgent for the department")


@strawberry.input(
    description="R-NTF-01: a penalty decision on a township's own case (not from a referral)."
)
class ReportPenaltyDecisionInput:
    decision_number: str = strawberry.field(description="行政处罚决定书文号")
    matter_code: str = strawberry.field(description="names the department to copy it to")
    party: str = strawberry.field(description="当事人")
    kinds: list[str] = strawberry.field(description="kinds of penalty (警告, 罚款, …)")
    fine_yuan: int | None = strawberry.field(default=None, description="the fine, in yuan")
    summary: str = strawberry.field(default="", description="the facts and the decision")


@strawberry.input(description="R-NTF-02: a change to a standard or an interpretation.")
class AnnounceStandardChangeInput:
    kind: str = strawberry.field(
        description="standard (标准) | interpretation (解释) | legal_basis (法律依据)"
    )
    title: str = strawberry.field(description="the standard's or interpretation's title")
    summary: str = strawberry.field(description="what changed, for the townships (Chinese)")
    township_ids: list[strawberry.ID] = strawberry.field(description="the townships concerned")
    matter_codes: list[str] = strawberry.field(
        default_factory=list, description="the catalogue matters it concerns, if any"
    )
    effective_on: str = strawberry.field(default="", description="YYYY-MM-DD, if any")


@strawberry.type(description="R-NTF-02: the notices a change announcement put in inboxes.")
class StandardChangeAnnouncement:
    notices: list[InboxItem] = strawberry.field(description="one per township concerned")


AnnounceResult = Annotated[
    StandardChangeAnnouncement | UserError,
    strawberry.union(
        "AnnounceStandardChangeResult", description="The notices sent, or why none was."
    ),
]


@strawberry.mutation(description="Sign for an inbox item (签收, R-NTF-04).")
async def acknowledge_inbox_item(info: Info, id: IdArg) -> AcknowledgeResult:
    caller = info.context.caller()
    command = AcknowledgeInboxItem(str(id))
    return await answer(info.context.handlers.acknowledge(command, caller), InboxItem.from_model)


@strawberry.mutation(
    description="Report an administrative approval (行政审批) of your department or approval "
    "bureau; it is copied to the township at once (抄告, R-NTF-01; urgent: marked urgent). "
    "Returns the township's inbox item."
)
async def report_approval(
    info: Info, input: Annotated[ReportApprovalInput, INPUT]
) -> ReportCopyResult:
    caller = info.context.caller()
    report = ApprovalReport(
        input.number, input.matter_code, str(input.township_id), input.summary, input.urgent
    )
    return await answer(info.context.copies.report_approval(report, caller), InboxItem.from_model)


@strawberry.mutation(
    description="A township reports a major safety hazard or a hot spot of violations to "
    "the competent department (R-NTF-03). Returns the department's inbox item."
)
async def report_hazard(info: Info, input: Annotated[ReportHazardInput, INPUT]) -> ReportCopyResult:
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
    info: Info,
    input: Annotated[ReportPenaltyDecisionInput, strawberry.argument(description="the decision")],
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
    info: Info,
    input: Annotated[AnnounceStandardChangeInput, INPUT],
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
