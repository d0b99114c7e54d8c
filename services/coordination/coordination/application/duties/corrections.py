"""Correction opinions (纠正意见, R-NTF-05): the command handlers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from coordination.adapters.duties import (
    CorrectionRepository,
)
from coordination.application import access
from coordination.application.actors import acting
from coordination.application.cooperation import DEPARTMENT_KINDS
from coordination.application.duties.base import (
    _DutyHandlers,
)
from coordination.contracts.duties import (
    CorrectionOpinionIssuedV1,
    CorrectionOpinionRespondedV1,
)
from coordination.domain import correction as cor
from coordination.domain.cooperation import Actor
from coordination.domain.model import AgencyKind
from coordination.policy import policy_of
from kernel.authz import Relation
from kernel.caller import Caller
from kernel.envelope import EventPayload
from kernel.errors import one_of

# ------------------------------------------------------------ R-NTF-05 correction opinions


@dataclass(frozen=True)
class IssueCorrectionOpinion:
    department_id: str
    township_id: str
    finding: str  # error | unlawful
    case_reference: str
    problems: str
    opinion: str
    document_number: str


@dataclass(frozen=True)
class RespondToCorrectionOpinion:
    opinion_id: str
    corrected: str
    document_number: str


class CorrectionHandlers(_DutyHandlers[cor.CorrectionOpinion]):
    read_operation = "correctionOpinion"
    noun = "correction opinion"
    subject_type = "CorrectionOpinion"

    def __init__(self, opinions: CorrectionRepository, *args: Any, **kw: Any) -> None:
        super().__init__(opinions, *args, **kw)
        self.opinions = opinions

    def _relations(self, actor: Actor, found: cor.CorrectionOpinion) -> set[Relation]:
        return access.relations_to(
            actor,
            sender=[found.department_id],
            receiver=[found.township_id],
            party=[found.justice_bureau_id],
        )

    def _fields(self, record: cor.CorrectionOpinion) -> dict[str, Any]:
        return dict(
            opinion_id=record.id,
            department_id=record.department_id,
            township_id=record.township_id,
            justice_bureau_id=record.justice_bureau_id,
        )

    async def issue(self, cmd: IssueCorrectionOpinion, caller: Caller) -> cor.CorrectionOpinion:
        """R-NTF-05: to the township, copied to the justice bureau; the reply clock starts."""
        actor = acting(caller)
        relations = access.relations_to(actor, sender=[cmd.department_id])
        access.authorize_on(actor, "issueCorrectionOpinion", relations, field="departmentId")
        finding = one_of(cor.Finding, cmd.finding, field="finding", what="finding")
        await self._external({"departmentId": cmd.department_id}, DEPARTMENT_KINDS)
        await self._external({"townshipId": cmd.township_id}, {AgencyKind.TOWNSHIP})
        justice = await self._one_of_kind(
            AgencyKind.JUSTICE_BUREAU, "justiceBureauId", "justice bureau (司法局, copied)"
        )
        now = self.clock()
        n = policy_of(self.policy).correction.response_limit_working_days
        clock = self._clock(
            cor.RESPONSE,
            cmd.township_id,
            self.calendar.add_working_days(
                now, n, rule=f"回复纠正意见及纠正情况：{n}个工作日（区政策；HL 三(二)）"
            ),
        )
        opinion = cor.issue_correction_opinion(
            opinion_id=str(uuid.uuid4()),
            department_id=cmd.department_id,
            township_id=cmd.township_id,
            justice_bureau_id=justice,
            finding=finding,
            case_reference=cmd.case_reference,
            problems=cmd.problems,
            opinion=cmd.opinion,
            document_number=cmd.document_number,
            response_working_days=n,
            response_clock=clock,
            actor=actor,
            at=now,
        )
        payload = CorrectionOpinionIssuedV1(
            **self._common(None, opinion, actor),
            document_number=opinion.document_number,
            finding=finding.value,
            case_reference=opinion.case_reference,
            problems=opinion.problems,
            opinion=opinion.opinion,
            issued_at=now,
            deadlines=self._deadlines_of(opinion, cor.RESPONSE),
        )
        return await self._added(opinion, payload, caller.correlation_id)

    async def respond(
        self, cmd: RespondToCorrectionOpinion, caller: Caller
    ) -> cor.CorrectionOpinion:
        def events(
            r: cor.CorrectionOpinion, common: dict[str, Any], at: datetime
        ) -> list[EventPayload]:
            assert r.response is not None
            return [
                CorrectionOpinionRespondedV1(
                    **common,
                    document_number=r.response.document_number,
                    opinion_document_number=r.document_number,
                    corrected=r.response.corrected,
                    late=r.response.late,
                    responded_at=at,
                    deadlines=self._deadlines_of(r, cor.RESPONSE),
                )
            ]

        return await self._recorded_step(
            cmd.opinion_id,
            "respondToCorrectionOpinion",
            caller,
            lambda r, actor, at: r.respond(
                corrected=cmd.corrected, document_number=cmd.document_number, actor=actor, at=at
            ),
            events,
        )
