"""R-SUP-02 end to end through the real gateway: a referral left unaccepted past its limit
produces a reminder before, an escalation after, and appears in the monthly reminder list
(月提示) and its .xlsx; copies (R-NTF-01) and ratings (R-SUP-03) through the graph.

The suite runs embedded behind the real Hive gateway like the ``embedded_gateway`` fixture,
except that notify gets a clock the test moves (statutory clocks run for days) and the test
keeps the suite's bus to publish ``referral.sent.v1`` exactly as the referral relay does.
"""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from openpyxl import load_workbook
from pydantic import Field

from kernel.contracts.deadlines import DeadlineV1
from kernel.envelope import new_envelope
from kernel.settings import SERVICES
from kernel.wiring import build_deps, open_bus
from liandong.cli import mint_token
from liandong.suite import Service, Suite, build_service
from notify.bootstrap import bootstrap as bootstrap_notify
from tests.e2e.conftest import serving_behind_gateway
from tests.e2e.scenario import Gateway, eventually
from tests.e2e.stalls import assert_no_stalls
from tests.e2e.test_notify_live_inbox import ReferralSentV1 as SentV1
from tests.fixtures.settings import embedded_settings

CHINA = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.timeout(300)


def local(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=CHINA)


# Monday 2 March 2026; the 5-working-day accept clock ends at 24:00 on Friday 6 March.
SENT = local(2026, 3, 2, 10)
DUE = local(2026, 3, 6, 23, 59, 59)


class MovableClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now.astimezone(UTC)


class ReferralSentV1(SentV1):
    """The fields of the referral service's contract that notify reads, with its clocks."""

    actor_agency_id: str
    state_before: str = "APPROVED"
    state_after: str = "SENT"
    deadlines: list[DeadlineV1] = Field(default_factory=list)


@dataclass
class Live:
    gw: Gateway
    suite: Suite
    clock: MovableClock
    base: str  # the suite's own HTTP address (the .xlsx routes are not behind the gateway)
    tmp: Path


@pytest.fixture
async def live(tmp_path: Path, unique_name: str) -> AsyncIterator[Live]:
    settings = embedded_settings(
        tmp_path, unique_name, district="fuyuan", relay_interval_seconds=0.1
    )
    clock = MovableClock(SENT)
    bus = open_bus(settings)
    services: dict[str, Service] = {}
    for name in SERVICES:
        if name == "notify":
            deps = await build_deps(settings, name, bus=bus)
            services[name] = bootstrap_notify(deps, clock=clock)
        else:
            services[name] = await build_service(name, settings, bus=bus, seed_demo=True)
    suite = Suite(bus=bus, services=services)
    async with serving_behind_gateway(suite.create_app(), tmp_path / "run") as (base, gateway):
        yield Live(
            Gateway(gateway.url, lambda a, r: mint_token(settings, a, r)),
            suite,
            clock,
            base,
            tmp_path,
        )


def _pdf_text(data: bytes, tmp: Path) -> str:
    path = tmp / "report.pdf"
    path.write_bytes(data)
    done = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True, text=True)
    return done.stdout


INBOX = """
query { myInbox(first: 50) { edges { node { id kind title subjectId audience urgent } } } }"""

MONTHLY = """
query($m: String!) {
  monthlyReminderList(month: $m) {
    period periodZh downloadPath pdfPath
    agencies { agencyId name accept { onTime late overdue rate } overdue }
    overdue { subjectId kind responsibleAgencyId outcome due }
  }
}"""

QUARTERLY = """
query($y: Int!, $q: Int!) {
  quarterlyBulletin(year: $y, quarter: $q) {
    period agencies { agencyId ratingsReceived ratingAverage } ratings { score direction }
  }
}"""

REPORT_APPROVAL = """
mutation($input: ReportApprovalInput!) {
  reportApproval(input: $input) {
    __typename
    ... on InboxItem { id agencyId kind urgent }
    ... on UserError { code field message }
  }
}"""

RATE = """
mutation($input: RateDepartmentInput!) {
  rateDepartment(input: $input) {
    __typename
    ... on AgencyRating { id period score }
    ... on UserError { code field message }
  }
}"""


async def _inbox(gw: Gateway, token: str) -> list[dict[str, Any]]:
    body = await gw.query(token, INBOX)
    return [e["node"] for e in body["data"]["myInbox"]["edges"]]


