"""Issue 18: codes of the registry that session 8 showed only through the registry test, now
shown reaching a client through the coordination graph: each refusal just outside its rule
answers the precise ``errorCode`` with its Chinese wording; the same step just inside is
accepted. INTERNAL_UNIT and BAD_FORMAT (R-AG-02, R-AG-01: registering agencies),
LEGAL_BASIS_REQUIRED and STALE_REVISION (R-DSP-02, R-DSP-03: ruling and agreeing on a
dispute), DISTRICT_NOT_SET_UP (R-DSP-02: a step no registered body can decide), IN_THE_PAST
(R-JNT-04: a joint task's deadline), AGREEMENT_PENDING (R-MTG-01: minutes are issued once every
attendee agreed)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from coordination.bootstrap import bootstrap
from kernel.settings import Settings
from kernel.wiring import build_deps
from tests.integration.coordination.test_authz_coordination import (
    GOV,
    MARKET_CLERK,
    MARKET_LEADER,
    NATRES_LEADER,
    Graph,
    Who,
    dispute_input,
    graph,  # noqa: F401
)
from tests.integration.coordination.test_coordination_workflow_error_codes import (
    COMMENT,
    DSP,
    ERROR,
    INITIATE,
    OPEN,
    REGISTER_UNIT,
    RULE,
    START,
    SUBMIT_PLAN,
    TOWN_LEADER,
    answer,
    assert_accepted,
    assert_refused,
    operation,
    plan,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Clocked(Graph):
    """The coordination graph on a movable clock: ``now`` is the service's present."""

    def __init__(
        self, client: httpx.AsyncClient, settings: Settings, service: Any, moments: list[datetime]
    ) -> None:
        super().__init__(client, settings, service)
        self._moments = moments

    @property
    def now(self) -> datetime:
        return self._moments[0]

    def move_to(self, when: datetime) -> None:
        self._moments[0] = when


@pytest.fixture
async def clocked(tmp_path: Path, unique_name: str) -> AsyncIterator[Clocked]:
    """As the ``graph`` fixture, with the service's clock pinned to Monday 2 March 2026,
    09:00 China time (a working day), and moved by the test (never today's date)."""
    settings = Settings(data_dir=tmp_path, instance=unique_name, store="embedded", bus="memory")
    moments = [datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)]
    deps = dataclasses.replace(await build_deps(settings, "coordination"), clock=lambda: moments[0])
    service = bootstrap(deps, seed_demo=True)
    await service.runtime.start()
    transport = httpx.ASGITransport(app=service.create_app(manage_lifecycle=False))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
            yield Clocked(client, settings, service, moments)
    finally:
        await service.runtime.stop()


async def test_R_AG_02_R_AG_01_registering_names_the_internal_unit_and_format_rules(
    graph: Graph,  # noqa: F811
) -> None:
    g = graph
    office = {
        "id": "fy-market-office",
        "name": "抚远市市场监督管理局办公室",
        "kind": "DEPARTMENT",
        "internalUnit": True,
    }
    assert_refused(await answer(g, GOV, REGISTER_UNIT, input=office), "INTERNAL_UNIT", "parentId")
    inside = await answer(g, GOV, REGISTER_UNIT, input={**office, "parentId": "fy-market"})
    assert_accepted(inside, "Agency")

    bureau = {
        "id": "fy-culture",
        "name": "抚远市文化广电和旅游局",
        "kind": "DEPARTMENT",
        "liaisons": [{"name": "刘科长", "phone": "0454-5430188"}],
    }
    bad = await answer(g, GOV, REGISTER_UNIT, input={**bureau, "documentCode": "抚文〔2026〕"})
    assert_refused(bad, "BAD_FORMAT", "documentCode")
    good = await answer(g, GOV, REGISTER_UNIT, input={**bureau, "documentCode": "抚文旅"})
    assert_accepted(good, "Agency")


PROPOSE = (
    "mutation($input: ProposeDisputeAgreementInput!) { m: proposeDisputeAgreement(input: $input)"
    " { " + DSP + " } }"
)
CONFIRM = (
    "mutation($id: ID!, $revision: Int!) { m: confirmDisputeAgreement(disputeId: $id, "
    "revision: $revision) { " + DSP + " } }"
)


async def test_R_DSP_02_R_DSP_03_a_ruling_cites_its_basis_and_a_confirmation_the_current_draft(
    graph: Graph,  # noqa: F811
) -> None:
    g = graph
    opened = await answer(g, MARKET_CLERK, OPEN, input=dispute_input())
    assert_accepted(opened, "Dispute")
    ruling = {
        "disputeId": opened["id"],
        "outcomeKind": "DECISION",
        "basis": " ",
        "responsibleAgencyId": "fy-market",
    }
    blank = await answer(g, GOV, RULE, input=ruling)
    assert_refused(blank, "LEGAL_BASIS_REQUIRED", "basis")
    assert_accepted(
        await answer(g, GOV, RULE, input={**ruling, "basis": "抚政决〔2026〕2号"}), "Dispute"
    )

    other = await answer(g, MARKET_CLERK, OPEN, input=dispute_input())
    for basis in ("协议（初稿）", "协议（第二稿）"):
        proposal = {"disputeId": other["id"], "basis": basis, "responsibleAgencyId": "fy-market"}
        assert_accepted(await answer(g, MARKET_CLERK, PROPOSE, input=proposal), "Dispute")
    stale = await answer(g, MARKET_LEADER, CONFIRM, id=other["id"], revision=1)
    assert_refused(stale, "STALE_REVISION", "revision")
    assert_accepted(await answer(g, MARKET_LEADER, CONFIRM, id=other["id"], revision=2), "Dispute")


