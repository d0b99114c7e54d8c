"""R-GRD-01 with R-SUP-02: a late grid-dispatch step escalates to the leader of the township
whose platform dispatched it, then to the body the district's ``dispatch.escalation`` names
(Huancui: the district platform office, a coordination body; HC #2, #10), each an inbox
notice with a receipt. A team's clock never escalates only to the team. The clock is moved
by the test (Huancui's ladder: the leader 2 hours after an hour clock's limit, the supervising
body 8 hours after)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from kernel.contracts.deadlines import DeadlineV1
from kernel.envelope import new_envelope
from notify.bootstrap import NotifyService
from tests.integration.notify.test_notify_watch import (
    FakeClock,
    ReferralStep,
    deliver,
    huancui_service,
    items,
    local,
)

pytestmark = pytest.mark.timeout(120)

DISPATCHED = local(2026, 3, 2, 10)
ACCEPT_DUE = DISPATCHED + timedelta(hours=1)  # Huancui's accept limit (project default)
LEADER_AT = ACCEPT_DUE + timedelta(hours=2)  # reminders.escalation[0].after_hours
OFFICE_AT = ACCEPT_DUE + timedelta(hours=8)  # reminders.escalation[1].after_hours
SECOND = timedelta(seconds=1)


def dispatch_block(kind: str, agency: str, due: datetime) -> DeadlineV1:
    """A block as coordination's dispatch handlers write it (the producer side is pinned in
    tests/integration/coordination/test_R_GRD_01_dispatch_escalation.py)."""
    return DeadlineV1(
        key=DeadlineV1.key_for("Dispatch", "d-1", kind),
        kind=kind,
        subject_type="Dispatch",
        subject_id="d-1",
        responsible_agency_id=agency,
        due=due,
        rule="接单1小时内（R-GRD-01，项目默认）",
        mode="clock",
        escalate_to_agency_id="hc-zhangcun",
        escalate_to_agency_kind="coordination_body",
    )


async def _service(tmp_path: Path, name: str, clock: FakeClock) -> NotifyService:
    team = ("hc-zhangcun-market", "环翠区市场监督管理局张村市场监管所", "resident_unit")
    return await huancui_service(tmp_path, name, clock, team)


async def _clock_starts(service: NotifyService, block: DeadlineV1) -> None:
    step = ReferralStep(referral_id="d-1", deadlines=[block])
    await deliver(
        service,
        new_envelope(step, district="huancui", service="referral", subject="d-1", time=DISPATCHED),
    )


async def _escalated(service: NotifyService, agency: str) -> list[object]:
    return [i for i in await items(service, agency) if i.kind == "deadline.escalated"]


async def test_R_GRD_01_R_SUP_02_team_accept_clock_to_platform_leader_then_district_office(
    tmp_path: Path, unique_name: str
) -> None:
    clock = FakeClock(DISPATCHED)
    service = await _service(tmp_path, unique_name, clock)
    try:
        await _clock_starts(
            service, dispatch_block("dispatch.accept", "hc-zhangcun-market", ACCEPT_DUE)
        )

        clock.now = ACCEPT_DUE  # just inside the limit: nothing for anyone
        await service.scheduler.run_once()
        assert [i.kind for i in await items(service, "hc-zhangcun-market")] == ["deadline.reminder"]
        assert await items(service, "hc-zhangcun") == []

        clock.now = ACCEPT_DUE + SECOND  # just past: the team is told it is late
        assert await service.scheduler.run_once() == 1
        assert "deadline.missed" in [i.kind for i in await items(service, "hc-zhangcun-market")]
        assert await items(service, "hc-zhangcun") == []

        clock.now = LEADER_AT - SECOND  # the escalation step not yet reached
        assert await service.scheduler.run_once() == 0
        clock.now = LEADER_AT  # the platform's leader (and the team's own), never the team only
        assert await service.scheduler.run_once() == 1
        [platform] = await _escalated(service, "hc-zhangcun")
        assert platform.audience == "leader" and "超期督办" in platform.title
        assert "市场监管所" in platform.body and "综合执法平台负责人" in platform.body
        [own] = await _escalated(service, "hc-zhangcun-market")
        assert own.audience == "leader"
        assert await items(service, "hc-platform") == []

        clock.now = OFFICE_AT - SECOND
        assert await service.scheduler.run_once() == 0
        clock.now = OFFICE_AT  # next step: the district platform office, not the justice bureau
        assert await service.scheduler.run_once() == 1
        [office] = await _escalated(service, "hc-platform")
        assert "超期报告" in office.title and "市场监管所" in office.body
        assert await items(service, "hc-justice") == []
        # Each is a notice with a receipt (签收).
        assert platform.unread and office.unread
    finally:
        await service.runtime.stop()


async def test_R_GRD_01_R_SUP_02_platform_dispatch_clock_escalates_likewise(
    tmp_path: Path, unique_name: str
) -> None:
    clock = FakeClock(DISPATCHED)
    service = await _service(tmp_path, unique_name, clock)
    try:
        await _clock_starts(service, dispatch_block("dispatch.dispatch", "hc-zhangcun", ACCEPT_DUE))
        clock.now = LEADER_AT - SECOND
        await service.scheduler.run_once()
        assert await _escalated(service, "hc-zhangcun") == []
        clock.now = LEADER_AT
        assert await service.scheduler.run_once() == 1
        [leader] = await _escalated(service, "hc-zhangcun")  # once, not twice
        assert leader.audience == "leader"
        clock.now = OFFICE_AT - SECOND
        assert await service.scheduler.run_once() == 0
        clock.now = OFFICE_AT
        assert await service.scheduler.run_once() == 1
        [office] = await _escalated(service, "hc-platform")
        assert "张村镇人民政府" in office.body
        assert await items(service, "hc-justice") == []
    finally:
        await service.runtime.stop()


@pytest.mark.parametrize(
    ("named", "told", "not_told"),
    [
        ("hc-platform", "hc-platform", "hc-aaa-coord"),
        # The township is known, but not as a coordination body: the first one serves.
        ("hc-zhangcun", "hc-aaa-coord", "hc-platform"),
    ],
)
async def test_R_GRD_01_R_SUP_02_the_named_office_not_the_first_of_its_kind(
    tmp_path: Path, unique_name: str, named: str, told: str, not_told: str
) -> None:
    """``dispatch.escalation.agency_id`` names the office: another coordination body that
    sorts first gets nothing. A name this service does not know as that kind falls back to
    the first of the kind (the labelled default)."""
    clock = FakeClock(DISPATCHED)
    early = ("hc-aaa-coord", "环翠区某协调机构", "coordination_body")
    team = ("hc-zhangcun-market", "环翠区市场监督管理局张村市场监管所", "resident_unit")
    service = await huancui_service(tmp_path, unique_name, clock, team, early)
    try:
        block = dispatch_block("dispatch.accept", "hc-zhangcun-market", ACCEPT_DUE)
        await _clock_starts(service, block.model_copy(update={"escalate_to_supervisor_id": named}))
        clock.now = OFFICE_AT
        await service.scheduler.run_once()
        assert len(await _escalated(service, told)) == 1
        assert await _escalated(service, not_told) == []
    finally:
        await service.runtime.stop()
