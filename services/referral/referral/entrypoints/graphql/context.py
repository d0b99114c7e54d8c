"""The referral subgraph's request context: the verified caller, the handlers, the
repositories the resolvers read through, and per-request loaders."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.dataloader import DataLoader

from kernel.auth import TokenVerifier
from kernel.calendar import WorkingCalendar
from kernel.graphql import RequestContext
from referral.application.access import may_read_complaint, may_read_referral
from referral.application.handlers import ReferralHandlers
from referral.application.queries import ReferralQueries
from referral.domain.complaint import Complaint as ComplaintModel
from referral.domain.complaint import ComplaintStatus as DomainComplaintStatus
from referral.domain.model import Referral as ReferralModel
from referral.domain.model import Status as DomainStatus

# The domain's enums are registered with the graph as they are (one source of truth).
strawberry.enum(
    DomainStatus, name="ReferralStatus", description="Where a referral stands in its lifecycle"
)
ReferralStatus = DomainStatus
strawberry.enum(
    DomainComplaintStatus, name="ComplaintStatus", description="Where a complaint stands"
)
ComplaintStatus = DomainComplaintStatus


class ReferralContext(RequestContext):
    def __init__(
        self,
        verifier: TokenVerifier,
        district: str,
        handlers: ReferralHandlers,
        queries: ReferralQueries,
        calendar: WorkingCalendar,
    ) -> None:
        super().__init__(verifier, district)
        self.handlers = handlers
        self.queries = queries
        self.calendar = calendar
        self.referral_loader: DataLoader[str, ReferralModel | None] = DataLoader(
            queries.referrals_by_id
        )
        self.complaint_loader: DataLoader[str, ComplaintModel | None] = DataLoader(
            queries.complaints_by_id
        )

    def now(self) -> datetime:
        """The deployment's clock (kernel.clock), the one the handlers use: overdue flags
        agree with the deadline watch when a test moves time."""
        return self.handlers.clock()

    async def visible_referral(self, referral_id: str) -> ReferralModel | None:
        model = await self.referral_loader.load(referral_id)
        return model if model is not None and may_read_referral(self.principal(), model) else None

    async def visible_complaint(self, complaint_id: str) -> ComplaintModel | None:
        model = await self.complaint_loader.load(complaint_id)
        p = self.principal()
        return model if model is not None and may_read_complaint(p, model) else None


Info = strawberry.Info[ReferralContext, None]