ASSIGN = (
    "mutation($input: AssignJointTaskInput!) { m: assignJointTask(input: $input) { "
    "__typename ... on JointOperation { id } " + ERROR + " } }"
)


async def test_R_JNT_04_a_joint_tasks_deadline_is_today_or_later(clocked: Clocked) -> None:
    """Today is the China date of the service's (pinned) clock."""
    g = clocked
    op = (await answer(g, NATRES_LEADER, INITIATE, input=operation("fy-hancong")))["id"]
    assert_accepted(await answer(g, NATRES_LEADER, SUBMIT_PLAN, input=plan(op)), "JointOperation")
    assert_accepted(await answer(g, TOWN_LEADER, COMMENT, id=op), "JointOperation")
    assert_accepted(await answer(g, NATRES_LEADER, START, id=op), "JointOperation")

    today = g.now.date()
    task = {"operationId": op, "agencyId": "fy-hancong", "description": "核查违法占地点位"}
    past = await answer(
        g, NATRES_LEADER, ASSIGN, input={**task, "deadline": str(today - timedelta(days=1))}
    )
    assert_refused(past, "IN_THE_PAST", "deadline")
    due_today = await answer(g, NATRES_LEADER, ASSIGN, input={**task, "deadline": str(today)})
    assert_accepted(due_today, "JointOperation")


ESCALATE = "mutation($id: ID!) { m: escalateDispute(id: $id) { " + DSP + " } }"


async def test_R_DSP_02_a_step_no_registered_body_can_decide_waits_for_the_district(
    graph: Graph,  # noqa: F811
) -> None:
    """The second step is decided by the coordination body, else the justice bureau, else
    the government; with none of them registered the escalation is refused (the district is
    not set up), and once the government is registered it goes through to it."""
    g = graph
    opened = await answer(g, MARKET_CLERK, OPEN, input=dispute_input())
    assert_accepted(opened, "Dispute")
    directory = g.service.agencies._coll
    for body in ("fy-coord", "fy-justice", "fy-gov"):
        assert await directory.delete_one({"_id": body}) == 1
    unset = await answer(g, MARKET_CLERK, ESCALATE, id=opened["id"])
    assert_refused(unset, "DISTRICT_NOT_SET_UP", "step")
    government = {
        "id": "fy-gov",
        "name": "抚远市人民政府",
        "kind": "GOVERNMENT",
        "liaisons": [{"name": "政府办", "phone": "0454-5430000"}],
    }
    assert_accepted(await answer(g, GOV, REGISTER_UNIT, input=government), "Agency")
    moved = await answer(g, MARKET_CLERK, ESCALATE, id=opened["id"])
    assert_accepted(moved, "Dispute")


MTG = "__typename ... on Meeting { id status } " + ERROR
MEETING_CALLS = {
    "schedule": "mutation($input: ScheduleMeetingInput!) { m: scheduleMeeting(input: $input) {",
    "rsvp": "mutation($id: ID!) { m: rsvpMeeting(meetingId: $id, attending: true, "
    'delegate: "张三") {',
    "draft": "mutation($input: DraftMeetingMinutesInput!) { m: draftMeetingMinutes("
    "input: $input) {",
    "agree": "mutation($id: ID!) { m: answerMeetingMinutes(meetingId: $id, revision: 1, "
    "agrees: true) {",
    "issue": 'mutation($id: ID!) { m: issueMeetingMinutes(meetingId: $id, number: "抚市监纪'
    '〔2026〕3号") {',
}


def meeting(step: str) -> str:
    return MEETING_CALLS[step] + MTG + " } }"


async def test_R_MTG_01_minutes_are_issued_once_every_attendee_agreed(clocked: Clocked) -> None:
    """AGREEMENT_PENDING: with one attending agency's agreement missing the minutes are not
    issued; with it they are. An urgent special meeting an hour ahead on the service's
    clock, which then moves past its start so that its minutes can follow."""
    g = clocked
    housing, natres = Who("fy-housing", ("leader",)), Who("fy-natres", ("leader",))
    starts = g.now + timedelta(hours=1)
    notice = {
        "kind": "SPECIAL",
        "urgent": True,
        "title": "城郊违法建设查处专题协调会",
        "convenerId": "fy-market",
        "startsAt": starts.isoformat(),
        "place": "抚远市政府三楼会议室",
        "attendeeIds": ["fy-housing", "fy-natres"],
        "agenda": ["明确城郊违法建设查处分工"],
    }
    scheduled = await answer(g, MARKET_LEADER, meeting("schedule"), input=notice)
    assert_accepted(scheduled, "Meeting")
    mid = scheduled["id"]
    for who in (housing, natres):
        assert_accepted(await answer(g, who, meeting("rsvp"), id=mid), "Meeting")
    g.move_to(starts + timedelta(hours=2))
    task = {
        "description": "对城郊违法建设现场进行测量",
        "ownerAgencyId": "fy-natres",
        "deadline": str(starts.date() + timedelta(days=21)),
    }
    draft = {"meetingId": mid, "decisions": "由住房和城乡建设局牵头查处。", "tasks": [task]}
    assert_accepted(await answer(g, MARKET_LEADER, meeting("draft"), input=draft), "Meeting")
    assert_accepted(await answer(g, housing, meeting("agree"), id=mid), "Meeting")

    one_missing = await answer(g, MARKET_LEADER, meeting("issue"), id=mid)
    assert_refused(one_missing, "AGREEMENT_PENDING", "id")
    assert "fy-natres" in one_missing["message"]
    assert_accepted(await answer(g, natres, meeting("agree"), id=mid), "Meeting")
    issued = await answer(g, MARKET_LEADER, meeting("issue"), id=mid)
    assert_accepted(issued, "Meeting")
    assert issued["status"] == "MINUTES_ISSUED"
