"""Command handlers of technical support (技术支撑, R-TEC-01/02): a township's request to a
department, staff on site, extensions announced in time, and the written answer stating a
conclusion."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
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
from kernel.contracts.deadlines import DeadlineV1
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

    def __init__(self, requests: TechnicalSupportRepository, *args: Any, **kw: Any) -> None:
        super().__init__(requests, *args, **kw)
        self.requests = requests

    def _relations(self, actor: Actor, found: tec.TechnicalSupportRequest) -> set[Relation]:
        return access.technical_relations(actor, found)

    def _deadlines_of(self, r: tec.TechnicalSupportRequest, *kinds: str) -> list[DeadlineV1]:
        return self._deadlines("TechnicalSupportRequest", r.id, r.clocks, *kinds)

    @staticmethod
    def _common(
        before: tec.TechnicalSupportRequest | None,
        after: tec.TechnicalSupportRequest,
        actor: Actor,
    ) -> dict[str, Any]:
        return dict(
            request_id=after.id,
            township_id=after.township_id,
            department_id=after.department_id,
            actor_id=actor.person_id,
            actor_agency_id=actor.agency_id,
            state_before=before.status.value if before else None,
            state_after=after.status.value,
        )

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
        await self.requests.add(request, [self._event(payload, request.id, caller.correlation_id)])
        return replace(request, version=1)

    async def dispatch_on_site(
        self, cmd: DispatchTechnicalStaff, caller: Caller
    ) -> tec.TechnicalSupportRequest:
        actor = acting(caller)
        before = await self._authorized(cmd.request_id, actor, "dispatchTechnicalStaff")
        now = self.clock()
        after = before.dispatch_on_site(cmd.staff, actor=actor, at=now)
        payload = TechnicalSupportDispatchedV1(
            **self._common(before, after, actor),
            staff=list(after.dispatches[-1].staff),
            dispatched_at=now,
            deadlines=self._deadlines_of(after, tec.ON_SITE),
        )
        return await self._save(after, [payload], caller.correlation_id)

    async def extend(
        self, cmd: ExtendTechnicalSupport, caller: Caller
    ) -> tec.TechnicalSupportRequest:
        """R-TEC-01: extend the limit to ``working_days`` in all (counted from the request),
        announced before the current limit runs out."""
        actor = acting(caller)
        before = await self._authorized(cmd.request_id, actor, "extendTechnicalSupport")
        if cmd.working_days < 1:
            raise ValidationFailed(
                "give the new limit in working days", field="workingDays", code="REQUIRED"
            )
        now = self.clock()
        ts = policy_of(self.policy).technical_support
        cap = (
            f"最长{ts.extension_max_working_days}个工作日"
            if ts.extension_max_working_days
            else ("由业务主管部门告知")
        )
        clock = self._reply_clock(
            before.department_id,
            before.requested_at,
            cmd.working_days,
            f"情况复杂，事先告知后延长；{cap}（{self.policy.source.code}）",
        )
        after = before.extend(
            reason=cmd.reason,
            new_clock=clock,
            total_working_days=cmd.working_days,
            max_working_days=ts.extension_max_working_days,
            extendable=ts.extendable,
            actor=actor,
            at=now,
        )
        ext = after.extensions[-1]
        payload = TechnicalSupportExtendedV1(
            **self._common(before, after, actor),
            reason=ext.reason,
            previous_due=ext.previous_due,
            new_due=ext.new_due,
            total_working_days=cmd.working_days,
            announced_at=now,
            deadlines=self._deadlines_of(after, tec.REPLY),
        )
        return await self._save(after, [payload], caller.correlation_id)

    async def answer(
        self, cmd: AnswerTechnicalSupport, caller: Caller
    ) -> tec.TechnicalSupportRequest:
        """R-TEC-02: the written answer, with its conclusion."""
        actor = acting(caller)
        before = await self._authorized(cmd.request_id, actor, "answerTechnicalSupport")
        now = self.clock()
        after = before.answer_in_writing(
            conclusion=cmd.conclusion,
            current_state_description=cmd.current_state_description,
            document_number=cmd.document_number,
            actor=actor,
            at=now,
        )
        assert after.answer is not None
        payload = TechnicalSupportAnsweredV1(
            **self._common(before, after, actor),
            conclusion=after.answer.conclusion,
            current_state_description=after.answer.current_state_description,
            document_number=after.answer.document_number,
            late=after.answer.late,
            answered_at=now,
            deadlines=self._deadlines_of(after, tec.REPLY),
        )
        return await self._save(after, [payload], caller.correlation_id)
