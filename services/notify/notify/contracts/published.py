"""Events the notify service publishes (a contract for other services and bureaus)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

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


class ApprovalReportedV1(EventPayload):
    """A department (or the approval bureau) reported an administrative approval (行政审批);
    notify copies it to the township of the place (抄告, R-NTF-01)."""

    event_type = "approval.reported.v1"

    report_id: str
    number: str
    matter_code: str
    department_id: str
    township_id: str
    summary: str
    urgent: bool = False
    reported_at: datetime
    actor_id: str
    actor_agency_id: str
    state_before: str | None = None
    state_after: str | None = "reported"


class HazardReportedV1(EventPayload):
    """A township reported a major safety hazard (重大安全隐患) or a hot spot of violations
    (违法行为高发) to the competent department (R-NTF-03)."""

    event_type = "hazard.reported.v1"

    report_id: str
    kind: str  # hazard | hotspot
    matter_code: str
    township_id: str
    department_id: str
    place: str
    description: str
    urgent: bool = False
    reported_at: datetime
    actor_id: str
    actor_agency_id: str
    state_before: str | None = None
    state_after: str | None = "reported"


class PenaltyDecisionReportedV1(EventPayload):
    """A township copied a penalty decision on a case of its own to the department for the
    record (抄告备案, R-NTF-01): the cases not born from a referral."""

    event_type = "penalty_decision.reported.v1"

    report_id: str
    decision_number: str
    matter_code: str
    party: str
    kinds: list[str]
    fine_yuan: int | None = None
    summary: str = ""
    township_id: str
    department_id: str
    reported_at: datetime
    actor_id: str
    actor_agency_id: str
    state_before: str | None = None
    state_after: str | None = "reported"


class StandardChangeAnnouncedV1(EventPayload):
    """A change to a legal basis, a standard or an interpretation announced to the townships
    concerned (R-NTF-02)."""

    event_type = "standard_change.announced.v1"

    announcement_id: str
    kind: str  # legal_basis | standard | interpretation
    title: str
    summary: str
    matter_codes: list[str] = Field(default_factory=list)
    township_ids: list[str]
    effective_on: str = ""
    announced_at: datetime
    actor_id: str
    actor_agency_id: str
    state_before: str | None = None
    state_after: str | None = "announced"


class AgencyRatedV1(EventPayload):
    """One agency rated another for the quarter (双向考评, R-SUP-03)."""

    event_type = "agency.rated.v1"

    rating_id: str
    period: str  # 2026-Q1
    direction: str  # township_to_department | department_to_township
    rater_agency_id: str
    ratee_agency_id: str
    score: int
    comment: str = ""
    rated_at: datetime
    actor_id: str
    actor_agency_id: str
    state_before: str | None = None
    state_after: str | None = "rated"


class RecordCheckpointedV1(EventPayload):
    """A signed checkpoint of the full-process record's head (issue 16, finding 8): entry
    ``seq`` of the district's chain hashes ``head``. The justice bureau's system and the other
    services keep it, so a rewrite or truncation of the record is detected
    (``liandong audit verify``). ``signature`` is base64 Ed25519 over the sorted-key JSON of
    ``district``, ``seq``, ``head`` and ``checkpointed_at`` (UTC, milliseconds, ``Z``)."""

    event_type = "record.checkpointed.v1"

    district: str
    seq: int
    head: str
    checkpointed_at: datetime
    key_id: str
    signature: str
    actor_id: str = "system:notify"
    actor_agency_id: str | None = None
    state_before: str | None = None
    state_after: str | None = None


PUBLISHED: list[type[EventPayload]] = [
    DeadlineMissedV1,
    ApprovalReportedV1,
    HazardReportedV1,
    AgencyRatedV1,
    PenaltyDecisionReportedV1,
    StandardChangeAnnouncedV1,
    RecordCheckpointedV1,
]
