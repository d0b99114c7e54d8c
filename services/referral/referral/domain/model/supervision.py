"""R-REF-13: supervision (督办) of a lingering referral and the receiver's written answer.
Pure Python; the aggregate (:meth:`Referral.supervise`, :meth:`Referral.answer_supervision`)
delegates here. Acting on the case answers a pending 督办 too (``Referral._moved``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from kernel.errors import InvalidState, ValidationFailed
from referral.domain.model.states import OPEN_AFTER_SENDING
from referral.domain.model.values import Actor, DeadlineInfo, Supervision

if TYPE_CHECKING:
    from referral.domain.model.aggregate import Referral


def open_supervision(
    r: Referral, actor: Actor, at: datetime, note: str, clock: DeadlineInfo | None = None
) -> Referral:
    """R-REF-13: the government or its delegate supervises (督办) a lingering case (who
    may is the authorization matrix's rule, checked before the domain is asked). The 督办
    reaches the receiver with its own ``clock``: it answers in writing, or acts on the
    case, by then."""
    r._require("supervise", *OPEN_AFTER_SENDING)
    if not note.strip():
        raise ValidationFailed("state what is required and by when", field="note", code="REQUIRED")
    s = Supervision(
        actor.person_id, actor.agency_id, at, note.strip(), clock.due if clock else None
    )
    moved = r._recorded("supervise", actor, at, note.strip())
    moved = replace(moved, supervisions=(*r.supervisions, s))
    if clock is not None:
        moved = moved._start_clock(replace(clock, responsible_agency_id=r.receiver_id))
    return moved


def answer_open_supervision(r: Referral, actor: Actor, at: datetime, answer: str) -> Referral:
    """R-REF-13: the receiver answers the pending 督办 in writing; its clock stops."""
    r._require("answer a 督办 on", *OPEN_AFTER_SENDING)
    if not any(s.answered_at is None for s in r.supervisions):
        raise InvalidState("no 督办 is waiting for an answer", field="id", code="NOT_YET")
    if not answer.strip():
        raise ValidationFailed(
            "the written answer to the 督办 is missing", field="answer", code="REQUIRED"
        )
    moved = r._recorded("answer_supervision", actor, at, answer.strip())
    return moved._answer_supervisions(at, answer.strip())
