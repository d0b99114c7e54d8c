"""Information queries between agencies (信息查询, R-INF-01; CQ 四(一), SL 二(五)).

An agency asks another for information it holds; the holder answers within the district's
limit (urgent: immediately), free of charge, and may not refuse on grounds of secrecy unless
it cites the legal provision that says so. The answer keeps the data's classification
(public | internal | confidential); only the two parties may read a confidential answer, and
every reading of an answer is logged (who, when).

Pure Python: no I/O. Clocks are computed by the application layer and handed in.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from coordination.domain.cooperation import (
    Actor,
    Clock,
    RecordsTransitions,
    Transition,
    meet,
    require_agency,
    require_other,
    require_text,
)
from coordination.domain.errors import Forbidden, InvalidState, ValidationFailed

ANSWER = "information_query.answer"


class Classification(StrEnum):
    PUBLIC = "public"  # 公开
    INTERNAL = "internal"  # 内部
    CONFIDENTIAL = "confidential"  # 涉密 / 敏感: only the parties read it


class QueryStatus(StrEnum):
    ASKED = "asked"
    ANSWERED = "answered"
    DECLINED = "declined"


class DeclineGrounds(StrEnum):
    SECRECY = "secrecy"  # 保密: only where a law says so, cited
    NOT_HELD = "not_held"  # the holder does not have the information


@dataclass(frozen=True)
class QueryAnswer:
    content: str
    classification: Classification
    answered_by: str
    answered_at: datetime
    late: bool


@dataclass(frozen=True)
class QueryDecline:
    grounds: DeclineGrounds
    reason: str
    legal_provision: str
    declined_by: str
    at: datetime


@dataclass(frozen=True)
class InformationQuery(RecordsTransitions):
    id: str
    requester_id: str
    holder_id: str
    subject: str
    purpose: str
    urgent: bool
    status: QueryStatus
    asked_at: datetime
    answer: QueryAnswer | None = None
    decline: QueryDecline | None = None
    clocks: tuple[Clock, ...] = ()
    history: tuple[Transition, ...] = ()
    version: int = 0

    @property
    def parties(self) -> tuple[str, str]:
        return (self.requester_id, self.holder_id)

    def _require_asked(self) -> None:
        if self.status is not QueryStatus.ASKED:
            raise InvalidState(
                f"the query was already {self.status.value}", field="status", code="ALREADY_DONE"
            )

    def _due(self) -> datetime:
        return next(c.due for c in self.clocks if c.kind == ANSWER)

    def answer_query(
        self,
        *,
        content: str,
        classification: Classification,
        fee_yuan: Decimal | None,
        actor: Actor,
        at: datetime,
    ) -> InformationQuery:
        """R-INF-01: answered free of charge, keeping the data's classification."""
        require_agency(actor, self.holder_id, "the agency that holds the information answers")
        self._require_asked()
        if fee_yuan is not None and fee_yuan != 0:
            raise ValidationFailed(
                "information queries between agencies are free of charge (R-INF-01); no fee "
                "may be charged",
                field="feeYuan",
                code="OUT_OF_RANGE",
            )
        text = require_text(content, "the answer gives the information asked for", "content")
        answer = QueryAnswer(text, classification, actor.person_id, at, at > self._due())
        return replace(
            self,
            status=QueryStatus.ANSWERED,
            answer=answer,
            clocks=meet(self.clocks, ANSWER),
            history=self._record("answer", actor, at, QueryStatus.ANSWERED, classification.value),
        )

    def decline_query(
        self,
        *,
        grounds: DeclineGrounds,
        reason: str,
        legal_provision: str,
        actor: Actor,
        at: datetime,
    ) -> InformationQuery:
        """R-INF-01: not refused for secrecy except where the law says so — cite it."""
        require_agency(actor, self.holder_id, "the agency that holds the information answers")
        self._require_asked()
        text = require_text(reason, "say why the information is not given", "reason")
        provision = legal_provision.strip()
        if grounds is DeclineGrounds.SECRECY and not provision:
            raise ValidationFailed(
                "a query is refused for secrecy only where the law says so: cite the legal "
                "provision (R-INF-01)",
                field="legalProvision",
                code="LEGAL_BASIS_REQUIRED",
            )
        decline = QueryDecline(grounds, text, provision, actor.person_id, at)
        return replace(
            self,
            status=QueryStatus.DECLINED,
            decline=decline,
            clocks=meet(self.clocks, ANSWER),
            history=self._record("decline", actor, at, QueryStatus.DECLINED, text),
        )

    def may_read_answer(self, actor: Actor) -> bool:
        """Confidential answers: the parties only; internal: staff of any agency of the
        district; public: anyone signed in."""
        if self.answer is None:
            return False
        c = self.answer.classification
        if c is Classification.CONFIDENTIAL:
            return actor.agency_id in self.parties
        if c is Classification.INTERNAL:
            return actor.agency_id is not None
        return True

    def check_read(self, actor: Actor) -> QueryAnswer:
        if self.answer is None:
            raise InvalidState("the query has no answer yet", field="status", code="WRONG_STATUS")
        if not self.may_read_answer(actor):
            raise Forbidden(
                f"the answer is {self.answer.classification.value}; only the parties may read it",
                code="NOT_A_PARTY",
            )
        return self.answer

    def may_read_access_log(self, actor: Actor) -> bool:
        """The data's owner (the holder) and supervisors see who read the answer."""
        return actor.agency_id == self.holder_id or actor.has_role("supervisor")


@dataclass(frozen=True)
class AnswerAccess:
    """One reading of an answer (who, for which agency, when)."""

    id: str
    query_id: str
    reader_id: str
    reader_agency_id: str | None
    classification: Classification
    at: datetime


def ask(
    *,
    query_id: str,
    requester_id: str,
    holder_id: str,
    subject: str,
    purpose: str,
    urgent: bool,
    answer_clock: Clock,
    actor: Actor,
    at: datetime,
) -> InformationQuery:
    """R-INF-01: an agency asks another for information; the answer clock starts."""
    require_agency(actor, requester_id, "an agency asks in its own name")
    require_other(requester_id, holder_id, "an agency does not query itself", "holderId")
    s = require_text(subject, "say what information is asked for", "subject")
    p = require_text(purpose, "say what the information is needed for", "purpose")
    return InformationQuery(
        id=query_id,
        requester_id=requester_id,
        holder_id=holder_id,
        subject=s,
        purpose=p,
        urgent=urgent,
        status=QueryStatus.ASKED,
        asked_at=at,
        clocks=(answer_clock,),
        history=InformationQuery._opened("ask", actor, at, QueryStatus.ASKED, s),
    )
