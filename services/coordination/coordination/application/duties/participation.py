"""Written participation notices (书面通知, R-NTF-06): the command handlers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from coordination.adapters.duties import (
    ParticipationRepository,
)
from coordination.application import access
from coordination.application.actors import acting
from coordination.application.cooperation import DEPARTMENT_KINDS
from coordination.application.duties.base import (
    _DutyHandlers,
)
from coordination.contracts.duties import (
    ParticipationConfirmedV1,
    ParticipationNotifiedV1,
    ParticipationWrittenNoticeSentV1,
    PhoneNoticeV1,
)
from coordination.domain import participation as par
from coordination.domain.cooperation import Actor, Clock
from coordination.domain.model import AgencyKind
from coordination.policy import policy_of
from kernel.authz import Relation
from kernel.caller import Caller
from kernel.envelope import EventPayload
from kernel.errors import ValidationFailed, one_of

# ------------------------------------------------------- R-NTF-06 participation notices


@dataclass(frozen=True)
class PhoneNoticeInput:
    caller: str
    called: str
    at: datetime | None = None  # default: now


@dataclass(frozen=True)
class NotifyParticipation:
    department_id: str
    township_id: str
    purpose: str  # inspection | approval | confirmation
    subject: str
    place: str
    starts_at: datetime
    document_number: str | None = None
    phone_call: PhoneNoticeInput | None = None


@dataclass(frozen=True)
class SendParticipationWrittenNotice:
    notice_id: str
    document_number: str


@dataclass(frozen=True)
class ConfirmParticipation:
    notice_id: str
    participants: tuple[str, ...]


class ParticipationHandlers(_DutyHandlers[par.ParticipationNotice]):
    read_operation = "participationNotice"
    noun = "participation notice"
    subject_type = "ParticipationNotice"

    def __init__(self, notices: ParticipationRepository, *args: Any, **kw: Any) -> None:
        super().__init__(notices, *args, **kw)
        self.notices = notices

    def _relations(self, actor: Actor, found: par.ParticipationNotice) -> set[Relation]:
        return access.relations_to(
            actor, sender=[found.department_id], receiver=[found.township_id]
        )

    def _fields(self, record: par.ParticipationNotice) -> dict[str, Any]:
        return dict(
            notice_id=record.id,
            department_id=record.department_id,
            township_id=record.township_id,
            purpose=record.purpose.value,
            subject=record.subject,
            starts_at=record.starts_at,
        )

    async def notify(self, cmd: NotifyParticipation, caller: Caller) -> par.ParticipationNotice:
        """R-NTF-06: the written notice, or an emergency phone call with the writing to follow."""
        actor = acting(caller)
        relations = access.relations_to(actor, sender=[cmd.department_id])
        access.authorize_on(actor, "notifyParticipation", relations, field="departmentId")
        purpose = one_of(par.ParticipationPurpose, cmd.purpose, field="purpose", what="purpose")
        await self._external({"departmentId": cmd.department_id}, DEPARTMENT_KINDS)
        await self._external({"townshipId": cmd.township_id}, {AgencyKind.TOWNSHIP})
        now = self.clock()
        if cmd.starts_at.tzinfo is None:
            raise ValidationFailed(
                "give the time with its offset", field="startsAt", code="REQUIRED"
            )
        call = (
            par.PhoneNotice(
                cmd.phone_call.caller.strip(),
                cmd.phone_call.called.strip(),
                cmd.phone_call.at or now,
            )
            if cmd.phone_call
            else None
        )
        hours = max((cmd.starts_at - now).total_seconds() / 3600, 0)
        attend = self._clock(
            par.ATTEND,
            cmd.township_id,
            self.calendar.add_hours(now, hours, rule="按书面通知的时间参加（FY (三)2）"),
        )
        written: Clock | None = None
        if call is not None:
            n = policy_of(self.policy).participation.written_after_phone_working_days
            written = self._clock(
                par.WRITTEN_NOTICE,
                cmd.department_id,
                self.calendar.add_working_days(
                    call.at,
                    n,
                    rule=f"电话通知后补办书面手续：{n}个工作日（区政策；FY (三)2：事后补办）",
                ),
            )
        notice = par.notify_participation(
            notice_id=str(uuid.uuid4()),
            department_id=cmd.department_id,
            township_id=cmd.township_id,
            purpose=purpose,
            subject=cmd.subject,
            place=cmd.place,
            starts_at=cmd.starts_at,
            document_number=cmd.document_number,
            phone_call=call,
            attend_clock=attend,
            written_clock=written,
            actor=actor,
            at=now,
        )
        payload = ParticipationNotifiedV1(
            **self._common(None, notice, actor),
            place=notice.place,
            purpose_zh=par.PURPOSE_ZH[purpose],
            form_zh=f"书面通知（{notice.document_number}）"
            if notice.document_number
            else "电话通知（书面手续后补）",
            document_number=notice.document_number,
            phone_call=PhoneNoticeV1(caller=call.caller, called=call.called, at=call.at)
            if call
            else None,
            urgent=call is not None,
            notified_at=now,
            deadlines=self._deadlines_of(notice, par.ATTEND, par.WRITTEN_NOTICE),
        )
        return await self._added(notice, payload, caller.correlation_id)

    async def send_written(
        self, cmd: SendParticipationWrittenNotice, caller: Caller
    ) -> par.ParticipationNotice:
        def events(
            r: par.ParticipationNotice, common: dict[str, Any], at: datetime
        ) -> list[EventPayload]:
            assert r.document_number is not None
            return [
                ParticipationWrittenNoticeSentV1(
                    **common,
                    document_number=r.document_number,
                    late=r.written_late,
                    sent_at=at,
                    deadlines=self._deadlines_of(r, par.WRITTEN_NOTICE),
                )
            ]

        return await self._recorded_step(
            cmd.notice_id,
            "sendParticipationWrittenNotice",
            caller,
            lambda r, actor, at: r.send_written(cmd.document_number, actor=actor, at=at),
            events,
        )

    async def confirm(self, cmd: ConfirmParticipation, caller: Caller) -> par.ParticipationNotice:
        return await self._recorded_step(
            cmd.notice_id,
            "confirmParticipation",
            caller,
            lambda r, actor, at: r.confirm(cmd.participants, actor=actor, at=at),
            lambda r, common, at: [
                ParticipationConfirmedV1(
                    **common,
                    participants=list(r.participants),
                    confirmed_at=at,
                    deadlines=self._deadlines_of(r, par.ATTEND),
                )
            ],
        )
