"""Assistance between agencies (协助执法, R-AST-01, R-AST-02; CQ 三(三), FY (五)4).

The requester (提请机关) sends a request letter (协助执法函) naming the matters; in an emergency
it may ask by phone first and send the letter afterwards. The helper (协助机关) answers with a
reply letter (协助执法复函): it helps at once when the request is urgent, otherwise from the
agreed date; it may refuse only on legal grounds (法定事由), in writing. A requester that
disagrees sends the refusal to the legal office (政府法制机构) for mediation (调处). Both sides
report results (协助执法情况 / 执法结果). Every refusal stays on record for accountability,
whatever the mediation decides.

Pure Python: no I/O. Clocks are computed by the application layer and handed in.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from coordination.domain.cooperation import (
    Actor,
    Clock,
    RecordsTransitions,
    Transition,
    meet,
    put_clock,
    require_agency,
    require_other,
    require_text,
)
from coordination.domain.errors import Forbidden, InvalidState, ValidationFailed

REPLY = "assistance.reply"
WRITTEN_LETTER = "assistance.written_letter"
MEDIATION = "assistance.mediation"  # the legal office's 调处 (a policy default limit)


class AssistanceStatus(StrEnum):
    REQUESTED = "requested"  # awaiting the reply letter
    ACCEPTED = "accepted"  # the helper helps (from the agreed date)
    REFUSED = "refused"  # refused on legal grounds
    IN_MEDIATION = "in_mediation"  # the requester disagreed; the legal office mediates
    CLOSED = "closed"  # refusal upheld by mediation, or both results reported


class MediationOutcome(StrEnum):
    ASSIST = "assist"  # the helper must help
    REFUSAL_UPHELD = "refusal_upheld"  # the legal grounds stand


@dataclass(frozen=True)
class PhoneCall:
    """An emergency request made by phone before the letter (电话提请)."""

    caller: str  # who called, for the requester
    called: str  # who took the call at the helper
    at: datetime


@dataclass(frozen=True)
class Refusal:
    """A refusal to cooperate, kept for accountability (FY (五)4) even if mediation overturns it."""

    grounds: str
    legal_provision: str
    letter_number: str
    refused_by: str  # person
    at: datetime


@dataclass(frozen=True)
class Mediation:
    mediator_agency_id: str
    disagreement: str
    requested_at: datetime
    outcome: MediationOutcome | None = None
    basis: str = ""
    decided_at: datetime | None = None


@dataclass(frozen=True)
class ResultReport:
    side: str  # helper (协助执法情况) | requester (执法结果)
    summary: str
    reported_by: str
    at: datetime


@dataclass(frozen=True)
class AssistanceRequest(RecordsTransitions):
    id: str
    requester_id: str
    helper_id: str
    matters: tuple[str, ...]
    urgent: bool
    status: AssistanceStatus
    requested_at: datetime
    letter_number: str | None  # None while only the phone call exists
    letter_sent_at: datetime | None
    phone_call: PhoneCall | None = None
    reply_letter_number: str | None = None
    replied_at: datetime | None = None
    agreed_start_on: date | None = None
    refusal: Refusal | None = None
    mediation: Mediation | None = None
    results: tuple[ResultReport, ...] = ()
    clocks: tuple[Clock, ...] = ()
    history: tuple[Transition, ...] = ()
    version: int = 0

    def send_letter(self, letter_number: str, *, actor: Actor, at: datetime) -> AssistanceRequest:
        """R-AST-01: the written letter that follows an emergency phone request."""
        require_agency(actor, self.requester_id, "the requester sends the request letter")
        if self.letter_number is not None:
            raise InvalidState(
                "the request letter was already sent", field="letterNumber", code="ALREADY_DONE"
            )
        number = require_text(letter_number, "give the letter's number (文号)", "letterNumber")
        return replace(
            self,
            letter_number=number,
            letter_sent_at=at,
            clocks=meet(self.clocks, WRITTEN_LETTER),
            history=self._record("send_letter", actor, at, self.status, number),
        )

    def reply(
        self,
        *,
        will_help: bool,
        reply_letter_number: str,
        agreed_start_on: date | None,
        today: date,
        grounds: str,
        legal_provision: str,
        actor: Actor,
        at: datetime,
    ) -> AssistanceRequest:
        """R-AST-01 / R-AST-02: the helper's reply letter (复函): help (at once when urgent,
        otherwise from the agreed date), or refuse on cited legal grounds."""
        require_agency(actor, self.helper_id, "only the requested agency replies")
        if self.status is not AssistanceStatus.REQUESTED:
            raise InvalidState(
                f"the request is {self.status.value}; it was already answered",
                field="status",
                code="ALREADY_DONE",
            )
        number = require_text(
            reply_letter_number,
            "the reply is a letter (协助执法复函): give its number (文号)",
            "replyLetterNumber",
        )
        if will_help:
            if self.urgent:
                # Urgent: help at once (CQ: 应当立即实施协助执法) — no later start may be agreed.
                if agreed_start_on is not None and agreed_start_on > today:
                    raise ValidationFailed(
                        "an urgent request is helped at once; the start cannot be later than "
                        f"today ({today.isoformat()})",
                        field="agreedStartOn",
                        code="IN_THE_FUTURE",
                    )
                start = today
            else:
                if agreed_start_on is None:
                    raise ValidationFailed(
                        "state the date from which the assistance starts",
                        field="agreedStartOn",
                        code="REQUIRED",
                    )
                if agreed_start_on < today:
                    raise ValidationFailed(
                        "the agreed start cannot lie in the past",
                        field="agreedStartOn",
                        code="IN_THE_PAST",
                    )
                start = agreed_start_on
            return replace(
                self,
                status=AssistanceStatus.ACCEPTED,
                reply_letter_number=number,
                replied_at=at,
                agreed_start_on=start,
                clocks=meet(self.clocks, REPLY),
                history=self._record(
                    "reply", actor, at, AssistanceStatus.ACCEPTED, f"{number}; 自{start}起协助"
                ),
            )
        # R-AST-02: refuse only on legal grounds (法定事由), in writing.
        reason = require_text(
            grounds, "a refusal states its legal grounds (法定事由)", "refusalGrounds"
        )
        provision = require_text(
            legal_provision,
            "a refusal cites the legal provision it rests on (法律依据)",
            "legalProvision",
        )
        if agreed_start_on is not None:
            raise ValidationFailed("a refusal agrees no start date", field="agreedStartOn")
        refusal = Refusal(reason, provision, number, actor.person_id, at)
        return replace(
            self,
            status=AssistanceStatus.REFUSED,
            reply_letter_number=number,
            replied_at=at,
            refusal=refusal,
            clocks=meet(self.clocks, REPLY),
            history=self._record("refuse", actor, at, AssistanceStatus.REFUSED, reason),
        )

    def refer_to_mediation(
        self,
        *,
        mediator_agency_id: str,
        disagreement: str,
        mediation_clock: Clock,
        actor: Actor,
        at: datetime,
    ) -> AssistanceRequest:
        """R-AST-02: a requester that disagrees with the refusal goes to the legal office,
        which owns the request until it records the outcome, on ``mediation_clock``."""
        require_agency(actor, self.requester_id, "the requester asks for mediation")
        if self.status is not AssistanceStatus.REFUSED:
            raise InvalidState(
                "only a refusal can be sent to mediation", field="status", code="WRONG_STATUS"
            )
        text = require_text(disagreement, "say why the refusal is disputed", "disagreement")
        return replace(
            self,
            status=AssistanceStatus.IN_MEDIATION,
            mediation=Mediation(mediator_agency_id, text, at),
            clocks=put_clock(self.clocks, mediation_clock),
            history=self._record("refer_to_mediation", actor, at, AssistanceStatus.IN_MEDIATION),
        )

    def record_mediation(
        self,
        *,
        outcome: MediationOutcome,
        basis: str,
        today: date,
        actor: Actor,
        at: datetime,
    ) -> AssistanceRequest:
        """The legal office's outcome (调处结果): the helper must help, or the refusal stands."""
        if self.status is not AssistanceStatus.IN_MEDIATION or self.mediation is None:
            raise InvalidState(
                "the request is not in mediation", field="status", code="WRONG_STATUS"
            )
        if not (
            actor.agency_id == self.mediation.mediator_agency_id
            or actor.has_role("coordinator")
            or actor.has_role("government")
        ):
            raise Forbidden(
                "the legal office that mediates records the outcome", code="NOT_A_PARTY"
            )
        text = require_text(basis, "cite the mediation record (调处意见 / 文号)", "basis")
        mediation = replace(self.mediation, outcome=outcome, basis=text, decided_at=at)
        after = (
            AssistanceStatus.ACCEPTED
            if outcome is MediationOutcome.ASSIST
            else AssistanceStatus.CLOSED
        )
        return replace(
            self,
            status=after,
            mediation=mediation,
            agreed_start_on=today if outcome is MediationOutcome.ASSIST else None,
            clocks=meet(self.clocks, MEDIATION),
            history=self._record("mediate", actor, at, after, f"{outcome.value}: {text}"),
        )

    def report_result(self, summary: str, *, actor: Actor, at: datetime) -> AssistanceRequest:
        """Results both ways (CQ): the helper reports how it helped, the requester the
        enforcement result; the request closes when both have reported."""
        if self.status is not AssistanceStatus.ACCEPTED:
            raise InvalidState(
                "results are reported on assistance that goes ahead",
                field="status",
                code="WRONG_STATUS",
            )
        if actor.agency_id == self.helper_id:
            side = "helper"
        elif actor.agency_id == self.requester_id:
            side = "requester"
        else:
            raise Forbidden(
                "results are reported by the requester or the helper", code="NOT_A_PARTY"
            )
        if any(r.side == side for r in self.results):
            raise InvalidState(
                f"the {side} has already reported", field="summary", code="ALREADY_DONE"
            )
        text = require_text(summary, "describe the result", "summary")
        results = (*self.results, ResultReport(side, text, actor.person_id, at))
        after = (
            AssistanceStatus.CLOSED
            if {r.side for r in results} == {"helper", "requester"}
            else self.status
        )
        return replace(
            self,
            status=after,
            results=results,
            history=self._record(f"report_{side}_result", actor, at, after, text),
        )


