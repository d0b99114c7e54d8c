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

from dataclasses import replace
from datetime import datetime

from kernel.errors import InvalidState, ValidationFailed
from referral.domain.model.aggregate import Referral, Status
from referral.domain.model.crime_police import (
    accept_not_filed,
    answer_reconsideration,
    record_fine_paid,
    record_handover,
    record_police_decision,
    request_reconsideration,
    request_supervision,
)
from referral.domain.model.crime_steps import (
    ENDED,
    ClockFor,
    _agency_of,
    _crime,
    _police,
    _require_agency,
    _require_leader,
    _standing,
    _step,
    _text,
)
from referral.domain.model.values import (
    CRIME_CLOCK_OF,
    Actor,
    AgencyRef,
    CrimeStage,
    CrimeTransfer,
    DeadlineInfo,
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
                code="NOT_THE_APPROVED_POLICE",
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
