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
from tests.integration.coordination.test_coordination_workflow_error_codes import (
    DISPATCH,
    GRID,
    INITIATE,
    REPORT,
    answer,
    assert_accepted,
)


async def _listed(g: Graph, who: Who, field: str, args: str, count: bool = True) -> dict[str, Any]:
    """One item of ``field`` and the whole list (200), with ``totalCount`` if asked."""
    total = "totalCount" if count else ""
    sep = ", " if args else ""
    query = (
        f"{{ one: {field}(first: 1{sep}{args}) {{ {total} edges {{ cursor }} }} "
        f"all: {field}(first: 200{sep}{args}) {{ edges {{ cursor }} }} }}"
    )
    return await g.data(who, query)


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

    assert _count(await _listed(g, TOWN_CLERK, "dispatches", "")) == 3
    assert _count(await _listed(g, TOWN_CLERK, "dispatches", "state: REPORTED")) == 2
    assert _count(await _listed(g, TOWN_CLERK, "dispatches", "state: DISPATCHED")) == 1
    assert _count(await _listed(g, TOWN_CLERK, "dispatches", 'platformId: "fy-hancong"')) == 3
    # Every open step is within its limit: none overdue, all three not overdue.
    assert _count(await _listed(g, TOWN_CLERK, "dispatches", "overdue: true")) == 0
    assert _count(await _listed(g, TOWN_CLERK, "dispatches", "overdue: false")) == 3
    assert _count(await _listed(g, GRID, "dispatches", "")) == 3  # the reporter's own
    assert _count(await _listed(g, OTHER_TOWN_CLERK, "dispatches", "")) == 0  # not its platform

    store_counts.clear()
    await _listed(g, TOWN_CLERK, "dispatches", "", count=False)
    assert store_counts == []  # not selected: not counted
    await _listed(g, TOWN_CLERK, "dispatches", "")
    assert store_counts == ["dispatches"]


async def test_R_JNT_01_joint_operations_count_their_filters_and_scope_only_when_asked(
    graph: Graph,  # noqa: F811
    store_counts: list[str],
) -> None:
    g = graph
    for title, cooperating in (
        ("违法占地联合整治", ["fy-market", "fy-hancong"]),
        ("矿产资源联合检查", ["fy-market"]),
    ):
        operation = {
            "title": title,
            "basis": "HIGHER_AUTHORITY",
            "basisReference": "黑自然资发〔2026〕5号",
            "leadId": "fy-natres",
            "cooperatingIds": cooperating,
        }
        assert_accepted(await answer(g, NATRES_LEADER, INITIATE, input=operation), "JointOperation")

    assert _count(await _listed(g, GOV, "jointOperations", "")) == 2
    assert _count(await _listed(g, GOV, "jointOperations", 'agencyId: "fy-hancong"')) == 1
    assert _count(await _listed(g, GOV, "jointOperations", "status: PLANNING")) == 2
    assert _count(await _listed(g, GOV, "jointOperations", "status: IN_PROGRESS")) == 0
    assert _count(await _listed(g, TOWN_CLERK, "jointOperations", "")) == 1  # its own only
    assert _count(await _listed(g, HOUSING_CLERK, "jointOperations", "")) == 0

    store_counts.clear()
    await _listed(g, GOV, "jointOperations", "", count=False)
    assert store_counts == []
    await _listed(g, GOV, "jointOperations", "")
    assert len(store_counts) == 1