def request_assistance(
    *,
    request_id: str,
    requester_id: str,
    helper_id: str,
    matters: tuple[str, ...],
    urgent: bool,
    letter_number: str | None,
    phone_call: PhoneCall | None,
    reply_clock: Clock,
    letter_clock: Clock | None,
    actor: Actor,
    at: datetime,
) -> AssistanceRequest:
    """R-AST-01: a request letter naming the matters — or, in an emergency, a phone call
    first, with the letter due later (``letter_clock``)."""
    require_agency(actor, requester_id, "an agency asks for assistance in its own name")
    require_other(requester_id, helper_id, "an agency cannot ask itself for assistance", "helperId")
    named = tuple(dict.fromkeys(m.strip() for m in matters if m.strip()))
    if not named:
        raise ValidationFailed(
            "name the matters the assistance is for", field="matters", code="REQUIRED"
        )
    number = (letter_number or "").strip() or None
    if phone_call is None:
        if number is None:
            raise ValidationFailed(
                "the request is a letter (协助执法函): give its number (文号)",
                field="letterNumber",
                code="REQUIRED",
            )
    else:
        if not urgent:
            raise ValidationFailed(
                "only an emergency may be asked by phone first; send the letter",
                field="phoneCall",
                code="REQUIRED",
            )
        require_text(phone_call.caller, "who made the call", "phoneCall.caller")
        require_text(phone_call.called, "who took the call", "phoneCall.called")
        if phone_call.at > at:
            raise ValidationFailed(
                "the call cannot lie in the future", field="phoneCall.at", code="IN_THE_FUTURE"
            )
    clocks: tuple[Clock, ...] = (reply_clock,)
    if number is None and letter_clock is not None:
        clocks = put_clock(clocks, letter_clock)
    note = "；".join(named) + ("（电话提请）" if number is None else f"（{number}）")
    return AssistanceRequest(
        id=request_id,
        requester_id=requester_id,
        helper_id=helper_id,
        matters=named,
        urgent=urgent,
        status=AssistanceStatus.REQUESTED,
        requested_at=phone_call.at if phone_call else at,
        letter_number=number,
        letter_sent_at=at if number else None,
        phone_call=phone_call,
        clocks=clocks,
        history=AssistanceRequest._opened("request", actor, at, AssistanceStatus.REQUESTED, note),
    )
