"""Issue 20 across the services on the real store and bus (MongoDB wire protocol, RabbitMQ):
the three services built as the suite builds them, one movable clock.

Early in February 2027, before the State Council's 2027 notice is encoded in ``holidays``,
a referral, an assistance request, a technical-support request and a dispute start clocks
that cross the Spring Festival as the package forecasts it. Then the calendar administrator
loads a 2027 schedule that differs (hypothetical, tests/fixtures/calendar): days off 5–13
February, Saturday 20 February worked. The clocks that cross the change move — with a
notice to the agency that must act, an explanation naming the notice and a
``deadline.moved.v1`` — the others are marked confirmed and stay; notify's timers fire at
the new times, and the monthly list (月提示) counts lateness against the moved due times.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from coordination.application.assistance import RequestAssistance
from coordination.application.calendar import ImportHolidaySchedule
from coordination.application.disputes import OpenDispute
from coordination.application.technical import RequestTechnicalSupport
from kernel.auth import Principal
from kernel.caller import Caller
from kernel.clock import write_offset
from kernel.errors import Forbidden, ValidationFailed
from kernel.settings import Settings
from liandong.cli import mint_token
from liandong.suite import Suite, build_suite
from liandong.testing.drafts import send_one
from notify.domain.supervision import month
from referral.application.commands import AcceptReferral
from tests.e2e.scenario import eventually
from tests.fixtures.schedules import schedule_2027_data
from tests.fixtures.settings import drop_databases, server_settings
from tests.infra import Server

pytestmark = [pytest.mark.timeout(300)]

CHINA = ZoneInfo("Asia/Shanghai")
START = datetime(2027, 2, 1, 10, 0, tzinfo=CHINA)  # Monday; 2027 not yet confirmed
# 5 working days from Mon 1 Feb: the forecast ends Fri 12 Feb (5–10 Feb off), the loaded
# notice Tue 16 Feb (5–13 Feb off, Sunday 14 Feb a weekend).
FORECAST_DUE = datetime(2027, 2, 12, 23, 59, 59, tzinfo=CHINA)
MOVED_DUE = datetime(2027, 2, 16, 23, 59, 59, tzinfo=CHINA)
# 3 working days (technical support): Thu 4 Feb both ways.
STAYING_DUE = datetime(2027, 2, 4, 23, 59, 59, tzinfo=CHINA)
NOTICE = "国办发明电〔2026〕99号"


def caller(agency: str, *roles: str) -> Caller:
    return Caller(Principal(f"p-{agency}", "测试人员", agency, "fuyuan", roles))


class Running:
    def __init__(self, suite: Suite, settings: Settings) -> None:
        self.suite = suite
        self.settings = settings
        self.clock_file = settings.test_clock_file
        svc: Any = suite.services
        self.referral, self.coordination, self.notify = (
            svc["referral"],
            svc["coordination"],
            svc["notify"],
        )

    def move_to(self, instant: datetime) -> None:
        assert self.clock_file is not None
        write_offset(self.clock_file, instant - datetime.now(UTC))


@pytest.fixture
async def running(
    tmp_path: Path, unique_name: str, mongo_server: Server, rabbitmq_server: Server
) -> AsyncIterator[Running]:
    clock_file = tmp_path / "clock-offset"
    write_offset(clock_file, START - datetime.now(UTC))
    settings = server_settings(
        tmp_path,
        unique_name,
        mongo_server,
        rabbitmq_server,
        district="fuyuan",
        test_clock_file=clock_file,
    )
    suite = await build_suite(settings, seed_demo=True)
    await suite.start()
    try:
        yield Running(suite, settings)
    finally:
        await suite.stop()
        await drop_databases(settings)


def _clock(explanation: dict[str, Any]) -> dict[str, Any]:
    record: dict[str, Any] = explanation["explanation"]
    return record


def _provisional(explanation: dict[str, Any]) -> bool:
    return any(not y["confirmed"] for y in _clock(explanation)["years"])


async def test_R_SUP_02_official_schedule_moves_crossing_clocks_with_notice_and_confirms_others(
    running: Running,
) -> None:
    r, c, n = running.referral, running.coordination, running.notify
    transport = httpx.ASGITransport(app=running.suite.create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://suite") as client:
        rid = await send_one(
            client,
            "/referral/graphql",
            lambda agency, roles: mint_token(running.settings, agency, roles),
            now=r.deps.clock,
        )
    assistance = await c.assistance.request(
        RequestAssistance(
            "fy-hancong", "fy-market", ("协助调查取证",), letter_number="寒政函〔2027〕1号"
        ),
        caller("fy-hancong", "clerk"),
    )
    technical = await c.technical_support.request(
        RequestTechnicalSupport(
            "fy-hancong", "fy-market", "consultation", "涉案食品是否过期", "寒政函〔2027〕2号"
        ),
        caller("fy-hancong", "clerk"),
    )
    dispute = await c.disputes.open(
        OpenDispute(
            matter_code="FY-SCJG-001",
            township_id="fy-hancong",
            party_ids=("fy-market", "fy-natres"),
            reasons="职责分工不明确",
            interim_handler_id="fy-market",
        ),
        caller("fy-market", "clerk"),
    )
    referral = await r.referrals.get(rid)
    accept = referral.accept_deadline
    reply = next(k for k in assistance.clocks if k.kind == "assistance.reply")
    tech_reply = next(k for k in technical.clocks if k.kind == "technical_support.reply")
    step = dispute.current_step
    # Before the notice: every clock across 2027 is provisional; the forecast due times.
    assert [accept.due, reply.due, step.due] == [FORECAST_DUE] * 3
    assert tech_reply.due == STAYING_DUE
    for record in (accept.explanation, reply.explanation, tech_reply.explanation, step.explanation):
        assert _provisional(record)

    keys = {
        "referral": accept.key,
        "assistance": f"AssistanceRequest:{assistance.id}:assistance.reply",
        "technical": f"TechnicalSupportRequest:{technical.id}:technical_support.reply",
        "dispute": f"Dispute:{dispute.id}:dispute.step",
    }

    async def watched() -> bool:
        return all([await n.deadlines.get(k) for k in keys.values()])

    await eventually(watched, within=60, what="notify watching every clock")

    # Only the calendar administrator loads it; a bad file loads nothing.
    data = schedule_2027_data()
    with pytest.raises(Forbidden):
        await c.calendar.import_schedule(
            ImportHolidaySchedule(data, "2027.yaml"), caller("fy-market", "leader")
        )
    admin = caller("fy-coord", "coordinator")
    bad = {**data, "working_days": [*data["working_days"], {"date": "2027-03-05", "name": "x"}]}
    with pytest.raises(ValidationFailed, match=r"working_days\[4\] 2027-03-05"):
        await c.calendar.import_schedule(ImportHolidaySchedule(bad, "2027.yaml"), admin)
    assert await c.calendar.schedules.versions(2027) == []

    loaded = await c.calendar.import_schedule(ImportHolidaySchedule(data, "2027.yaml"), admin)
    assert loaded.outcome == "loaded" and loaded.schedule.revision == 1
    again = await c.calendar.import_schedule(ImportHolidaySchedule(data, "2027.yaml"), admin)
    assert again.outcome == "unchanged" and len(await c.calendar.schedules.versions(2027)) == 1

    # Every service follows it through the bus (not a file): the clocks that cross the
    # changed days move, the one that does not is confirmed.
    async def referral_moved() -> Any:
        got = (await r.referrals.get(rid)).accept_deadline
        return got if got.due == MOVED_DUE else None

    moved_accept = await eventually(referral_moved, within=60, what="the referral clock moved")
    assert not _provisional(moved_accept.explanation)
    text = r.handlers.clocks.explain(moved_accept)
    assert NOTICE in text and "原截止时间2027年2月12日（星期五）24时" in text
    history = (await r.referrals.get(rid)).history[-1]
    assert history.action == "revise_clocks" and NOTICE in history.note

    async def cooperation_settled() -> Any:
        a = await c.assistance.requests.get(assistance.id)
        t = await c.technical_support.requests.get(technical.id)
        d = await c.disputes.disputes.get(dispute.id)
        a_reply = next(k for k in a.clocks if k.kind == "assistance.reply")
        t_reply = next(k for k in t.clocks if k.kind == "technical_support.reply")
        done = (
            a_reply.due == MOVED_DUE
            and d.current_step.due == MOVED_DUE
            and not _provisional(t_reply.explanation)
        )
        return (a, t_reply, d) if done else None

    a, t_reply, d = await eventually(cooperation_settled, within=60, what="coordination clocks")
    assert t_reply.due == STAYING_DUE  # confirmed, not moved
    assert a.history[-1].action == "revise_clocks" and d.history[-1].action == "revise_clocks"
    assert not _provisional(d.current_step.explanation)

    # The agencies that must act are told, once each; nobody about the clock that stayed.
    async def moved_notices() -> list[Any]:
        found = []
        for agency in ("fy-hancong", "fy-market"):
            page = await n.inbox.for_agency(agency, unread_only=False, before=None, limit=100)
            found += [i for i in page if i.kind == "deadline.moved"]
        return found if len(found) >= 3 else []

    notices = await eventually(moved_notices, within=60, what="the deadline.moved notices")
    by_subject = {(i.subject_type, i.subject_id): i for i in notices}
    assert len(notices) == 3, notices
    assert by_subject[("Referral", rid)].agency_id == "fy-hancong"
    assert by_subject[("AssistanceRequest", assistance.id)].agency_id == "fy-market"
    assert by_subject[("Dispute", dispute.id)].agency_id == "fy-market"
    for item in notices:
        assert item.due_at == MOVED_DUE and NOTICE in item.body

    # notify's copy of each moved clock, and its timers, follow.
    lagging: dict[str, Any] = {}  # what notify held at the last look, for a failure's message

    async def timers_moved() -> bool:
        lagging.clear()
        for key in (keys["referral"], keys["assistance"], keys["dispute"]):
            watched = await n.deadlines.get(key)
            timer = await n.timers.get(f"{key}:missed")
            due = watched.due if watched is not None else None
            fire_at = timer["fire_at"] if timer is not None else None
            if due != MOVED_DUE or fire_at != MOVED_DUE + timedelta(seconds=1):
                lagging[key] = {
                    "due": due,
                    "event_time": watched.event_time if watched is not None else None,
                    "timer": timer,
                }
        return not lagging

    try:
        await eventually(timers_moved, within=60, what="the missed timers at the new due time")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; notify held {lagging}") from exc

    # After the forecast's due time, none of the moved clocks is missed (the technical
    # reply, due 4 February and never answered, is); the referral is accepted on time
    # (after the forecast's due time, before the moved one).
    running.move_to(datetime(2027, 2, 15, 10, 0, tzinfo=CHINA))
    await r.handlers.referrals.accept(
        AcceptReferral(rid, "经审查，同意受理。"), caller("fy-hancong", "clerk")
    )
    await n.scheduler.run_once()
    for agency in ("fy-hancong", "fy-market"):
        page = await n.inbox.for_agency(agency, unread_only=False, before=None, limit=100)
        missed_now = {i.subject_id for i in page if i.kind == "deadline.missed"}
        assert missed_now <= {technical.id}, missed_now

    # After the moved due time the assistance reply (unanswered) is missed.
    running.move_to(datetime(2027, 2, 17, 0, 5, tzinfo=CHINA))

    async def missed() -> list[Any]:
        await n.scheduler.run_once()
        page = await n.inbox.for_agency("fy-market", unread_only=False, before=None, limit=100)
        return [i for i in page if i.kind == "deadline.missed" and i.subject_id == assistance.id]

    [missed_item] = await eventually(missed, within=60, what="the assistance reply missed")
    assert missed_item.due_at == MOVED_DUE

    # The monthly list of February 2027 counts against the moved due times: the referral
    # accepted on 15 February is on time; the unanswered reply is overdue since 16 February.
    async def accepted_watched() -> bool:
        got = await n.deadlines.get(keys["referral"])
        return got is not None and got.state == "met"

    await eventually(accepted_watched, within=60, what="the accept clock met in notify")
    report = await n.supervision.compute("monthly", month("2027-02"))
    lines = {(o.deadline.subject_id, o.deadline.kind): o for o in report.overdue}
    assert (rid, "referral.accept") not in lines
    assert lines[(assistance.id, "assistance.reply")].deadline.due == MOVED_DUE
    assert lines[(assistance.id, "assistance.reply")].outcome == "overdue"
