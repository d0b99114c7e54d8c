"""The deadline block events carry (a published contract shared by every service).

Any event that starts, moves, meets, pauses or cancels a statutory clock lists the clocks it
touched in ``deadlines``; the notify service watches them (reminders before, escalation after,
R-SUP-02) without knowing the producer's aggregates. A clock is identified by ``key``, stable
for its whole life, so a later event about the same clock replaces the earlier state.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

__all__ = ["DeadlineState", "DeadlineV1", "deadlines_of"]

DeadlineState = Literal["open", "met", "cancelled", "paused"]


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

    @staticmethod
    def key_for(subject_type: str, subject_id: str, kind: str) -> str:
        return f"{subject_type}:{subject_id}:{kind}"


def deadlines_of(data: dict[str, Any]) -> list[DeadlineV1]:
    """The deadline blocks of an event's data (tolerant: none when absent)."""
    return [DeadlineV1.model_validate(d) for d in data.get("deadlines") or []]
