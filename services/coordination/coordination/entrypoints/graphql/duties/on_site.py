"""On-site dispatch (立即派员现场处置, R-REF-15) in the graph."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Self

import strawberry

from coordination.application import duties as d
from coordination.domain import onsite as ons
from coordination.entrypoints.graphql.duties.common import (
    DutyNode,
    OnSiteSituation,
    OnSiteStatus,
    paged,
)
from coordination.entrypoints.graphql.types import (
    CooperationDeadline,
    CooperationTransition,
    Info,
    agency_field,
    clocks_and_history,
)
from kernel.graphql import INPUT, UserError, mirrored


@strawberry.type(description="HL 四(四): the notifier's report to the government.")
class OnSiteGovernmentReport:
    government_id: strawberry.ID = strawberry.field(
        description="the district government reported to"
    )
    text: str = strawberry.field(description="what the report says")
    reported_by: str = strawberry.field(description="who reported (person)")
    reported_at: datetime = strawberry.field(description="when it was reported")


@strawberry.federation.type(
    keys=["id"],
    description="An urgent case or hazard the receiver must send staff to at once "
    "(立即派员现场处置, R-REF-15).",
)
class OnSiteRequest(DutyNode):
    duty = "on_site"

    id: strawberry.ID = strawberry.field(description="the on-site request's id")
    notifier_id: strawberry.ID = strawberry.field(
        description="the agency that gave notice (告知方)"
    )
    receiver_id: strawberry.ID = strawberry.field(
        description="the agency told to send staff on site"
    )
    situation: OnSiteSituation = strawberry.field(description="urgent case or hazard")
    description: str = strawberry.field(description="what was found")
    place: str = strawberry.field(description="where staff are to go (address)")
    status: OnSiteStatus = strawberry.field(description="where it stands")
    notified_at: datetime = strawberry.field(description="when the notice was given")
    referral_id: strawberry.ID | None = strawberry.field(
        description="the urgent referral it concerns, if any"
    )
    staff: list[str] = strawberry.field(description="the staff sent on site")
    dispatched_at: datetime | None = strawberry.field(description="when staff were sent")
    arrived_at: datetime | None = strawberry.field(description="when the staff arrived on site")
    handling: str = strawberry.field(description="how it was handled on site (处置情况)")
    handled_at: datetime | None = strawberry.field(description="when the handling was recorded")
    explanation: str = strawberry.field(
        description="the reason given for sending no staff (说明理由)"
    )
    explained_at: datetime | None = strawberry.field(description="when the reason was given")
    late: bool = strawberry.field(description="acted or explained after the limit")
    report: OnSiteGovernmentReport | None = strawberry.field(
        description="the report to the government (HL 四(四)), once made"
    )
    deadlines: list[CooperationDeadline] = strawberry.field(description="its statutory clocks")
    history: list[CooperationTransition] = strawberry.field(
        description="every recorded action (R-SUP-01)"
    )

    notifier = agency_field("notifier_id", "the agency that gave notice")
    receiver = agency_field("receiver_id", "the agency told to send staff")

    @classmethod
    def of(cls, r: ons.OnSiteRequest, info: Info) -> Self:
        return mirrored(
            cls,
            r,
            staff=list(r.dispatch.staff) if r.dispatch else [],
            dispatched_at=r.dispatch.dispatched_at if r.dispatch else None,
            report=mirrored(OnSiteGovernmentReport, r.report) if r.report else None,
            **clocks_and_history(r, info),
        )


OnSiteRequestConnection = paged(OnSiteRequest, "on-site request", "On-site requests")


OnSiteResult = Annotated[
    OnSiteRequest | UserError,
    strawberry.union(
        "OnSiteRequestResult", description="The on-site request, or why the command was refused"
    ),
]


@strawberry.input(description="R-REF-15: the notice of an urgent case or hazard")
class NotifyOnSiteInput:
    notifier_id: strawberry.ID = strawberry.field(
        description="the agency that gave notice (告知方)"
    )
    receiver_id: strawberry.ID = strawberry.field(
        description="the agency told to send staff on site"
    )
    situation: OnSiteSituation = strawberry.field(description="urgent case or hazard")
    description: str = strawberry.field(description="what was found")
    place: str = strawberry.field(description="where staff are to go (address)")
    referral_id: strawberry.ID | None = strawberry.field(
        default=None, description="the urgent referral this concerns, if any"
    )


@strawberry.type
class OnSiteQuery:
    on_site_request = OnSiteRequest.read_field(
        "One on-site request (parties and supervising roles)."
    )
    on_site_requests = OnSiteRequest.list_field(
        "On-site requests you are a party to (all if you supervise)."
    )


@strawberry.type
class OnSiteMutation:
    @strawberry.mutation(
        description="R-REF-15: tell the competent agency of an urgent case or hazard; its "
        "staff are due on site within the policy's immediately hours."
    )
    async def notify_on_site(
        self,
        info: Info,
        input: Annotated[NotifyOnSiteInput, INPUT],
    ) -> OnSiteResult:
        cmd = d.NotifyOnSite(
            notifier_id=str(input.notifier_id),
            receiver_id=str(input.receiver_id),
            situation=input.situation.value,
            description=input.description,
            place=input.place,
            referral_id=str(input.referral_id) if input.referral_id else None,
        )
        return await OnSiteRequest.result_of(info, lambda h, caller: h.notify(cmd, caller))

    @strawberry.mutation(description="R-REF-15: staff sent on site (who; when is now).")
    async def dispatch_on_site_staff(
        self,
        info: Info,
        request_id: Annotated[
            strawberry.ID, strawberry.argument(description="the on-site request")
        ],
        staff: Annotated[
            list[str], strawberry.argument(description="the staff sent on site (names)")
        ],
    ) -> OnSiteResult:
        return await OnSiteRequest.result_of(
            info,
            lambda h, caller: h.dispatch(
                d.DispatchOnSiteStaff(str(request_id), tuple(staff)), caller
            ),
        )

    @strawberry.mutation(description="R-REF-15: the staff arrived on site (now).")
    async def record_on_site_arrival(
        self,
        info: Info,
        request_id: Annotated[
            strawberry.ID, strawberry.argument(description="the on-site request")
        ],
    ) -> OnSiteResult:
        return await OnSiteRequest.result_of(
            info, lambda h, caller: h.arrive(d.RecordOnSiteArrival(str(request_id)), caller)
        )

    @strawberry.mutation(description="R-REF-15: how it was handled on site.")
    async def record_on_site_handling(
        self,
        info: Info,
        request_id: Annotated[
            strawberry.ID, strawberry.argument(description="the on-site request")
        ],
        handling: Annotated[
            str, strawberry.argument(description="what was done on site (处置情况)")
        ],
    ) -> OnSiteResult:
        return await OnSiteRequest.result_of(
            info,
            lambda h, caller: h.handle(d.RecordOnSiteHandling(str(request_id), handling), caller),
        )

    @strawberry.mutation(description="HL 四(四): the receiver says why it sends no staff.")
    async def explain_on_site(
        self,
        info: Info,
        request_id: Annotated[
            strawberry.ID, strawberry.argument(description="the on-site request")
        ],
        reason: Annotated[str, strawberry.argument(description="why no staff are sent (说明理由)")],
    ) -> OnSiteResult:
        return await OnSiteRequest.result_of(
            info, lambda h, caller: h.explain(d.ExplainOnSite(str(request_id), reason), caller)
        )

    @strawberry.mutation(
        description="HL 四(四): the notifier reports to the government a receiver that neither "
        "sent staff nor explained within the limit (only once it lapsed; policy flag)."
    )
    async def report_on_site_to_government(
        self,
        info: Info,
        request_id: Annotated[
            strawberry.ID, strawberry.argument(description="the on-site request")
        ],
        text: Annotated[str, strawberry.argument(description="what the report says")],
    ) -> OnSiteResult:
        return await OnSiteRequest.result_of(
            info,
            lambda h, caller: h.report_to_government(
                d.ReportOnSiteToGovernment(str(request_id), text), caller
            ),
        )
