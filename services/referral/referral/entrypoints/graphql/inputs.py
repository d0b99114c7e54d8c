"""The referral subgraph's inputs and their translation into commands."""

from __future__ import annotations

from datetime import datetime

import strawberry

from kernel.errors import ValidationFailed
from kernel.graphql import UserError, user_error
from referral.application.commands import DraftReferral


@strawberry.input(description="A new referral (案件移送) as a draft (R-REF-01…05).")
class DraftReferralInput:
    sender_id: strawberry.ID = strawberry.field(description="the sending agency (yours)")
    receiver_id: strawberry.ID = strawberry.field(description="the agency the case goes to")
    matter_code: str = strawberry.field(description="the catalogue matter (事项编码)")
    title: str = strawberry.field(description="a short title of the case")
    facts: str = strawberry.field(description="基本违法事实, in writing")
    party: str = strawberry.field(default="", description="the party (当事人) the case is against")
    place: str = strawberry.field(default="", description="where the violation happened")
    found_at: datetime = strawberry.field(description="when the violation was found")
    urgent: bool = strawberry.field(default=False, description="on the 24 h clock (R-REF-04)")
    township_id: strawberry.ID | None = strawberry.field(
        default=None, description="the township of the place (default: the township side)"
    )
    penalty_kinds: list[str] = strawberry.field(
        default_factory=list,
        description="penalties the case may end in (revoke_licence, order_close, ...; R-CAT-03)",
    )
    possible_fine_yuan: int | None = strawberry.field(
        default=None, description="the fine the case may end in, in yuan"
    )
    competence_reason: str = strawberry.field(
        default="",
        description="why the receiver is addressed although the catalogue names another or "
        "does not know the matter (recorded)",
    )
    ongoing: bool = strawberry.field(default=False, description="violation still going on")
    stop_order: str = strawberry.field(
        default="", description="the stop order of an ongoing violation (R-REF-05)"
    )
    stop_ordered_at: datetime | None = strawberry.field(
        default=None, description="when the stop was ordered"
    )
    immediate_notice: str = strawberry.field(
        default="", description="the immediate notice to the competent agency (R-REF-05)"
    )
    notified_at: datetime | None = strawberry.field(
        default=None, description="when it was notified"
    )
    major_or_difficult: bool = strawberry.field(
        default=False, description="a township passes a major/difficult case up (R-REF-09)"
    )
    forwarded_from: strawberry.ID | None = strawberry.field(
        default=None, description="the received referral this one passes on (R-REF-07 forbids)"
    )


@strawberry.input(description="A material's record before its content is uploaded (R-REF-02).")
class MaterialInput:
    kind: str = strawberry.field(description="transfer_letter | source | evidence")
    name: str = strawberry.field(description="the file name")
    media_type: str = strawberry.field(description="its media type, e.g. application/pdf")
    size: int = strawberry.field(description="its size in bytes")
    sha256: str = strawberry.field(description="the SHA-256 of the content, hexadecimal")


@strawberry.input(
    description="A complaint or report (举报投诉) the first agency registers (首问, R-CMP-01)."
)
class RegisterComplaintInput:
    complainant_name: str = strawberry.field(
        description="who complains (may be empty for an anonymous report)"
    )
    complainant_contact: str = strawberry.field(description="how to reach the complainant")
    content: str = strawberry.field(description="what the complaint says")
    matter_code: str = strawberry.field(
        default="", description="the catalogue matter it concerns, if known"
    )
    place: str = strawberry.field(default="", description="where the reported conduct happened")
    township_id: strawberry.ID | None = strawberry.field(
        default=None, description="the township where it happened, if any"
    )


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
