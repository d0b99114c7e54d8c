"""The stall check's rules (issue 14, R-REF-07: no path may leave a case with no open clock
and no owner): which unfinished cases no running clock or owner answers for. Pure domain."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from coordination.domain import assistance as ast
from coordination.domain import stalls as cst
from referral.domain.model import DeadlineInfo, Referral, Status
from referral.domain.stalls import stall_of
from tests.unit.test_coordination_cooperation_domain import (
    NOW,
    assistance,
    refer,
    reply,
)
from tests.unit.test_referral_domain import draft


def timed() -> Referral:
    """A draft with its send clock running (R-REF-04)."""
    return draft()._start_clock(DeadlineInfo("send", NOW + timedelta(days=5), {}, rule="5个工作日"))


def test_R_REF_07_a_declined_referral_with_no_dispute_is_stalled_until_its_dispute_owns_it() -> (
    None
):
    """The old stall (issue 14, item 2): DECLINED, its accept clock stopped, no dispute."""
    r = timed()
    assert stall_of(r) is None  # the send clock runs
    declined = replace(
        r, status=Status.DECLINED, deadlines=tuple(replace(d, state="met") for d in r.deadlines)
    )
    found = stall_of(declined)
    assert found is not None and found.subject_id == r.id and "dispute" in found.reason
    assert found.agency_ids == (r.receiver_id, r.sender_id)
    owned = declined.owned_by_dispute("d-1")
    assert owned is not None and stall_of(owned) is None
    assert owned.owned_by_dispute("d-1") is None  # a redelivered event records nothing new


def test_R_REF_07_finished_referrals_are_never_stalled_and_other_clockless_states_are() -> None:
    r = timed()
    stopped = replace(r, deadlines=tuple(replace(d, state="met") for d in r.deadlines))
    for done in (Status.CLOSED, Status.WITHDRAWN, Status.RESULT_REPORTED):
        assert stall_of(replace(stopped, status=done)) is None, done
    for waiting in (Status.SENT, Status.ACCEPTED, Status.CRIME_PENDING, Status.HANDLED):
        s = stall_of(replace(stopped, status=waiting))
        assert s is not None and s.status == waiting.value, waiting
    # A DRAFT whose send clock is overdue is late, not stalled: the clock still runs.
    assert stall_of(replace(r, created_at=r.created_at - timedelta(days=30))) is None


def test_R_AST_01_R_AST_02_a_request_in_mediation_without_a_clock_is_stalled() -> None:
    """Answered requests (accepted, refused) are the requester's to move; a request waiting
    for its answer or for the legal office with no running clock is stalled."""
    requested = assistance()
    assert cst.assistance_stall(requested) is None  # the reply clock runs
    refused = reply(requested, will_help=False, grounds="g", legal_provision="l")
    assert cst.assistance_stall(refused) is None
    m = refer(refused)
    assert cst.assistance_stall(m) is None  # issue 14: the legal office's clock runs
    unclocked = replace(m, clocks=tuple(replace(c, state="met") for c in m.clocks))
    found = cst.assistance_stall(unclocked)
    assert found is not None and found.agency_ids[0] == "fy-coord", found
    lost = replace(requested, clocks=tuple(replace(c, state="met") for c in requested.clocks))
    assert lost.status is ast.AssistanceStatus.REQUESTED
    assert cst.assistance_stall(lost) is not None


def test_R_JNT_04_a_stated_inability_is_the_leads_on_its_decision_clock() -> None:
    """Issue 14: a written inability waits on the lead's decision clock; with it stopped (as
    every stated inability before the fix) the task is listed, the lead first."""
    from tests.unit.test_coordination_joint_domain import DECISION, HOUSING, LEAD, with_task

    op = with_task().state_inability(
        "t-1", "无执法车辆", decision_clock=DECISION, actor=HOUSING, at=NOW
    )
    assert cst.joint_task_stalls(op) == []
    task = op.task("t-1")
    stopped = replace(task, decision_clock=replace(DECISION, state="met"))
    bare = replace(op, tasks=(stopped,))
    [found] = cst.joint_task_stalls(bare)
    assert found.subject_id == "t-1" and found.agency_ids == ("fy-market", "fy-housing")
    decided = op.decide_inability(
        "t-1", accept=True, reason="理由成立", government_id=None, actor=LEAD, at=NOW
    )
    assert cst.joint_task_stalls(decided) == []  # finished
