"""Completing a draft that did not know its matter yet (a draft made from a grid dispatch,
R-GRD-01): the sender names the matter and the party, and no such draft is submitted
without its matter (R-REF-02). Pure Python; the aggregate delegates here."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from kernel.errors import ValidationFailed
from referral.domain.model.states import Status
from referral.domain.model.values import Actor, Competence

if TYPE_CHECKING:
    from referral.domain.model.aggregate import Referral


def complete_draft(
    r: Referral,
    actor: Actor,
    at: datetime,
    *,
    matter_code: str,
    party: str,
    competence: Competence | None,
) -> Referral:
    """``r`` with the matter and party named; a party left empty keeps the one written."""
    r._require("complete", Status.DRAFT)
    if not matter_code.strip():
        raise ValidationFailed("matterCode must not be empty", field="matterCode", code="REQUIRED")
    moved = r._recorded("complete_draft", actor, at, matter_code.strip())
    return replace(
        moved,
        matter_code=matter_code.strip(),
        party=party.strip() or r.party,
        competence=competence,
    )


def require_matter(r: Referral) -> None:
    """A draft made from a grid dispatch has no matter yet: the clerk names it before the
    referral goes anywhere (R-REF-02)."""
    if not r.matter_code.strip():
        raise ValidationFailed(
            "the matter (事项编码) is missing; name it before submitting",
            field="matterCode",
            code="REQUIRED",
        )