async def test_R_SUP_02_unaccepted_referral_reminded_escalated_and_listed(live: Live) -> None:
    gw, clock = live.gw, live.clock
    township = gw.mint("fy-hancong", ["clerk"])
    justice = gw.mint("fy-justice", ["clerk"])  # staff of the justice bureau

    notify = live.suite.services["notify"]

    async def directory_ready() -> bool:
        agencies = notify.handlers.agencies  # type: ignore[attr-defined]
        return bool(await agencies.kind("fy-justice") == "justice_bureau")

    await eventually(directory_ready, what="the agency directory in notify")

    accept = DeadlineV1(
        key=DeadlineV1.key_for("Referral", "e2e-1", "referral.accept"),
        kind="referral.accept",
        subject_type="Referral",
        subject_id="e2e-1",
        responsible_agency_id="fy-hancong",
        due=DUE,
        state="open",
        rule="5个工作日内书面告知受理情况",
    )
    await live.suite.bus.publish(
        [
            new_envelope(
                ReferralSentV1(
                    referral_id="e2e-1",
                    sender_id="fy-market",
                    receiver_id="fy-hancong",
                    matter_code="330217001",
                    title="无证经营",
                    urgent=False,
                    sent_at=SENT,
                    accept_due=DUE,
                    actor_id="p-wang",
                    actor_agency_id="fy-market",
                    deadlines=[accept],
                ),
                district="fuyuan",
                service="referral",
                subject="e2e-1",
                time=SENT,
            )
        ]
    )

    async def received() -> bool:
        return any(i["kind"] == "referral.received" for i in await _inbox(gw, township))

    await eventually(received, what="the referral in the receiver's inbox")

    async def kinds() -> list[str]:
        return [i["kind"] for i in await _inbox(gw, township) if i["subjectId"] == "e2e-1"]

    # Before the due time: one working day before, at office hours, the reminder.
    clock.now = local(2026, 3, 5, 9, 0, 1)
    await eventually(
        lambda: _has(kinds, "deadline.reminder"), what="the reminder before the due time"
    )
    assert "deadline.escalated" not in await kinds()

    # After it: missed, then the agency's leader one working day later.
    clock.now = local(2026, 3, 16, 23, 59, 59)
    await eventually(lambda: _has(kinds, "deadline.escalated"), what="the escalation")
    inbox = await _inbox(gw, township)
    [escalated] = [i for i in inbox if i["kind"] == "deadline.escalated"]
    assert escalated["audience"] == "leader" and "超期督办" in escalated["title"]
    assert any(i["kind"] == "deadline.missed" for i in inbox)

    # The monthly reminder list of March names it, for the justice bureau.
    body = await gw.query(justice, MONTHLY, {"m": "2026-03"})
    report = body["data"]["monthlyReminderList"]
    assert report["periodZh"] == "2026年3月"
    assert report["downloadPath"] == "/reports/monthly/2026-03.xlsx"
    assert report["pdfPath"] == "/reports/monthly/2026-03.pdf"
    [line] = [o for o in report["overdue"] if o["subjectId"] == "e2e-1"]
    assert line["outcome"] == "overdue" and line["responsibleAgencyId"] == "fy-hancong"
    [row] = [a for a in report["agencies"] if a["agencyId"] == "fy-hancong"]
    assert row["accept"] == {"onTime": 0, "late": 0, "overdue": 1, "rate": 0.0}
    refused = await gw.query(township, MONTHLY, {"m": "2026-03"})
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    bad = await gw.query(justice, MONTHLY, {"m": "2026-3"})
    assert bad["errors"][0]["extensions"]["code"] == "VALIDATION_FAILED"

    # The same list as .xlsx, Bearer-authenticated like the graph.
    async with httpx.AsyncClient(base_url=f"{live.base}/notify", timeout=30) as client:
        response = await client.get(
            "/reports/monthly/2026-03.xlsx", headers={"Authorization": f"Bearer {justice}"}
        )
        assert response.status_code == 200, response.text
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["content-disposition"] == (
            "attachment; filename*=UTF-8''monthly-2026-03.xlsx"
        )
        workbook = load_workbook(BytesIO(response.content))
        overdue_rows = list(workbook["超期事项"].iter_rows(min_row=2, values_only=True))
        assert [r[3] for r in overdue_rows if r[3] == "e2e-1"] == ["e2e-1"]
        [xl] = [r for r in overdue_rows if r[3] == "e2e-1"]
        assert xl[0] == "fy-hancong" and xl[5] == "超期未办"
        summary = workbook["月度提示汇总"]
        headers = [c.value for c in summary[1]]
        lines = {
            r[0]: dict(zip(headers, r, strict=False))
            for r in summary.iter_rows(min_row=2, values_only=True)
            if r[0]
        }
        assert lines["fy-hancong"]["受理超期未办"] == 1
        assert lines["fy-hancong"]["受理按时率"] == 0.0
        unauthenticated = await client.get("/reports/monthly/2026-03.xlsx")
        assert unauthenticated.status_code == 401
        forbidden = await client.get(
            "/reports/quarterly/2026-Q1.xlsx", headers={"Authorization": f"Bearer {township}"}
        )
        assert forbidden.status_code == 403
        quarterly = await client.get(
            "/reports/quarterly/2026-Q1.xlsx", headers={"Authorization": f"Bearer {justice}"}
        )
        assert quarterly.status_code == 200
        assert "双向考评" in load_workbook(BytesIO(quarterly.content)).sheetnames
        # The same list as PDF with charts (text checked with poppler's pdftotext).
        pdf = await client.get(report["pdfPath"], headers={"Authorization": f"Bearer {justice}"})
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        text = _pdf_text(pdf.content, live.tmp)
        assert "2026年3月行政执法协调监督月度提示" in text and "寒葱沟镇人民政府" in text
        assert "e2e-1" in text and "超期未办" in text
        assert (await client.get(report["pdfPath"])).status_code == 401
        forbidden_pdf = await client.get(
            "/reports/quarterly/2026-Q1.pdf", headers={"Authorization": f"Bearer {township}"}
        )
        assert forbidden_pdf.status_code == 403
        bad_pdf = await client.get(
            "/reports/monthly/2026-13.pdf", headers={"Authorization": f"Bearer {justice}"}
        )
        assert bad_pdf.status_code == 400

        # The scenario left no case without an owner and a running clock (issue 14).
        await assert_no_stalls(gw)


