"""``complaints`` carries ``totalCount`` (issue 18): counted over all pages with the list's
status and owner filters and the caller's read scope (R-CMP-01: the owning agency and the
supervising roles read complaints), and only when a client selects it."""

from __future__ import annotations

from typing import Any

from tests.integration.referral.test_authz_referral import (
    JUSTICE,
    OUTSIDER,
    TOWN_CLERK,
    Graph,
    graph,  # noqa: F401
)

LIST = """query($status: ComplaintStatus, $owner: ID) {
  complaints(first: 1, status: $status, ownerId: $owner) { totalCount edges { node { id } } } }"""


async def _count(g: Graph, who: Any, **variables: Any) -> tuple[int, int]:
    body = await g.run_vars(who, LIST, **variables)
    assert "errors" not in body, body
    found = body["data"]["complaints"]
    return found["totalCount"], len(found["edges"])


async def test_R_CMP_01_complaints_count_their_filters_and_scope(
    graph: Graph,  # noqa: F811
    store_counts: list[str],
) -> None:
    g = graph
    for text in ("噪音扰民", "占道经营", "油烟扰民"):
        await g.ok(
            TOWN_CLERK,
            f'registerComplaint(input: {{complainantName: "张三", complainantContact: "138", '
            f'content: "{text}"}})',
        )
    await g.ok(
        OUTSIDER,
        'registerComplaint(input: {complainantName: "李四", complainantContact: "139", '
        'content: "违章搭建"})',
    )
    assert await _count(g, TOWN_CLERK) == (3, 1)  # its own, all pages; one per page
    assert await _count(g, OUTSIDER) == (1, 1)
    assert await _count(g, JUSTICE) == (4, 1)  # the supervising role reads every agency's
    assert await _count(g, JUSTICE, owner="fy-hancong") == (3, 1)
    assert await _count(g, TOWN_CLERK, owner="fy-nongqiao") == (3, 1)  # its own, whatever
    assert await _count(g, TOWN_CLERK, status="REGISTERED") == (3, 1)
    assert await _count(g, TOWN_CLERK, status="ANSWERED") == (0, 0)
    store_counts.clear()
    await g.run(TOWN_CLERK, "{ complaints(first: 1) { edges { node { id } } } }")
    assert store_counts == []  # not selected: not counted
