"""Tolerant readers of the events this service consumes (only the fields it needs)."""

from __future__ import annotations

from kernel.envelope import EventPayload


class AgencyRegistered(EventPayload):
    event_type = "agency.registered.v1"

    agency_id: str
    name: str
    kind: str
    internal_unit: bool = False
    version: int
