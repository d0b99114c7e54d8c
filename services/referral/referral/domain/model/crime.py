"""The crime route (两法衔接, R-REF-10, R-REF-14): a suspected crime goes to public security
as State Council Decree 310 (《行政执法机关移送涉嫌犯罪案件的规定》) says. Pure Python.

Any agency can follow it, in one of two ways:

* **a case it handles** (an accepted referral): its staff report the suspected crime in
  writing (书面报告, :func:`report_suspected_crime`); the head approves or refuses within 3
  days (:func:`decide_transfer`); an approved transfer reaches the police within 24 hours
  (:func:`transfer_to_police`; a leader may decide and transfer in one act);
* **a referral drafted straight to the police** (route ``crime``): submitting it is the
  written report, approving it the head's decision, sending it the transfer
  (:func:`follow_direct_transfer` keeps the crime record and the clocks of those steps).

Then the police decide 立案 / 不立案 within 3 days, in writing, with reasons for 不立案
(:func:`record_police_decision`); the agency may ask for reconsideration within 3 days
(:func:`request_reconsideration`), answered within 3 days (:func:`answer_reconsideration`),
and may ask the procuratorate to supervise (:func:`request_supervision`; within 3 days of
the reconsideration decision). 立案: the materials are handed over within 3 days
(:func:`record_handover`). 不立案 that the agency accepts (:func:`accept_not_filed`) reopens
the administrative case with a new clock (R-REF-10). Penalties given before the transfer
stand, and a fine already paid is recorded to count against a later criminal fine
(:func:`record_fine_paid`). Each running stage keeps one clock (``CRIME_CLOCK_OF``).

The clocks are computed by the application (policy ``crime_transfer`` and the calendar) and
handed in; who may act by role is the authorization matrix's rule, which party acts is
checked here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from kernel.errors import Forbidden, InvalidState, ValidationFailed
from referral.domain.model.aggregate import Referral, Status
from referral.domain.model.values import (
    CRIME_CLOCK_OF,
    CRIME_CLOCKS,
    Actor,
    AgencyRef,
    CrimeStage,
    CrimeTransfer,
    DeadlineInfo,
    FinePaid,
    Route,
)

__all__ = [
    "ENDED",
    "ClockFor",
    "accept_not_filed",
    "answer_reconsideration",
    "decide_transfer",
    "follow_direct_transfer",
    "record_fine_paid",
    "record_handover",
    "record_police_decision",
    "report_suspected_crime",
    "request_reconsideration",
    "request_supervision",
    "transfer_to_police",
]

#: Stages after which nothing more happens on the crime route.
ENDED = (CrimeStage.REFUSED, CrimeStage.HANDED_OVER, CrimeStage.CLOSED_NOT_FILED)

#: The application's clock for a stage: (stage, start, responsible agency) → the clock.
ClockFor = Callable[[CrimeStage, datetime, str], DeadlineInfo]


def _police(police: AgencyRef | None, police_id: str) -> AgencyRef:
    if police is None or police.kind != "public_security":
        raise ValidationFailed(f"{police_id!r} is not a public security agency", field="policeId")
    return police


def _text(value: str, what: str, field: str) -> str:
    if not value.strip():
        raise ValidationFailed(what, field=field)
    return value.strip()


def _crime(r: Referral, action: str, *stages: CrimeStage) -> CrimeTransfer:
    if r.crime is None or r.crime.stage not in stages:
        now = r.crime.stage.value if r.crime is not None else "no crime transfer"
        names = ", ".join(s.value for s in stages)
        raise InvalidState(
            f"cannot {action}: the crime transfer is {now}; it must be {names} (R-REF-14)",
            field="status",
            code="WRONG_STATUS",
        )
    return r.crime


def _agency_of(r: Referral) -> str:
    """The agency that transfers: the sender of a referral drafted to the police, otherwise
    the receiver handling the case."""
    return r.sender_id if r.route is Route.CRIME else r.receiver_id


def _require_agency(crime: CrimeTransfer, actor: Actor, action: str) -> None:
    if actor.agency_id != crime.agency_id:
        raise Forbidden(f"only the agency that transferred the case may {action} (R-REF-14)")


def _require_police(crime: CrimeTransfer, actor: Actor) -> None:
    if actor.agency_id != crime.police_id:
        raise Forbidden("only the public security agency it went to records its decision")


def _require_leader(actor: Actor, action: str) -> None:
    if "leader" not in actor.roles:
        raise Forbidden(
            f"only the agency head (正职负责人或者主持工作的负责人) may {action} "
            "(Decree 310 第五条, R-REF-14)",
            code="LEADER_REQUIRED",
        )


def _step(
    r: Referral,
    crime: CrimeTransfer,
    action: str,
    actor: Actor,
    at: datetime,
    to: Status,
    note: str,
    clock: DeadlineInfo | None = None,
) -> Referral:
    """Record the act, meet the stage's clock that was running, start the next stage's."""
    moved = r._moved(action, actor, at, to, note)
    was = r.crime.stage if r.crime is not None else None
    running = CRIME_CLOCK_OF.get(was) if was is not None else None
    if running is not None:
        moved = moved._stop_clocks("met", running)
    if clock is not None:
        moved = moved._start_clock(clock)
    return replace(moved, crime=crime)


def _standing(r: Referral) -> tuple[str, ...]:
    return (r.penalty.decision_number,) if r.penalty is not None else ()


# -- the agency's written report and its head's decision (第五条) -----------------------


def report_suspected_crime(
    r: Referral,
    actor: Actor,
    at: datetime,
    *,
    police: AgencyRef | None,
    police_id: str,
    reason: str,
    head_clock: ClockFor,
) -> Referral:
    """The staff's written report (书面报告) to the head: the case is held while the head
    decides (no penalty replaces the transfer, 不得以罚代刑); the head's 3-day clock starts."""
    r._require("report a suspected crime on", Status.ACCEPTED)
    if r.crime is not None and r.crime.stage not in ENDED:
        raise InvalidState(
            "a crime transfer of this case is already under way",
            field="status",
            code="ALREADY_DONE",
        )
    police = _police(police, police_id)
    why = _text(reason, "state the suspected crime", "reason")
    agency = _agency_of(r)
    crime = CrimeTransfer(
        police.id,
        why,
        None,
        actor.person_id,
        stage=CrimeStage.REPORTED,
        agency_id=agency,
        reported_at=at,
        reported_by=actor.person_id,
        penalties_standing=_standing(r),
    )
    moved = r._stop_clocks("cancelled", "report")
    return _step(
        moved,
        crime,
        "report_suspected_crime",
        actor,
        at,
        Status.CRIME_PENDING,
        why,
        head_clock(CrimeStage.REPORTED, at, agency),
    )


