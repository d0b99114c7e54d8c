"""Tolerant readers of the events this service consumes (only the fields it needs; anything
else in the payload is ignored, and optional fields have defaults)."""

from __future__ import annotations

from datetime import datetime

from pydantic import field_validator

from kernel.envelope import EventPayload


class ReferralDeclined(EventPayload):
    """R-REF-07: the receiver declined; a jurisdiction dispute opens."""

    event_type = "referral.declined.v1"

    referral_id: str
    sender_id: str
    receiver_id: str
    matter_code: str | None = None
    township_id: str | None = None
    reasons: str = ""
    catalogue_basis: str | None = None
    interim_handler_id: str | None = None
    actor_id: str = "system"
    actor_agency_id: str | None = None
    declined_at: datetime | None = None

    @field_validator("reasons", mode="before")
    @classmethod
    def _reasons_as_text(cls, value: object) -> object:
        # A producer may send the reasons as a list of sentences.
        if isinstance(value, list):
            return "；".join(str(v) for v in value)
        return "" if value is None else value


class DeadlineMissed(EventPayload):
    """Notify saw a clock run out (R-SUP-02); a dispute step that ran out escalates."""

    event_type = "deadline.missed.v1"

    key: str
    kind: str
    subject_type: str = ""
    subject_id: str
    responsible_agency_id: str | None = None
    due: datetime
    missed_at: datetime | None = None


class DisputeRuled(EventPayload):
    """Our own ruling, read back so the catalogue surely gains the routing rule even if the
    process stopped between the two writes (the consumer is idempotent by rule id)."""

    event_type = "dispute.ruled.v1"

    dispute_id: str
    matter_code: str
    township_id: str
    responsible_agency_id: str
    basis: str = ""
    rule_id: str | None = None
    ruled_at: datetime
    actor_id: str = "system"
    actor_agency_id: str | None = None


class ReferralSent(EventPayload):
    """A referral left its sender; an urgent one needs the receiver's staff on site at once
    (R-REF-15, SL 三(四): 情况紧急的应立即派员到达现场进行执法)."""

    event_type = "referral.sent.v1"

    referral_id: str
    sender_id: str
    receiver_id: str = ""
    title: str = ""
    urgent: bool = False
    sent_at: datetime | None = None
    actor_id: str = "system"
    actor_agency_id: str | None = None


class ReferralChange(EventPayload):
    """Any referral change coordination follows (``application.known_referrals``, issue 16):
    every referral event carries the referral, its sender, receiver and the state after;
    a forward or reassignment also names the receivers before."""

    event_type = "referral.*"

    referral_id: str
    sender_id: str
    receiver_id: str = ""
    state_after: str | None = None
    at: datetime | None = None
    previous_receiver_id: str = ""
    first_receiver_id: str = ""


class ReferralDraftedFromDispatch(EventPayload):
    """``referral.drafted_from_dispatch.v1``: the referral service drafted the referral a
    dispatch was turned into (R-GRD-01); the dispatch names it back."""

    event_type = "referral.drafted_from_dispatch.v1"

    referral_id: str
    dispatch_id: str
