"""Building blocks shared by the cooperation duties between agencies — assistance (协助执法),
technical support (技术支撑) and information queries (信息查询): statutory clocks kept on the
aggregate and an append-only record of transitions.

Pure Python: no I/O. The application layer computes each clock with the district's working-day
calendar and hands it in; the aggregates only decide when a clock starts, moves or is met.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from coordination.domain.dispute import Actor
from coordination.domain.errors import Forbidden, ValidationFailed

__all__ = [
    "Actor",
    "Clock",
    "RecordsTransitions",
    "Transition",
    "meet",
    "put_clock",
    "require_agency",
    "require_other",
    "require_text",
]


@dataclass(frozen=True)
class Clock:
    """A statutory clock of an aggregate (published as a ``deadlines`` block)."""

    kind: str
    """What must happen by ``due``, e.g. ``assistance.reply``."""
    responsible_agency_id: str
    due: datetime
    rule: str
    explanation: dict[str, Any]
    """``kernel.calendar.Deadline.to_dict()``: how ``due`` was computed."""
    state: str = "open"  # open | met | cancelled


@dataclass(frozen=True)
class Transition:
    """One recorded action: who, for which agency, when, and the state before and after
    (R-SUP-01 needs them all)."""

    action: str
    actor_id: str
    agency_id: str | None
    at: datetime
    before: str | None
    after: str
    note: str = ""


class RecordsTransitions:
    """What an aggregate with a ``status`` and an append-only ``history`` of transitions
    shares: the history with one more transition, from the current status to ``after``."""

    status: StrEnum
    history: tuple[Transition, ...]

    def _record(
        self, action: str, actor: Actor, at: datetime, after: StrEnum, note: str = ""
    ) -> tuple[Transition, ...]:
        t = Transition(
            action, actor.person_id, actor.agency_id, at, self.status.value, after.value, note
        )
        return (*self.history, t)

    @staticmethod
    def _opened(
        action: str, actor: Actor, at: datetime, after: StrEnum, note: str = ""
    ) -> tuple[Transition, ...]:
        """The history of a new aggregate: its first transition, from no status to ``after``."""
        return (Transition(action, actor.person_id, actor.agency_id, at, None, after.value, note),)


def put_clock(clocks: tuple[Clock, ...], clock: Clock) -> tuple[Clock, ...]:
    """Add ``clock``, replacing an earlier clock of the same kind (a moved deadline)."""
    return (*(c for c in clocks if c.kind != clock.kind), clock)


def meet(clocks: tuple[Clock, ...], kind: str, state: str = "met") -> tuple[Clock, ...]:
    """Mark the open clock of ``kind`` as met (or cancelled); other clocks are unchanged."""
    return tuple(
        replace(c, state=state) if c.kind == kind and c.state == "open" else c for c in clocks
    )


def require_text(value: str | None, message: str, field: str) -> str:
    """The stripped text, or ValidationFailed naming ``field``."""
    text = (value or "").strip()
    if not text:
        raise ValidationFailed(message, field=field, code="REQUIRED")
    return text


def require_other(agency_id: str, other_id: str, message: str, field: str) -> None:
    """An act an agency addresses to another: to itself it is ValidationFailed naming
    ``field`` (SELF_ADDRESSED)."""
    if agency_id == other_id:
        raise ValidationFailed(message, field=field, code="SELF_ADDRESSED")


def require_agency(actor: Actor, agency_id: str, message: str) -> None:
    """Only staff of ``agency_id`` may do this (the system itself may always act)."""
    if actor.agency_id is not None and actor.agency_id != agency_id:
        raise Forbidden(message, code="NOT_YOUR_AGENCY")
