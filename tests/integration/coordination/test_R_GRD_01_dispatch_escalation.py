"""R-GRD-01 with R-SUP-02, the producer side: every dispatch clock's deadline block names the
platform's township as the first escalation (a team's clock never escalates only to the
team) and the district's ``dispatch.escalation`` body as the next (Huancui: the district
platform office, a coordination body). The firing is pinned in
tests/integration/notify/test_notify_dispatch_escalation.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from coordination.application.dispatch import AcceptDispatch, DispatchProblem
from coordination.policy import policy_of
from kernel.contracts.deadlines import deadlines_of
from kernel.policy import load_policy, parse_policy
from kernel.policy_base import PolicyError
from tests.integration.coordination.test_R_GRD_01_dispatch import (
    GRID,
    MARKET_UNIT,
    PLATFORM,
    World,
    _report,
    world,
)

__all__ = ["world"]

POLICIES = Path(__file__).parents[3] / "services/kernel/kernel/policies"


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
    assert {
        (b.escalate_to_agency_id, b.escalate_to_agency_kind, b.escalate_to_supervisor_id)
        for b in blocks
    } == {("hc-zhangcun", "coordination_body", "hc-platform")}


def test_R_GRD_01_dispatch_escalation_body_per_district() -> None:
    """Huancui names its district platform office (HC #2, #10); the others a labelled default."""
    kinds = {
        name: policy_of(load_policy(name)).dispatch.escalation
        for name in ("huancui", "fuyuan", "shangri-la", "hualong", "chongqing")
    }
    assert kinds["huancui"].agency_kind == "coordination_body"
    assert kinds["huancui"].to_zh == "区级综合执法平台办公室"
    assert kinds["huancui"].agency_id == "hc-platform"  # the body HC #10 names, by its id
    for name in ("fuyuan", "shangri-la", "hualong", "chongqing"):
        assert kinds[name].agency_kind == "justice_bureau" and "默认" in kinds[name].to_zh
        assert kinds[name].agency_id is None  # the first justice bureau: a labelled default


def test_R_GRD_01_a_named_body_must_be_an_agency_id() -> None:
    text = (POLICIES / "huancui.yaml").read_text(encoding="utf-8")
    with pytest.raises(PolicyError) as e:
        policy_of(
            parse_policy(text.replace("agency_id: hc-platform", "agency_id: 区平台办"), "hc.yaml")
        )
    assert "dispatch.escalation.agency_id" in str(e.value)


async def test_R_GRD_01_a_registered_body_of_another_kind_stops_the_start(world: World) -> None:
    """At start, the named office registered as a coordination body passes (just inside); the
    same id registered as another kind, or as an internal unit, is refused naming the field;
    not registered yet passes (notify falls back to the first of the kind)."""
    h = world.handlers
    await h.check_escalation_body()  # hc-platform: a coordination body
    for kind, internal in (("justice_bureau", False), ("coordination_body", True)):
        await world.store.collection("agencies").update_one(
            {"_id": "hc-platform"}, {"$set": {"kind": kind, "internal_unit": internal}}
        )
        with pytest.raises(PolicyError) as e:
            await h.check_escalation_body()
        assert "dispatch.escalation.agency_id" in str(e.value)
    await world.store.collection("agencies").delete_one({"_id": "hc-platform"})
    await h.check_escalation_body()
