"""What coordination adds to the referral service's Referral entity: the jurisdiction
disputes about it (its decline's, a township's case-transfer request's), so a client follows
the link instead of guessing a dispute id."""

from __future__ import annotations

import strawberry

from coordination.entrypoints.graphql.context import Info
from coordination.entrypoints.graphql.disputes import Dispute

__all__ = ["Referral"]


@strawberry.federation.type(keys=["id"])
class Referral:
    id: strawberry.ID

    @strawberry.field(
        description="The jurisdiction disputes about this referral that you may see (opened "
        "by its decline, R-REF-07, or by a case-transfer request, R-DSP-04), oldest first."
    )
    async def disputes(self, info: Info) -> list[Dispute]:
        found = await info.context.queries.disputes_of_referral(str(self.id), info.context.caller())
        return [Dispute.from_model(d, info) for d in found]

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Referral:
        return cls(id=id)
