"""Through the real gateway: the work queue (issue 18) — "what is due for my agency" across
every kind of statutory clock (R-SUP-02), with counts and the subject resolved by the
subgraph that owns it; the viewer; the unread count of the inbox (R-NTF-04). Only the
agency's own staff and the supervising roles read an agency's queue."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.e2e.scenario import Gateway, eventually, subscription_events
from tests.e2e.scenario import data_of as _data
from tests.e2e.stalls import assert_no_stalls

REQUEST_TEC = """
mutation($input: RequestTechnicalSupportInput!) { requestTechnicalSupport(input: $input) {
  __typename ... on TechnicalSupportRequest { id } ... on UserError { code message field }
} }"""
ASK = """
mutation($input: AskInformationInput!) { askInformation(input: $input) {
  __typename ... on InformationQuery { id } ... on UserError { code message field }
} }"""
QUEUE_FIELDS = """
  totalCount overdueCount
  pageInfo { hasNextPage endCursor hasPreviousPage startCursor }
  edges { cursor node {
    id kind subjectType subjectId due state rule explanation overdue remainingSeconds
    subject {
      __typename
      ... on TechnicalSupportRequest { id status township { id name } }
      ... on InformationQuery { id queryStatus: status subject }
    }
  } }
"""
VIEWER = (
    """