def decide_transfer(
    r: Referral,
    actor: Actor,
    at: datetime,
    *,
    approve: bool,
    reason: str,
    transfer_clock: ClockFor,
    report_clock: DeadlineInfo,
) -> Referral:
    """The head approves (the 24-hour transfer clock starts) or refuses with the reasons on
    record (记录在案): the administrative case goes on with a new report clock; a referral
    drafted to the police is withdrawn."""
    crime = _crime(r, "decide on the transfer", CrimeStage.REPORTED)
    _require_agency(crime, actor, "decide on the transfer")
    _require_leader(actor, "approve or refuse a crime transfer")
    if r.route is Route.CRIME:
        r._require("decide on", Status.PENDING_APPROVAL)
    decided = replace(crime, head_decided_at=at, head_decided_by=actor.person_id)
    if approve:
        to = Status.APPROVED if r.route is Route.CRIME else Status.CRIME_PENDING
        return _step(
            r,
            replace(decided, stage=CrimeStage.APPROVED),
            "approve_crime_transfer",
            actor,
            at,
            to,
            reason.strip(),
            transfer_clock(CrimeStage.APPROVED, at, crime.agency_id),
        )
    why = _text(reason, "record why the transfer is not approved (记录在案)", "reason")
    refused = replace(decided, stage=CrimeStage.REFUSED, head_refusal_reason=why, closed_at=at)
    if r.route is Route.CRIME:
        moved = _step(r, refused, "refuse_crime_transfer", actor, at, Status.WITHDRAWN, why)
        return moved._stop_clocks("cancelled", "send")
    return _step(r, refused, "refuse_crime_transfer", actor, at, Status.ACCEPTED, why, report_clock)


# -- the transfer (第五条: within 24 hours) ---------------------------------------------


def transfer_to_police(
    r: Referral,
    actor: Actor,
    at: datetime,
    *,
    police: AgencyRef | None,
    police_id: str,
    reason: str,
    police_clock: ClockFor,
) -> Referral:
    """The case reaches public security; the police's 3-day clock starts. After the head's
    approval any acting staff transfers it; without one, only a leader (the head deciding
    and transferring in one act)."""
    if r.route is Route.CRIME:
        raise InvalidState(
            "a referral drafted to public security is transferred by sending it (R-REF-14)",
            field="status",
            code="WRONG_STATUS",
        )
    police = _police(police, police_id)
    if r.status is Status.ACCEPTED and (r.crime is None or r.crime.stage in ENDED):
        _require_leader(actor, "transfer a suspected crime without a prior approval")
        why = _text(reason, "state the suspected crime", "reason")
        crime = CrimeTransfer(
            police.id,
            why,
            at,
            actor.person_id,
            stage=CrimeStage.TRANSFERRED,
            agency_id=_agency_of(r),
            reported_at=at,
            reported_by=actor.person_id,
            head_decided_at=at,
            head_decided_by=actor.person_id,
            penalties_standing=_standing(r),
        )
        # The report clock stops while public security decides; 不立案 starts a new one.
        base = replace(r._stop_clocks("cancelled", "report"), crime=None)
    else:
        r._require("transfer to public security", Status.ACCEPTED, Status.CRIME_PENDING)
        approved = _crime(
            r, "transfer to public security", CrimeStage.APPROVED, CrimeStage.REPORTED
        )
        _require_agency(approved, actor, "transfer it")
        if approved.stage is CrimeStage.REPORTED:
            # The head decides on the report and transfers in one act.
            _require_leader(actor, "approve and transfer in one act")
            approved = replace(approved, head_decided_at=at, head_decided_by=actor.person_id)
        if police.id != approved.police_id:
            raise ValidationFailed(
                f"the head approved the transfer to {approved.police_id!r}, not {police.id!r}",
                field="policeId",
            )
        why = reason.strip() or approved.reason
        crime = replace(approved, stage=CrimeStage.TRANSFERRED, transferred_at=at, reason=why)
        base = r
    return _step(
        base,
        crime,
        "transfer_to_police",
        actor,
        at,
        Status.CRIME_PENDING,
        why,
        police_clock(CrimeStage.TRANSFERRED, at, police.id),
    )


