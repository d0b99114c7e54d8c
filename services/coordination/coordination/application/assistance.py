"""Command handlers of assistance between agencies (协助执法, R-AST-01/02): the request and
its letter, the reply (help or a refusal on cited grounds), mediation by the legal office,
and the results reported both ways."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from coordination.adapters.cooperation import (
    AssistanceRepository,
)
from coordination.application import access
from coordination.application.actors import acting
from coordination.application.catalogue import local_date
from coordination.application.cooperation import (
    ASSISTANCE_READ,
    LEGAL_OFFICE_KINDS,
    _RequestHandlers,
    party_scope,
)
from coordination.contracts.cooperation import (
    AssistanceLetterSentV1,
    AssistanceMediatedV1,
    AssistanceMediationRequestedV1,
    AssistanceRefusedV1,
    AssistanceRepliedV1,
    AssistanceRequestedV1,
    AssistanceResultReportedV1,
    PhoneCallV1,
)
from coordination.domain import assistance as ast
from coordination.domain.cooperation import Actor
from coordination.policy import policy_of
from kernel.authz import Relation
from kernel.caller import Caller
from kernel.envelope import EventPayload
from kernel.errors import InvalidState, one_of


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
class SendAssistanceLetter:
    """R-AST-01: the written letter after an emergency phone request."""

    request_id: str
    letter_number: str


@dataclass(frozen=True)
class ReferAssistanceToMediation:
    request_id: str
    disagreement: str


@dataclass(frozen=True)
class RecordAssistanceMediation:
    request_id: str
    outcome: str  # assist | refusal_upheld
    basis: str


@dataclass(frozen=True)
class ReportAssistanceResult:
    request_id: str
    summary: str


class AssistanceHandlers(_RequestHandlers[ast.AssistanceRequest]):
    read_operation = ASSISTANCE_READ
    noun = "assistance request"
    subject_type = "AssistanceRequest"
    event_parties = ("requester_id", "helper_id")

    def __init__(self, requests: AssistanceRepository, *args: Any, **kw: Any) -> None:
        super().__init__(requests, *args, **kw)
        self.requests = requests

    def _relations(self, actor: Actor, found: ast.AssistanceRequest) -> set[Relation]:
        return access.assistance_relations(actor, found)

    async def refusals_visible(
        self, *, helper_id: str | None, after: str | None, limit: int, caller: Caller
    ) -> list[ast.AssistanceRequest]:
        actor = acting(caller)
        return await self.requests.refusals(
            helper_id=helper_id,
            after=after,
            limit=limit,
            party_id=party_scope(actor, "assistanceRefusals"),
        )

    async def refusals_count(self, *, helper_id: str | None, caller: Caller) -> int:
        """How many refusals :meth:`refusals_visible` pages through, all pages together."""
        return await self.requests.refusals_count(
            helper_id=helper_id, party_id=party_scope(acting(caller), "assistanceRefusals")
        )

    async def request(self, cmd: RequestAssistance, caller: Caller) -> ast.AssistanceRequest:
        """R-AST-01: the request letter (or an emergency phone call, the letter to follow)."""
        actor = acting(caller)
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
            n = policy_of(self.policy).assistance.reply_limit_working_days
            reply = self._clock(
                ast.REPLY,
                cmd.helper_id,
                self.calendar.add_working_days(
                    now,
                    n,
                    rule=f"回复协助执法复函：{n}个工作日（区政策；CQ 三(三)：及时回复）",
                ),
            )
        n = policy_of(self.policy).assistance.letter_after_phone_working_days
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
            **self._common(None, request, actor),
            matters=list(request.matters),
            urgent=request.urgent,
            letter_number=request.letter_number,
            phone_call=PhoneCallV1(caller=call.caller, called=call.called, at=call.at)
            if call
            else None,
            requested_at=request.requested_at,
            deadlines=self._deadlines_of(request, ast.REPLY, ast.WRITTEN_LETTER),
        )
        return await self._added(request, payload, caller.correlation_id)

    async def send_letter(self, cmd: SendAssistanceLetter, caller: Caller) -> ast.AssistanceRequest:
        """R-AST-01: the written letter after an emergency phone request."""
        return await self._recorded_step(
            cmd.request_id,
            "sendAssistanceLetter",
            caller,
            lambda r, actor, at: r.send_letter(cmd.letter_number, actor=actor, at=at),
            lambda r, common, at: [
                AssistanceLetterSentV1(
                    **common,
                    letter_number=r.letter_number or "",
                    sent_at=at,
                    deadlines=self._deadlines_of(r, ast.WRITTEN_LETTER),
                )
            ],
        )

    async def reply(self, cmd: ReplyToAssistance, caller: Caller) -> ast.AssistanceRequest:
        """R-AST-01 / R-AST-02: the reply letter; a refusal is also published on its own for
        accountability (FY (五)4)."""

        def events(
            r: ast.AssistanceRequest, common: dict[str, Any], at: datetime
        ) -> list[EventPayload]:
            replied = AssistanceRepliedV1(
                **common,
                will_help=cmd.will_help,
                reply_letter_number=r.reply_letter_number or "",
                agreed_start_on=r.agreed_start_on.isoformat() if r.agreed_start_on else None,
                replied_at=at,
                deadlines=self._deadlines_of(r, ast.REPLY),
            )
            if r.refusal is None:
                return [replied]
            refused = AssistanceRefusedV1(
                **common,
                grounds=r.refusal.grounds,
                legal_provision=r.refusal.legal_provision,
                reply_letter_number=r.refusal.letter_number,
                refused_at=at,
            )
            return [replied, refused]

        return await self._recorded_step(
            cmd.request_id,
            "replyToAssistance",
            caller,
            lambda r, actor, at: r.reply(
                will_help=cmd.will_help,
                reply_letter_number=cmd.reply_letter_number,
                agreed_start_on=cmd.agreed_start_on,
                today=local_date(at),
                grounds=cmd.refusal_grounds,
                legal_provision=cmd.legal_provision,
                actor=actor,
                at=at,
            ),
            events,
        )

    async def _legal_office(self) -> str:
        for kind in LEGAL_OFFICE_KINDS:
            found = [a for a in await self.agencies.of_kind(kind.value) if not a.internal_unit]
            if found:
                return found[0].id
        raise InvalidState(
            "no legal office is registered to mediate; register the district's coordination "
            "body or justice bureau first",
            field="id",
            code="DISTRICT_NOT_SET_UP",
        )

    async def refer_to_mediation(
        self, cmd: ReferAssistanceToMediation, caller: Caller
    ) -> ast.AssistanceRequest:
        """R-AST-02: the requester disputes the refusal before the legal office."""

        async def move(
            r: ast.AssistanceRequest, actor: Actor, at: datetime
        ) -> ast.AssistanceRequest:
            mediator = await self._legal_office()
            n = policy_of(self.policy).assistance.mediation_limit_working_days
            clock = self._default_clock(
                ast.MEDIATION, mediator, at, n, "协助执法争议调处", "CQ 三(三)"
            )
            return r.refer_to_mediation(
                mediator_agency_id=mediator,
                disagreement=cmd.disagreement,
                mediation_clock=clock,
                actor=actor,
                at=at,
            )

        def events(
            r: ast.AssistanceRequest, common: dict[str, Any], at: datetime
        ) -> list[EventPayload]:
            assert r.mediation is not None
            return [
                AssistanceMediationRequestedV1(
                    **common,
                    mediator_agency_id=r.mediation.mediator_agency_id,
                    disagreement=cmd.disagreement.strip(),
                    requested_at=at,
                    deadlines=self._deadlines_of(r, ast.MEDIATION),
                )
            ]

        return await self._recorded_step(
            cmd.request_id, "referAssistanceToMediation", caller, move, events
        )

    async def record_mediation(
        self, cmd: RecordAssistanceMediation, caller: Caller
    ) -> ast.AssistanceRequest:
        def move(r: ast.AssistanceRequest, actor: Actor, at: datetime) -> ast.AssistanceRequest:
            outcome = one_of(ast.MediationOutcome, cmd.outcome, field="outcome", what="outcome")
            return r.record_mediation(
                outcome=outcome, basis=cmd.basis, today=local_date(at), actor=actor, at=at
            )

        def events(
            r: ast.AssistanceRequest, common: dict[str, Any], at: datetime
        ) -> list[EventPayload]:
            m = r.mediation
            assert m is not None and m.outcome is not None
            return [
                AssistanceMediatedV1(
                    **common,
                    mediator_agency_id=m.mediator_agency_id,
                    outcome=m.outcome.value,
                    basis=m.basis,
                    decided_at=at,
                    deadlines=self._deadlines_of(r, ast.MEDIATION),
                )
            ]

        return await self._recorded_step(
            cmd.request_id, "recordAssistanceMediation", caller, move, events
        )

    async def report_result(
        self, cmd: ReportAssistanceResult, caller: Caller
    ) -> ast.AssistanceRequest:
        return await self._recorded_step(
            cmd.request_id,
            "reportAssistanceResult",
            caller,
            lambda r, actor, at: r.report_result(cmd.summary, actor=actor, at=at),
            lambda r, common, at: [
                AssistanceResultReportedV1(
                    **common,
                    side=r.results[-1].side,
                    summary=r.results[-1].summary,
                    reported_at=at,
                )
            ],
        )
