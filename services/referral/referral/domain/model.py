"""The referral (案件移送) aggregate: a case handed from one agency to another.

Pure Python: no I/O, no framework imports. Every transition checks who may do it and
whether the state allows it, and is recorded (actor, agency, time, before/after state).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from kernel.errors import Forbidden, InvalidState, ValidationFailed


class Status(StrEnum):
    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    SENT = "sent"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    HANDLED = "handled"
    RESULT_REPORTED = "result_reported"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class Actor:
    person_id: str
    person_name: str
    agency_id: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class AgencyRef:
    """What the referral service knows of an agency (read model fed by coordination)."""

    id: str
    name: str
    kind: str
    internal_unit: bool


@dataclass(frozen=True)
class Transition:
    action: str
    actor_id: str
    actor_name: str
    agency_id: str
    at: datetime
    before: Status | None
    after: Status
    note: str = ""


@dataclass(frozen=True)
class DeadlineInfo:
    kind: str  # "accept", "send", "report"
    due: datetime
    explanation: dict[str, Any]


@dataclass(frozen=True)
class Referral:
    id: str
    sender_id: str
    receiver_id: str
    matter_code: str
    title: str
    facts: str
    party: str
    place: str
    found_at: datetime
    urgent: bool
    status: Status
    created_at: datetime
    history: tuple[Transition, ...] = field(default_factory=tuple)
    sent_at: datetime | None = None
    accept_deadline: DeadlineInfo | None = None
    version: int = 0

    def _moved(
        self, action: str, actor: Actor, at: datetime, to: Status, note: str = ""
    ) -> Referral:
        t = Transition(
            action, actor.person_id, actor.person_name, actor.agency_id, at, self.status, to, note
        )
        return replace(self, status=to, history=(*self.history, t))

    def _require(self, action: str, *allowed: Status) -> None:
        if self.status not in allowed:
            names = ", ".join(s.value for s in allowed)
            raise InvalidState(
                f"cannot {action} a referral that is {self.status.value}; it must be {names}",
                field="status",
            )

    def _require_sender_staff(self, actor: Actor, action: str) -> None:
        if actor.agency_id != self.sender_id:
            raise Forbidden(f"only staff of the sending agency may {action} this referral")

    def submit_for_approval(self, actor: Actor, at: datetime) -> Referral:
        self._require("submit", Status.DRAFT)
        self._require_sender_staff(actor, "submit")
        return self._moved("submit", actor, at, Status.PENDING_APPROVAL)

    def approve(self, actor: Actor, at: datetime) -> Referral:
        """R-REF-03: a leader of the sending agency approves before it is sent."""
        self._require("approve", Status.PENDING_APPROVAL)
        self._require_sender_staff(actor, "approve")
        if "leader" not in actor.roles:
            raise Forbidden("only a leader of the sending agency may approve a referral")
        return self._moved("approve", actor, at, Status.APPROVED)

    def send(self, actor: Actor, at: datetime, accept_deadline: DeadlineInfo | None) -> Referral:
        self._require("send", Status.APPROVED)
        self._require_sender_staff(actor, "send")
        moved = self._moved("send", actor, at, Status.SENT)
        return replace(moved, sent_at=at, accept_deadline=accept_deadline)


def draft_referral(
    *,
    referral_id: str,
    sender: AgencyRef | None,
    receiver: AgencyRef | None,
    sender_id: str,
    receiver_id: str,
    matter_code: str,
    title: str,
    facts: str,
    party: str,
    place: str,
    found_at: datetime,
    urgent: bool,
    actor: Actor,
    at: datetime,
) -> Referral:
    """Start a referral. R-AG-02: sender and receiver are agencies, never internal units."""
    if sender is None:
        raise ValidationFailed(f"sending agency {sender_id!r} is not registered", field="senderId")
    if receiver is None:
        raise ValidationFailed(
            f"receiving agency {receiver_id!r} is not registered", field="receiverId"
        )
    if sender.internal_unit:
        raise ValidationFailed(
            f"{sender.name} is an internal unit; a referral is sent in the name of its agency "
            "(R-AG-02)",
            field="senderId",
        )
    if receiver.internal_unit:
        raise ValidationFailed(
            f"{receiver.name} is an internal unit; address the referral to its agency (R-AG-02)",
            field="receiverId",
        )
    if sender.id == receiver.id:
        raise ValidationFailed("a referral goes to another agency", field="receiverId")
    if actor.agency_id != sender.id:
        raise Forbidden("only staff of the sending agency may draft its referrals")
    for name, value in (("title", title), ("facts", facts), ("matterCode", matter_code)):
        if not value.strip():
            raise ValidationFailed(f"{name} must not be empty", field=name)
    if found_at > at:
        raise ValidationFailed("the discovery time lies in the future", field="foundAt")
    draft = Referral(
        id=referral_id,
        sender_id=sender.id,
        receiver_id=receiver.id,
        matter_code=matter_code.strip(),
        title=title.strip(),
        facts=facts.strip(),
        party=party.strip(),
        place=place.strip(),
        found_at=found_at,
        urgent=urgent,
        status=Status.DRAFT,
        created_at=at,
    )
    t = Transition(
        "draft", actor.person_id, actor.person_name, actor.agency_id, at, None, Status.DRAFT
    )
    return replace(draft, history=(t,))
