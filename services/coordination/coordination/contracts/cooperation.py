"""Events of the cooperation duties (assistance 协助, technical support 技术支持, information
queries 信息查询), published by the coordination service. Kept beside ``published.py``,
which lists them in ``PUBLISHED``; joint enforcement's events extend ``CooperationEvent``."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from kernel.contracts.deadlines import DeadlineV1
from kernel.envelope import EventPayload

# ------------------------------------------------------------------ cooperation duties
# Every payload names the two agencies, the actor and the state before/after, so notify can
# file it in both inboxes and in the full-process record (R-SUP-01) without our aggregates.


class CooperationEvent(EventPayload):
    actor_id: str
    actor_agency_id: str | None = None
    state_before: str | None = None
    state_after: str | None = None
    deadlines: list[DeadlineV1] = Field(default_factory=list)


class PhoneCallV1(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    caller: str
    called: str
    at: datetime


class AssistanceRequestedV1(CooperationEvent):
    """R-AST-01: a request for assistance (协助执法函, or a phone call first in an emergency,
    then ``written_letter`` is among the clocks)."""

    event_type = "assistance.requested.v1"

    request_id: str
    requester_id: str
    helper_id: str
    matters: list[str]
    urgent: bool
    letter_number: str | None = None
    phone_call: PhoneCallV1 | None = None
    requested_at: datetime


class AssistanceLetterSentV1(CooperationEvent):
    """R-AST-01: the written letter that follows an emergency phone request."""

    event_type = "assistance.letter_sent.v1"

    request_id: str
    requester_id: str
    helper_id: str
    letter_number: str
    sent_at: datetime


class AssistanceRepliedV1(CooperationEvent):
    """R-AST-01: the reply letter (协助执法复函): help from ``agreed_start_on``, or refused."""

    event_type = "assistance.replied.v1"

    request_id: str
    requester_id: str
    helper_id: str
    will_help: bool
    reply_letter_number: str
    agreed_start_on: str | None = None
    """ISO date from which the helper helps (today for urgent requests)."""
    replied_at: datetime


class AssistanceRefusedV1(CooperationEvent):
    """R-AST-02 / FY (五)4: a refusal to cooperate, for accountability (notify lists these
    per agency for R-SUP-03)."""

    event_type = "assistance.refused.v1"

    request_id: str
    requester_id: str
    helper_id: str
    grounds: str
    legal_provision: str
    reply_letter_number: str
    refused_at: datetime


class AssistanceMediationRequestedV1(CooperationEvent):
    """R-AST-02: the requester disputes a refusal before the legal office."""

    event_type = "assistance.mediation_requested.v1"

    request_id: str
    requester_id: str
    helper_id: str
    mediator_agency_id: str
    disagreement: str
    requested_at: datetime


class AssistanceMediatedV1(CooperationEvent):
    """R-AST-02: the legal office's outcome: ``assist`` or ``refusal_upheld``."""

    event_type = "assistance.mediated.v1"

    request_id: str
    requester_id: str
    helper_id: str
    mediator_agency_id: str
    outcome: str
    basis: str
    decided_at: datetime


class AssistanceResultReportedV1(CooperationEvent):
    """Results both ways: ``side`` helper (协助执法情况) or requester (执法结果)."""

    event_type = "assistance.result_reported.v1"

    request_id: str
    requester_id: str
    helper_id: str
    side: str
    summary: str
    reported_at: datetime


class TechnicalSupportRequestedV1(CooperationEvent):
    """R-TEC-01: a township's cooperation document; the department's reply clock (and, when
    urgent or evidence is at risk, the on-site clock) starts."""

    event_type = "technical_support.requested.v1"

    request_id: str
    township_id: str
    department_id: str
    kind: str
    """identification (认定) | appraisal (鉴定) | consultation (咨询意见)"""
    question: str
    document_number: str
    urgent: bool
    evidence_at_risk: bool
    requested_at: datetime


class TechnicalSupportDispatchedV1(CooperationEvent):
    """R-TEC-01: staff sent on site (who, when)."""

    event_type = "technical_support.dispatched.v1"

    request_id: str
    township_id: str
    department_id: str
    staff: list[str]
    dispatched_at: datetime


class TechnicalSupportExtendedV1(CooperationEvent):
    """R-TEC-01: the limit extended, announced before it ran out; the reply clock moves."""

    event_type = "technical_support.extended.v1"

    request_id: str
    township_id: str
    department_id: str
    reason: str
    previous_due: datetime
    new_due: datetime
    total_working_days: int
    announced_at: datetime


class TechnicalSupportAnsweredV1(CooperationEvent):
    """R-TEC-02: the written answer with its conclusion."""

    event_type = "technical_support.answered.v1"

    request_id: str
    township_id: str
    department_id: str
    conclusion: str
    current_state_description: str = ""
    document_number: str
    late: bool
    answered_at: datetime


class InformationQueryAskedV1(CooperationEvent):
    """R-INF-01: an agency asks another for information; the answer clock starts."""

    event_type = "information_query.asked.v1"

    query_id: str
    requester_id: str
    holder_id: str
    subject: str
    urgent: bool
    asked_at: datetime


class InformationQueryAnsweredV1(CooperationEvent):
    """R-INF-01: answered free of charge. The content does not travel on the bus (it may be
    confidential); only its classification does."""

    event_type = "information_query.answered.v1"

    query_id: str
    requester_id: str
    holder_id: str
    classification: str
    late: bool
    answered_at: datetime


class InformationQueryDeclinedV1(CooperationEvent):
    """R-INF-01: not answered: ``grounds`` secrecy (with the cited law) or not_held."""

    event_type = "information_query.declined.v1"

    query_id: str
    requester_id: str
    holder_id: str
    grounds: str
    reason: str
    legal_provision: str = ""
    declined_at: datetime


class InformationAnswerAccessedV1(CooperationEvent):
    """R-INF-01: someone read an answer (who, for which agency, when)."""

    event_type = "information_query.answer_accessed.v1"

    access_id: str
    query_id: str
    holder_id: str
    classification: str
    reader_id: str
    reader_agency_id: str | None = None
    accessed_at: datetime
