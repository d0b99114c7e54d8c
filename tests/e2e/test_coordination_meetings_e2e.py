"""Consultation meetings (R-MTG-01) end to end: notice → RSVP → minutes → agreement → issued
and filed → task done through the real Hive gateway, and the 会议纪要 PDF downloaded from the
coordination service's own route (the gateway proxies GraphQL only). In both topologies, demo
district: the fixtures are ``embedded_gateway`` and ``production_gateway`` (tests/e2e/conftest.py)
made to also tell where the coordination service listens."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from kernel.settings import Settings
from tests.e2e.conftest import running_production, serving_embedded_suite
from tests.e2e.scenario import Gateway, eventually
from tests.e2e.scenario import answer_of as _call
from tests.e2e.stalls import assert_no_stalls

CHINA = ZoneInfo("Asia/Shanghai")

MEETING = """
    __typename
    ... on Meeting {
      id status lateNotice minutesPdfUrl awaitingAgreementOf
      attendees { id name }
      rsvps { agencyId attending late }
      minutes { revision number tasks { id ownerAgencyId deadline done } }
      filing { agencyId agency { name } }
      deadlines { kind state responsibleAgencyId explanation due }
    }
    ... on UserError { code message field }
"""
SCHEDULE = (
    "mutation($input: ScheduleMeetingInput!) { scheduleMeeting(input: $input) {" + MEETING + "} }"
)
RSVP = (
    "mutation($id: ID!, $delegate: String!) { rsvpMeeting(meetingId: $id, attending: true,"
    " delegate: $delegate) {" + MEETING + "} }"
)
DRAFT = (
    "mutation($input: DraftMeetingMinutesInput!) { draftMeetingMinutes(input: $input) {"
    + MEETING
    + "} }"
)
AGREE = (
    "mutation($id: ID!) { answerMeetingMinutes(meetingId: $id, revision: 1, agrees: true) {"
    + MEETING
    + "} }"
)
ISSUE = (
    'mutation($id: ID!) { issueMeetingMinutes(meetingId: $id, number: "抚市监纪〔2026〕3号") {'
    + MEETING
    + "} }"
)
FILE = (
    'mutation($id: ID!) { fileMeetingMinutes(meetingId: $id, withAgencyId: "fy-gov") {'
    + MEETING
    + "} }"
)
DONE = (
    "mutation($id: ID!, $task: ID!) { completeMeetingTask(meetingId: $id, taskId: $task, result:"
    ' "已完成") {' + MEETING + "} }"
)
READ = "query($id: ID!) { meeting(id: $id) {" + MEETING.split("... on UserError")[0] + "} }"


@dataclass
class Suite:
    gateway: Gateway
    coordination_base: str  # the coordination service's own routes (no gateway in between)


@pytest.fixture
async def embedded_suite(tmp_path: Path, unique_name: str) -> AsyncIterator[Suite]:
    async with serving_embedded_suite(tmp_path, unique_name) as served:
        yield Suite(Gateway(served.gateway_url, served.token), f"{served.base_url}/coordination")


@asynccontextmanager
async def production_meetings_suite(
    tmp_path: Path, production_env: tuple[dict[str, str], Settings]
) -> AsyncIterator[Suite]:
    """``production_gateway``'s topology, keeping the coordination service's port for the
    PDF route."""
    async with running_production(tmp_path, production_env) as (gateway, services):
        yield Suite(gateway, f"http://127.0.0.1:{services.ports['coordination']}")


@pytest.fixture
async def production_suite(
    tmp_path: Path, production_env: tuple[dict[str, str], Settings]
) -> AsyncIterator[Suite]:
    async with production_meetings_suite(tmp_path, production_env) as suite:
        yield suite


def in_weeks(gw: Gateway, n: int) -> str:
    """The date ``n`` weeks after the services' today (Asia/Shanghai)."""
    return (gw.now().astimezone(CHINA) + timedelta(weeks=n)).date().isoformat()


# A deadline decades ahead: its clock used to record every day from now to then (megabytes
# per clock in the meeting and in each event), which stalled the suite; now it is counted
# on the day itself (coordination.application.meetings._until_end_of).
FAR_DEADLINE = "2099-12-30"


def _notice(starts_at: datetime, **over: Any) -> dict[str, Any]:
    return {
        "kind": "SPECIAL",
        "title": "城郊违法建设查处专题协调会",
        "convenerId": "fy-market",
        "startsAt": starts_at.isoformat(),
        "place": "抚远市政府三楼会议室",
        "attendeeIds": ["fy-housing", "fy-natres"],
        "agenda": ["明确城郊违法建设查处分工"],
        **over,
    }


async def test_R_MTG_01_notice_rsvp_minutes_agreement_issue_file_task_and_pdf_embedded(
    embedded_suite: Suite, tmp_path: Path
) -> None:
    await run_meeting_path(embedded_suite, tmp_path)


async def test_R_MTG_01_notice_rsvp_minutes_agreement_issue_file_task_and_pdf_production(
    production_suite: Suite, tmp_path: Path
) -> None:
    """The same path across separate processes over RabbitMQ and MongoDB."""
    await run_meeting_path(production_suite, tmp_path)


