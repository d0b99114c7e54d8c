"""The referral subgraph's request context: the verified caller, the handlers, the
repositories the resolvers read through, and per-request loaders."""

from __future__ import annotations

from datetime import datetime
from functools import cached_property

import strawberry
from strawberry.dataloader import DataLoader

from kernel.auth import TokenVerifier
from kernel.calendar import WorkingCalendar
from kernel.graphql import RequestContext, expose_enum
from referral.application.access import may_read_complaint, may_read_referral
from referral.application.handlers import ReferralHandlers
from referral.application.queries import ReferralQueries
from referral.domain.complaint import Complaint as ComplaintModel
from referral.domain.complaint import ComplaintStatus as DomainComplaintStatus
from referral.domain.model import Referral as ReferralModel
from referral.domain.model import Status as DomainStatus

# The domain's enums are registered with the graph as they are (one source of truth).
expose_enum(
    DomainStatus,
    "ReferralStatus",
    "Where a referral (案件移送) stands in its lifecycle",
    {
        "draft": "being written by the sender (草稿)",
        "pending_approval": "submitted for the sender's leader to approve (待审批)",
        "approved": "approved; may be sent (已审批)",
        "sent": "with the receiver, who must accept or decline in writing (已移送)",
        "accepted": "the receiver accepted it (已受理)",
        "declined": "the receiver declined; a dispute decides (不予受理)",
        "crime_pending": "a suspected crime is with public security (涉嫌犯罪移送中)",
        "handled": "the receiver handled the case (已处理)",
        "result_reported": "the result was reported to the sender (已反馈)",
        "closed": "closed by the sender (已办结)",
        "withdrawn": "withdrawn by the sender (已撤回)",
    },
)
ReferralStatus = DomainStatus
expose_enum(
    DomainComplaintStatus,
    "ComplaintStatus",
    "Where a complaint (投诉举报) stands (R-CMP-01…04)",
    {
        "registered": "registered by the agency that received it (登记)",
        "handover_pending": "awaiting the other agency's consent to a handover",
        "answered": "no violation: answered directly (R-CMP-03)",
        "guided": "the complainant was told where to go, with the other side's consent",
        "case_opened": "within the agency's powers: its own case (立案)",
        "referred": "another agency's: a referral was made (移送)",
        "result_told": "the complainant was told the result (R-CMP-04)",
    },
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

    # The loaders are made at first use: most requests need one of them or none (issue 21,
    # P6: making both took ~2 % of a ``referral(id)``).
    @cached_property
    def referral_loader(self) -> DataLoader[str, ReferralModel | None]:
        return DataLoader(self.queries.referrals_by_id)

    @cached_property
    def complaint_loader(self) -> DataLoader[str, ComplaintModel | None]:
        return DataLoader(self.queries.complaints_by_id)

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
