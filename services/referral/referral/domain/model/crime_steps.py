"""What the acts of the crime route (``crime``, ``crime_police``) share: the stage checks,
who may act, and one step (record the act, meet the running stage's clock, start the next).
Pure Python."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from kernel.errors import Forbidden, InvalidState, ValidationFailed
from referral.domain.model.aggregate import Referral, Status
from referral.domain.model.values import (
    CRIME_CLOCK_OF,
    Actor,
    AgencyRef,
    CrimeStage,
    CrimeTransfer,
    DeadlineInfo,
    Route,
)

#: Stages after which nothing more happens on the crime route.
ENDED = (CrimeStage.REFUSED, CrimeStage.HANDED_OVER, CrimeStage.CLOSED_NOT_FILED)

#: The application's clock for a stage: (stage, start, responsible agency) → the clock.
ClockFor = Callable[[CrimeStage, datetime, str], DeadlineInfo]


def _police(police: AgencyRef | None, police_id: str) -> AgencyRef:
    if police is None or police.kind != "public_security":
        raise ValidationFailed(
            f"{police_id!r} is not a public security agency",
            field="policeId",
            code="WRONG_AGENCY_KIND",
        )
    return police


def _text(value: str, what: str, field: str) -> str:
    if not value.strip():
        raise ValidationFailed(what, field=field, code="REQUIRED")
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
        raise Forbidden(
            f"only the agency that transferred the case may {action} (R-REF-14)",
            code="TRANSFERRING_AGENCY_ONLY",
        )


def _require_police(crime: CrimeTransfer, actor: Actor) -> None:
    if actor.agency_id != crime.police_id:
        raise Forbidden(
            "only the public security agency it went to records its decision",
            code="RECEIVING_POLICE_ONLY",
        )


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
