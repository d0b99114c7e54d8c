"""The referral's states (:class:`Status`), the groups of states the rules name, the clock
kinds the aggregate itself starts, and the record of each act (:class:`Transition`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Status(StrEnum):
    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    SENT = "sent"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CRIME_PENDING = "crime_pending"
    HANDLED = "handled"
    RESULT_REPORTED = "result_reported"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


# States in which the case is with the receiver and not finished: supervision (督办) applies.
OPEN_AFTER_SENDING = (
    Status.SENT,
    Status.ACCEPTED,
    Status.DECLINED,
    Status.CRIME_PENDING,
    Status.HANDLED,
)
# Referrals a bulk transfer at delegation may move (R-REF-11); finished ones stay archived.
MOVABLE_AT_DELEGATION = (Status.SENT, Status.ACCEPTED)

#: The clock of the first receiver that forwarded a case (首接负责, CQ 四(二)): it runs until
#: the competent agency accepts, so the first receiver answers for the case meanwhile.
FIRST_RECEIVER = "first_receiver"
#: The clock of a 督办 (R-REF-13): the receiver answers it, or acts on the case, by its due.
SUPERVISION = "supervision"

JUDICIAL_KINDS = frozenset({"public_security", "procuratorate", "court"})


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
