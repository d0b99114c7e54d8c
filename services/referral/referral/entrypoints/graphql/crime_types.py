"""A referral's crime transfer in the graph (R-REF-10, R-REF-14; Decree 310): each step,
the penalties that stand and a fine already paid."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from kernel.graphql import link, link_id
from referral.domain.model import CrimeTransfer as CrimeTransferModel
from referral.entrypoints.graphql.agency import Agency

__all__ = ["ReferralCrimeTransfer", "ReferralFinePaid", "_crime_steps"]


@strawberry.type(
    description="R-REF-14: a fine given before the transfer and paid; it counts "
    "against a later criminal fine (依法折抵相应罚金, Decree 310 第十一条)."
)
class ReferralFinePaid:
    decision_number: str = strawberry.field(description="the penalty decision's 文号")
    amount_yuan: int = strawberry.field(description="the fine paid, in yuan")
    paid_at: datetime = strawberry.field(description="when it was paid")
    receipt: str = strawberry.field(description="the payment receipt's number, if any")
    recorded_at: datetime = strawberry.field(description="when it was recorded here")


@strawberry.type(
    description="R-REF-10 / R-REF-14: transfer to public security (Decree 310) and each step."
)
class ReferralCrimeTransfer:
    police_id: strawberry.ID = link_id("the public security agency (公安机关) the case goes to")
    police: Agency | None = link(
        "the public security agency (公安机关) the case goes to", "policeId"
    )
    reason: str = strawberry.field(description="why the case is suspected to be a crime")
    transferred_at: datetime | None = strawberry.field(
        description="null while the head decides or the approved transfer is on its way"
    )
    decision: str = strawberry.field(description="empty while pending | filed | not_filed")
    decision_note: str = strawberry.field(
        description="the police's note with its decision; empty while pending"
    )
    decided_at: datetime | None = strawberry.field(
        description="when the police decided 立案 or 不立案 (+08:00); null while pending"
    )
    stage: str = strawberry.field(
        description="reported | refused | approved | transferred | not_filed | "
        "reconsideration | upheld | supervision | filed | handed_over | closed_not_filed"
    )
    agency: Agency | None = strawberry.field(description="the transferring agency")
    reported_at: datetime | None = strawberry.field(
        description="the written report to the agency's head (Decree 310 第五条)"
    )
    head_decided_at: datetime | None = strawberry.field(
        description="when the head decided (within 3 days of the report)"
    )
    head_refusal_reason: str = strawberry.field(
        description="why the head refused the transfer; empty unless refused"
    )
    decision_reasons: str = strawberry.field(description="不立案: the police's reasons")
    reconsideration_requested_at: datetime | None = strawberry.field(
        description="when the agency asked the police to reconsider a 不立案 (复议, 第九条)"
    )
    reconsideration_reason: str = strawberry.field(description="why it asked")
    reconsideration_decision: str = strawberry.field(
        description="empty while pending | filed | upheld (不立案 kept)"
    )
    reconsideration_note: str = strawberry.field(description="the police's written answer")
    reconsideration_answered_at: datetime | None = strawberry.field(
        description="when the police answered (within 3 days)"
    )
    procuratorate: Agency | None = strawberry.field(
        description="the procuratorate asked to supervise (立案监督), once asked"
    )
    supervision_requested_at: datetime | None = strawberry.field(
        description="when the procuratorate was asked"
    )
    supervision_reason: str = strawberry.field(description="why it was asked")
    handed_over_at: datetime | None = strawberry.field(
        description="when the materials were handed to the police after 立案 (within 3 days)"
    )
    handover_note: str = strawberry.field(description="what was handed over")
    penalties_standing: list[str] = strawberry.field(
        description="penalty decisions given before the transfer: they stand (不停止执行)"
    )
    fine_paid: ReferralFinePaid | None = strawberry.field(
        description="a fine already paid, which counts against a later criminal fine"
    )


def _crime_steps(c: CrimeTransferModel) -> dict[str, Any]:
    """The Decree 310 steps of a crime transfer (R-REF-14) as the graph shows them."""
    paid = c.fine_paid
    return {
        "stage": c.stage.value,
        "agency": Agency(id=strawberry.ID(c.agency_id)) if c.agency_id else None,
        "reported_at": c.reported_at,
        "head_decided_at": c.head_decided_at,
        "head_refusal_reason": c.head_refusal_reason,
        "decision_reasons": c.decision_reasons,
        "reconsideration_requested_at": c.reconsideration_requested_at,
        "reconsideration_reason": c.reconsideration_reason,
        "reconsideration_decision": c.reconsideration_decision,
        "reconsideration_note": c.reconsideration_note,
        "reconsideration_answered_at": c.reconsideration_answered_at,
        "procuratorate": (
            Agency(id=strawberry.ID(c.procuratorate_id)) if c.procuratorate_id else None
        ),
        "supervision_requested_at": c.supervision_requested_at,
        "supervision_reason": c.supervision_reason,
        "handed_over_at": c.handed_over_at,
        "handover_note": c.handover_note,
        "penalties_standing": list(c.penalties_standing),
        "fine_paid": (
            ReferralFinePaid(
                decision_number=paid.decision_number,
                amount_yuan=paid.amount_yuan,
                paid_at=paid.paid_at,
                receipt=paid.receipt,
                recorded_at=paid.recorded_at,
            )
            if paid
            else None
        ),
    }