async def run_meeting_path(suite: Suite, tmp_path: Path) -> None:
    gw = suite.gateway
    market = gw.mint("fy-market", ["leader"])
    housing = gw.mint("fy-housing", ["leader"])
    natres = gw.mint("fy-natres", ["leader"])
    outsider = gw.mint("fy-wusu", ["clerk"])

    # Too late for an ordinary notice (the meeting is tomorrow): a UserError, nothing stored.
    tomorrow = gw.now() + timedelta(days=1)
    late = await _call(gw, market, SCHEDULE, "scheduleMeeting", input=_notice(tomorrow))
    assert late["__typename"] == "UserError", late
    assert late["code"] == "VALIDATION_FAILED" and late["field"] == "startsAt"

    # An urgent special meeting may be noticed late (recorded as such); it starts shortly,
    # so the minutes can follow in the same test.
    starts = gw.now() + timedelta(seconds=10)

    async def scheduled() -> Any:
        m = await _call(gw, market, SCHEDULE, "scheduleMeeting", input=_notice(starts, urgent=True))
        return m if m["__typename"] == "Meeting" else None

    m = await eventually(scheduled, what="the agency register")
    mid = m["id"]
    assert m["lateNotice"] is True and m["status"] == "SCHEDULED"
    assert {d["kind"] for d in m["deadlines"]} == {
        "meeting.rsvp:fy-housing",
        "meeting.rsvp:fy-natres",
    }
    assert "工作日" in m["deadlines"][0]["explanation"] or m["deadlines"][0]["explanation"]
    await _call(gw, housing, RSVP, "rsvpMeeting", id=mid, delegate="张三")
    m = await _call(gw, natres, RSVP, "rsvpMeeting", id=mid, delegate="李四")
    assert {r["agencyId"] for r in m["rsvps"]} == {"fy-housing", "fy-natres"}

    draft = {
        "meetingId": mid,
        "decisions": "会议明确由住房和城乡建设局牵头查处，自然资源局配合测量。",
        "tasks": [
            {
                "description": "对城郊违法建设现场进行测量",
                "ownerAgencyId": "fy-natres",
                "deadline": in_weeks(gw, 3),
            },
            {
                "description": "依法下达限期拆除决定",
                "ownerAgencyId": "fy-housing",
                "deadline": FAR_DEADLINE,
            },
        ],
    }

    async def drafted() -> Any:
        # The minutes follow the meeting: refused (INVALID_STATE) until it has started.
        d = await _call(gw, market, DRAFT, "draftMeetingMinutes", input=draft)
        if d["__typename"] == "UserError":
            assert d["code"] == "INVALID_STATE", d
            return None
        return d

    m = await eventually(drafted, within=60, what="the meeting to start")
    assert m["status"] == "MINUTES_DRAFTED" and m["awaitingAgreementOf"] == [
        "fy-housing",
        "fy-natres",
    ]

    # Issued before agreement: a UserError, nothing changes.
    early = await _call(gw, market, ISSUE, "issueMeetingMinutes", id=mid)
    assert early["__typename"] == "UserError" and early["code"] == "INVALID_STATE", early
    assert (await _call(gw, market, READ, "meeting", id=mid))["status"] == "MINUTES_DRAFTED"

    await _call(gw, housing, AGREE, "answerMeetingMinutes", id=mid)
    await _call(gw, natres, AGREE, "answerMeetingMinutes", id=mid)
    m = await _call(gw, market, ISSUE, "issueMeetingMinutes", id=mid)
    assert m["status"] == "MINUTES_ISSUED", m
    assert m["minutesPdfUrl"] == f"/meetings/{mid}/minutes.pdf"
    assert {d["kind"] for d in m["deadlines"] if d["kind"].startswith("meeting.task")} == {
        "meeting.task:t1",
        "meeting.task:t2",
    }
    far = next(d for d in m["deadlines"] if d["kind"] == "meeting.task:t2")
    assert far["due"].startswith(FAR_DEADLINE) and "2099年12月30日" in far["explanation"], far
    m = await _call(gw, market, FILE, "fileMeetingMinutes", id=mid)
    assert m["status"] == "FILED" and m["filing"]["agencyId"] == "fy-gov"

    # A task done by another agency: a UserError, nothing changes.
    wrong = await _call(gw, housing, DONE, "completeMeetingTask", id=mid, task="t1")
    assert wrong["__typename"] == "UserError" and wrong["code"] == "FORBIDDEN", wrong
    m = await _call(gw, natres, DONE, "completeMeetingTask", id=mid, task="t1")
    assert [t["done"] for t in m["minutes"]["tasks"]] == [True, False]
    # Issue 18: a task's id is unique across meetings (a client cache's key); the mutation
    # takes it as well as the task's number.
    assert [t["id"] for t in m["minutes"]["tasks"]] == [f"{mid}/t1", f"{mid}/t2"]
    task_clock = next(d for d in m["deadlines"] if d["kind"] == "meeting.task:t1")
    assert task_clock["state"] == "met"

    async with httpx.AsyncClient(base_url=suite.coordination_base, timeout=60) as http:
        denied = await http.get(m["minutesPdfUrl"], headers={"Authorization": f"Bearer {outsider}"})
        assert denied.status_code == 403 and denied.json()["error"]["code"] == "FORBIDDEN"
        anonymous = await http.get(m["minutesPdfUrl"])
        assert anonymous.status_code == 401
        pdf = await http.get(m["minutesPdfUrl"], headers={"Authorization": f"Bearer {housing}"})
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["x-content-type-options"] == "nosniff"
    assert pdf.headers["content-disposition"].startswith("attachment; filename*=UTF-8''")
    path = tmp_path / "minutes.pdf"
    path.write_bytes(pdf.content)
    done = await asyncio.to_thread(
        subprocess.run, ["pdftotext", str(path), "-"], check=True, capture_output=True, text=True
    )
    text = "".join(done.stdout.split())
    for part in (
        "会议纪要",
        "抚远市市场监督管理局",
        "对城郊违法建设现场进行测量",
        "抚远市人民政府",
    ):
        assert part in text, part
    await assert_no_stalls(suite.gateway)
