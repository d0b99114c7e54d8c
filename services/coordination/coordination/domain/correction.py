"""Correction opinions (纠正意见, R-NTF-05; HL 三(二)).

A department that, within its remit, finds a township's enforcement wrong or unlawful
(发现乡镇街道执法错误或存在违法执法的) gives a correction opinion at once (及时提出纠正意见),
addressed to the township and copied to the justice bureau (抄送司法局). The township answers
within the policy's limit with what it corrected (no seed fixes the limit: a default).

Pure Python: no I/O. Clocks are computed by the application layer and handed in.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from coordination.domain.cooperation import (
    Actor,
    Clock,
    Transition,
    meet,
    require_agency,
    require_text,
)
from coordination.domain.errors import InvalidState

RESPONSE = "correction.response"


class Finding(StrEnum):
    ERROR = "error"  # 执法错误
    UNLAWFUL = "unlawful"  # 违法执法


class CorrectionStatus(StrEnum):
    ISSUED = "issued"
    RESPONDED = "responded"


@dataclass(frozen=True)
class CorrectionResponse:
    corrected: str
    document_number: str
    responded_by: str
    responded_at: datetime
    late: bool


@dataclass(frozen=True)
class CorrectionOpinion:
    id: str
    department_id: str
    township_id: str
    justice_bureau_id: str
    finding: Finding
    case_reference: str
    problems: str
    opinion: str
    document_number: str
    status: CorrectionStatus
    issued_at: datetime
    response_working_days: int
    response: CorrectionResponse | None = None
    clocks: tuple[Clock, ...] = ()
    history: tuple[Transition, ...] = ()
    version: int = 0

    @property
    def response_clock(self) -> Clock:
        return next(c for c in self.clocks if c.kind == RESPONSE)

    def respond(
        self, *, corrected: str, document_number: str, actor: Actor, at: datetime
    ) -> CorrectionOpinion:
        """The township's reply: what it corrected (整改情况); late when past the clock."""
        require_agency(actor, self.township_id, "the township addressed replies")
        if self.status is not CorrectionStatus.ISSUED:
            raise InvalidState(
                "the opinion was already answered", field="status", code="ALREADY_DONE"
            )
        text = require_text(corrected, "say what was corrected (纠正情况)", "corrected")
        number = require_text(
            document_number, "the reply is in writing: give its number (文号)", "documentNumber"
        )
        response = CorrectionResponse(
            text, number, actor.person_id, at, late=at > self.response_clock.due
        )
        return replace(
            self,
            status=CorrectionStatus.RESPONDED,
            response=response,
            clocks=meet(self.clocks, RESPONSE),
            history=(
                *self.history,
                Transition(
                    "respond",
                    actor.person_id,
                    actor.agency_id,
                    at,
                    self.status.value,
                    CorrectionStatus.RESPONDED.value,
                    number,
                ),
            ),
        )


def issue_correction_opinion(
    *,
    opinion_id: str,
    department_id: str,
    township_id: str,
    justice_bureau_id: str,
    finding: Finding,
    case_reference: str,
    problems: str,
    opinion: str,
    document_number: str,
    response_working_days: int,
    response_clock: Clock,
    actor: Actor,
    at: datetime,
) -> CorrectionOpinion:
    """R-NTF-05: the department's opinion starts the township's response clock."""
    require_agency(actor, department_id, "a department gives a correction opinion in its own name")
    return CorrectionOpinion(
        id=opinion_id,
        department_id=department_id,
        township_id=township_id,
        justice_bureau_id=justice_bureau_id,
        finding=finding,
        case_reference=require_text(
            case_reference, "name the enforcement act concerned (案件或执法行为)", "caseReference"
        ),
        problems=require_text(problems, "state what is wrong or unlawful", "problems"),
        opinion=require_text(opinion, "state the correction asked for (纠正意见)", "opinion"),
        document_number=require_text(
            document_number, "the opinion is in writing: give its number (文号)", "documentNumber"
        ),
        status=CorrectionStatus.ISSUED,
        issued_at=at,
        response_working_days=response_working_days,
        clocks=(response_clock,),
        history=(
            Transition(
                "issue",
                actor.person_id,
                actor.agency_id,
                at,
                None,
                CorrectionStatus.ISSUED.value,
                document_number.strip(),
            ),
        ),
    )
