"""R-MTG-01 routine meetings in the production topology (issue 14, item 7): FY's policy holds
the consultation meeting every six months, convened by the departments (FY (四)3). At start
the half-year's clock runs for each department; near the period's end, with none scheduled,
notify's watch (on the shared movable clock) reminds the convener — an inbox item with its
receipt; scheduling a routine meeting meets the clock and opens the next period's. Bad input
gets stable codes; the stall list stays empty."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.scenario import ACK, eventually
from tests.e2e.stalls import assert_no_stalls
from tests.e2e.test_notify_deadline_production_e2e import Topology, topology

__all__ = ["topology"]  # the production fixture with the shared clock

pytestmark = pytest.mark.timeout(900)
CHINA = ZoneInfo("Asia/Shanghai")

DUE = """
query($c: ID) {
  routineMeetingsDue(convenerId: $c) {
    name nameZh period due rule metByMeetingId convener { id }
  }
}"""
SCHEDULE = """
mutation($input: ScheduleMeetingInput!) {
  scheduleMeeting(input: $input) {
    __typename ... on Meeting { id } ... on UserError { code message field }
  }
}"""
INBOX = """
query { myInbox(first: 100) { edges { node { id kind subjectId title dueAt readAt } } } }"""


async def _due(t: Topology, token: str, convener: str | None = None) -> list[dict[str, Any]]:
    body = await t.gw.query(token, DUE, {"c": convener})
    assert "errors" not in body, body
    return list(body["data"]["routineMeetingsDue"])


async def test_R_MTG_01_routine_meeting_due_reminded_and_met_by_scheduling_production(
    topology: Topology,
) -> None:
    t = topology
    gw = t.gw
    market = gw.mint("fy-market", ["clerk"])
    now = gw.now().astimezone(CHINA)
    half = "H1" if now.month <= 6 else "H2"
    period = f"{now.year}-{half}"
    end = datetime(now.year, 6 if half == "H1" else 12, 30 if half == "H1" else 31, tzinfo=CHINA)

    rows = await eventually(lambda: _due(t, market), what="the routine clocks at start")
    assert [(r["name"], r["period"], r["convener"]["id"]) for r in rows] == [
        ("consultation", period, "fy-market")
    ], rows
    due = datetime.fromisoformat(rows[0]["due"])
    assert due == datetime.combine(end.date(), time(23, 59, 59), CHINA), rows
    assert "每半年召开1次" in rows[0]["rule"] and "FY (四)3" in rows[0]["rule"], rows
    # The supervising roles see every department's; another agency's staff do not.
    justice = gw.mint("fy-justice", ["supervisor"])
    conveners = {r["convener"]["id"] for r in await _due(t, justice)}
    assert {"fy-market", "fy-natres", "fy-housing"} <= conveners, conveners
    other = await gw.query(gw.mint("fy-hancong", ["clerk"]), DUE, {"c": "fy-market"})
    assert other["errors"][0]["extensions"]["code"] == "FORBIDDEN", other

    # Near the period's end with none scheduled: the convener's reminder (R-SUP-02).
    remind_day = t.calendar.working_days_before(due.date(), 1)
    t.move_to(datetime.combine(remind_day, time(10, 0), CHINA))

    async def reminder() -> dict[str, Any] | None:
        body = await gw.query(market, INBOX)
        for e in body["data"]["myInbox"]["edges"]:
            n = e["node"]
            if n["kind"] == "deadline.reminder" and n["subjectId"].startswith("routine:"):
                return dict(n)
        return None

    item = await eventually(reminder, within=60, what="the routine-meeting reminder")
    assert "meeting.routine" in item["title"], item
    ack = (await gw.query(market, ACK, {"id": item["id"]}))["data"]["acknowledgeInboxItem"]
    assert ack["readAt"], ack

    # Scheduling one meets the clock and opens the next period's.
    starts = datetime.combine(
        t.calendar.add_working_days(gw.now(), 7).due.astimezone(CHINA).date(), time(9), CHINA
    )
    notice = {
        "kind": "ROUTINE",
        "title": "执法案件协调会商例行会议",
        "convenerId": "fy-market",
        "startsAt": starts.isoformat(),
        "place": "抚远市市场监督管理局三楼会议室",
        "attendeeIds": ["fy-hancong", "fy-nongqiao"],
        "agenda": ["通报半年来案件移送情况"],
    }
    bad = await gw.query(
        market, SCHEDULE, {"input": {**notice, "routineName": "weekly_platform_meeting"}}
    )
    bad = bad["data"]["scheduleMeeting"]
    assert (bad["__typename"], bad["code"]) == ("UserError", "VALIDATION_FAILED"), bad
    done = await gw.query(market, SCHEDULE, {"input": {**notice, "routineName": "consultation"}})
    meeting = done["data"]["scheduleMeeting"]
    assert meeting["__typename"] == "Meeting", done
    after = await _due(t, market)
    assert len(after) == 1 and after[0]["metByMeetingId"] == meeting["id"], after
    nxt_half = "H1" if starts.month > 6 else "H2"
    nxt_year = starts.year + (1 if starts.month > 6 else 0)
    assert after[0]["period"] == f"{nxt_year}-{nxt_half}", after
    assert datetime.fromisoformat(after[0]["due"]) > starts, after
    await assert_no_stalls(gw)
