"""Tolerant readers of the events notify consumes (only the fields it needs)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

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


class PenaltyRecorded(EventPayload):
    """``referral.penalty_recorded.v1``: a penalty decision (行政处罚决定) in a referred case."""

    event_type = "referral.penalty_recorded.v1"

    referral_id: str
    sender_id: str
    receiver_id: str = ""
    matter_code: str = ""
    decision_number: str
    kinds: list[str] = Field(default_factory=list)
    fine_yuan: int | None = None
    actor_id: str = ""
    actor_agency_id: str = ""
    at: datetime | None = None


class CatalogueEntryChanged(EventPayload):
    """``catalogue.entry_changed.v1`` (kernel.jurisdiction.CatalogueEntryV1), read for the
    department that owns each matter and the matter's name."""

    event_type = "catalogue.entry_changed.v1"

    code: str
    name: str
    original_department_id: str
    withdrawn: bool = False
    version: int


class CatalogueChangeAnnounced(EventPayload):
    """``catalogue.change_announced.v1``: a change of legal basis, standard or interpretation
    to be announced to the townships concerned (R-NTF-02)."""

    event_type = "catalogue.change_announced.v1"

    township_ids: list[str]
    code: str
    name: str
    version: int
    change: str = ""
    summary_zh: str = ""
