"""Events the coordination service publishes (a contract for other services and bureaus)."""

from __future__ import annotations

from pydantic import Field

from kernel.envelope import EventPayload


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


PUBLISHED = [AgencyRegisteredV1]
