"""Issue 20 end to end in the production topology (each service its own process over
RabbitMQ and MongoDB, behind the real gateway, one movable clock).

The year is the first one the ``holidays`` package only forecasts (derived, so the test
never skips once a year is confirmed). A referral sent on a Monday has an accept clock of 5
working days across a Thursday that a hypothetical notice (``hypothetical_schedule``) gives
off: the graph shows it provisional. The calendar administrator (the coordination body's
coordinator) loads the notice through the gateway, and anyone else is refused; a file with
a bad row loads nothing. The referral service then moves the clock (Monday → Tuesday), the
graph shows it confirmed with the reason, and the receiving township finds a notice in its
inbox.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from kernel.clock import write_offset
from kernel.settings import Settings
from tests.e2e.scenario import Gateway, eventually
from tests.e2e.stalls import assert_no_stalls
from tests.e2e.test_notify_production_e2e import _send_referral
from tests.fixtures.schedules import graphql_input, hypothetical_schedule

pytestmark = pytest.mark.timeout(600)

CHINA = ZoneInfo("Asia/Shanghai")
H = hypothetical_schedule()
YEAR = H.year
MONDAY = H.extra_day_off - timedelta(days=3)
SENT_ON = datetime.combine(MONDAY, time(10), CHINA)
# 5 wd: Tue, Wed, Thu, Fri, Mon by the forecast; the notice gives Thursday off: ... Tuesday.
FORECAST_DUE = datetime.combine(MONDAY + timedelta(days=7), time(23, 59, 59), CHINA)
MOVED_DUE = datetime.combine(MONDAY + timedelta(days=8), time(23, 59, 59), CHINA)
NOTICE = H.data["document_number"]


def _zh(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日（星期{'一二三四五六日'[day.weekday()]}）24时"


IMPORT = """
mutation($input: HolidayScheduleInput!) {
  importHolidaySchedule(input: $input) {
    __typename
    ... on HolidayScheduleImport { outcome schedule { year revision documentNumber source } }
    ... on UserError { code message field }
  }
}"""

SCHEDULES = """
query($year: Int!) { holidaySchedules(year: $year) { year revision documentNumber loadedBy } }"""

REFERRAL = """
query($id: ID!) {
  referral(id: $id) {
    acceptDeadline { due provisional mode explanation overdue }
    notices { kind agencyId dueAt body }
  }
}"""

MY_INBOX = """
query { myInbox(first: 100) { edges { node { kind subjectType subjectId dueAt title body } } } }"""


async def _accept(gw: Gateway, token: str, rid: str) -> dict[str, Any] | None:
    body = await gw.query(token, REFERRAL, {"id": rid})
    ref = (body.get("data") or {}).get("referral")
    return dict(ref["acceptDeadline"]) if ref and ref.get("acceptDeadline") else None


async def test_R_REF_06_official_schedule_moves_a_provisional_clock_and_tells_the_receiver(
    production_gateway: Gateway, production_env: tuple[dict[str, str], Settings]
) -> None:
    gw = production_gateway
    clock_file = production_env[1].test_clock_file
    assert clock_file is not None
    write_offset(clock_file, SENT_ON - datetime.now(UTC))
    rid = await _send_referral(gw, "无证经营（跨年期限）")
    receiver = gw.mint("fy-hancong", ["clerk"])

    # Computed across 2027, which no notice has confirmed yet: provisional, and says so.
    before = await eventually(lambda: _accept(gw, receiver, rid), what="the accept clock")
    assert datetime.fromisoformat(before["due"]) == FORECAST_DUE, before
    assert before["provisional"] is True
    assert before["mode"] == "working_days"
    assert f"{YEAR}年的节假日安排尚未经国务院办公厅通知确认" in before["explanation"]

    data = H.data
    # Anyone but the calendar administrator is refused, through the gateway.
    for token in (gw.mint("fy-market", ["leader"]), gw.mint("fy-justice", ["supervisor"])):
        refused = (await gw.query(token, IMPORT, {"input": graphql_input(data)}))["data"]
        assert refused["importHolidaySchedule"]["code"] == "FORBIDDEN", refused
    admin = gw.mint("fy-coord", ["coordinator"])
    # A bad row (a Friday as an adjusted working day) names itself and loads nothing.
    bad = graphql_input(data)
    friday = (H.extra_day_off + timedelta(days=1)).isoformat()
    bad["workingDays"] = [*bad["workingDays"], {"date": friday, "name": "调休上班"}]
    answer = (await gw.query(admin, IMPORT, {"input": bad}))["data"]["importHolidaySchedule"]
    assert answer["code"] == "VALIDATION_FAILED", answer
    assert f"working_days[{len(bad['workingDays']) - 1}] {friday}" in answer["message"], answer
    versions = await gw.query(admin, SCHEDULES, {"year": YEAR})
    assert versions["data"]["holidaySchedules"] == []

    loaded = (await gw.query(admin, IMPORT, {"input": graphql_input(data)}))["data"]
    assert loaded["importHolidaySchedule"] == {
        "__typename": "HolidayScheduleImport",
        "outcome": "loaded",
        "schedule": {"year": YEAR, "revision": 1, "documentNumber": NOTICE, "source": "graphql"},
    }
    again = (await gw.query(admin, IMPORT, {"input": graphql_input(data)}))["data"]
    assert again["importHolidaySchedule"]["outcome"] == "unchanged"
    [version] = (await gw.query(admin, SCHEDULES, {"year": YEAR}))["data"]["holidaySchedules"]
    assert version["revision"] == 1 and version["loadedBy"]

    # The referral service (its own process, told over the bus) moves the clock.
    async def moved() -> dict[str, Any] | None:
        got = await _accept(gw, receiver, rid)
        return got if got and datetime.fromisoformat(got["due"]) == MOVED_DUE else None

    after = await eventually(moved, within=120, what="the accept clock moved")
    assert after["provisional"] is False and after["overdue"] is False
    assert NOTICE in after["explanation"]
    assert f"原截止时间{_zh(FORECAST_DUE.date())}" in after["explanation"]

    # The receiving township is told, in its inbox, with the new due time.
    async def told() -> list[dict[str, Any]]:
        body = await gw.query(receiver, MY_INBOX)
        edges = (body.get("data") or {}).get("myInbox", {}).get("edges", [])
        return [
            e["node"]
            for e in edges
            if e["node"]["kind"] == "deadline.moved" and e["node"]["subjectId"] == rid
        ]

    [notice] = await eventually(told, within=120, what="the deadline.moved notice")
    assert notice["subjectType"] == "Referral"
    assert datetime.fromisoformat(notice["dueAt"]) == MOVED_DUE
    assert NOTICE in notice["body"] and f"调整为{_zh(MOVED_DUE.date())}" in notice["body"]

    # On the moved due day, past the forecast's due time, the clock is not overdue.
    noon = datetime.combine(MOVED_DUE.date(), time(12), CHINA)
    write_offset(clock_file, noon - datetime.now(UTC))
    late = await _accept(gw, receiver, rid)
    assert late is not None and late["overdue"] is False, late
    await assert_no_stalls(gw)
