"""Command handlers of technical support (技术支撑, R-TEC-01/02): a township's request to a
department, staff on site, extensions announced in time, and the written answer stating a
conclusion."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from coordination.adapters.cooperation import (
    TechnicalSupportRepository,
)
from coordination.application import access
from coordination.application.actors import acting
from coordination.application.cooperation import (
    DEPARTMENT_KINDS,
    TECHNICAL_READ,
    _RequestHandlers,
)
from coordination.contracts.cooperation import (
    TechnicalSupportAnsweredV1,
    TechnicalSupportDispatchedV1,
    TechnicalSupportExtendedV1,
    TechnicalSupportRequestedV1,
)
from coordination.domain import technical as tec
from coordination.domain.cooperation import Actor, Clock
from coordination.domain.model import AgencyKind
from coordination.policy import policy_of
from kernel.authz import Relation
from kernel.caller import Caller
from kernel.envelope import EventPayload
from kernel.errors import ValidationFailed, one_of


@dataclass(frozen=True)
class RequestTechnicalSupport:
    township_id: str
    department_id: str
    kind: str  # identification | appraisal | consultation
    question: str
    document_number: str
    urgent: bool = False
    evidence_at_risk: bool = False


@dataclass(frozen=True)
class AnswerTechnicalSupport:
    request_id: str
    conclusion: str
    document_number: str
    current_state_description: str = ""


@dataclass(frozen=True)
class DispatchTechnicalStaff:
    request_id: str
    staff: tuple[str, ...]


@dataclass(frozen=True)
class ExtendTechnicalSupport:
    """R-TEC-01: the new limit in working days in all (counted from the request)."""

    request_id: str
    working_days: int
    reason: str


class TechnicalSupportHandlers(_RequestHandlers[tec.TechnicalSupportRequest]):
    read_operation = TECHNICAL_READ
    noun = "technical-support request"
    subject_type = "TechnicalSupportRequest"
    event_parties = ("township_id", "department_id")

    def __init__(self, requests: TechnicalSupportRepository, *args: Any, **kw: Any) -> None:
        super().__init__(requests, *args, **kw)
        self.requests = requests

    def _relations(self, actor: Actor, found: tec.TechnicalSupportRequest) -> set[Relation]:
        return access.technical_relations(actor, found)

    def _reply_clock(self, department_id: str, start: datetime, n: int, note: str) -> Clock:
        rule = f"书面反馈认定、鉴定或咨询意见：{n}个工作日（{note}）"
        return self._clock(
            tec.REPLY, department_id, self.calendar.add_working_days(start, n, rule=rule)
        )

    async def request(
        self, cmd: RequestTechnicalSupport, caller: Caller
    ) -> tec.TechnicalSupportRequest:
        """R-TEC-01: the township's cooperation document starts the department's clock."""
        actor = acting(caller)
        relations = access.relations_to(actor, sender=[cmd.township_id])
        access.authorize_on(actor, "requestTechnicalSupport", relations, field="townshipId")
        kind = one_of(tec.SupportKind, cmd.kind, field="kind", what="kind")
        await self._external({"townshipId": cmd.township_id}, {AgencyKind.TOWNSHIP})
        await self._external({"departmentId": cmd.department_id}, DEPARTMENT_KINDS)
        now = self.clock()
        ts = policy_of(self.policy).technical_support
        n = ts.reply_limit_working_days
        on_site = (
            self._immediately(
                tec.ON_SITE,
                cmd.department_id,
                now,
                "情况紧急或证据可能灭失：及时派员现场处置（FY (三)2）",
            )
            if ts.urgent_on_site_immediately
            else None
        )
        request = tec.request_technical_support(
            request_id=str(uuid.uuid4()),
            township_id=cmd.township_id,
            department_id=cmd.department_id,
            kind=kind,
            question=cmd.question,
            document_number=cmd.document_number,
            urgent=cmd.urgent,
            evidence_at_risk=cmd.evidence_at_risk,
            reply_working_days=n,
            reply_clock=self._reply_clock(cmd.department_id, now, n, self.policy.source.code),
            on_site_clock=on_site,
            actor=actor,
            at=now,
        )
        payload = TechnicalSupportRequestedV1(
            **self._common(None, request, actor),
            kind=kind.value,
            question=request.question,
            document_number=request.document_number,
            urgent=request.urgent,
            evidence_at_risk=request.evidence_at_risk,
            requested_at=now,
            deadlines=self._deadlines_of(request, tec.REPLY, tec.ON_SITE),
        )
        return await self._added(request, payload, caller.correlation_id)

    async def dispatch_on_site(
        self, cmd: DispatchTechnicalStaff, caller: Caller
    ) -> tec.TechnicalSupportRequest:
        return await self._recorded_step(
            cmd.request_id,
            "dispatchTechnicalStaff",
            caller,
            lambda r, actor, at: r.dispatch_on_site(cmd.staff, actor=actor, at=at),
            lambda r, common, at: [
                TechnicalSupportDispatchedV1(
                    **common,
                    staff=list(r.dispatches[-1].staff),
                    dispatched_at=at,
                    deadlines=self._deadlines_of(r, tec.ON_SITE),
                )
            ],
        )

    async def extend(
        self, cmd: ExtendTechnicalSupport, caller: Caller
    ) -> tec.TechnicalSupportRequest:
        """R-TEC-01: extend the limit to ``working_days`` in all (counted from the request),
        announced before the current limit runs out."""
        ts = policy_of(self.policy).technical_support

        def move(
            r: tec.TechnicalSupportRequest, actor: Actor, at: datetime
        ) -> tec.TechnicalSupportRequest:
            if cmd.working_days < 1:
                raise ValidationFailed(
                    "give the new limit in working days", field="workingDays", code="REQUIRED"
                )
            cap = (
                f"最长{ts.extension_max_working_days}个工作日"
                if ts.extension_max_working_days
                else ("由业务主管部门告知")
            )
            clock = self._reply_clock(
                r.department_id,
                r.requested_at,
                cmd.working_days,
                f"情况复杂，事先告知后延长；{cap}（{self.policy.source.code}）",
            )
            return r.extend(
                reason=cmd.reason,
                new_clock=clock,
                total_working_days=cmd.working_days,
                max_working_days=ts.extension_max_working_days,
                extendable=ts.extendable,
                actor=actor,
                at=at,
            )

        def events(
            r: tec.TechnicalSupportRequest, common: dict[str, Any], at: datetime
        ) -> list[EventPayload]:
            ext = r.extensions[-1]
            return [
                TechnicalSupportExtendedV1(
                    **common,
                    reason=ext.reason,
                    previous_due=ext.previous_due,
                    new_due=ext.new_due,
                    total_working_days=cmd.working_days,
                    announced_at=at,
                    deadlines=self._deadlines_of(r, tec.REPLY),
                )
            ]

        return await self._recorded_step(
            cmd.request_id, "extendTechnicalSupport", caller, move, events
        )

    async def answer(
        self, cmd: AnswerTechnicalSupport, caller: Caller
    ) -> tec.TechnicalSupportRequest:
        """R-TEC-02: the written answer, with its conclusion."""

        def events(
            r: tec.TechnicalSupportRequest, common: dict[str, Any], at: datetime
        ) -> list[EventPayload]:
            assert r.answer is not None
            return [
                TechnicalSupportAnsweredV1(
                    **common,
                    conclusion=r.answer.conclusion,
                    current_state_description=r.answer.current_state_description,
                    document_number=r.answer.document_number,
                    late=r.answer.late,
                    answered_at=at,
                    deadlines=self._deadlines_of(r, tec.REPLY),
                )
            ]

        return await self._recorded_step(
            cmd.request_id,
            "answerTechnicalSupport",
            caller,
            lambda r, actor, at: r.answer_in_writing(
                conclusion=cmd.conclusion,
                current_state_description=cmd.current_state_description,
                document_number=cmd.document_number,
                actor=actor,
                at=at,
            ),
            events,
        )
