"""Tolerant readers of the events this service consumes (only the fields it needs)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from kernel.envelope import EventPayload


class Liaison(EventPayload):
    name: str
    phone: str
    duty: str = "referral"


class AgencyRegistered(EventPayload):
    event_type = "agency.registered.v1"

    agency_id: str
    name: str
    kind: str
    internal_unit: bool = False
    liaisons: list[Liaison] = Field(default_factory=list)
    # 机关代字 of the agency's letters (e.g. 抚市监); absent from older registrations.
    document_code: str = ""
    version: int

    def referral_liaison(self) -> str:
        """The contact a transfer letter names (联系人, R-AG-03): the referral liaison, else
        the general one; empty when the agency named none."""
        for duty in ("referral", "general"):
            for x in self.liaisons:
                if x.duty == duty:
                    return f"{x.name} {x.phone}"
        return ""


class DisputeOpened(EventPayload):
    """``dispute.opened.v1`` from coordination: the dispute that now owns a declined referral
    (its step clock runs in coordination)."""

    event_type = "dispute.opened.v1"

    dispute_id: str
    referral_id: str | None = None


class DisputeRuled(EventPayload):
    """``dispute.ruled.v1`` from coordination: who is responsible after a dispute."""

    event_type = "dispute.ruled.v1"

    dispute_id: str
    referral_id: str | None = None
    kind: str = "jurisdiction"  # jurisdiction | transfer_to_department (R-DSP-04)
    matter_code: str = ""
    township_id: str = ""
    responsible_agency_id: str
    outcome_kind: str = "decision"  # agreement | minutes | decision
    basis: str = ""
    rule_id: str | None = None  # None: a one-case transfer, no catalogue rule
    ruled_at: datetime


class ReferredPhoto(BaseModel):
    """A photo of a referred dispatch's report as coordination stored it."""

    id: str
    name: str = "photo"
    media_type: str
    size: int
    sha256: str


class DispatchReferred(EventPayload):
    """``dispatch.referred.v1`` from coordination (R-GRD-01, 转为移送): a problem the
    township's platform found belongs to ``receiver_id`` (a department); this service drafts
    the referral from it in the township's name."""

    event_type = "dispatch.referred.v1"

    dispatch_id: str
    platform_id: str
    receiver_id: str
    what: str = ""
    place: str = ""
    area: str = ""
    reason: str = ""
    found_at: datetime
    reporter_id: str = ""
    photo_ids: list[str] = Field(default_factory=list)
    photos: list[ReferredPhoto] = Field(default_factory=list)
    """Each photo's digest and size (absent in events published before they were added:
    then the photos are named by id only)."""
