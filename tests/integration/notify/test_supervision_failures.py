"""R-SUP-03 (issue 15, item 8): the supervision reports list every failure to cooperate for
accountability (FY (五)4) — refused assistance, missed clocks, a written inability the lead
rejected, and a 督办 after which the case still lies past its clock — not only refusals."""

from __future__ import annotations

from datetime import datetime

import pytest

from kernel.envelope import EventPayload
from notify.domain.supervision import month, monthly_push_text, quarter, quarterly_push_text

from .test_notify_copies_supervision import AGENCIES, event, person, refuse_assistance
from .test_notify_watch import (
    DUE,
    SENT,
    Harness,
    clock_block,
    deliver,
    harness,
    local,
    register_agencies,
    step_event,
)

__all__ = ["harness"]  # the fixture, parametrised over both store adapters

pytestmark = pytest.mark.timeout(120)


class InabilityDecided(EventPayload):
    event_type = "joint.inability_decided.v1"
    operation_id: str
    task_id: str
    agency_id: str
    accepted: bool
    decision_reason: str
    reasons: str
    decided_at: datetime
    actor_id: str = "p-market"
    actor_agency_id: str = "fy-market"


class Supervised(EventPayload):
    event_type = "referral.supervised.v1"
    referral_id: str
    sender_id: str = "fy-market"
    receiver_id: str
    note: str
    actor_id: str = "p-gov"
    actor_agency_id: str = "fy-gov"


async def test_R_SUP_03_reports_list_every_failure_to_cooperate(harness: Harness) -> None:
    clock = harness.clock
    service = await harness.start(workers=False)
    await register_agencies(service, AGENCIES, SENT)
    # Two accept clocks of 寒葱沟镇 due Friday 6 March: "lying" never met, "moved" met late.
    await deliver(service, step_event("lying", SENT, [clock_block("lying", DUE)]))
    await deliver(service, step_event("moved", SENT, [clock_block("moved", DUE)]))
    # Both supervised (督办) on Tuesday 10 March; "moved" is then accepted, "lying" is not.
    for rid in ("lying", "moved"):
        at = local(2026, 3, 10, 9)
        await deliver(
            service,
            event(Supervised(referral_id=rid, receiver_id="fy-hancong", note="限3日内受理"),
                  "referral", at, rid),
        )  # fmt: skip
    await deliver(
        service, step_event("moved", local(2026, 3, 11), [clock_block("moved", DUE, "met")])
    )
    await refuse_assistance(service)
    # The lead rejects 生态环境局's written reason; an accepted one is no failure.
    for task, accepted in (("t-1", False), ("t-2", True)):
        decided = local(2026, 3, 18, 15)
        await deliver(
            service,
            event(
                InabilityDecided(
                    operation_id="op-1",
                    task_id=task,
                    agency_id="fy-ecology",
                    accepted=accepted,
                    decision_reason="人员不足不构成不能完成任务的理由" if not accepted else "同意",
                    reasons="人员不足",
                    decided_at=decided,
                ),
                "coordination",
                decided,
                "op-1",
            ),
        )
    clock.now = local(2026, 3, 25, 10)

    supervisor = person("fy-justice", "supervisor")
    report = await service.supervision.report(supervisor, "monthly", month("2026-03"))
    kinds = [(f.kind, f.agency_id, f.subject) for f in report.failures]
    assert kinds == [
        ("missed_clock", "fy-hancong", "lying"),  # due 6 March, still open
        ("ignored_supervision", "fy-hancong", "lying"),  # 督办 10 March, still past due
        ("missed_clock", "fy-hancong", "moved"),  # met late on 11 March
        ("refused_assistance", "fy-water", "a-1"),
        ("inability_rejected", "fy-ecology", "t-1"),
    ]
    rows = {a.agency_id: a for a in report.agencies}
    assert rows["fy-hancong"].failures_to_cooperate == 3
    assert rows["fy-water"].failures_to_cooperate == 1 and rows["fy-water"].refusals == 1
    assert rows["fy-ecology"].failures_to_cooperate == 1
    assert rows["fy-market"].failures_to_cooperate == 0
    _, body = monthly_push_text(report, "抚远市司法局")
    assert "拒绝协助1次" in body
    assert (
        "不配合情形共5起（拒绝协助1起，未在期限内办理2起，不能完成任务的理由不成立1起，"
        "督办后仍未办理1起）" in body
    ), body
    bulletin = await service.supervision.report(supervisor, "quarterly", quarter(2026, 1))
    assert len(bulletin.failures) == 5
    _, q_body = quarterly_push_text(bulletin, "抚远市司法局")
    assert "不配合情形共5起" in q_body
    # April has none of it.
    april = await service.supervision.report(supervisor, "monthly", month("2026-04"))
    assert april.failures == []