query($first: Int!, $after: String, $filter: WorkQueueFilter) { viewer {
  personId district roles agency { id name kind unreadCount
  workQueue(first: $first, after: $after, filter: $filter) {"""
    + QUEUE_FIELDS
    + "} } } }"
)
# The two kinds of clock this test creates (fy-housing also owes its routine meeting, R-MTG-01).
TWO_KINDS = {"subjectTypes": ["TechnicalSupportRequest", "InformationQuery"]}
AGENCY_QUEUE = (
    'query { agency(id: "fy-housing") { id workQueue(filter: {subjectTypes: '
    '["TechnicalSupportRequest", "InformationQuery"]}) { ' + QUEUE_FIELDS + " } } }"
)
AGENCY_UNREAD = 'query { agency(id: "fy-housing") { id unreadCount } }'


async def test_R_SUP_02_work_queue_lists_every_kind_of_clock_with_counts_and_subjects(
    embedded_gateway: Gateway,
) -> None:
    gw = embedded_gateway
    township = gw.mint("fy-hancong", ["clerk"])
    market = gw.mint("fy-market", ["clerk"])
    housing = gw.mint("fy-housing", ["clerk"])
    justice = gw.mint("fy-justice", ["supervisor"])

    tec = _data(
        await gw.query(
            township,
            REQUEST_TEC,
            {
                "input": {
                    "townshipId": "fy-hancong",
                    "departmentId": "fy-housing",
                    "kind": "IDENTIFICATION",
                    "question": "该建筑是否属于违法建设",
                    "documentNumber": "寒协〔2026〕7号",
                }
            },
        )
    )["requestTechnicalSupport"]
    assert tec["__typename"] == "TechnicalSupportRequest", tec
    inf = _data(
        await gw.query(
            market,
            ASK,
            {
                "input": {
                    "requesterId": "fy-market",
                    "holderId": "fy-housing",
                    "subject": "某小区违建登记信息",
                    "purpose": "核查案件事实",
                }
            },
        )
    )["askInformation"]
    assert inf["__typename"] == "InformationQuery", inf

    async def both_queued() -> dict[str, Any] | None:
        viewer = _data(await gw.query(housing, VIEWER, {"first": 20, "filter": TWO_KINDS}))[
            "viewer"
        ]
        return viewer if viewer["agency"]["workQueue"]["totalCount"] == 2 else None

    viewer = await eventually(both_queued, within=60, what="both clocks in fy-housing's work queue")
    assert viewer["agency"]["id"] == "fy-housing" and viewer["agency"]["name"], viewer
    assert viewer["roles"] == ["clerk"] and viewer["district"] == "fuyuan"
    # Both requests are addressed notices awaiting a receipt (R-NTF-04).
    assert viewer["agency"]["unreadCount"] >= 2, viewer
    queue = viewer["agency"]["workQueue"]
    assert queue["overdueCount"] == 0 and queue["pageInfo"]["hasNextPage"] is False
    nodes = [e["node"] for e in queue["edges"]]
    # Soonest first: the information query (5 working days) after the technical reply (3).
    assert [n["subjectType"] for n in nodes] == ["TechnicalSupportRequest", "InformationQuery"]
    assert nodes[0]["due"] <= nodes[1]["due"]
    first, second = nodes
    assert first["subject"] == {
        "__typename": "TechnicalSupportRequest",
        "id": tec["id"],
        "status": "REQUESTED",
        "township": {"id": "fy-hancong", "name": first["subject"]["township"]["name"]},
    }
    assert second["subject"]["__typename"] == "InformationQuery"
    assert second["subject"]["id"] == inf["id"]
    for n in nodes:
        assert n["state"] == "open" and n["overdue"] is False and n["remainingSeconds"] > 0, n
        assert n["explanation"] and "工作日" in n["explanation"], n
        # Read back from the store, the due time is spelled in China time (one spelling).
        assert n["due"].endswith("+08:00"), n

    # Paging: one per page, the cursor resumes after the first; the counts stay whole.
    page1 = _data(await gw.query(housing, VIEWER, {"first": 1, "filter": TWO_KINDS}))["viewer"][
        "agency"
    ]["workQueue"]
    assert page1["totalCount"] == 2 and page1["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["id"] for e in page1["edges"]] == [first["id"]]
    page2 = _data(
        await gw.query(
            housing,
            VIEWER,
            {"first": 1, "after": page1["pageInfo"]["endCursor"], "filter": TWO_KINDS},
        )
    )["viewer"]["agency"]["workQueue"]
    assert [e["node"]["id"] for e in page2["edges"]] == [second["id"]]
    assert page2["pageInfo"]["hasNextPage"] is False
    # The Relay connection spec, both ends: the first page has nothing before it.
    assert page1["pageInfo"]["hasPreviousPage"] is False
    assert page2["pageInfo"]["hasPreviousPage"] is True
    assert page2["pageInfo"]["startCursor"] == page2["edges"][0]["cursor"]

    # Filters: by subject type; overdue only (nothing is late yet); a bound just after the
    # first due time keeps the first and drops the second.
    only_inf = _data(
        await gw.query(
            housing, VIEWER, {"first": 20, "filter": {"subjectTypes": ["InformationQuery"]}}
        )
    )["viewer"]["agency"]["workQueue"]
    assert only_inf["totalCount"] == 1 and only_inf["edges"][0]["node"]["id"] == second["id"]
    late = _data(
        await gw.query(housing, VIEWER, {"first": 20, "filter": {**TWO_KINDS, "overdueOnly": True}})
    )
    assert late["viewer"]["agency"]["workQueue"]["totalCount"] == 0
    if first["due"] < second["due"]:
        bounded = _data(
            await gw.query(
                housing, VIEWER, {"first": 20, "filter": {**TWO_KINDS, "dueBefore": second["due"]}}
            )
        )["viewer"]["agency"]["workQueue"]
        assert [e["node"]["id"] for e in bounded["edges"]] == [first["id"]]
    empty = await gw.query(housing, VIEWER, {"first": 20, "filter": {"subjectTypes": []}})
    assert empty["errors"][0]["extensions"]["code"] == "VALIDATION_FAILED", empty

    # The requester's queue does not carry the department's clocks.
    requester = _data(await gw.query(township, VIEWER, {"first": 20}))["viewer"]["agency"][
        "workQueue"
    ]
    assert tec["id"] not in [e["node"]["subjectId"] for e in requester["edges"]]

    # Another agency's clerk may read neither fy-housing's queue nor its unread count; the
    # justice bureau may read both.
    for query in (AGENCY_QUEUE, AGENCY_UNREAD):
        refused = await gw.query(market, query)
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN", refused
    supervised = _data(await gw.query(justice, AGENCY_QUEUE))["agency"]
    assert supervised["workQueue"]["totalCount"] == 2
    assert _data(await gw.query(justice, AGENCY_UNREAD))["agency"]["unreadCount"] >= 2
    await assert_no_stalls(gw)


CHANGES = """
subscription($agencyId: ID!, $after: String) {
  workQueueChanged(agencyId: $agencyId, after: $after) {
    cursor item { id subjectType subjectId state due }
  }
}"""


async def _request_technical_support(gw: Gateway, token: str, n: int) -> str:
    body = await gw.query(
        token,
        REQUEST_TEC,
        {
            "input": {
                "townshipId": "fy-hancong",
                "departmentId": "fy-housing",
                "kind": "CONSULTATION",
                "question": f"第{n}个问题",
                "documentNumber": f"寒协〔2026〕{100 + n}号",
            }
        },
    )
    created = _data(body)["requestTechnicalSupport"]
    assert created["__typename"] == "TechnicalSupportRequest", created
    return str(created["id"])


async def test_R_SUP_02_live_work_queue_resumes_after_a_reconnect_without_repeats(
    embedded_gateway: Gateway,
) -> None:
    """Issue 18, live updates: a subscriber of fy-housing's queue sees a new clock; after a
    disconnect it resumes from the last cursor and gets what changed meanwhile, once; another
    agency's clerk is refused."""
    gw = embedded_gateway
    township = gw.mint("fy-hancong", ["clerk"])
    housing = gw.mint("fy-housing", ["clerk"])
    first: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    listening = asyncio.create_task(
        subscription_events(gw, housing, CHANGES, {"agencyId": "fy-housing"}, first)
    )
    change: dict[str, Any] | None = None
    try:
        # What is stored after the stream opened is delivered: request until one arrives.
        for n in range(1, 8):
            rid = await _request_technical_support(gw, township, n)
            try:
                while True:
                    message = await asyncio.wait_for(first.get(), timeout=8)
                    got = message["data"]["workQueueChanged"]
                    if got["item"]["subjectId"] == rid:
                        change = got
                        break
            except TimeoutError:
                continue
            break
    finally:
        listening.cancel()
        await asyncio.gather(listening, return_exceptions=True)
    assert change is not None, "the subscription delivered nothing"
    assert change["item"]["subjectType"] == "TechnicalSupportRequest"
    assert change["item"]["state"] == "open" and change["item"]["due"].endswith("+08:00")

    # Disconnected: another request is made. Resumed after the cursor, the subscriber gets
    # it, and not the change it had already received.
    missed = await _request_technical_support(gw, township, 99)
    resumed: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    again = asyncio.create_task(
        subscription_events(
            gw, housing, CHANGES, {"agencyId": "fy-housing", "after": change["cursor"]}, resumed
        )
    )
    try:
        seen: list[str] = []
        while missed not in seen:
            message = await asyncio.wait_for(resumed.get(), timeout=30)
            seen.append(message["data"]["workQueueChanged"]["item"]["subjectId"])
        assert change["item"]["subjectId"] not in seen, seen
    finally:
        again.cancel()
        await asyncio.gather(again, return_exceptions=True)

    stranger: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    refused = asyncio.create_task(
        subscription_events(
            gw, gw.mint("fy-market", ["clerk"]), CHANGES, {"agencyId": "fy-housing"}, stranger
        )
    )
    try:
        denial = await asyncio.wait_for(stranger.get(), timeout=30)
    finally:
        refused.cancel()
        await asyncio.gather(refused, return_exceptions=True)
    assert denial.get("data") is None and "work queue" in str(denial["errors"]), denial
    await assert_no_stalls(gw)


ISSUE_CORRECTION = """
mutation($input: IssueCorrectionOpinionInput!) { issueCorrectionOpinion(input: $input) {
  __typename ... on CorrectionOpinion { id } ... on UserError { code message field }
} }"""
TOWNSHIP_QUEUE = """
query { viewer { agency { workQueue(filter: {subjectTypes: ["CorrectionOpinion"]}) {
  totalCount
  edges { node { subjectId subject { __typename ... on CorrectionOpinion { id status } } } }
} } } }"""


async def test_R_NTF_05_a_correction_opinion_is_in_the_townships_queue_with_its_subject(
    embedded_gateway: Gateway,
) -> None:
    """The duties of issue 14 are work-queue subjects too: the township owes a reply to a
    correction opinion (R-NTF-05), and its queue links to the opinion, resolved by
    coordination."""
    gw = embedded_gateway
    opinion = _data(
        await gw.query(
            gw.mint("fy-market", ["leader"]),
            ISSUE_CORRECTION,
            {
                "input": {
                    "departmentId": "fy-market",
                    "townshipId": "fy-hancong",
                    "finding": "UNLAWFUL",
                    "caseReference": "寒罚〔2026〕5号",
                    "problems": "罚款超出法定幅度",
                    "opinion": "撤销原处罚决定，依法重新作出",
                    "documentNumber": "抚市监纠〔2026〕5号",
                }
            },
        )
    )["issueCorrectionOpinion"]
    assert opinion["__typename"] == "CorrectionOpinion", opinion
    township = gw.mint("fy-hancong", ["clerk"])

    async def queued() -> dict[str, Any] | None:
        queue = _data(await gw.query(township, TOWNSHIP_QUEUE))["viewer"]["agency"]["workQueue"]
        return queue if queue["totalCount"] >= 1 else None

    queue = await eventually(queued, within=60, what="the opinion's reply clock in the queue")
    assert queue["edges"][0]["node"]["subjectId"] == opinion["id"]
    assert queue["edges"][0]["node"]["subject"] == {
        "__typename": "CorrectionOpinion",
        "id": opinion["id"],
        "status": queue["edges"][0]["node"]["subject"]["status"],
    }
    await assert_no_stalls(gw)
