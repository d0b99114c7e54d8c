"""The crime route after the transfer (R-REF-10, R-REF-14; Decree 310 第八条, 第九条,
第十一条, 第十二条): the police decision, the reconsideration and the procuratorate's
supervision, accepting 不立案, the hand-over after 立案, and a fine already paid. Pure Python;
import these from ``referral.domain.model.crime``."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from kernel.errors import InvalidState, ValidationFailed
from referral.domain.model.aggregate import Referral, Status
from referral.domain.model.crime_steps import (
    ClockFor,
    _crime,
    _require_agency,
    _require_police,
    _step,
    _text,
)
from referral.domain.model.values import (
    CRIME_CLOCKS,
    Actor,
    AgencyRef,
    CrimeStage,
    CrimeTransfer,
    FinePaid,
    Route,
)

# -- the police decision (第八条) and the reconsideration (第九条) -----------------------


def _decided(
    r: Referral,
    crime: CrimeTransfer,
    actor: Actor,
    at: datetime,
    *,
    filed: bool,
    note: str,
    reasons: str,
    action: str,
    handover_clock: ClockFor,
    not_filed_stage: CrimeStage,
    not_filed_clock: ClockFor,
) -> Referral:
    if filed:
        clock = handover_clock(CrimeStage.FILED, at, crime.agency_id)
        return _step(
            r,
            replace(crime, stage=CrimeStage.FILED),
            f"{action}_filed",
            actor,
            at,
            Status.CRIME_PENDING,
            note,
            clock,
        )
    clock = not_filed_clock(not_filed_stage, at, crime.agency_id)
    return _step(
        r,
        replace(crime, stage=not_filed_stage),
        f"{action}_not_filed",
        actor,
        at,
        Status.CRIME_PENDING,
        f"{note}：{reasons}",
        clock,
    )


def _decision_texts(filed: bool, note: str, reasons: str) -> tuple[str, str]:
    n = _text(note, "quote the written decision (立案决定书 / 不予立案通知书)", "note")
    why = reasons.strip()
    if not filed and not why:
        raise ValidationFailed(
            "a decision not to file a case states its reasons (说明理由, Decree 310 第八条)",
            field="reasons",
            code="REQUIRED",
        )
    return n, why


def record_police_decision(
    r: Referral,
    actor: Actor,
    at: datetime,
    *,
    filed: bool,
    note: str,
    reasons: str,
    handover_clock: ClockFor,
    reconsideration_clock: ClockFor,
) -> Referral:
    """The police decide 立案 / 不立案 in writing (不立案 with reasons). 立案: the agency's
    3-day hand-over clock starts. 不立案: the agency's 3-day reconsideration window starts.
    After the procuratorate was asked to supervise, the police record their decision again
    (立案 on its notice, or 不立案 upheld)."""
    crime = _crime(r, "record the police decision", CrimeStage.TRANSFERRED, CrimeStage.SUPERVISION)
    _require_police(crime, actor)
    n, why = _decision_texts(filed, note, reasons)
    decided = replace(
        crime,
        decision="filed" if filed else "not_filed",
        decision_note=n,
        decision_reasons=why,
        decided_at=at,
    )
    if not filed and crime.stage is CrimeStage.SUPERVISION:
        # The procuratorate was already asked: nothing is left but to accept it (or wait
        # for the procuratorate's notice); the agency decides, and its outcome clock keeps
        # running (no new window, and not met: the supervision has not ended).
        moved = r._recorded("police_not_filed", actor, at, f"{n}：{why}")
        return replace(moved, crime=replace(decided, stage=CrimeStage.SUPERVISION))
    return _decided(
        r,
        decided,
        actor,
        at,
        filed=filed,
        note=n,
        reasons=why,
        action="police",
        handover_clock=handover_clock,
        not_filed_stage=CrimeStage.NOT_FILED,
        not_filed_clock=reconsideration_clock,
    )


def request_reconsideration(
    r: Referral, actor: Actor, at: datetime, *, reason: str, answer_clock: ClockFor
) -> Referral:
    """提请复议 within 3 days of the 不立案 notice; the police's 3-day answer clock starts."""
    crime = _crime(r, "ask for reconsideration", CrimeStage.NOT_FILED)
    _require_agency(crime, actor, "ask for reconsideration")
    why = _text(reason, "state why the case should be filed (复议理由)", "reason")
    asked = replace(
        crime,
        stage=CrimeStage.RECONSIDERATION,
        reconsideration_requested_at=at,
        reconsideration_reason=why,
    )
    clock = answer_clock(CrimeStage.RECONSIDERATION, at, crime.police_id)
    return _step(r, asked, "request_reconsideration", actor, at, Status.CRIME_PENDING, why, clock)


def answer_reconsideration(
    r: Referral,
    actor: Actor,
    at: datetime,
    *,
    filed: bool,
    note: str,
    reasons: str,
    handover_clock: ClockFor,
    supervision_clock: ClockFor,
) -> Referral:
    """The police's reconsideration decision, in writing: 立案 (the hand-over clock starts) or
    不立案 upheld (the agency's 3-day window to ask the procuratorate starts)."""
    crime = _crime(r, "answer the reconsideration", CrimeStage.RECONSIDERATION)
    _require_police(crime, actor)
    n, why = _decision_texts(filed, note, reasons)
    answered = replace(
        crime,
        reconsideration_decision="filed" if filed else "not_filed",
        reconsideration_note=f"{n}：{why}" if why else n,
        reconsideration_answered_at=at,
        decision="filed" if filed else crime.decision,
        decided_at=at if filed else crime.decided_at,
    )
    return _decided(
        r,
        answered,
        actor,
        at,
        filed=filed,
        note=n,
        reasons=why,
        action="reconsideration",
        handover_clock=handover_clock,
        not_filed_stage=CrimeStage.UPHELD,
        not_filed_clock=supervision_clock,
    )


