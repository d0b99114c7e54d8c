"""Command handlers of the cooperation duties between agencies: assistance (协助执法,
R-AST-01/02), technical support (技术支撑, R-TEC-01/02) and information queries (信息查询,
R-INF-01). Each command loads the aggregate, lets the domain decide, and writes the new state
with its events in one conditional update (the outbox)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from coordination.adapters.cooperation import (
    AnswerAccessLog,
    AssistanceRepository,
    InformationQueryRepository,
    RequestRepository,
    TechnicalSupportRepository,
)
from coordination.adapters.repository import AgencyRepository
from coordination.application import access
from coordination.application.catalogue import local_date
from coordination.application.disputes import STEP_BODY_KINDS
from coordination.contracts.published import (
    AssistanceLetterSentV1,
    AssistanceMediatedV1,
    AssistanceMediationRequestedV1,
    AssistanceRefusedV1,
    AssistanceRepliedV1,
    AssistanceRequestedV1,
    AssistanceResultReportedV1,
    InformationAnswerAccessedV1,
    InformationQueryAnsweredV1,
    InformationQueryAskedV1,
    InformationQueryDeclinedV1,
    PhoneCallV1,
    TechnicalSupportAnsweredV1,
    TechnicalSupportDispatchedV1,
    TechnicalSupportExtendedV1,
    TechnicalSupportRequestedV1,
)
from coordination.domain import assistance as ast
from coordination.domain import information as inf
from coordination.domain import technical as tec
from coordination.domain.cooperation import Actor, Clock
from coordination.domain.model import AgencyKind
from kernel.authz import Relation
from kernel.calendar import Deadline, WorkingCalendar
from kernel.deadlines import DeadlineV1
from kernel.envelope import Envelope, EventPayload, new_envelope
from kernel.errors import InvalidState, NotFound, ValidationFailed
from kernel.policy import DistrictPolicy

SERVICE = "coordination"

DEPARTMENT_KINDS = {AgencyKind.DEPARTMENT, AgencyKind.APPROVAL_BUREAU}
# The legal office (政府法制机构) that mediates an assistance disagreement (CQ 三(三)): the
# coordination body where one is registered, else the justice bureau, else the government.
LEGAL_OFFICE_KINDS = STEP_BODY_KINDS["coordination_body"]


@dataclass(frozen=True)
class PhoneCallInput:
    caller: str
    called: str
    at: datetime | None = None  # default: now


@dataclass(frozen=True)
class RequestAssistance:
    requester_id: str
    helper_id: str
    matters: tuple[str, ...]
    urgent: bool = False
    letter_number: str | None = None
    phone_call: PhoneCallInput | None = None


@dataclass(frozen=True)
class ReplyToAssistance:
    request_id: str
    will_help: bool
    reply_letter_number: str
    agreed_start_on: date | None = None
    refusal_grounds: str = ""
    legal_provision: str = ""


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
class AskInformation:
    requester_id: str
    holder_id: str
    subject: str
    purpose: str
    urgent: bool = False


@dataclass(frozen=True)
class AnswerInformation:
    query_id: str
    content: str
    classification: str  # public | internal | confidential
    fee_yuan: Decimal | None = None


class _Base:
    def __init__(
        self,
        agencies: AgencyRepository,
        policy: DistrictPolicy,
        calendar: WorkingCalendar,
        district: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.agencies = agencies
        self.policy = policy
        self.calendar = calendar
        self.district = district
        self.clock = clock

    def _event(self, payload: EventPayload, subject: str, correlation_id: str | None) -> Envelope:
        return new_envelope(
            payload,
            district=self.district,
            service=SERVICE,
            subject=subject,
            correlation_id=correlation_id,
        )

    def _deadlines(
        self, subject_type: str, subject_id: str, clocks: tuple[Clock, ...], *kinds: str
    ) -> list[DeadlineV1]:
        return [
            DeadlineV1(
                key=DeadlineV1.key_for(subject_type, subject_id, c.kind),
                kind=c.kind,
                subject_type=subject_type,
                subject_id=subject_id,
                responsible_agency_id=c.responsible_agency_id,
                due=c.due,
                state="met" if c.state == "met" else "cancelled" if c.state != "open" else "open",
                rule=c.rule,
                explanation_zh=self.calendar.explain_dict(c.explanation, lang="zh"),
            )
            for c in clocks
            if c.kind in kinds
        ]

    @staticmethod
    def _clock(kind: str, agency_id: str, deadline: Deadline) -> Clock:
        return Clock(kind, agency_id, deadline.due, deadline.rule, deadline.to_dict())

    def _immediately(self, kind: str, agency_id: str, at: datetime, rule: str) -> Clock:
        # "Immediately" (立即, DOMAIN §0): the addressee is alerted now (an hour clock's
        # reminders fall due at once) and the act is due within the policy's few hours, so
        # an urgent request is not late the moment it is made.
        hours = self.policy.immediately.limit_hours
        return self._clock(
            kind, agency_id, self.calendar.add_hours(at, hours, rule=f"{rule}（{hours}小时内）")
        )

    async def _external(self, ids: dict[str, str], kinds: set[AgencyKind] | None = None) -> None:
        """Every named agency exists and acts externally (R-AG-02); ``ids``: field → id."""
        known = await self.agencies.get_many([i for i in ids.values() if i])
        for field, agency_id in ids.items():
            agency = known.get(agency_id)
            if agency is None:
                raise ValidationFailed(f"agency {agency_id!r} is not registered", field=field)
            if agency.internal_unit:
                raise ValidationFailed(
                    f"{agency.name} is an internal unit and cannot act externally (R-AG-02)",
                    field=field,
                )
            if kinds is not None and agency.kind not in kinds:
                allowed = ", ".join(sorted(k.value for k in kinds))
                raise ValidationFailed(
                    f"{agency.name} is a {agency.kind.value}; expected {allowed}", field=field
                )


# --------------------------------------------------------------------------- read access

# Who reads a request is the matrix's read rule (kernel.authz, coordination.<read>): the
# parties' staff, and the supervising roles (the justice bureau supervises cooperation,
# FY (五)4; the coordination body mediates, CQ 三(三); the government decides in the end);
# the judicial observer does not.
ASSISTANCE_READ = "assistanceRequest"
TECHNICAL_READ = "technicalSupportRequest"
INFORMATION_READ = "informationQuery"


def party_scope(actor: Actor, operation: str) -> str | None:
    """The agency whose requests the caller may list, or None when it may list them all.

    A caller the matrix lets read nothing gets ``""``, which is no party, so it reads
    nothing rather than everything."""
    return access.own_scope(actor, operation)


def assistance_parties(r: ast.AssistanceRequest) -> tuple[str, ...]:
    """Requester, helper and, once a refusal went to mediation, the mediating legal office."""
    mediator = (r.mediation.mediator_agency_id,) if r.mediation else ()
    return (r.requester_id, r.helper_id, *mediator)


R = TypeVar("R", ast.AssistanceRequest, tec.TechnicalSupportRequest, inf.InformationQuery)


class _RequestHandlers(_Base, Generic[R]):
    """What the three kinds of request share: reading under the matrix's read rule, loading
    for a command (authorized per operation), saving with the command's events."""

    #: The matrix's read operation, the noun in "… does not exist".
    read_operation: str
    noun: str

    def __init__(self, repository: RequestRepository[R], *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._repository: RequestRepository[R] = repository

    def _relations(self, actor: Actor, found: R) -> set[Relation]:
        raise NotImplementedError

    async def visible(self, request_id: str, *, actor: Actor) -> R | None:
        """The request when the caller may read it; None when absent or not its to see (the
        same answer, so a non-party cannot learn that a request exists)."""
        found = await self._repository.get(request_id)
        if found is None:
            return None
        return (
            found if access.may(actor, self.read_operation, self._relations(actor, found)) else None
        )

    async def list_visible(
        self, *, agency_id: str | None, after: str | None, limit: int, actor: Actor
    ) -> list[R]:
        return await self._repository.list(
            agency_id=agency_id,
            after=after,
            limit=limit,
            party_id=party_scope(actor, self.read_operation),
        )

    async def _load(self, request_id: str) -> R:
        found = await self._repository.get(request_id)
        if found is None:
            raise NotFound(f"{self.noun} {request_id!r} does not exist", field="id")
        return found

    async def _authorized(self, request_id: str, actor: Actor, operation: str) -> R:
        """The aggregate, when the matrix lets ``actor`` do ``operation`` on it."""
        found = await self._load(request_id)
        access.authorize_on(actor, operation, self._relations(actor, found))
        return found

    async def _save(self, after: R, payloads: list[EventPayload], correlation_id: str | None) -> R:
        events = [self._event(p, after.id, correlation_id) for p in payloads]
        # A concurrent change raises ConcurrencyError (a Conflict): the caller reloads.
        version = await self._repository.save(after, events)
        return replace(after, version=version)


# --------------------------------------------------------------------------- assistance


class AssistanceHandlers(_RequestHandlers[ast.AssistanceRequest]):
    read_operation = ASSISTANCE_READ
    noun = "assistance request"

    def __init__(self, requests: AssistanceRepository, *args: Any, **kw: Any) -> None:
        super().__init__(requests, *args, **kw)
        self.requests = requests

    def _relations(self, actor: Actor, found: ast.AssistanceRequest) -> set[Relation]:
        return access.assistance_relations(actor, found)

    async def refusals_visible(
        self, *, helper_id: str | None, after: str | None, limit: int, actor: Actor
    ) -> list[ast.AssistanceRequest]:
        return await self.requests.refusals(
            helper_id=helper_id,
            after=after,
            limit=limit,
            party_id=party_scope(actor, "assistanceRefusals"),
        )

    def _deadlines_of(self, r: ast.AssistanceRequest, *kinds: str) -> list[DeadlineV1]:
        return self._deadlines("AssistanceRequest", r.id, r.clocks, *kinds)

    def _common(
        self, before: ast.AssistanceRequest, after: ast.AssistanceRequest, actor: Actor
    ) -> dict[str, Any]:
        return dict(
            request_id=after.id,
            requester_id=after.requester_id,
            helper_id=after.helper_id,
            actor_id=actor.person_id,
            actor_agency_id=actor.agency_id,
            state_before=before.status.value,
            state_after=after.status.value,
        )

    async def request(
        self, cmd: RequestAssistance, *, actor: Actor, correlation_id: str | None = None
    ) -> ast.AssistanceRequest:
        """R-AST-01: the request letter (or an emergency phone call, the letter to follow)."""
        relations = access.relations_to(actor, sender=[cmd.requester_id])
        access.authorize_on(actor, "requestAssistance", relations, field="requesterId")
        await self._external({"requesterId": cmd.requester_id, "helperId": cmd.helper_id})
        now = self.clock()
        call = (
            ast.PhoneCall(
                cmd.phone_call.caller.strip(),
                cmd.phone_call.called.strip(),
                cmd.phone_call.at or now,
            )
            if cmd.phone_call
            else None
        )
        start = call.at if call else now
        if cmd.urgent:
            reply = self._immediately(
                ast.REPLY, cmd.helper_id, start, "紧急协助执法事项：立即实施协助（CQ 三(三)）"
            )
        else:
            n = self.policy.assistance.reply_limit_working_days
            reply = self._clock(
                ast.REPLY,
                cmd.helper_id,
                self.calendar.add_working_days(
                    now,
                    n,
                    rule=f"回复协助执法复函：{n}个工作日（区政策；CQ 三(三)：及时回复）",
                ),
            )
        n = self.policy.assistance.letter_after_phone_working_days
        letter = self._clock(
            ast.WRITTEN_LETTER,
            cmd.requester_id,
            self.calendar.add_working_days(
                start, n, rule=f"电话提请后补送协助执法函：{n}个工作日（区政策）"
            ),
        )
        request = ast.request_assistance(
            request_id=str(uuid.uuid4()),
            requester_id=cmd.requester_id,
            helper_id=cmd.helper_id,
            matters=cmd.matters,
            urgent=cmd.urgent,
            letter_number=cmd.letter_number,
            phone_call=call,
            reply_clock=reply,
            letter_clock=letter,
            actor=actor,
            at=now,
        )
        payload = AssistanceRequestedV1(
            request_id=request.id,
            requester_id=request.requester_id,
            helper_id=request.helper_id,
            matters=list(request.matters),
            urgent=request.urgent,
            letter_number=request.letter_number,
            phone_call=PhoneCallV1(caller=call.caller, called=call.called, at=call.at)
            if call
            else None,
            requested_at=request.requested_at,
            actor_id=actor.person_id,
            actor_agency_id=actor.agency_id,
            state_after=request.status.value,
            deadlines=self._deadlines_of(request, ast.REPLY, ast.WRITTEN_LETTER),
        )
        await self.requests.add(request, [self._event(payload, request.id, correlation_id)])
        return replace(request, version=1)

    async def send_letter(
        self,
        request_id: str,
        letter_number: str,
        *,
        actor: Actor,
        correlation_id: str | None = None,
    ) -> ast.AssistanceRequest:
        """R-AST-01: the written letter after an emergency phone request."""
        before = await self._authorized(request_id, actor, "sendAssistanceLetter")
        now = self.clock()
        after = before.send_letter(letter_number, actor=actor, at=now)
        payload = AssistanceLetterSentV1(
            **self._common(before, after, actor),
            letter_number=after.letter_number or "",
            sent_at=now,
            deadlines=self._deadlines_of(after, ast.WRITTEN_LETTER),
        )
        return await self._save(after, [payload], correlation_id)

    async def reply(
        self, cmd: ReplyToAssistance, *, actor: Actor, correlation_id: str | None = None
    ) -> ast.AssistanceRequest:
        """R-AST-01 / R-AST-02: the reply letter; a refusal is also published on its own for
        accountability (FY (五)4)."""
        before = await self._authorized(cmd.request_id, actor, "replyToAssistance")
        now = self.clock()
        after = before.reply(
            will_help=cmd.will_help,
            reply_letter_number=cmd.reply_letter_number,
            agreed_start_on=cmd.agreed_start_on,
            today=local_date(now),
            grounds=cmd.refusal_grounds,
            legal_provision=cmd.legal_provision,
            actor=actor,
            at=now,
        )
        common = self._common(before, after, actor)
        payloads: list[EventPayload] = [
            AssistanceRepliedV1(
                **common,
                will_help=cmd.will_help,
                reply_letter_number=after.reply_letter_number or "",
                agreed_start_on=after.agreed_start_on.isoformat()
                if after.agreed_start_on
                else None,
                replied_at=now,
                deadlines=self._deadlines_of(after, ast.REPLY),
            )
        ]
        if after.refusal is not None:
            payloads.append(
                AssistanceRefusedV1(
                    **common,
                    grounds=after.refusal.grounds,
                    legal_provision=after.refusal.legal_provision,
                    reply_letter_number=after.refusal.letter_number,
                    refused_at=now,
                )
            )
        return await self._save(after, payloads, correlation_id)

    async def _legal_office(self) -> str:
        for kind in LEGAL_OFFICE_KINDS:
            found = [a for a in await self.agencies.of_kind(kind.value) if not a.internal_unit]
            if found:
                return found[0].id
        raise InvalidState(
            "no legal office is registered to mediate; register the district's coordination "
            "body or justice bureau first",
            field="id",
        )

    async def refer_to_mediation(
        self,
        request_id: str,
        disagreement: str,
        *,
        actor: Actor,
        correlation_id: str | None = None,
    ) -> ast.AssistanceRequest:
        """R-AST-02: the requester disputes the refusal before the legal office."""
        before = await self._authorized(request_id, actor, "referAssistanceToMediation")
        now = self.clock()
        mediator = await self._legal_office()
        after = before.refer_to_mediation(
            mediator_agency_id=mediator, disagreement=disagreement, actor=actor, at=now
        )
        payload = AssistanceMediationRequestedV1(
            **self._common(before, after, actor),
            mediator_agency_id=mediator,
            disagreement=disagreement.strip(),
            requested_at=now,
        )
        return await self._save(after, [payload], correlation_id)

    async def record_mediation(
        self,
        request_id: str,
        outcome: str,
        basis: str,
        *,
        actor: Actor,
        correlation_id: str | None = None,
    ) -> ast.AssistanceRequest:
        try:
            kind = ast.MediationOutcome(outcome)
        except ValueError:
            raise ValidationFailed(
                f"unknown outcome {outcome!r}; one of assist, refusal_upheld", field="outcome"
            ) from None
        before = await self._authorized(request_id, actor, "recordAssistanceMediation")
        now = self.clock()
        after = before.record_mediation(
            outcome=kind, basis=basis, today=local_date(now), actor=actor, at=now
        )
        assert after.mediation is not None
        payload = AssistanceMediatedV1(
            **self._common(before, after, actor),
            mediator_agency_id=after.mediation.mediator_agency_id,
            outcome=kind.value,
            basis=after.mediation.basis,
            decided_at=now,
        )
        return await self._save(after, [payload], correlation_id)

    async def report_result(
        self, request_id: str, summary: str, *, actor: Actor, correlation_id: str | None = None
    ) -> ast.AssistanceRequest:
        before = await self._authorized(request_id, actor, "reportAssistanceResult")
        now = self.clock()
        after = before.report_result(summary, actor=actor, at=now)
        last = after.results[-1]
        payload = AssistanceResultReportedV1(
            **self._common(before, after, actor),
            side=last.side,
            summary=last.summary,
            reported_at=now,
        )
        return await self._save(after, [payload], correlation_id)


# --------------------------------------------------------------------------- technical


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
        self, cmd: RequestTechnicalSupport, *, actor: Actor, correlation_id: str | None = None
    ) -> tec.TechnicalSupportRequest:
        """R-TEC-01: the township's cooperation document starts the department's clock."""
        try:
            kind = tec.SupportKind(cmd.kind)
        except ValueError:
            raise ValidationFailed(
                f"unknown kind {cmd.kind!r}; one of identification, appraisal, consultation",
                field="kind",
            ) from None
        relations = access.relations_to(actor, sender=[cmd.township_id])
        access.authorize_on(actor, "requestTechnicalSupport", relations, field="townshipId")
        await self._external({"townshipId": cmd.township_id}, {AgencyKind.TOWNSHIP})
        await self._external({"departmentId": cmd.department_id}, DEPARTMENT_KINDS)
        now = self.clock()
        ts = self.policy.technical_support
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
        await self.requests.add(request, [self._event(payload, request.id, correlation_id)])
        return replace(request, version=1)

    async def dispatch_on_site(
        self,
        request_id: str,
        staff: tuple[str, ...],
        *,
        actor: Actor,
        correlation_id: str | None = None,
    ) -> tec.TechnicalSupportRequest:
        before = await self._authorized(request_id, actor, "dispatchTechnicalStaff")
        now = self.clock()
        after = before.dispatch_on_site(staff, actor=actor, at=now)
        payload = TechnicalSupportDispatchedV1(
            **self._common(before, after, actor),
            staff=list(after.dispatches[-1].staff),
            dispatched_at=now,
            deadlines=self._deadlines_of(after, tec.ON_SITE),
        )
        return await self._save(after, [payload], correlation_id)

    async def extend(
        self,
        request_id: str,
        working_days: int,
        reason: str,
        *,
        actor: Actor,
        correlation_id: str | None = None,
    ) -> tec.TechnicalSupportRequest:
        """R-TEC-01: extend the limit to ``working_days`` in all (counted from the request),
        announced before the current limit runs out."""
        if working_days < 1:
            raise ValidationFailed("give the new limit in working days", field="workingDays")
        before = await self._authorized(request_id, actor, "extendTechnicalSupport")
        now = self.clock()
        ts = self.policy.technical_support
        cap = (
            f"最长{ts.extension_max_working_days}个工作日"
            if ts.extension_max_working_days
            else ("由业务主管部门告知")
        )
        clock = self._reply_clock(
            before.department_id,
            before.requested_at,
            working_days,
            f"情况复杂，事先告知后延长；{cap}（{self.policy.source.code}）",
        )
        after = before.extend(
            reason=reason,
            new_clock=clock,
            total_working_days=working_days,
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
            total_working_days=working_days,
            announced_at=now,
            deadlines=self._deadlines_of(after, tec.REPLY),
        )
        return await self._save(after, [payload], correlation_id)

    async def answer(
        self, cmd: AnswerTechnicalSupport, *, actor: Actor, correlation_id: str | None = None
    ) -> tec.TechnicalSupportRequest:
        """R-TEC-02: the written answer, with its conclusion."""
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
        return await self._save(after, [payload], correlation_id)


