"""The stall check (停滞检查, issue 14) for coordination's cases: a dispute, an assistance,
technical-support or information request, or a joint task that is not finished must have a
running clock at every moment (R-REF-07's "no path may leave a case with no open clock and no
owner", R-NTF-04, R-SUP-02). Pure Python.

Finished, per kind:

* dispute: ruled (R-DSP-03). An open dispute's current step always has its due time;
  a step whose time ran out stays open (notify escalates it), so it is late, not stalled.
* assistance (R-AST-01/02): closed; or answered — accepted (the helper helps from the agreed
  date and both sides report the result, no statutory limit) or refused on legal grounds (the
  requester's move: accept it or ask the legal office to mediate). A request in mediation is
  the legal office's, on its mediation clock (a policy default); without it, it is listed.
* technical support (R-TEC-01): answered. Information query (R-INF-01): answered or declined.
* joint task (R-JNT-04): reported, or the inability accepted. A rejected inability reopens
  the report clock; a stated inability waits on the lead's decision clock (a policy
  default); a task with neither clock running is listed.

A request still awaiting its answer with no running clock is stalled whatever the reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from coordination.domain.assistance import AssistanceRequest, AssistanceStatus
from coordination.domain.cooperation import Clock, Transition
from coordination.domain.dispatch import TERMINAL as DISPATCH_FINISHED
from coordination.domain.dispatch import Dispatch
from coordination.domain.dispute import Dispute, DisputeStatus
from coordination.domain.information import InformationQuery, QueryStatus
from coordination.domain.joint import JointOperation
from coordination.domain.joint.records import JointTask, TaskStatus
from coordination.domain.technical import SupportStatus, TechnicalSupportRequest

__all__ = [
    "Stall",
    "assistance_stall",
    "dispatch_stall",
    "dispute_stall",
    "information_stall",
    "joint_task_stalls",
    "technical_stall",
]

ASSISTANCE_FINISHED = (
    AssistanceStatus.CLOSED,
    AssistanceStatus.ACCEPTED,
    AssistanceStatus.REFUSED,
)
TECHNICAL_FINISHED = (SupportStatus.ANSWERED,)
INFORMATION_FINISHED = (QueryStatus.ANSWERED, QueryStatus.DECLINED)
TASK_FINISHED = (TaskStatus.REPORTED, TaskStatus.INABILITY_ACCEPTED)


@dataclass(frozen=True)
class Stall:
    """One case that is not finished and that no running clock answers for."""

    subject_type: str
    subject_id: str
    status: str
    agency_ids: tuple[str, ...]
    """Where it sits: the agency that owes the next act first."""
    since: datetime
    reason: str


def _running(clocks: Iterable[Clock]) -> bool:
    return any(c.state == "open" for c in clocks)


def _last(history: Iterable[Transition], default: datetime) -> datetime:
    at = [t.at for t in history]
    return at[-1] if at else default


def dispute_stall(d: Dispute) -> Stall | None:
    if d.status is not DisputeStatus.OPEN or d.steps:
        return None
    return Stall(
        "Dispute", d.id, d.status.value, d.parties, d.opened_at, "open with no step (no clock)"
    )


def assistance_stall(r: AssistanceRequest) -> Stall | None:
    if r.status in ASSISTANCE_FINISHED or _running(r.clocks):
        return None
    first = r.mediation.mediator_agency_id if r.mediation else r.helper_id
    return Stall(
        "AssistanceRequest",
        r.id,
        r.status.value,
        (first, r.requester_id, r.helper_id) if r.mediation else (r.helper_id, r.requester_id),
        _last(r.history, r.requested_at),
        f"{r.status.value} with no running clock",
    )


def technical_stall(r: TechnicalSupportRequest) -> Stall | None:
    if r.status in TECHNICAL_FINISHED or _running(r.clocks):
        return None
    return Stall(
        "TechnicalSupportRequest",
        r.id,
        r.status.value,
        (r.department_id, r.township_id),
        _last(r.history, r.requested_at),
        f"{r.status.value} with no running clock",
    )


def information_stall(q: InformationQuery) -> Stall | None:
    if q.status in INFORMATION_FINISHED or _running(q.clocks):
        return None
    return Stall(
        "InformationQuery",
        q.id,
        q.status.value,
        (q.holder_id, q.requester_id),
        _last(q.history, q.asked_at),
        f"{q.status.value} with no running clock",
    )


def dispatch_stall(d: Dispatch) -> Stall | None:
    """R-GRD-01: a dispatch not handled or referred has one open step clock with an owner
    (the platform for a dispatch, the team for accept, arrive and handle)."""
    if d.state in DISPATCH_FINISHED:
        return None
    clock = d.open_clock
    if clock is not None and clock.responsible_agency_id:
        return None
    return Stall(
        "Dispatch",
        d.id,
        d.state.value,
        tuple(x for x in (d.team_id, d.platform_id) if x),
        _last(d.history, d.reported_at),
        f"{d.state.value} with no running clock or no owner",
    )


def _decision(t: JointTask) -> tuple[Clock, ...]:
    """The lead's decision clock on a stated inability, when there is one."""
    return (t.decision_clock,) if t.decision_clock is not None else ()


def joint_task_stalls(op: JointOperation) -> list[Stall]:
    out: list[Stall] = []
    for t in op.tasks:
        if t.status in TASK_FINISHED or _running((t.report_clock, *_decision(t))):
            continue
        owes = op.lead_id if t.status is TaskStatus.INABILITY_STATED else t.agency_id
        out.append(
            Stall(
                "JointTask",
                t.id,
                t.status.value,
                (owes, t.agency_id) if owes != t.agency_id else (owes, op.lead_id),
                t.reported_at or t.assigned_at,
                f"{t.status.value} with no running clock",
            )
        )
    return out
