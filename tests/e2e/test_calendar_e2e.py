"""Issue 20 end to end in the production topology (each service its own process over
RabbitMQ and MongoDB, behind the real gateway, one movable clock).

A referral sent on Tuesday 29 December 2026 has an accept clock across New Year 2027, a
year the ``holidays`` package only forecasts: the graph shows it provisional. The
calendar administrator (the coordination body's coordinator) loads the 2027 schedule
through the gateway — a hypothetical notice (tests/fixtures/calendar) with 1–4 January off
— and anyone else is refused; a file with a bad row loads nothing. The referral service
then moves the clock (6 → 7 January), the graph shows it confirmed with the reason, and the
receiving township finds a notice in its inbox.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from kernel.calendar import national_year_confirmed
from kernel.clock import write_offset
from kernel.settings import Settings
from tests.e2e.scenario import Gateway, eventually
from tests.e2e.stalls import assert_no_stalls
from tests.e2e.test_notify_production_e2e import _send_referral
from tests.fixtures.schedules import graphql_input, schedule_2027_data

pytestmark = [
    pytest.mark.timeout(600),
    pytest.mark.skipif(national_year_confirmed(2027), reason="holidays already confirms 2027"),
]

CHINA = ZoneInfo("Asia/Shanghai")
SENT_ON = datetime(2026, 12, 29, 10, 0, tzinfo=CHINA)  # Tuesday
FORECAST_DUE = datetime(2027, 1, 6, 23, 59, 59, tzinfo=CHINA)  # 5 wd, the package's 2027
MOVED_DUE = datetime(2027, 1, 7, 23, 59, 59, tzinfo=CHINA)  # 5 wd, 1–4 January off
NOTICE = "国办发明电〔2026〕99号"

IMPORT = """
mutation($input: HolidayScheduleInput!) {
  importHolidaySchedule(input: $input) {
    __typename
    ... on HolidayScheduleImport { outcome schedule { year revision documentNumber source } }
    ... on UserError { code message field }
  }
}"""

SCHEDULES = """
query { holidaySchedules(year: 2027) { year revision documentNumber loadedBy } }"""

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
    assert "2027年的节假日安排尚未经国务院办公厅通知确认" in before["explanation"]

    data = schedule_2027_data()
    # Anyone but the calendar administrator is refused, through the gateway.
    for token in (gw.mint("fy-market", ["leader"]), gw.mint("fy-justice", ["supervisor"])):
        refused = (await gw.query(token, IMPORT, {"input": graphql_input(data)}))["data"]
        assert refused["importHolidaySchedule"]["code"] == "FORBIDDEN", refused
    admin = gw.mint("fy-coord", ["coordinator"])
    # A bad row (a Friday as an adjusted working day) names itself and loads nothing.
    bad = graphql_input(data)
    bad["workingDays"] = [*bad["workingDays"], {"date": "2027-03-05", "name": "调休上班"}]
    answer = (await gw.query(admin, IMPORT, {"input": bad}))["data"]["importHolidaySchedule"]
    assert answer["code"] == "VALIDATION_FAILED", answer
    assert "working_days[4] 2027-03-05" in answer["message"], answer
    assert (await gw.query(admin, SCHEDULES))["data"]["holidaySchedules"] == []

    loaded = (await gw.query(admin, IMPORT, {"input": graphql_input(data)}))["data"]
    assert loaded["importHolidaySchedule"] == {
        "__typename": "HolidayScheduleImport",
        "outcome": "loaded",
        "schedule": {"year": 2027, "revision": 1, "documentNumber": NOTICE, "source": "graphql"},
    }
    again = (await gw.query(admin, IMPORT, {"input": graphql_input(data)}))["data"]
    assert again["importHolidaySchedule"]["outcome"] == "unchanged"
    [version] = (await gw.query(admin, SCHEDULES))["data"]["holidaySchedules"]
    assert version["revision"] == 1 and version["loadedBy"]

    # The referral service (its own process, told over the bus) moves the clock.
    async def moved() -> dict[str, Any] | None:
        got = await _accept(gw, receiver, rid)
        return got if got and datetime.fromisoformat(got["due"]) == MOVED_DUE else None

    after = await eventually(moved, within=120, what="the accept clock moved")
    assert after["provisional"] is False and after["overdue"] is False
    assert NOTICE in after["explanation"]
    assert "原截止时间2027年1月6日（星期三）24时" in after["explanation"]

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
    assert NOTICE in notice["body"] and "调整为2027年1月7日（星期四）24时" in notice["body"]

    # On 7 January, past the forecast's due time, the clock is not overdue.
    write_offset(clock_file, datetime(2027, 1, 7, 12, 0, tzinfo=CHINA) - datetime.now(UTC))
    late = await _accept(gw, receiver, rid)
    assert late is not None and late["overdue"] is False, late
    await assert_no_stalls(gw)
