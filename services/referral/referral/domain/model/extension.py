"""R-REF-04: extending a referral's send clock. The extension is announced to the receiver
first and never passes the district maximum (counted from discovery). Pure Python; the
aggregate's :meth:`Referral.extend_send_deadline` is this function."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from kernel.errors import InvalidState
from referral.domain.model.states import Status
from referral.domain.model.values import Actor, DeadlineInfo, Extension, check_extension

if TYPE_CHECKING:
    from referral.domain.model.aggregate import Referral


def extend_send_clock(
    r: Referral,
    actor: Actor,
    at: datetime,
    *,
    working_days: int,
    max_working_days: int,
    limit_working_days: int,
    reason: str,
    notify_receiver: bool,
    new_clock: DeadlineInfo,
) -> Referral:
    """The referral ``r`` with its running send clock moved to ``new_clock``."""
    r._require("extend", Status.DRAFT, Status.PENDING_APPROVAL, Status.APPROVED)
    check_extension(
        urgent=r.urgent,
        working_days=working_days,
        max_working_days=max_working_days,
        limit_working_days=limit_working_days,
        reason=reason,
        notify_receiver=notify_receiver,
    )
    current = r.clock("send")
    if current is None or current.state != "open":
        raise InvalidState(
            "there is no running send clock to extend", field="status", code="WRONG_STATUS"
        )
    if at > current.due:
        raise InvalidState(
            "the send deadline has already passed; an extension must be announced before "
            "it runs out (事先告知)",
            field="workingDays",
            code="DEADLINE_PASSED",
        )
    ext = Extension(working_days, reason.strip(), r.receiver_id, at, actor.person_id)
    moved = r._recorded(
        "extend_send_deadline", actor, at, f"{working_days}个工作日：{reason.strip()}"
    )
    # The extended clock is the same statutory clock moved: keep its key.
    moved = replace(
        moved,
        extension=ext,
        deadlines=tuple(
            replace(new_clock, key=d.key, state="open") if d is current else d
            for d in moved.deadlines
        ),
    )
    return moved