def follow_direct_transfer(r: Referral, clock_for: ClockFor) -> Referral | None:
    """A referral drafted straight to the police: its submit is the written report, its
    approval the head's decision, its sending the transfer. After such an act (the last in
    the history), keep the crime record and the clocks in step; None when nothing is to do
    (another act, another route, or already followed)."""
    if r.route is not Route.CRIME or not r.history:
        return None
    last = r.history[-1]
    at = last.at
    stage_after = {
        "submit": CrimeStage.REPORTED,
        "approve": CrimeStage.APPROVED,
        "send": CrimeStage.TRANSFERRED,
    }.get(last.action)
    if stage_after is None:
        return None
    crime = r.crime
    if crime is not None and crime.stage is stage_after:
        return None
    if crime is None:
        crime = CrimeTransfer(
            r.receiver_id,
            r.title,
            None,
            last.actor_id,
            stage=stage_after,
            agency_id=r.sender_id,
            reported_at=at,
            reported_by=last.actor_id,
        )
    was = crime.stage if r.crime is not None else None
    if stage_after is CrimeStage.APPROVED:
        crime = replace(crime, head_decided_at=at, head_decided_by=last.actor_id)
    if stage_after is CrimeStage.TRANSFERRED:
        crime = replace(crime, transferred_at=at)
    moved = r
    running = CRIME_CLOCK_OF.get(was) if was is not None else None
    if running is not None:
        moved = moved._stop_clocks("met", running)
    responsible = r.receiver_id if stage_after is CrimeStage.TRANSFERRED else r.sender_id
    moved = moved._start_clock(clock_for(stage_after, at, responsible))
    return replace(moved, crime=replace(crime, stage=stage_after))


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
        # for the procuratorate's notice); the agency decides, no new window runs.
        return _step(
            r,
            replace(decided, stage=CrimeStage.SUPERVISION),
            "police_not_filed",
            actor,
            at,
            Status.CRIME_PENDING,
            f"{n}：{why}",
        )
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
) -> Referral:
    """建议人民检察院依法进行立案监督: after the 不立案 notice or the upheld reconsideration.
    The procuratorate is told (an inbox notice); it reads the case and changes nothing here."""
    crime = _crime(r, "ask the procuratorate to supervise", CrimeStage.NOT_FILED, CrimeStage.UPHELD)
    _require_agency(crime, actor, "ask the procuratorate to supervise")
    if procuratorate is None or procuratorate.kind != "procuratorate":
        raise ValidationFailed(
            f"{procuratorate_id!r} is not a procuratorate (人民检察院)", field="procuratorateId"
        )
    why = _text(reason, "state why the case should be filed (立案监督理由)", "reason")
    asked = replace(
        crime,
        stage=CrimeStage.SUPERVISION,
        procuratorate_id=procuratorate.id,
        supervision_requested_at=at,
        supervision_reason=why,
    )
    return _step(r, asked, "request_supervision", actor, at, Status.CRIME_PENDING, why)


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
        raise ValidationFailed("the amount paid must be positive", field="amountYuan")
    if paid_at > at:
        raise ValidationFailed("the payment date lies in the future", field="paidAt")
    if r.penalty is not None and r.penalty.decision_number == number:
        fine = r.penalty.fine_yuan or 0
        if amount_yuan > fine:
            raise ValidationFailed(
                f"the decision {number} fined {fine} yuan; {amount_yuan} cannot have been paid",
                field="amountYuan",
            )
    paid = FinePaid(number, amount_yuan, paid_at, receipt.strip(), actor.person_id, at)
    standing = crime.penalties_standing
    if number not in standing:
        standing = (*standing, number)
    moved = r._recorded("record_fine_paid", actor, at, f"{number}：{amount_yuan}元")
    return replace(moved, crime=replace(crime, fine_paid=paid, penalties_standing=standing))


#: Every crime clock kind, for the application and the tests.
ALL_CLOCKS = CRIME_CLOCKS
