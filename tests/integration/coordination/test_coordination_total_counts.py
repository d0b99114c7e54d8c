"""``totalCount`` on coordination's remaining lists (issue 18): the agency directory, the
matter catalogue (R-CAT-01) and the refusals to assist kept for accountability (R-AST-02),
each counted over all pages with the list's own filters and read scope, and only when a
client selects it."""

from __future__ import annotations

from typing import Any

from tests.integration.coordination.test_authz_coordination import (
    HOUSING_CLERK,
    MARKET_CLERK,
    NATRES_CLERK,
    Graph,
    Who,
    err,
    graph,  # noqa: F401
)


async def _listed(
    g: Graph, field: str, args: str = "", count: bool = True, who: Who = MARKET_CLERK
) -> dict[str, Any]:
    """Page one item of ``field`` and the whole list (200), with ``totalCount`` if asked."""
    total = "totalCount" if count else ""
    sep = ", " if args else ""
    query = (
        f"{{ one: {field}(first: 1{sep}{args}) {{ {total} edges {{ cursor }} }} "
        f"all: {field}(first: 200{sep}{args}) {{ edges {{ cursor }} }} }}"
    )
    return await g.data(who, query)


async def test_R_CAT_01_directory_and_catalogue_count_their_filters_over_all_pages(
    graph: Graph,  # noqa: F811
    store_counts: list[str],
) -> None:
    g = graph
    for field, args in (
        ("agencies", ""),
        ("agencies", "kind: DEPARTMENT"),
        ("catalogueEntries", ""),
        ("catalogueEntries", 'departmentId: "fy-market"'),
        ("catalogueEntries", 'departmentId: "fy-market", includeWithdrawn: true'),
    ):
        found = await _listed(g, field, args)
        assert len(found["one"]["edges"]) == 1, (field, args)
        assert found["one"]["totalCount"] == len(found["all"]["edges"]) > 1, (field, args, found)
    departments = await _listed(g, "agencies", "kind: DEPARTMENT")
    everyone = await _listed(g, "agencies")
    assert departments["one"]["totalCount"] < everyone["one"]["totalCount"]

    store_counts.clear()
    await _listed(g, "agencies", count=False)
    await _listed(g, "catalogueEntries", count=False)
    assert store_counts == []  # not selected: not counted
    await _listed(g, "agencies")
    assert len(store_counts) == 1


REQUEST = (
    "mutation($input: RequestAssistanceInput!) { m: requestAssistance(input: $input) { "
    + err("... on AssistanceRequest { id }")
    + " } }"
)
REFUSE = (
    "mutation($input: ReplyToAssistanceInput!) { m: replyToAssistance(input: $input) { "
    + err("... on AssistanceRequest { id status }")
    + " } }"
)
REFUSALS = """query($helper: ID) {
  assistanceRefusals(helperId: $helper, first: 1) { totalCount edges { node { id } } } }"""


async def test_R_AST_02_refusals_are_counted_with_the_helper_filter_and_read_scope(
    graph: Graph,  # noqa: F811
) -> None:
    g = graph
    for n in (1, 2, 3):
        asked = await g.ok(
            MARKET_CLERK,
            REQUEST,
            input={
                "requesterId": "fy-market",
                "helperId": "fy-housing",
                "matters": [f"协助核查违法建设现场 {n}"],
                "letterNumber": f"抚市监协〔2026〕{n}号",
            },
        )
        if n < 3:
            await g.ok(
                HOUSING_CLERK,
                REFUSE,
                input={
                    "requestId": asked["id"],
                    "willHelp": False,
                    "replyLetterNumber": f"抚住建复〔2026〕{n}号",
                    "refusalGrounds": "超出本机关法定职权",
                    "legalProvision": "《行政处罚法》第二十六条",
                },
            )
    refusals = (await g.data(MARKET_CLERK, REFUSALS))["assistanceRefusals"]
    assert refusals["totalCount"] == 2 and len(refusals["edges"]) == 1
    by_helper = (await g.data(MARKET_CLERK, REFUSALS, helper="fy-housing"))["assistanceRefusals"]
    assert by_helper["totalCount"] == 2
    other = (await g.data(MARKET_CLERK, REFUSALS, helper="fy-natres"))["assistanceRefusals"]
    assert other["totalCount"] == 0 and other["edges"] == []
    # A third agency counts what it may list: nothing.
    outsider = (await g.data(NATRES_CLERK, REFUSALS))["assistanceRefusals"]
    assert outsider["totalCount"] == 0 and outsider["edges"] == []
