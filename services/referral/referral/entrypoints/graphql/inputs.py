"""The referral subgraph's inputs and their translation into commands."""

from __future__ import annotations

from datetime import datetime

import strawberry

from kernel.errors import ValidationFailed
from kernel.graphql import UserError, user_error
from referral.application.commands import DraftReferral


@strawberry.input
class DraftReferralInput:
    sender_id: strawberry.ID
    receiver_id: strawberry.ID
    matter_code: str
    title: str
    facts: str = strawberry.field(description="基本违法事实, in writing")
    party: str = ""
    place: str = ""
    found_at: datetime = strawberry.field(description="when the violation was found")
    urgent: bool = strawberry.field(default=False, description="on the 24 h clock (R-REF-04)")
    township_id: strawberry.ID | None = strawberry.field(
        default=None, description="the township of the place (default: the township side)"
    )
    penalty_kinds: list[str] = strawberry.field(
        default_factory=list,
        description="penalties the case may end in (revoke_licence, order_close, ...; R-CAT-03)",
    )
    possible_fine_yuan: int | None = None
    competence_reason: str = strawberry.field(
        default="",
        description="why the receiver is addressed although the catalogue names another or "
        "does not know the matter (recorded)",
    )
    ongoing: bool = strawberry.field(default=False, description="violation still going on")
    stop_order: str = ""
    stop_ordered_at: datetime | None = None
    immediate_notice: str = ""
    notified_at: datetime | None = None
    major_or_difficult: bool = strawberry.field(
        default=False, description="a township passes a major/difficult case up (R-REF-09)"
    )
    forwarded_from: strawberry.ID | None = strawberry.field(
        default=None, description="the received referral this one passes on (R-REF-07 forbids)"
    )


@strawberry.input
class MaterialInput:
    kind: str = strawberry.field(description="transfer_letter | source | evidence")
    name: str
    media_type: str
    size: int
    sha256: str


@strawberry.input
class RegisterComplaintInput:
    complainant_name: str
    complainant_contact: str
    content: str
    matter_code: str = ""
    place: str = ""
    township_id: strawberry.ID | None = None


def aware(value: datetime | None, name: str) -> UserError | None:
    if value is not None and value.tzinfo is None:
        return user_error(
            ValidationFailed(
                f"{name} needs a time zone offset, e.g. 2026-03-02T09:00:00+08:00",
                field=name,
                code="BAD_FORMAT",
            )
        )
    return None


def draft_command(input: DraftReferralInput) -> DraftReferral | UserError:
    for name, value in (
        ("foundAt", input.found_at),
        ("stopOrderedAt", input.stop_ordered_at),
        ("notifiedAt", input.notified_at),
    ):
        bad = aware(value, name)
        if bad:
            return bad
    return DraftReferral(
        sender_id=str(input.sender_id),
        receiver_id=str(input.receiver_id),
        matter_code=input.matter_code,
        title=input.title,
        facts=input.facts,
        party=input.party,
        place=input.place,
        found_at=input.found_at,
        urgent=input.urgent,
        township_id=str(input.township_id) if input.township_id else None,
        penalty_kinds=tuple(input.penalty_kinds),
        possible_fine_yuan=input.possible_fine_yuan,
        competence_reason=input.competence_reason,
        ongoing=input.ongoing,
        stop_order=input.stop_order,
        stop_ordered_at=input.stop_ordered_at,
        immediate_notice=input.immediate_notice,
        notified_at=input.notified_at,
        major_or_difficult=input.major_or_difficult,
        forwarded_from=str(input.forwarded_from) if input.forwarded_from else None,
    )
