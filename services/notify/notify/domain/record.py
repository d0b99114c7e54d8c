"""The full-process record (执法全过程记录, R-SUP-01): one entry per event of the district,
with actor, agency, time and before/after state. Pure Python.

Producers put ``actor_id``, ``actor_agency_id``, ``state_before`` and ``state_after`` in
their payloads; the record reads them tolerantly (absent: None), so it never needs to know
another service's aggregates. Entries are append-only: nothing in notify updates or deletes
one; ``seq`` (monotonic per district) orders them for the hash chain a later issue adds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

# Payload fields that name an agency in the events of the suite (tolerant: any field ending
# in ``agency_id`` counts too), so "everything that concerns agency A" is one indexed query.
_AGENCY_FIELDS = ("sender_id", "receiver_id", "agency_id", "township_id", "department_id")


@dataclass(frozen=True)
class RecordEntry:
    event_id: str
    seq: int
    type: str
    subject: str | None
    time: datetime
    district: str
    service: str
    correlation_id: str
    actor_id: str | None
    actor_agency_id: str | None
    state_before: Any
    state_after: Any
    agency_ids: tuple[str, ...]
    payload: dict[str, Any]


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def agencies_named(data: Mapping[str, Any]) -> tuple[str, ...]:
    """Agency ids an event's payload names (actor, sender, receiver, responsible, ...)."""
    found: list[str] = []

    def add(value: Any) -> None:
        if isinstance(value, str) and value and value not in found:
            found.append(value)

    for key, value in data.items():
        if key in _AGENCY_FIELDS or key.endswith("agency_id"):
            add(value)
        elif key.endswith("agency_ids") and isinstance(value, list):
            for v in value:
                add(v)
    for block in data.get("deadlines") or []:
        if isinstance(block, Mapping):
            add(block.get("responsible_agency_id"))
    return tuple(found)


def record_entry(
    *,
    event_id: str,
    seq: int,
    type: str,
    subject: str | None,
    time: datetime,
    district: str,
    service: str,
    correlation_id: str,
    data: Mapping[str, Any],
) -> RecordEntry:
    return RecordEntry(
        event_id=event_id,
        seq=seq,
        type=type,
        subject=subject,
        time=time,
        district=district,
        service=service,
        correlation_id=correlation_id,
        actor_id=_text(data.get("actor_id")),
        actor_agency_id=_text(data.get("actor_agency_id")),
        state_before=data.get("state_before"),
        state_after=data.get("state_after"),
        agency_ids=agencies_named(data),
        payload=dict(data),
    )