async def _has(kinds: Any, kind: str) -> bool:
    return kind in await kinds()


async def test_R_NTF_01_and_R_SUP_03_copies_and_ratings_through_gateway(live: Live) -> None:
    gw, clock = live.gw, live.clock
    notify = live.suite.services["notify"]

    async def directory_ready() -> bool:
        agencies = notify.handlers.agencies  # type: ignore[attr-defined]
        return bool(await agencies.kind("fy-hancong") == "township")

    await eventually(directory_ready, what="the agency directory in notify")
    market = gw.mint("fy-market", ["clerk"])
    township = gw.mint("fy-hancong", ["clerk"])
    approval = {
        "number": "抚审批〔2026〕12号",
        "matterCode": "330217001",
        "townshipId": "fy-hancong",
        "summary": "准予食品经营许可",
        "urgent": True,
    }
    bad = await gw.query(market, REPORT_APPROVAL, {"input": {**approval, "summary": " "}})
    assert bad["data"]["reportApproval"] == {
        "__typename": "UserError",
        "code": "VALIDATION_FAILED",
        "field": "input.summary",
        "message": "必填内容为空（the summary is required）",
    }

    async def copies() -> list[dict[str, Any]]:
        # The demo seed's own announcements (R-NTF-02) are in this inbox too.
        return [i for i in await _inbox(gw, township) if i["kind"] == "copy.approval"]

    assert await copies() == []  # nothing was copied
    good = await gw.query(market, REPORT_APPROVAL, {"input": approval})
    copy = good["data"]["reportApproval"]
    assert copy["__typename"] == "InboxItem" and copy["agencyId"] == "fy-hancong"
    assert copy["urgent"] is True and copy["kind"] == "copy.approval"
    [item] = await copies()
    assert item["id"] == copy["id"] and "审批抄告" in item["title"]

    clock.now = local(2026, 3, 20, 10)
    # A rating is given in the agency's name by its leader (kernel.authz, R-SUP-03).
    refused = await gw.query(township, RATE, {"input": {"departmentId": "fy-market", "score": 4}})
    assert refused["data"]["rateDepartment"]["code"] == "FORBIDDEN"
    township_leader = gw.mint("fy-hancong", ["leader"])
    rated = await gw.query(
        township_leader, RATE, {"input": {"departmentId": "fy-market", "score": 4}}
    )
    assert rated["data"]["rateDepartment"]["__typename"] == "AgencyRating"
    again = await gw.query(
        township_leader, RATE, {"input": {"departmentId": "fy-market", "score": 1}}
    )
    assert again["data"]["rateDepartment"]["code"] == "CONFLICT"
    body = await gw.query(gw.mint("fy-gov", ["government"]), QUARTERLY, {"y": 2026, "q": 1})
    bulletin = body["data"]["quarterlyBulletin"]
    [row] = [a for a in bulletin["agencies"] if a["agencyId"] == "fy-market"]
    assert row == {"agencyId": "fy-market", "ratingsReceived": 1, "ratingAverage": 4.0}
    assert bulletin["ratings"] == [{"score": 4, "direction": "township_to_department"}]
