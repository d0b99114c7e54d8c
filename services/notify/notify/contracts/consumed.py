"""Tolerant readers of the events notify consumes (only the fields it needs)."""

from __future__ import annotations

from datetime import datetime

from kernel.envelope import EventPayload


class AgencyRegistered(EventPayload):
    event_type = "agency.registered.v1"

    agency_id: str
    name: str
    kind: str
    version: int


class ReferralSent(EventPayload):
    event_type = "referral.sent.v1"

    referral_id: str
    sender_id: str
    receiver_id: str
    title: str
    urgent: bool = False
    sent_at: datetime
    accept_due: datetime | None = None