# --------------------------------------------------------------------------- information


class InformationQueryHandlers(_RequestHandlers[inf.InformationQuery]):
    read_operation = INFORMATION_READ
    noun = "information query"

    def __init__(
        self,
        queries: InformationQueryRepository,
        access_log: AnswerAccessLog,
        *args: Any,
        **kw: Any,
    ) -> None:
        super().__init__(queries, *args, **kw)
        self.queries = queries
        self.access_log = access_log

    def _relations(self, actor: Actor, found: inf.InformationQuery) -> set[Relation]:
        return access.information_relations(actor, found)

    def _deadlines_of(self, q: inf.InformationQuery) -> list[DeadlineV1]:
        return self._deadlines("InformationQuery", q.id, q.clocks, inf.ANSWER)

    @staticmethod
    def _common(
        before: inf.InformationQuery | None, after: inf.InformationQuery, actor: Actor
    ) -> dict[str, Any]:
        return dict(
            query_id=after.id,
            requester_id=after.requester_id,
            holder_id=after.holder_id,
            actor_id=actor.person_id,
            actor_agency_id=actor.agency_id,
            state_before=before.status.value if before else None,
            state_after=after.status.value,
        )

    def _answer_clock(self, holder_id: str, at: datetime, urgent: bool) -> Clock:
        iq = self.policy.information_query
        if urgent and iq.urgent_immediately:
            return self._immediately(
                inf.ANSWER, holder_id, at, "特别紧急的事项：立即提供查询服务（CQ 四(一)）"
            )
        if urgent:
            # A district that does not say "immediately" still treats urgency as the 24-hour
            # clock of its other urgent duties (DOMAIN.md §0: urgent = 24 h by default).
            return self._clock(
                inf.ANSWER, holder_id, self.calendar.add_hours(at, 24, rule="紧急查询：24小时")
            )
        n = iq.answer_limit_working_days
        rule = f"接到查询请求之日起{n}个工作日内提供（{self.policy.source.code}）"
        return self._clock(inf.ANSWER, holder_id, self.calendar.add_working_days(at, n, rule=rule))

    async def ask(
        self, cmd: AskInformation, *, actor: Actor, correlation_id: str | None = None
    ) -> inf.InformationQuery:
        """R-INF-01: the answer clock starts (urgent: immediately, as the policy says)."""
        await self._external({"requesterId": cmd.requester_id, "holderId": cmd.holder_id})
        relations = access.relations_to(actor, sender=[cmd.requester_id])
        access.authorize_on(actor, "askInformation", relations, field="requesterId")
        now = self.clock()
        query = inf.ask(
            query_id=str(uuid.uuid4()),
            requester_id=cmd.requester_id,
            holder_id=cmd.holder_id,
            subject=cmd.subject,
            purpose=cmd.purpose,
            urgent=cmd.urgent,
            answer_clock=self._answer_clock(cmd.holder_id, now, cmd.urgent),
            actor=actor,
            at=now,
        )
        payload = InformationQueryAskedV1(
            **self._common(None, query, actor),
            subject=query.subject,
            urgent=query.urgent,
            asked_at=now,
            deadlines=self._deadlines_of(query),
        )
        await self.queries.add(query, [self._event(payload, query.id, correlation_id)])
        return replace(query, version=1)

    async def answer(
        self, cmd: AnswerInformation, *, actor: Actor, correlation_id: str | None = None
    ) -> inf.InformationQuery:
        """R-INF-01: free of charge (a fee is refused), the classification recorded."""
        try:
            classification = inf.Classification(cmd.classification)
        except ValueError:
            raise ValidationFailed(
                f"unknown classification {cmd.classification!r}; one of public, internal, "
                "confidential",
                field="classification",
            ) from None
        before = await self._authorized(cmd.query_id, actor, "answerInformationQuery")
        now = self.clock()
        after = before.answer_query(
            content=cmd.content,
            classification=classification,
            fee_yuan=cmd.fee_yuan,
            actor=actor,
            at=now,
        )
        assert after.answer is not None
        payload = InformationQueryAnsweredV1(
            **self._common(before, after, actor),
            classification=classification.value,
            late=after.answer.late,
            answered_at=now,
            deadlines=self._deadlines_of(after),
        )
        return await self._save(after, [payload], correlation_id)

    async def decline(
        self,
        query_id: str,
        grounds: str,
        reason: str,
        legal_provision: str,
        *,
        actor: Actor,
        correlation_id: str | None = None,
    ) -> inf.InformationQuery:
        try:
            kind = inf.DeclineGrounds(grounds)
        except ValueError:
            raise ValidationFailed(
                f"unknown grounds {grounds!r}; one of secrecy, not_held", field="grounds"
            ) from None
        before = await self._authorized(query_id, actor, "declineInformationQuery")
        now = self.clock()
        after = before.decline_query(
            grounds=kind, reason=reason, legal_provision=legal_provision, actor=actor, at=now
        )
        assert after.decline is not None
        payload = InformationQueryDeclinedV1(
            **self._common(before, after, actor),
            grounds=kind.value,
            reason=after.decline.reason,
            legal_provision=after.decline.legal_provision,
            declined_at=now,
            deadlines=self._deadlines_of(after),
        )
        return await self._save(after, [payload], correlation_id)

    async def read_answer(
        self, query_id: str, *, actor: Actor, correlation_id: str | None = None
    ) -> inf.QueryAnswer:
        """R-INF-01: the answer, if ``actor`` may read its classification; the reading is
        logged (who, when) before the answer is handed out."""
        query = await self._authorized(query_id, actor, "readInformationAnswer")
        answer = query.check_read(actor)
        now = self.clock()
        access = inf.AnswerAccess(
            id=str(uuid.uuid4()),
            query_id=query.id,
            reader_id=actor.person_id,
            reader_agency_id=actor.agency_id,
            classification=answer.classification,
            at=now,
        )
        payload = InformationAnswerAccessedV1(
            access_id=access.id,
            query_id=query.id,
            holder_id=query.holder_id,
            classification=answer.classification.value,
            reader_id=actor.person_id,
            reader_agency_id=actor.agency_id,
            accessed_at=now,
            actor_id=actor.person_id,
            actor_agency_id=actor.agency_id,
        )
        await self.access_log.record(access, [self._event(payload, query.id, correlation_id)])
        return answer

    async def access_log_of(self, query_id: str, *, actor: Actor) -> list[inf.AnswerAccess]:
        """Who read the answer: for the holder (the data's owner) and supervisors."""
        query = await self._authorized(query_id, actor, "informationAnswerAccessLog")
        return await self.access_log.of_query(query.id)
