"""Events the coordination service publishes (a contract for other services and bureaus)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from kernel.deadlines import DeadlineV1
from kernel.envelope import EventPayload
from kernel.jurisdiction import CatalogueEntryV1


class LiaisonV1(EventPayload):
    name: str
    phone: str
    duty: str = "referral"


class AgencyRegisteredV1(EventPayload):
    """An agency was registered or its registration changed (full snapshot)."""

    event_type = "agency.registered.v1"

    agency_id: str
    name: str
    kind: str
    district: str
    internal_unit: bool = False
    parent_id: str | None = None
    liaisons: list[LiaisonV1] = Field(default_factory=list)
    version: int


class CatalogueChangeAnnouncedV1(EventPayload):
    """A catalogue change to announce to the townships it touches (R-CAT-01, R-NTF-02); notify
    puts it in their inboxes. The entry itself travels as ``catalogue.entry_changed.v1``."""

    event_type = "catalogue.change_announced.v1"

    township_ids: list[str]
    code: str
    name: str
    version: int
    change: str
    """created | revised | withdrawn | routing_rule_added"""
    summary_zh: str
    actor_id: str
    actor_agency_id: str | None = None
    state_before: str | None = None
    state_after: str | None = None


class DisputeStepV1(BaseModel):
    """A ladder step (R-DSP-02) as carried in dispute events."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    number: int
    name: str
    name_zh: str
    decided_by_agency_id: str
    due: datetime


class DisputeOpenedV1(EventPayload):
    """A jurisdiction dispute was opened (R-DSP-01); its first step's clock starts."""

    event_type = "dispute.opened.v1"

    dispute_id: str
    kind: str
    """jurisdiction | transfer_to_department (R-DSP-04)"""
    referral_id: str | None = None
    matter_code: str
    township_id: str
    party_ids: list[str]
    interim_handler_id: str | None = None
    reasons: str
    step: DisputeStepV1
    opened_at: datetime
    actor_id: str
    actor_agency_id: str | None = None
    state_before: str | None = None
    state_after: str | None = "open"
    deadlines: list[DeadlineV1] = Field(default_factory=list)


class DisputeEscalatedV1(EventPayload):
    """The dispute went up the ladder; the new step's clock replaces the old one."""

    event_type = "dispute.escalated.v1"

    dispute_id: str
    referral_id: str | None = None
    matter_code: str
    from_step: int
    step: DisputeStepV1
    cause: str
    """escalated_deadline_missed | escalated_by_party"""
    escalated_at: datetime
    actor_id: str
    actor_agency_id: str | None = None
    state_before: str | None = "open"
    state_after: str | None = "open"
    deadlines: list[DeadlineV1] = Field(default_factory=list)


class DisputeRuledV1(EventPayload):
    """The binding outcome (R-DSP-03): the referral waiting on it goes to
    ``responsible_agency_id``; ``rule_id`` names the catalogue routing rule it became (None for
    a one-case transfer to the department, R-DSP-04)."""

    event_type = "dispute.ruled.v1"

    dispute_id: str
    referral_id: str | None = None
    kind: str = "jurisdiction"
    matter_code: str
    township_id: str
    responsible_agency_id: str
    outcome_kind: str
    """agreement | minutes | decision"""
    basis: str
    signatories: list[str] = Field(default_factory=list)
    rule_id: str | None = None
    ruled_at: datetime
    actor_id: str
    actor_agency_id: str | None = None
    state_before: str | None = "open"
    state_after: str | None = "ruled"
    deadlines: list[DeadlineV1] = Field(default_factory=list)


PUBLISHED = [
    AgencyRegisteredV1,
    CatalogueEntryV1,
    CatalogueChangeAnnouncedV1,
    DisputeOpenedV1,
    DisputeEscalatedV1,
    DisputeRuledV1,
]
