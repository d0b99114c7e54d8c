"""R-GRD-01 with R-SUP-02, the producer side: every dispatch clock's deadline block names the
platform's township as the first escalation (a team's clock never escalates only to the
team) and the district's ``dispatch.escalation`` body as the next (Huancui: the district
platform office, a coordination body). The firing is pinned in
tests/integration/notify/test_notify_dispatch_escalation.py."""

from __future__ import annotations

from coordination.application.dispatch import AcceptDispatch, DispatchProblem
from coordination.policy import policy_of
from kernel.contracts.deadlines import deadlines_of
from kernel.policy import load_policy
from tests.integration.coordination.test_R_GRD_01_dispatch import (
    GRID,
    MARKET_UNIT,
    PLATFORM,
    World,
    _report,
    world,
)

__all__ = ["world"]


async def test_R_GRD_01_R_SUP_02_every_dispatch_clock_escalates_to_the_platform_then_the_office(
    world: World,
) -> None:
    h = world.handlers
    d = await h.report(_report(), GRID)
    d = await h.dispatch(DispatchProblem(d.id, "hc-zhangcun-market"), PLATFORM)
    d = await h.accept(AcceptDispatch(d.id), MARKET_UNIT)
    blocks = [b for e in await world.events(d.id) for b in deadlines_of(e["data"])]
    owners = {b.responsible_agency_id for b in blocks}
    assert owners == {"hc-zhangcun", "hc-zhangcun-market"}  # the platform's and the team's
    assert {(b.escalate_to_agency_id, b.escalate_to_agency_kind) for b in blocks} == {
        ("hc-zhangcun", "coordination_body")
    }


def test_R_GRD_01_dispatch_escalation_body_per_district() -> None:
    """Huancui names its district platform office (HC #2, #10); the others a labelled default."""
    kinds = {
        name: policy_of(load_policy(name)).dispatch.escalation
        for name in ("huancui", "fuyuan", "shangri-la", "hualong", "chongqing")
    }
    assert kinds["huancui"].agency_kind == "coordination_body"
    assert kinds["huancui"].to_zh == "区级综合执法平台办公室"
    for name in ("fuyuan", "shangri-la", "hualong", "chongqing"):
        assert kinds[name].agency_kind == "justice_bureau" and "默认" in kinds[name].to_zh
