"""Technical support (技术支撑: 认定 / 鉴定 / 咨询意见, R-TEC-01, R-TEC-02; FY (三)2, SL 三(五)).

A township sends a cooperation document (执法协作文书) to a department; the department answers
in writing within the district's limit. Urgent, or evidence at risk of being lost: the
department sends staff on site at once (及时派员现场处置). Complex: the department extends the
limit, announcing it before the limit runs out (需事先告知). The answer states a conclusion; a
description of the current state is not one (不应仅以现实状态描述替代认定结论意见).

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

REPLY = "technical_support.reply"
ON_SITE = "technical_support.on_site"


class SupportKind(StrEnum):
    IDENTIFICATION = "identification"  # 认定
    APPRAISAL = "appraisal"  # 鉴定
    CONSULTATION = "consultation"  # 咨询意见


class SupportStatus(StrEnum):
    REQUESTED = "requested"
    ANSWERED = "answered"


@dataclass(frozen=True)
class Dispatch:
    """Staff sent on site (派员现场处置): who, when."""

    staff: tuple[str, ...]
    dispatched_at: datetime
    recorded_by: str


@dataclass(frozen=True)
class Extension:
    """An announced extension of the reply limit (complex cases)."""

    reason: str
    announced_at: datetime
    previous_due: datetime
    new_due: datetime
    total_working_days: int


@dataclass(frozen=True)
class SupportAnswer:
    """The written answer (书面意见 / 鉴定结论): a conclusion is required (R-TEC-02)."""

    conclusion: str
    current_state_description: str
    document_number: str
    answered_by: str
    answered_at: datetime
    late: bool


@dataclass(frozen=True)
class TechnicalSupportRequest(RecordsTransitions):
    id: str
    township_id: str
    department_id: str
    kind: SupportKind
    question: str
    document_number: str
    urgent: bool
    evidence_at_risk: bool
    status: SupportStatus
    requested_at: datetime
    reply_working_days: int
    """Working days the department has (the district's limit, plus announced extensions)."""
    dispatches: tuple[Dispatch, ...] = ()
    extensions: tuple[Extension, ...] = ()
    answer: SupportAnswer | None = None
    clocks: tuple[Clock, ...] = ()
    history: tuple[Transition, ...] = ()
    version: int = 0

    @property
    def reply_clock(self) -> Clock:
        return next(c for c in self.clocks if c.kind == REPLY)

    def _require_open(self, action: str) -> None:
        if self.status is not SupportStatus.REQUESTED:
            raise InvalidState(
                f"cannot {action}: the request was already answered",
                field="status",
                code="ALREADY_DONE",
            )

    def dispatch_on_site(
        self, staff: tuple[str, ...], *, actor: Actor, at: datetime
    ) -> TechnicalSupportRequest:
        """R-TEC-01: urgent or evidence at risk → staff on site at once; record who and when."""
        require_agency(actor, self.department_id, "the requested department sends its staff")
        self._require_open("dispatch staff")
        names = tuple(n.strip() for n in staff if n.strip())
        if not names:
            raise ValidationFailed("name the staff sent on site", field="staff", code="REQUIRED")
        return replace(
            self,
            dispatches=(*self.dispatches, Dispatch(names, at, actor.person_id)),
            clocks=meet(self.clocks, ON_SITE),
            history=self._record("dispatch_on_site", actor, at, self.status, "、".join(names)),
        )

    def extend(
        self,
        *,
        reason: str,
        new_clock: Clock,
        total_working_days: int,
        max_working_days: int | None,
        extendable: bool,
        actor: Actor,
        at: datetime,
    ) -> TechnicalSupportRequest:
        """R-TEC-01: a complex case — the department extends the limit, announcing it before
        the limit runs out and never past the district's maximum."""
        require_agency(actor, self.department_id, "the requested department extends its limit")
        self._require_open("extend")
        if not extendable:
            raise InvalidState(
                "the district's policy allows no extension",
                field="workingDays",
                code="DISTRICT_NOT_SET_UP",
            )
        text = require_text(reason, "say why the case needs longer (情况复杂 / 鉴定周期)", "reason")
        current = self.reply_clock
        if at > current.due:
            raise InvalidState(
                "an extension is announced before the limit runs out (需事先告知); the limit "
                f"ran out at {current.due.isoformat()}",
                field="workingDays",
                code="DEADLINE_PASSED",
            )
        if total_working_days <= self.reply_working_days:
            raise ValidationFailed(
                f"the limit is already {self.reply_working_days} working days; an extension "
                "must add at least one",
                field="workingDays",
                code="OUT_OF_RANGE",
            )
        if max_working_days is not None and total_working_days > max_working_days:
            raise ValidationFailed(
                f"the district allows at most {max_working_days} working days in all; "
                f"{total_working_days} asked",
                field="workingDays",
                code="OUT_OF_RANGE",
            )
        ext = Extension(text, at, current.due, new_clock.due, total_working_days)
        return replace(
            self,
            reply_working_days=total_working_days,
            extensions=(*self.extensions, ext),
            clocks=put_clock(self.clocks, new_clock),
            history=self._record(
                "extend", actor, at, self.status, f"延长至{total_working_days}个工作日：{text}"
            ),
        )

    def answer_in_writing(
        self,
        *,
        conclusion: str,
        current_state_description: str,
        document_number: str,
        actor: Actor,
        at: datetime,
    ) -> TechnicalSupportRequest:
        """R-TEC-02: the written answer states a conclusion; the current state alone is not one."""
        require_agency(actor, self.department_id, "the requested department answers")
        self._require_open("answer")
        if not conclusion.strip():
            message = (
                "a description of the current state is not a conclusion (R-TEC-02): state the "
                "认定 / 鉴定 / 咨询 conclusion"
                if current_state_description.strip()
                else "the answer states a conclusion (R-TEC-02)"
            )
            raise ValidationFailed(message, field="answer.conclusion")
        number = require_text(
            document_number,
            "the answer is in writing: give its number (文号)",
            "answer.documentNumber",
        )
        answer = SupportAnswer(
            conclusion=conclusion.strip(),
            current_state_description=current_state_description.strip(),
            document_number=number,
            answered_by=actor.person_id,
            answered_at=at,
            late=at > self.reply_clock.due,
        )
        return replace(
            self,
            status=SupportStatus.ANSWERED,
            answer=answer,
            clocks=meet(self.clocks, REPLY),
            history=self._record("answer", actor, at, SupportStatus.ANSWERED, number),
        )


def request_technical_support(
    *,
    request_id: str,
    township_id: str,
    department_id: str,
    kind: SupportKind,
    question: str,
    document_number: str,
    urgent: bool,
    evidence_at_risk: bool,
    reply_working_days: int,
    reply_clock: Clock,
    on_site_clock: Clock | None,
    actor: Actor,
    at: datetime,
) -> TechnicalSupportRequest:
    """R-TEC-01: the township's cooperation document starts the department's reply clock
    (and, when urgent or evidence is at risk, an on-site clock that runs out at once)."""
    require_agency(actor, township_id, "a township asks for technical support in its own name")
    q = require_text(question, "state what is to be identified or appraised", "question")
    number = require_text(
        document_number,
        "the request is a cooperation document: give its number (文号)",
        "documentNumber",
    )
    clocks: tuple[Clock, ...] = (reply_clock,)
    if on_site_clock is not None and (urgent or evidence_at_risk):
        clocks = put_clock(clocks, on_site_clock)
    return TechnicalSupportRequest(
        id=request_id,
        township_id=township_id,
        department_id=department_id,
        kind=kind,
        question=q,
        document_number=number,
        urgent=urgent,
        evidence_at_risk=evidence_at_risk,
        status=SupportStatus.REQUESTED,
        requested_at=at,
        reply_working_days=reply_working_days,
        clocks=clocks,
        history=TechnicalSupportRequest._opened(
            "request", actor, at, SupportStatus.REQUESTED, number
        ),
    )
