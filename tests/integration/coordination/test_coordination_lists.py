"""The coordination lists as a frontend pages them (issue 18): ordered by time with the id
breaking ties (never by random id), both ways; filtered by statuses, side (sent / received)
and time; counted (``totalCount``) over all pages; served by an index on the real server.
Read scoping is unchanged (R-INF-01: only the parties and the supervising roles list a
query)."""

from __future__ import annotations

from typing import Any

import pytest
from pymongo import AsyncMongoClient

from coordination.adapters.cooperation import InformationQueryRepository
from coordination.adapters.meetings import MeetingRepository
from coordination.adapters.repository import DisputeRepository
from kernel.keyset import Direction, ListQuery
from tests.integration.coordination.test_coordination_cooperation_access import (  # noqa: F401
    ASK,
    Graph,
    _ids,
    graph,
)

LIST = """
query($of: ID, $filter: InformationQueryFilter, $order: ListOrder! = NEWEST_FIRST,
      $first: Int! = 50, $after: String) {
  informationQueries(agencyId: $of, filter: $filter, orderBy: $order, first: $first,
                     after: $after) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id status } }
  }
}"""


async def _ask(g: Graph, requester: str, holder: str, n: int) -> str:
    asked = (
        await g.call(
            requester,
            "clerk",
            ASK,
            input={
                "requesterId": requester,
                "holderId": holder,
                "subject": f"某商户营业执照登记信息 {n}",
                "purpose": "核实无照经营",
            },
        )
    )["askInformation"]
    assert asked["__typename"] == "InformationQuery", asked
    return str(asked["id"])


async def _list(g: Graph, agency: str, **variables: Any) -> dict[str, Any]:
    found: dict[str, Any] = (await g.call(agency, "clerk", LIST, **variables))["informationQueries"]
    return found


async def test_R_INF_01_information_queries_page_by_time_both_ways_with_filters_and_count(
    graph: Graph,  # noqa: F811
) -> None:
    g = graph
    asked = [
        await _ask(g, "fy-hancong", "fy-market", 1),
        await _ask(g, "fy-hancong", "fy-market", 2),
        await _ask(g, "fy-market", "fy-hancong", 3),
    ]
    newest_first = list(reversed(asked))

    everything = await _list(g, "fy-hancong")
    assert _ids(everything) == newest_first and everything["totalCount"] == 3
    oldest = await _list(g, "fy-hancong", order="OLDEST_FIRST")
    assert _ids(oldest) == asked and oldest["totalCount"] == 3

    # Page by page, one at a time, each way: the same order, no repeats, the count on each.
    for order, expected in (("NEWEST_FIRST", newest_first), ("OLDEST_FIRST", asked)):
        seen: list[str] = []
        after = None
        while True:
            page = await _list(g, "fy-hancong", order=order, first=1, after=after)
            assert page["totalCount"] == 3
            assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
            seen += _ids(page)
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        assert seen == expected, order

    # Sides: sent (asked) and received (held), of the caller's agency or a named one.
    sent = await _list(g, "fy-hancong", filter={"direction": "SENT"})
    assert _ids(sent) == newest_first[1:] and sent["totalCount"] == 2
    received = await _list(g, "fy-hancong", filter={"direction": "RECEIVED"})
    assert _ids(received) == [asked[2]] and received["totalCount"] == 1
    named = await _list(g, "fy-hancong", of="fy-market", filter={"direction": "RECEIVED"})
    assert _ids(named) == newest_first[1:]

    # Several statuses at once; a status none is in lists nothing and counts 0.
    several = await _list(g, "fy-hancong", filter={"statuses": ["ASKED", "DECLINED"]})
    assert _ids(several) == newest_first
    none = await _list(g, "fy-hancong", filter={"statuses": ["ANSWERED", "DECLINED"]})
    assert _ids(none) == [] and none["totalCount"] == 0

    # A time window: until the first query's own time (exclusive) lists nothing before it.
    first_at = await g.call(
        "fy-hancong",
        "clerk",
        "query($id: ID!) { informationQuery(id: $id) { askedAt } }",
        id=asked[0],
    )
    at = first_at["informationQuery"]["askedAt"]
    assert _ids(await _list(g, "fy-hancong", filter={"until": at})) == []
    assert _ids(await _list(g, "fy-hancong", filter={"since": at}, order="OLDEST_FIRST")) == asked

    # A non-party still lists nothing and counts nothing, whatever it filters by.
    outsider = await _list(g, "fy-wusu", of="fy-hancong", filter={"direction": "SENT"})
    assert _ids(outsider) == [] and outsider["totalCount"] == 0


def _stages(plan: dict[str, Any]) -> list[str]:
    """Every stage name of a MongoDB query plan, depth first."""
    found = [str(plan.get("stage"))]
    for key in ("inputStage", "queryPlan"):
        if isinstance(plan.get(key), dict):
            found += _stages(plan[key])
    for child in plan.get("inputStages", []):
        found += _stages(child)
    return found


@pytest.mark.parametrize("store_kind", ["mongo"], indirect=True)
async def test_the_default_orders_of_the_lists_are_served_by_an_index(
    graph: Graph,  # noqa: F811
) -> None:
    """Each list's default page (newest first), for a party and for a supervisor, and a
    party's side, is an index scan on the real server, never a collection scan."""
    g = graph
    await _ask(g, "fy-hancong", "fy-market", 1)
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(g.settings.mongo_url)
    db = client[g.settings.database_name("coordination")]
    try:
        cases: list[tuple[str, Any, ListQuery, list[dict[str, Any]]]] = []
        for name, shape in (
            (InformationQueryRepository.name, InformationQueryRepository.shape),
            ("meetings", MeetingRepository.shape),
            ("disputes", DisputeRepository.shape),
        ):
            assert shape is not None
            scope = shape.scope("fy-hancong") if shape.reader_fields else []
            cases += [
                (name, shape, ListQuery(), []),  # a supervisor's whole list
                (name, shape, ListQuery(agency_id="fy-hancong"), scope),
                (name, shape, ListQuery(statuses=("open", "asked")), []),
            ]
            if shape.received_fields:
                side = ListQuery(agency_id="fy-hancong", direction=Direction.RECEIVED)
                cases.append((name, shape, side, scope))
        for name, shape, q, scope in cases:
            query, sort = shape.page(q, scope)
            explained = await db.command(
                "explain", {"find": name, "filter": query, "sort": dict(sort), "limit": 51}
            )
            stages = _stages(explained["queryPlanner"]["winningPlan"])
            assert "IXSCAN" in stages and "COLLSCAN" not in stages, (name, q, stages)
    finally:
        await client.close()
