"""Tolerant readers of the events this service consumes (only the fields it needs)."""

from __future__ import annotations

from datetime import datetime

from kernel.envelope import EventPayload


class AgencyRegistered(EventPayload):
    event_type = "agency.registered.v1"

    agency_id: str
    name: str
    kind: str
    internal_unit: bool = False
    version: int


class DisputeRuled(EventPayload):
    """``dispute.ruled.v1`` from coordination: who is responsible after a dispute."""

    event_type = "dispute.ruled.v1"

    dispute_id: str
    referral_id: str | None = None
    matter_code: str = ""
    responsible_agency_id: str
    outcome_kind: str = "decision"  # agreement | minutes | decision
    basis: str = ""
    rule_id: str | None = None  # None: a one-case transfer, no catalogue rule
    ruled_at: datetime
