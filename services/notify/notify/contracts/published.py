"""Events the notify service publishes (a contract for other services and bureaus)."""

from __future__ import annotations

from datetime import datetime

from kernel.envelope import EventPayload


class DeadlineMissedV1(EventPayload):
    """A statutory clock passed while still open (R-SUP-02). Coordination escalates disputes
    on it; other bureaus' supervision systems may bind ``*.notify.deadline.missed.v1``."""

    event_type = "deadline.missed.v1"

    key: str
    kind: str
    subject_type: str
    subject_id: str
    responsible_agency_id: str
    due: datetime
    missed_at: datetime
    # The full-process record's fields (R-SUP-01): the watch itself is the actor.
    actor_id: str = "system:notify"
    actor_agency_id: str | None = None
    state_before: str | None = "open"
    state_after: str | None = "missed"


PUBLISHED: list[type[EventPayload]] = [DeadlineMissedV1]
