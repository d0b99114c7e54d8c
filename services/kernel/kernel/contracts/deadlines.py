"""The deadline block events carry (a published contract shared by every service).

Any event that starts, moves, meets, pauses or cancels a statutory clock lists the clocks it
touched in ``deadlines``; the notify service watches them (reminders before, escalation after,
R-SUP-02) without knowing the producer's aggregates. A clock is identified by ``key``, stable
for its whole life, so a later event about the same clock replaces the earlier state.

``mode`` says how the clock counts (working days, clock hours, calendar days) so a consumer
need not guess it from the rule's words; ``provisional`` says it was computed across a year
whose holidays are still a forecast (issue 20). When an official holiday schedule moves an
open clock, its owner publishes ``deadline.moved.v1`` (:class:`DeadlineMovedV1`) carrying the
new block.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from kernel.calendar import Recheck
from kernel.envelope import EventPayload

__all__ = ["DeadlineMode", "DeadlineMovedV1", "DeadlineState", "DeadlineV1", "deadlines_of"]

DeadlineState = Literal["open", "met", "cancelled", "paused"]
DeadlineMode = Literal["working_days", "clock", "calendar_days"]


class DeadlineV1(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    key: str
    """Stable identity of the clock, ``<subject_type>:<subject_id>:<kind>``."""
    kind: str
    """What must happen by ``due``, e.g. ``referral.accept`` (受理情况 within 5 wd)."""
    subject_type: str
    """The entity it is about, e.g. ``Referral`` (a federation entity name)."""
    subject_id: str
    responsible_agency_id: str
    """The agency that must act, and whose leader is reminded and then escalated to."""
    due: datetime
    state: DeadlineState = "open"
    rule: str = ""
    """The rule in words, e.g. ``5个工作日（FY (四)1）``."""
    explanation_zh: str | None = None
    """How ``due`` was computed (kernel.calendar's explanation), for officials."""
    mode: DeadlineMode | None = None
    """How the clock counts: ``working_days`` (工作日), ``clock`` (hours of clock time) or
    ``calendar_days`` (日). None from producers older than the field."""
    provisional: bool = False
    """Computed across a year whose holidays the State Council has not yet announced (the
    ``holidays`` package's forecast): the due time may still move (issue 20)."""
    escalate_to_agency_id: str | None = None
    """Whose leader a missed clock escalates to first, when not the responsible agency's own
    (R-SUP-02): a grid team's clock goes to the leader of the township whose platform
    dispatched it (R-GRD-01). None: the responsible agency's leader."""
    escalate_to_agency_kind: str | None = None
    """The kind of agency (R-AG-01) the next escalation goes to, when the producer's policy
    names one for this clock (R-GRD-01: ``dispatch.escalation``, in Huancui the district
    platform office, a coordination body). None: the district's supervising body
    (``reminders.escalation``)."""
    escalate_to_supervisor_id: str | None = None
    """The agency (by id) the next escalation goes to, when the producer's policy names one
    (R-GRD-01: ``dispatch.escalation.agency_id``; in Huancui the district platform office).
    It must be of ``escalate_to_agency_kind``; while it is not known to the consumer, the
    first agency of that kind serves. None: the first agency of the kind."""

    @staticmethod
    def key_for(subject_type: str, subject_id: str, kind: str) -> str:
        return f"{subject_type}:{subject_id}:{kind}"

    @staticmethod
    def calendar_fields(explanation: dict[str, Any] | None) -> dict[str, Any]:
        """``mode`` and ``provisional`` from a stored computation (``Deadline.to_dict()``)."""
        if not explanation:
            return {}
        record = explanation.get("explanation") or {}
        mode = record.get("mode")
        years = record.get("years") or []
        return {
            "mode": mode,
            # As kernel.calendar's Explanation.provisional: no notice moves a clock of hours.
            "provisional": mode != "clock" and any(not y.get("confirmed", True) for y in years),
        }


class DeadlineMovedV1(EventPayload):
    """An open clock moved because an official holiday schedule replaced a forecast year.

    Published by the service that owns the clock; ``deadlines`` carries the clock's new block
    (so the deadline watch reschedules its timers) and the responsible agency is told.
    """

    event_type = "deadline.moved.v1"

    key: str
    kind: str
    subject_type: str
    subject_id: str
    responsible_agency_id: str
    previous_due: datetime
    due: datetime
    year: int
    """The year whose official schedule moved it."""
    notice_zh: str
    """The notice as cited, e.g. ``《国务院办公厅关于2027年部分节假日安排的通知》（…号）``."""
    rule: str = ""
    summary_zh: str = ""
    """The move in words, e.g. ``截止时间由2027年1月6日（星期三）24时调整为…``."""
    deadlines: list[DeadlineV1]

    @classmethod
    def of(cls, block: DeadlineV1, recheck: Recheck) -> DeadlineMovedV1:
        """The event for a clock ``recheck`` moved; ``block`` is its new deadline block."""
        revision = recheck.after.explanation.revisions[-1]
        return cls(
            key=block.key,
            kind=block.kind,
            subject_type=block.subject_type,
            subject_id=block.subject_id,
            responsible_agency_id=block.responsible_agency_id,
            previous_due=recheck.before.due,
            due=recheck.after.due,
            year=revision.year,
            notice_zh=revision.notice_zh,
            rule=block.rule,
            summary_zh=recheck.summary_zh,
            deadlines=[block],
        )


def deadlines_of(data: dict[str, Any]) -> list[DeadlineV1]:
    """The deadline blocks of an event's data (tolerant: none when absent)."""
    return [DeadlineV1.model_validate(d) for d in data.get("deadlines") or []]
