"""Command handlers of information queries between agencies (信息查询, R-INF-01): asking,
answering free of charge with the data's classification, declining, and reading an answer
(every reading is logged: who, when)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from coordination.adapters.cooperation import (
    AnswerAccessLog,
    InformationQueryRepository,
)
from coordination.application import access
from coordination.application.actors import acting
from coordination.application.cooperation import (
    INFORMATION_READ,
    _RequestHandlers,
)
from coordination.contracts.cooperation import (
    InformationAnswerAccessedV1,
    InformationQueryAnsweredV1,
    InformationQueryAskedV1,
    InformationQueryDeclinedV1,
)
from coordination.domain import information as inf
from coordination.domain.cooperation import Actor, Clock
from coordination.policy import policy_of
from kernel.authz import Relation
from kernel.caller import Caller
from kernel.envelope import EventPayload
from kernel.errors import one_of


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


@dataclass(frozen=True)
class DeclineInformationQuery:
    query_id: str
    grounds: str  # secrecy | not_held
    reason: str
    legal_provision: str


@dataclass(frozen=True)
class ReadInformationAnswer:
    """Reading an answer is a command: the reading is logged (who, when)."""

    query_id: str


class InformationQueryHandlers(_RequestHandlers[inf.InformationQuery]):
    read_operation = INFORMATION_READ
    noun = "information query"
    subject_type = "InformationQuery"
    event_id = "query_id"
    event_parties = ("requester_id", "holder_id")

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

    def _answer_clock(self, holder_id: str, at: datetime, urgent: bool) -> Clock:
        iq = policy_of(self.policy).information_query
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

    async def ask(self, cmd: AskInformation, caller: Caller) -> inf.InformationQuery:
        """R-INF-01: the answer clock starts (urgent: immediately, as the policy says)."""
        actor = acting(caller)
        relations = access.relations_to(actor, sender=[cmd.requester_id])
        access.authorize_on(actor, "askInformation", relations, field="requesterId")
        await self._external({"requesterId": cmd.requester_id, "holderId": cmd.holder_id})
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
            deadlines=self._deadlines_of(query, inf.ANSWER),
        )
        return await self._added(query, payload, caller.correlation_id)

    async def answer(self, cmd: AnswerInformation, caller: Caller) -> inf.InformationQuery:
        """R-INF-01: free of charge (a fee is refused), the classification recorded."""
        return await self._recorded_step(
            cmd.query_id,
            "answerInformationQuery",
            caller,
            lambda q, actor, at: q.answer_query(
                content=cmd.content,
                classification=one_of(
                    inf.Classification,
                    cmd.classification,
                    field="classification",
                    what="classification",
                ),
                fee_yuan=cmd.fee_yuan,
                actor=actor,
                at=at,
            ),
            self._answered,
        )

    def _answered(
        self, q: inf.InformationQuery, common: dict[str, Any], at: datetime
    ) -> list[EventPayload]:
        assert q.answer is not None
        return [
            InformationQueryAnsweredV1(
                **common,
                classification=q.answer.classification.value,
                late=q.answer.late,
                answered_at=at,
                deadlines=self._deadlines_of(q, inf.ANSWER),
            )
        ]

    async def decline(self, cmd: DeclineInformationQuery, caller: Caller) -> inf.InformationQuery:
        return await self._recorded_step(
            cmd.query_id,
            "declineInformationQuery",
            caller,
            lambda q, actor, at: q.decline_query(
                grounds=one_of(inf.DeclineGrounds, cmd.grounds, field="grounds", what="grounds"),
                reason=cmd.reason,
                legal_provision=cmd.legal_provision,
                actor=actor,
                at=at,
            ),
            self._declined,
        )

    def _declined(
        self, q: inf.InformationQuery, common: dict[str, Any], at: datetime
    ) -> list[EventPayload]:
        assert q.decline is not None
        return [
            InformationQueryDeclinedV1(
                **common,
                grounds=q.decline.grounds.value,
                reason=q.decline.reason,
                legal_provision=q.decline.legal_provision,
                declined_at=at,
                deadlines=self._deadlines_of(q, inf.ANSWER),
            )
        ]

    async def read_answer(self, cmd: ReadInformationAnswer, caller: Caller) -> inf.QueryAnswer:
        """R-INF-01: the answer, if ``actor`` may read its classification; the reading is
        logged (who, when) before the answer is handed out."""
        actor = acting(caller)
        query = await self._authorized(cmd.query_id, actor, "readInformationAnswer")
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
        await self.access_log.record(
            access, [self._event(payload, query.id, caller.correlation_id)]
        )
        return answer

    async def access_log_of(self, query_id: str, caller: Caller) -> list[inf.AnswerAccess]:
        """Who read the answer: for the holder (the data's owner) and supervisors."""
        actor = acting(caller)
        query = await self._authorized(query_id, actor, "informationAnswerAccessLog")
        return await self.access_log.of_query(query.id)