def request_supervision(
    r: Referral,
    actor: Actor,
    at: datetime,
    *,
    procuratorate: AgencyRef | None,
    procuratorate_id: str,
    reason: str,
    outcome_clock: ClockFor,
) -> Referral:
    """建议人民检察院依法进行立案监督: after the 不立案 notice or the upheld reconsideration.
    The procuratorate is told (an inbox notice); it reads the case and changes nothing here.
    The transferring agency owns the case meanwhile: its outcome clock (a policy default,
    no law gives one) runs until the police file the case on the procuratorate's notice or
    the agency takes 不立案 as final (issue 14: no case without a running clock)."""
    crime = _crime(r, "ask the procuratorate to supervise", CrimeStage.NOT_FILED, CrimeStage.UPHELD)
    _require_agency(crime, actor, "ask the procuratorate to supervise")
    if procuratorate is None or procuratorate.kind != "procuratorate":
        raise ValidationFailed(
            f"{procuratorate_id!r} is not a procuratorate (人民检察院)",
            field="procuratorateId",
            code="WRONG_AGENCY_KIND",
        )
    why = _text(reason, "state why the case should be filed (立案监督理由)", "reason")
    asked = replace(
        crime,
        stage=CrimeStage.SUPERVISION,
        procuratorate_id=procuratorate.id,
        supervision_requested_at=at,
        supervision_reason=why,
    )
    clock = outcome_clock(CrimeStage.SUPERVISION, at, crime.agency_id)
    return _step(r, asked, "request_supervision", actor, at, Status.CRIME_PENDING, why, clock)


def accept_not_filed(
    r: Referral, actor: Actor, at: datetime, *, note: str, report_clock: ClockFor
) -> Referral:
    """The agency takes 不立案 as final (no reconsideration, or after it or the supervision):
    the administrative case reopens with a new clock (R-REF-10; Decree 310 第十条). A
    referral drafted to the police returns to its sender, which handles the case."""
    crime = _crime(
        r,
        "reopen the administrative case",
        CrimeStage.NOT_FILED,
        CrimeStage.UPHELD,
        CrimeStage.SUPERVISION,
    )
    _require_agency(crime, actor, "reopen the administrative case")
    text = _text(note, "state how the case goes on (依法作出处理)", "note")
    ended = replace(crime, stage=CrimeStage.CLOSED_NOT_FILED, closed_at=at)
    moved = r
    if r.route is Route.CRIME:
        moved = replace(
            r,
            receiver_id=r.sender_id,
            previous_receivers=(*r.previous_receivers, r.receiver_id),
        )
    clock = report_clock(CrimeStage.CLOSED_NOT_FILED, at, crime.agency_id)
    return _step(moved, ended, "reopen_after_not_filed", actor, at, Status.ACCEPTED, text, clock)


# -- after 立案: the hand-over (第十二条) ------------------------------------------------


def record_handover(r: Referral, actor: Actor, at: datetime, *, note: str) -> Referral:
    """The seized goods and materials are handed over (办结交接手续): the crime route ends
    with the police, and so does the administrative file."""
    crime = _crime(r, "hand over the materials", CrimeStage.FILED)
    _require_agency(crime, actor, "hand over the materials")
    text = _text(note, "list what was handed over (涉案物品及有关材料)", "note")
    done = replace(crime, stage=CrimeStage.HANDED_OVER, handed_over_at=at, handover_note=text)
    done = replace(done, closed_at=at)
    return _step(r, done, "hand_over_materials", actor, at, Status.CLOSED, text)


# -- penalties already given (第十一条) --------------------------------------------------


def record_fine_paid(
    r: Referral,
    actor: Actor,
    at: datetime,
    *,
    decision_number: str,
    amount_yuan: int,
    paid_at: datetime,
    receipt: str,
) -> Referral:
    """A fine given before the transfer and paid: the penalty stands (不停止执行) and the
    amount counts against a later criminal fine (依法折抵相应罚金)."""
    if r.crime is None or r.crime.stage in (CrimeStage.REFUSED, CrimeStage.CLOSED_NOT_FILED):
        raise InvalidState(
            "no crime transfer of this case is under way", field="status", code="WRONG_STATUS"
        )
    crime = r.crime
    _require_agency(crime, actor, "record the fine paid")
    number = _text(decision_number, "the penalty decision number is missing", "decisionNumber")
    if amount_yuan <= 0:
        raise ValidationFailed(
            "the amount paid must be positive", field="amountYuan", code="OUT_OF_RANGE"
        )
    if paid_at > at:
        raise ValidationFailed(
            "the payment date lies in the future", field="paidAt", code="IN_THE_FUTURE"
        )
    if r.penalty is not None and r.penalty.decision_number == number:
        fine = r.penalty.fine_yuan or 0
        if amount_yuan > fine:
            raise ValidationFailed(
                f"the decision {number} fined {fine} yuan; {amount_yuan} cannot have been paid",
                field="amountYuan",
                code="PAID_MORE_THAN_FINED",
            )
    paid = FinePaid(number, amount_yuan, paid_at, receipt.strip(), actor.person_id, at)
    standing = crime.penalties_standing
    if number not in standing:
        standing = (*standing, number)
    moved = r._recorded("record_fine_paid", actor, at, f"{number}：{amount_yuan}元")
    return replace(moved, crime=replace(crime, fine_paid=paid, penalties_standing=standing))


#: Every crime clock kind, for the application and the tests.
ALL_CLOCKS = CRIME_CLOCKS
