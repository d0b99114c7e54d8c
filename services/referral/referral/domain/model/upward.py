"""R-REF-09: the upward transfer (township → department) of a major or difficult case: the
department's consent first, then the filing (备案) with the justice bureau. Pure Python; the
aggregate (:meth:`Referral.record_department_consent`, :meth:`Referral.record_justice_filing`)
delegates here."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from kernel.errors import InvalidState, ValidationFailed
from referral.domain.model.states import Status
from referral.domain.model.values import Actor, Route, UpwardTransfer

if TYPE_CHECKING:
    from referral.domain.model.aggregate import Referral


def record_consent(r: Referral, actor: Actor, at: datetime, note: str) -> Referral:
    """R-REF-09: the department agrees first to take a township's major/difficult case."""
    if r.route is not Route.UPWARD:
        raise InvalidState(
            "only an upward transfer needs the department's consent", code="WRONG_ROUTE"
        )
    r._require("record consent on", Status.DRAFT, Status.PENDING_APPROVAL, Status.APPROVED)
    up = replace(r.upward or UpwardTransfer(), consent_by=actor.person_id, consent_at=at)
    up = replace(up, consent_note=note.strip())
    return replace(r._recorded("department_consent", actor, at, note), upward=up)


def record_filing(
    r: Referral, actor: Actor, at: datetime, justice_bureau_id: str, filing_number: str
) -> Referral:
    """R-REF-09: the transfer is filed (备案) with the justice bureau."""
    if r.route is not Route.UPWARD:
        raise InvalidState(
            "only an upward transfer is filed with the justice bureau", code="WRONG_ROUTE"
        )
    r._require("file", Status.DRAFT, Status.PENDING_APPROVAL, Status.APPROVED)
    if r.upward is None or r.upward.consent_at is None:
        raise InvalidState(
            "record the department's consent before filing the transfer (R-REF-09)",
            field="consent",
            code="NOT_YET",
        )
    if not filing_number.strip():
        raise ValidationFailed(
            "the filing number (备案号) is missing", field="filingNumber", code="REQUIRED"
        )
    up = replace(
        r.upward,
        filing_number=filing_number.strip(),
        filed_with_id=justice_bureau_id,
        filed_at=at,
    )
    return replace(r._recorded("justice_filing", actor, at, filing_number), upward=up)
