"""docs/graph.md's three screens (issue 18), each one request, executed as written through
the real gateway: the township clerk's work queue, the department's inbox with its pending
requests, the justice bureau's supervision dashboard (R-SUP-02, R-NTF-04)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from tests.e2e.scenario import Gateway, eventually, run_slice
from tests.e2e.scenario import data_of as _data
from tests.e2e.stalls import assert_no_stalls
from tests.integration.suite.test_graph_guide import guide_queries

CHINA = ZoneInfo("Asia/Shanghai")
REQUEST_TEC = """
mutation($input: RequestTechnicalSupportInput!) { requestTechnicalSupport(input: $input) {
  __typename ... on TechnicalSupportRequest { id } ... on UserError { code message field }
} }"""


async def test_R_SUP_02_R_NTF_04_the_guide_screens_are_one_request_each(
    embedded_gateway: Gateway,
) -> None:
    gw = embedded_gateway
    screens = guide_queries()
    referral = await run_slice(gw)  # fy-market → 寒葱沟镇, sent
    town = gw.mint("fy-hancong", ["clerk"])
    housing = gw.mint("fy-housing", ["clerk"])
    justice = gw.mint("fy-justice", ["supervisor"])
    tec = _data(
        await gw.query(
            town,
            REQUEST_TEC,
            {
                "input": {
                    "townshipId": "fy-hancong",
                    "departmentId": "fy-housing",
                    "kind": "CONSULTATION",
                    "question": "该情形适用哪一条款",
                    "documentNumber": "寒协〔2026〕9号",
                }
            },
        )
    )["requestTechnicalSupport"]
    assert tec["__typename"] == "TechnicalSupportRequest", tec

    # 1. The clerk's queue: the referral to accept, with its sender, in one request.
    async def queued() -> dict[str, Any] | None:
        agency = _data(await gw.query(town, screens["ClerkQueue"]))["viewer"]["agency"]
        nodes = [e["node"] for e in agency["workQueue"]["edges"]]
        mine = [n for n in nodes if (n["subject"] or {}).get("id") == referral["id"]]
        return agency if mine else None

    agency = await eventually(queued, what="the referral's clock in the clerk's queue")
    assert agency["name"] == "寒葱沟镇人民政府" and agency["unreadCount"] >= 1
    queue = agency["workQueue"]
    assert queue["totalCount"] >= 1 and queue["overdueCount"] == 0
    item = next(
        e["node"]
        for e in queue["edges"]
        if (e["node"]["subject"] or {}).get("id") == referral["id"]
    )
    assert item["subject"]["__typename"] == "Referral"
    assert item["subject"]["referralStatus"] == "SENT"
    assert item["subject"]["sender"]["name"] == "抚远市市场监督管理局"
    assert item["overdue"] is False and item["remainingSeconds"] > 0

    # 2. The department: the technical request unread in its inbox and pending in its queue.
    async def pending() -> dict[str, Any] | None:
        data = _data(
            await gw.query(housing, screens["DepartmentInbox"], {"agencyId": "fy-housing"})
        )
        return data if data["viewer"]["agency"]["workQueue"]["totalCount"] >= 1 else None

    data = await eventually(pending, what="the technical request in the department's queue")
    dept = data["viewer"]["agency"]
    assert any(e["node"]["subjectId"] == tec["id"] for e in dept["inbox"]["edges"]), dept
    subjects = [e["node"]["subject"] for e in dept["workQueue"]["edges"]]
    assert {"__typename": "TechnicalSupportRequest", "id": tec["id"]}.items() <= next(
        s for s in subjects if s and s["id"] == tec["id"]
    ).items()
    assert data["referrals"]["edges"] == []  # nothing sent to fy-housing here

    # 3. The justice bureau's dashboard for the services' current month.
    today = gw.now().astimezone(CHINA)
    board = _data(
        await gw.query(justice, screens["SupervisionDashboard"], {"month": today.strftime("%Y-%m")})
    )
    report = board["monthlyReminderList"]
    assert f"{today.year}年{today.month}月" in report["periodZh"], report
    assert report["pdfPath"].endswith(".pdf") or "pdf" in report["pdfPath"], report
    assert {"agencies", "overdue"} <= report.keys()
    assert board["viewer"]["agency"]["name"] == "抚远市司法局", board

    # The scenario left no case without an owner and a running clock (issue 14).
    await assert_no_stalls(gw)
