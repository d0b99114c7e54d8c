"""``totalCount`` on the dispatches list (R-GRD-01) and the joint operations list (R-JNT-01)
(issue 18): each counted over all pages with the list's own filters and the caller's read
scope, and only when a client selects it (the store is asked to count nothing otherwise)."""

from __future__ import annotations

from typing import Any

from tests.integration.coordination.test_authz_coordination import (
    GOV,
    HOUSING_CLERK,
    NATRES_LEADER,
    OTHER_TOWN_CLERK,
    TOWN_CLERK,
    Graph,
    Who,
    graph,  # noqa: F401
)
from tests.integration.coordination.test_coordination_total_counts import _listed
from tests.integration.coordination.test_coordination_workflow_error_codes import (
    DISPATCH,
    GRID,
    INITIATE,
    REPORT,
    answer,
    assert_accepted,
    operation,
)


async def listed(g: Graph, who: Who, field: str, args: str, count: bool = True) -> dict[str, Any]:
    return await _listed(g, field, args, count, who)


def _count(found: dict[str, Any]) -> int:
    assert len(found["one"]["edges"]) <= 1
    total: int = found["one"]["totalCount"]
    assert total == len(found["all"]["edges"]), found
    return total


async def test_R_GRD_01_dispatches_count_their_filters_and_scope_only_when_asked(
    graph: Graph,  # noqa: F811
    store_counts: list[str],
) -> None:
    g = graph
    for what in ("占道经营", "乱堆乱放", "违规广告牌"):
        report = {
            "platformId": "fy-hancong",
            "source": "GRID_MEMBER",
            "what": what,
            "place": "寒葱沟镇中心街8号",
            "area": "中心街第3网格",
            "foundAt": "2026-01-05T08:00:00+08:00",
        }
        reported = await answer(g, GRID, REPORT, input=report)
        assert_accepted(reported, "Dispatch")
    # One of the three is dispatched to the township's own centre.
    moved = await answer(g, TOWN_CLERK, DISPATCH, id=reported["id"], team="fy-hancong")
    assert_accepted(moved, "Dispatch")

    assert _count(await listed(g, TOWN_CLERK, "dispatches", "")) == 3
    assert _count(await listed(g, TOWN_CLERK, "dispatches", "state: REPORTED")) == 2
    assert _count(await listed(g, TOWN_CLERK, "dispatches", "state: DISPATCHED")) == 1
    assert _count(await listed(g, TOWN_CLERK, "dispatches", 'platformId: "fy-hancong"')) == 3
    # Every open step is within its limit: none overdue, all three not overdue.
    assert _count(await listed(g, TOWN_CLERK, "dispatches", "overdue: true")) == 0
    assert _count(await listed(g, TOWN_CLERK, "dispatches", "overdue: false")) == 3
    assert _count(await listed(g, GRID, "dispatches", "")) == 3  # the reporter's own
    assert _count(await listed(g, OTHER_TOWN_CLERK, "dispatches", "")) == 0  # not its platform

    store_counts.clear()
    await listed(g, TOWN_CLERK, "dispatches", "", count=False)
    assert store_counts == []  # not selected: not counted
    await listed(g, TOWN_CLERK, "dispatches", "")
    assert store_counts == ["dispatches"]


async def test_R_JNT_01_joint_operations_count_their_filters_and_scope_only_when_asked(
    graph: Graph,  # noqa: F811
    store_counts: list[str],
) -> None:
    g = graph
    for cooperating in (("fy-market", "fy-hancong"), ("fy-market",)):
        initiated = await answer(g, NATRES_LEADER, INITIATE, input=operation(*cooperating))
        assert_accepted(initiated, "JointOperation")

    assert _count(await listed(g, GOV, "jointOperations", "")) == 2
    assert _count(await listed(g, GOV, "jointOperations", 'agencyId: "fy-hancong"')) == 1
    assert _count(await listed(g, GOV, "jointOperations", "status: PLANNING")) == 2
    assert _count(await listed(g, GOV, "jointOperations", "status: IN_PROGRESS")) == 0
    assert _count(await listed(g, TOWN_CLERK, "jointOperations", "")) == 1  # its own only
    assert _count(await listed(g, HOUSING_CLERK, "jointOperations", "")) == 0

    store_counts.clear()
    await listed(g, GOV, "jointOperations", "", count=False)
    assert store_counts == []
    await listed(g, GOV, "jointOperations", "")
    assert len(store_counts) == 1
