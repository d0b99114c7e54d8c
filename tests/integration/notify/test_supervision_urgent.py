"""Issue 15, "Done when": the monthly reminder list (月提示) and the quarterly bulletin (季通报)
of a seeded month no longer count urgent requests as late (R-SUP-02, DOMAIN §0).

The month is seeded with Chongqing's urgent referrals (立即移送, CQ) and urgent assistance
requests (立即协助) whose clocks come from the services' own clock code for the district's
policy, fed to notify as the bus would. Before "immediately" became a clock of the policy's
hours (default 2), each was due the moment it was made and every one was reported late.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from coordination.application.cooperation import _Base as CooperationHandlers
from coordination.domain import assistance as ast
from kernel.contracts.deadlines import DeadlineV1
from kernel.policy import load_policy
from kernel.wiring import calendar_for
from notify.domain.supervision import month, monthly_push_text, quarter, quarterly_push_text
from referral.application.clocks import ReferralClocks

from .test_notify_copies_supervision import AGENCIES, person
from .test_notify_watch import (
    Harness,
    deliver,
    harness,
    local,
    register_agencies,
    step_event,
)

__all__ = ["harness"]  # the fixture, parametrised over both store adapters

pytestmark = pytest.mark.timeout(120)

CQ = load_policy("chongqing")
CALENDAR = calendar_for(CQ)
#: Urgent referrals of March 2026, found on a weekday morning, a Saturday night (an hours
#: clock runs through the weekend) and a Friday afternoon; each sent within the 2-hour limit.
FOUND = [local(2026, 3, 9, 10), local(2026, 3, 14, 22), local(2026, 3, 20, 16, 30)]


def _send_clock(referral_id: str, found: datetime, state: str) -> DeadlineV1:
    clocks = ReferralClocks(CQ, CALENDAR)
    info = clocks.send(found, urgent=True)
    block = clocks.to_event(info, referral_id)
    return block.model_copy(update={"responsible_agency_id": "fy-hancong", "state": state})


def _assistance_clock(request_id: str, asked: datetime, state: str) -> DeadlineV1:
    handlers = CooperationHandlers(None, CQ, CALENDAR, "chongqing")  # type: ignore[arg-type]
    c = handlers._immediately(ast.REPLY, "fy-water", asked, "情况紧急，立即协助")
    return DeadlineV1(
        key=DeadlineV1.key_for("AssistanceRequest", request_id, c.kind),
        kind=c.kind,
        subject_type="AssistanceRequest",
        subject_id=request_id,
        responsible_agency_id=c.responsible_agency_id,
        due=c.due,
        state=state,  # type: ignore[arg-type]
        rule=c.rule,
    )


async def test_R_SUP_02_urgent_requests_of_a_seeded_month_are_not_counted_late(
    harness: Harness,
) -> None:
    clock = harness.clock
    service = await harness.start(workers=False)
    await register_agencies(service, AGENCIES, FOUND[0])
    # DOMAIN §0: urgent = due 2 clock hours after discovery, never 0 (and not 24).
    first = _send_clock("u-0", FOUND[0], "open")
    assert first.due - FOUND[0] == timedelta(hours=2)

    for i, found in enumerate(FOUND):
        rid = f"urgent-{i}"
        await deliver(service, step_event(rid, found, [_send_clock(rid, found, "open")]))
        # Sent 30 minutes, 1 h 59 min and 2 h after discovery: all within the limit.
        sent = found + [timedelta(minutes=30), timedelta(minutes=119), timedelta(hours=2)][i]
        await deliver(service, step_event(rid, sent, [_send_clock(rid, found, "met")]))
    # The boundary the other way: one minute past the limit is late, as it should be.
    late_found = local(2026, 3, 25, 9)
    await deliver(
        service,
        step_event("urgent-late", late_found, [_send_clock("urgent-late", late_found, "open")]),
    )
    await deliver(
        service,
        step_event(
            "urgent-late",
            late_found + timedelta(hours=2, minutes=1),
            [_send_clock("urgent-late", late_found, "met")],
        ),
    )
    # An urgent assistance request answered an hour after it was made.
    asked = local(2026, 3, 11, 15)
    opened = _assistance_clock("a-urgent", asked, "open")
    await deliver(service, step_event("a-urgent", asked, [opened]))
    await deliver(
        service,
        step_event(
            "a-urgent", asked + timedelta(hours=1), [_assistance_clock("a-urgent", asked, "met")]
        ),
    )
    clock.now = local(2026, 4, 5, 9)

    supervisor = person("fy-justice", "supervisor")
    report = await service.supervision.report(supervisor, "monthly", month("2026-03"))
    rows = {a.agency_id: a for a in report.agencies}
    send = rows["fy-hancong"].clocks["send"]
    assert (send.on_time, send.late, send.overdue, send.pending) == (3, 1, 0, 0)
    assert send.rate == 0.75
    assert rows["fy-hancong"].late == 1 and rows["fy-hancong"].overdue == 0
    assert rows["fy-water"].late == 0 and rows["fy-water"].overdue == 0
    assert [(e.deadline.subject_id, e.outcome) for e in report.overdue] == [("urgent-late", "late")]
    title, body = monthly_push_text(report, "重庆市司法局")
    assert "共4件，按时办结3件（按时率75.0%），超期办结1件，超期未办0件" in body, body
    assert title.startswith("2026年3月")

    bulletin = await service.supervision.report(supervisor, "quarterly", quarter(2026, 1))
    q = {a.agency_id: a for a in bulletin.agencies}["fy-hancong"].clocks["send"]
    assert (q.on_time, q.late, q.overdue) == (3, 1, 0)
    _, q_body = quarterly_push_text(bulletin, "重庆市司法局")
    assert "按时办结3件（按时率75.0%），超期办结1件，超期未办0件" in q_body, q_body
