"""Written participation notices (书面通知, R-NTF-06; FY (三)2).

A department that needs the township to take part in a special inspection, an approval or a
confirmation (专项监督检查、行政审批、行政确认) gives it a written notice (出具书面通知). In an
emergency it may phone first (情况紧急的也可先电话通知) and the writing follows afterwards
(事后补办书面手续) within the policy's limit: a clock on the department that is late if the
writing does not follow. The township confirms its participation by the time set.

Pure Python: no I/O. Clocks are computed by the application layer and handed in.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from coordination.domain.cooperation import (
    Actor,
    Clock,
    RecordsTransitions,
    Transition,
    meet,
    put_clock,
    require_agency,
    require_text,
)
from coordination.domain.errors import InvalidState, ValidationFailed

WRITTEN_NOTICE = "participation.written_notice"
ATTEND = "participation.attend"


class ParticipationPurpose(StrEnum):
    INSPECTION = "inspection"  # 专项监督检查
    APPROVAL = "approval"  # 行政审批
    CONFIRMATION = "confirmation"  # 行政确认


PURPOSE_ZH = {
    ParticipationPurpose.INSPECTION: "专项监督检查",
    ParticipationPurpose.APPROVAL: "行政审批",
    ParticipationPurpose.CONFIRMATION: "行政确认",
}


class ParticipationStatus(StrEnum):
    PHONED = "phoned"  # emergency: phoned, the writing still to follow
    NOTIFIED = "notified"  # the written notice was given
    CONFIRMED = "confirmed"  # the township confirmed it takes part


@dataclass(frozen=True)
class PhoneNotice:
    """The emergency phone call that came first (电话通知)."""

    caller: str
    called: str
    at: datetime


@dataclass(frozen=True)
class ParticipationNotice(RecordsTransitions):
    id: str
    department_id: str
    township_id: str
    purpose: ParticipationPurpose
    subject: str
    place: str
    starts_at: datetime
    status: ParticipationStatus
    notified_at: datetime
    document_number: str | None = None  # None while only the phone call exists
    written_at: datetime | None = None
    phone_call: PhoneNotice | None = None
    written_late: bool = False
    participants: tuple[str, ...] = ()
    confirmed_at: datetime | None = None
    clocks: tuple[Clock, ...] = ()
    history: tuple[Transition, ...] = ()
    version: int = 0

    def send_written(
        self, document_number: str, *, actor: Actor, at: datetime
    ) -> ParticipationNotice:
        """The writing that follows the phone call (事后补办书面手续); late past the clock."""
        require_agency(actor, self.department_id, "the department gives the written notice")
        if self.document_number is not None:
            raise InvalidState(
                "the written notice was already given", field="documentNumber", code="ALREADY_DONE"
            )
        number = require_text(
            document_number, "give the written notice's number (文号)", "documentNumber"
        )
        clock = next(c for c in self.clocks if c.kind == WRITTEN_NOTICE)
        after = (
            ParticipationStatus.NOTIFIED
            if self.status is ParticipationStatus.PHONED
            else self.status
        )
        return replace(
            self,
            status=after,
            document_number=number,
            written_at=at,
            written_late=at > clock.due,
            clocks=meet(self.clocks, WRITTEN_NOTICE),
            history=self._record("send_written", actor, at, after, number),
        )

    def confirm(
        self, participants: tuple[str, ...], *, actor: Actor, at: datetime
    ) -> ParticipationNotice:
        """The township confirms who takes part; the attend clock is met."""
        require_agency(actor, self.township_id, "the township notified confirms")
        if self.status is ParticipationStatus.CONFIRMED:
            raise InvalidState(
                "participation was already confirmed", field="status", code="ALREADY_DONE"
            )
        names = tuple(n.strip() for n in participants if n.strip())
        if not names:
            raise ValidationFailed("name who takes part", field="participants", code="REQUIRED")
        return replace(
            self,
            status=ParticipationStatus.CONFIRMED,
            participants=names,
            confirmed_at=at,
            clocks=meet(self.clocks, ATTEND),
            history=self._record(
                "confirm", actor, at, ParticipationStatus.CONFIRMED, "、".join(names)
            ),
        )


def notify_participation(
    *,
    notice_id: str,
    department_id: str,
    township_id: str,
    purpose: ParticipationPurpose,
    subject: str,
    place: str,
    starts_at: datetime,
    document_number: str | None,
    phone_call: PhoneNotice | None,
    attend_clock: Clock,
    written_clock: Clock | None,
    actor: Actor,
    at: datetime,
) -> ParticipationNotice:
    """R-NTF-06: a written notice, or in an emergency a phone call first with the writing's
    clock running (``written_clock``)."""
    require_agency(actor, department_id, "a department notifies in its own name")
    what = require_text(subject, "state what the township is to take part in", "subject")
    where = require_text(place, "state where", "place")
    if starts_at <= at:
        raise ValidationFailed(
            "the time to take part lies ahead", field="startsAt", code="IN_THE_PAST"
        )
    number = (document_number or "").strip() or None
    if number is None and phone_call is None:
        raise ValidationFailed(
            "the notice is in writing (文号); only in an emergency may a phone call come first",
            field="documentNumber",
            code="REQUIRED",
        )
    if number is not None and phone_call is not None:
        raise ValidationFailed(
            "give either the written notice or, in an emergency, the phone call that precedes "
            "it — the writing then follows with sendParticipationWrittenNotice",
            field="phoneCall",
            code="REQUIRED",
        )
    clocks: tuple[Clock, ...] = (attend_clock,)
    if phone_call is not None:
        require_text(phone_call.caller, "who phoned", "phoneCall.caller")
        require_text(phone_call.called, "who took the call", "phoneCall.called")
        if phone_call.at > at:
            raise ValidationFailed(
                "the call cannot lie in the future", field="phoneCall.at", code="IN_THE_FUTURE"
            )
        if written_clock is None:
            raise ValidationFailed(
                "the writing's clock is missing", field="phoneCall", code="REQUIRED"
            )
        clocks = put_clock(clocks, written_clock)
    status = ParticipationStatus.PHONED if phone_call else ParticipationStatus.NOTIFIED
    return ParticipationNotice(
        id=notice_id,
        department_id=department_id,
        township_id=township_id,
        purpose=purpose,
        subject=what,
        place=where,
        starts_at=starts_at,
        status=status,
        notified_at=at,
        document_number=number,
        written_at=at if number else None,
        phone_call=phone_call,
        clocks=clocks,
        history=ParticipationNotice._opened("notify", actor, at, status, number or "电话通知"),
    )
