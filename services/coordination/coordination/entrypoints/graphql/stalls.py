"""The stall check in the coordination subgraph (issue 14): ``coordinationStalls`` lists the
disputes, requests and joint tasks that are not finished and have no running clock. The
referral subgraph's ``referralStalls`` lists the referrals; the gateway serves both."""

from __future__ import annotations

from datetime import datetime

import strawberry

from coordination.entrypoints.graphql.context import Info
from kernel.errors import DomainError
from kernel.graphql import graphql_error

__all__ = ["CoordinationStall", "StallQuery"]


@strawberry.type(
    description="A dispute, request or joint task that is not finished and that no running "
    "clock answers for (the stall check, R-REF-07 / R-SUP-02)."
)
class CoordinationStall:
    subject_type: str = strawberry.field(
        description="Dispute | AssistanceRequest | TechnicalSupportRequest | "
        "InformationQuery | JointTask"
    )
    subject_id: strawberry.ID = strawberry.field(
        description="the stalled dispute's, request's, query's or task's id (of `subjectType`)"
    )
    status: str = strawberry.field(description="its status now")
    agency_ids: list[strawberry.ID] = strawberry.field(
        description="where it sits: the agency that owes the next act first"
    )
    since: datetime = strawberry.field(description="its last change")
    reason: str = strawberry.field(description="why it counts as stalled")


@strawberry.type
class StallQuery:
    @strawberry.field(
        description="The stall check for supervising bodies (government, coordination body, "
        "justice bureau): coordination's cases with no running clock; empty when every open "
        "case is being timed. referralStalls lists the referrals."
    )
    async def coordination_stalls(self, info: Info) -> list[CoordinationStall]:
        check = info.context.queries.stall_check
        if check is None:
            raise graphql_error("the stall check is not wired in this deployment", "INTERNAL")
        try:
            found = await check.stalls(info.context.caller())
        except DomainError as exc:
            raise graphql_error(exc.message, exc.stable_code, field=exc.field) from exc
        return [
            CoordinationStall(
                subject_type=s.subject_type,
                subject_id=strawberry.ID(s.subject_id),
                status=s.status,
                agency_ids=[strawberry.ID(a) for a in s.agency_ids],
                since=s.since,
                reason=s.reason,
            )
            for s in found
        ]
