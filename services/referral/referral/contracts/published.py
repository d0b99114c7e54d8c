"""Events the referral service publishes (a contract for other services and bureaus)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from kernel.deadlines import DeadlineV1
from kernel.envelope import EventPayload


class ReferralDraftedV1(EventPayload):
    event_type = "referral.drafted.v1"

    referral_id: str
    sender_id: str
    receiver_id: str
    matter_code: str
    title: str
    actor_id: str


class ReferralSubmittedV1(EventPayload):
    event_type = "referral.submitted.v1"

    referral_id: str
    sender_id: str
    actor_id: str


class ReferralApprovedV1(EventPayload):
    event_type = "referral.approved.v1"

    referral_id: str
    sender_id: str
    actor_id: str


class ReferralSentV1(EventPayload):
    """A referral left the sender; the receiver must state in writing whether it accepts by
    ``accept_due`` (R-REF-06; None where the district sets no limit)."""

    event_type = "referral.sent.v1"

    referral_id: str
    sender_id: str
    receiver_id: str
    matter_code: str
    title: str
    urgent: bool
    sent_at: datetime
    accept_due: datetime | None = None
    actor_id: str
    deadlines: list[DeadlineV1] = Field(default_factory=list)


PUBLISHED = [ReferralDraftedV1, ReferralSubmittedV1, ReferralApprovedV1, ReferralSentV1]
