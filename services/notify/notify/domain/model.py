"""Inbox items (通知 / 待办) and their receipts (签收, R-NTF-04). Pure Python."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from kernel.errors import Forbidden, InvalidState

CHINA = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class InboxItem:
    id: str
    agency_id: str
    kind: str  # e.g. "referral.received"
    title: str
    body: str
    subject_type: str  # the entity it is about, e.g. "Referral"
    subject_id: str
    source_event_id: str
    created_at: datetime
    due_at: datetime | None = None
    urgent: bool = False
    read_at: datetime | None = None
    read_by: str | None = None
    audience: str = "agency"
    """Who in the agency it is for: ``agency`` (its staff) or ``leader`` (its head, 负责人)."""
    receipt_required: bool = True
    """Whether an unread item escalates past the notice limit (R-NTF-04). Items that are
    themselves reminders or escalations do not, so escalation never feeds on itself."""
    links: tuple[str, ...] = ()
    """Downloads the item points at (paths on the notify service, e.g. a report's PDF)."""

    @property
    def unread(self) -> bool:
        return self.read_at is None

    def acknowledge(self, person_id: str, agency_id: str, at: datetime) -> InboxItem:
        """签收: a person of the addressed agency confirms receipt."""
        if agency_id != self.agency_id:
            raise Forbidden(
                "only staff of the addressed agency can sign for this item", code="NOT_YOUR_AGENCY"
            )
        if self.read_at is not None:
            raise InvalidState(
                f"already signed for at {self.read_at.isoformat()}", code="ALREADY_DONE"
            )
        return replace(self, read_at=at, read_by=person_id)


def item_id(event_id: str, agency_id: str) -> str:
    """Derived from the event, so a redelivered event collides instead of duplicating."""
    return f"{event_id}:{agency_id}"


def referral_received(
    *,
    event_id: str,
    referral_id: str,
    receiver_id: str,
    sender_name: str,
    title: str,
    urgent: bool,
    sent_at: datetime,
    accept_due: datetime | None,
) -> InboxItem:
    prefix = "【紧急】" if urgent else ""
    due = (
        f"，请于{accept_due.astimezone(CHINA).strftime('%Y年%m月%d日 %H:%M')}前书面告知受理情况"
        if accept_due
        else ""
    )
    return InboxItem(
        id=item_id(event_id, receiver_id),
        agency_id=receiver_id,
        kind="referral.received",
        title=f"{prefix}收到移送案件：{title}",
        body=f"{sender_name}移送案件“{title}”{due}。",
        subject_type="Referral",
        subject_id=referral_id,
        source_event_id=event_id,
        created_at=sent_at,
        due_at=accept_due,
        urgent=urgent,
    )
