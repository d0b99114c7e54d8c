"""Consultation meetings (R-MTG-01), the pure domain: notice lead time, RSVP limit, minutes
with tasks, agreement before issue, filing, tasks done by their owners."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from coordination.domain import meetings as mtg
from coordination.domain.cooperation import Actor, Clock
from kernel.errors import Forbidden, InvalidState, ValidationFailed

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
STARTS = datetime(2026, 3, 16, 1, 0, tzinfo=UTC)
MARKET = Actor("p-m", "fy-market", ("leader",))
HOUSING = Actor("p-h", "fy-housing", ("leader",))
NATRES = Actor("p-n", "fy-natres", ("leader",))
OTHER = Actor("p-o", "fy-wusu", ("clerk",))


def _rsvp_clock(agency: str) -> Clock:
    return Clock(mtg.rsvp_kind(agency), agency, STARTS - timedelta(days=5), "rule", {})


def _schedule(**over: object) -> mtg.Meeting:
    args: dict[str, object] = dict(
        meeting_id="m1",
        kind=mtg.MeetingKind.SPECIAL,
        title="违法建设查处专题协调会",
        convener_id="fy-market",
        starts_at=STARTS,
        place="市政府三楼会议室",
        attendee_ids=("fy-housing", "fy-natres"),
        agenda=("明确违法建设查处分工",),
        urgent=False,
        routine_name=None,
        routine_names=frozenset({"consultation"}),
        today=date(2026, 3, 2),
        notice_latest_on=date(2026, 3, 9),
        rsvp_clocks=(_rsvp_clock("fy-housing"), _rsvp_clock("fy-natres")),
        actor=MARKET,
        at=NOW,
    )
    args.update(over)
    return mtg.schedule_meeting(**args)  # type: ignore[arg-type]


def _held() -> mtg.Meeting:
    m = _schedule()
    m = m.record_rsvp(
        attending=True, delegate="张三", rsvp_due=STARTS - timedelta(days=5), actor=HOUSING, at=NOW
    )
    return m.record_rsvp(
        attending=True, delegate="李四", rsvp_due=STARTS - timedelta(days=5), actor=NATRES, at=NOW
    )


AFTER = STARTS + timedelta(hours=3)
TASKS = (
    mtg.TaskDraft("对违法建设现场进行测量", "fy-natres", date(2026, 3, 30)),
    mtg.TaskDraft("下达限期拆除决定", "fy-housing", date(2026, 4, 10)),
)


def _drafted() -> mtg.Meeting:
    return _held().draft_minutes(
        decisions="会议明确由住建局牵头查处",
        tasks=TASKS,
        today=date(2026, 3, 16),
        actor=MARKET,
        at=AFTER,
    )


def test_R_MTG_01_notice_with_time_place_attendees_agenda_and_rsvp_clocks() -> None:
    m = _schedule()
    assert m.status is mtg.MeetingStatus.SCHEDULED
    assert m.attendee_ids == ("fy-housing", "fy-natres") and m.place and m.agenda
    assert {c.kind for c in m.clocks} == {"meeting.rsvp:fy-housing", "meeting.rsvp:fy-natres"}
    assert not m.late_notice and m.history[0].actor_id == "p-m"


def test_R_MTG_01_a_late_notice_is_refused() -> None:
    with pytest.raises(ValidationFailed) as e:
        _schedule(today=date(2026, 3, 10))
    assert e.value.field == "startsAt" and "2026-03-09" in e.value.message


def test_R_MTG_01_an_urgent_special_meeting_may_be_noticed_late() -> None:
    m = _schedule(today=date(2026, 3, 10), urgent=True)
    assert m.late_notice and m.urgent


def test_R_MTG_01_a_routine_meeting_is_never_urgent_and_names_the_district_routine() -> None:
    with pytest.raises(ValidationFailed) as e:
        _schedule(kind=mtg.MeetingKind.ROUTINE, routine_name="consultation", urgent=True)
    assert e.value.field == "urgent"
    with pytest.raises(ValidationFailed) as e:
        _schedule(kind=mtg.MeetingKind.ROUTINE, routine_name="weekly")
    assert e.value.field == "routineName"
    ok = _schedule(kind=mtg.MeetingKind.ROUTINE, routine_name="consultation")
    assert ok.routine_name == "consultation"


def test_R_MTG_01_late_rsvp_is_recorded_as_late_and_meets_its_clock() -> None:
    late_at = STARTS - timedelta(days=2)
    m = _schedule().record_rsvp(
        attending=True,
        delegate="张三",
        rsvp_due=STARTS - timedelta(days=5),
        actor=HOUSING,
        at=late_at,
    )
    answer = m.rsvp_of("fy-housing")
    assert answer is not None and answer.late
    assert next(c for c in m.clocks if c.kind == "meeting.rsvp:fy-housing").state == "met"
    with pytest.raises(Forbidden):
        m.record_rsvp(attending=True, delegate="x", rsvp_due=STARTS, actor=OTHER, at=late_at)


def test_R_MTG_01_minutes_list_tasks_with_owner_and_deadline() -> None:
    with pytest.raises(ValidationFailed) as e:
        _held().draft_minutes(
            decisions="x", tasks=(), today=date(2026, 3, 16), actor=MARKET, at=AFTER
        )
    assert e.value.field == "tasks"
    with pytest.raises(ValidationFailed) as e:
        _held().draft_minutes(
            decisions="x",
            tasks=(mtg.TaskDraft("测量", "fy-wusu", date(2026, 3, 30)),),
            today=date(2026, 3, 16),
            actor=MARKET,
            at=AFTER,
        )
    assert e.value.field == "tasks.0.ownerAgencyId"
    m = _drafted()
    assert m.minutes is not None and [t.owner_agency_id for t in m.minutes.tasks] == [
        "fy-natres",
        "fy-housing",
    ]


def test_R_MTG_01_minutes_are_issued_only_after_every_attending_agency_agrees() -> None:
    m = _drafted()
    with pytest.raises(InvalidState) as e:
        m.issue_minutes(number="纪要〔2026〕1号", actor=MARKET, at=AFTER)
    assert "fy-housing" in e.value.message
    m = m.record_position(revision=1, agrees=True, comment="", actor=HOUSING, at=AFTER)
    m = m.record_position(revision=1, agrees=False, comment="测量期限过短", actor=NATRES, at=AFTER)
    with pytest.raises(InvalidState) as e:
        m.issue_minutes(number="纪要〔2026〕1号", actor=MARKET, at=AFTER)
    assert "objected" in e.value.message
    # A revised draft clears the old positions: both must agree again.
    revised = m.draft_minutes(
        decisions="会议明确由住建局牵头查处",
        tasks=(mtg.TaskDraft("对违法建设现场进行测量", "fy-natres", date(2026, 4, 3)), TASKS[1]),
        today=date(2026, 3, 16),
        actor=MARKET,
        at=AFTER,
    )
    assert revised.minutes is not None and revised.minutes.revision == 2
    assert revised.pending_agreement() == ("fy-housing", "fy-natres")
    with pytest.raises(InvalidState):
        revised.record_position(revision=1, agrees=True, comment="", actor=HOUSING, at=AFTER)
    for actor in (HOUSING, NATRES):
        revised = revised.record_position(
            revision=2, agrees=True, comment="", actor=actor, at=AFTER
        )
    issued = revised.issue_minutes(number="纪要〔2026〕1号", actor=MARKET, at=AFTER)
    assert issued.status is mtg.MeetingStatus.MINUTES_ISSUED


def test_R_MTG_01_an_agency_that_declined_need_not_agree() -> None:
    m = _schedule().record_rsvp(attending=False, delegate="", rsvp_due=STARTS, actor=NATRES, at=NOW)
    m = m.draft_minutes(
        decisions="x", tasks=TASKS[1:], today=date(2026, 3, 16), actor=MARKET, at=AFTER
    )
    assert m.pending_agreement() == ("fy-housing",)


def _issued() -> mtg.Meeting:
    m = _drafted()
    for actor in (HOUSING, NATRES):
        m = m.record_position(revision=1, agrees=True, comment="", actor=actor, at=AFTER)
    m = m.issue_minutes(number="纪要〔2026〕1号", actor=MARKET, at=AFTER)
    clocks = tuple(
        Clock(mtg.task_kind(t.id), t.owner_agency_id, AFTER + timedelta(days=20), "r", {})
        for t in (m.minutes.tasks if m.minutes else ())
    )
    return m.with_task_clocks(clocks)


def test_R_MTG_01_issued_minutes_are_filed_with_the_government_or_legal_office() -> None:
    m = _issued()
    offices = frozenset({"fy-gov", "fy-justice"})
    with pytest.raises(ValidationFailed) as e:
        m.file_minutes(with_agency_id="fy-housing", allowed=offices, actor=MARKET, at=AFTER)
    assert e.value.field == "withAgencyId"
    filed = m.file_minutes(with_agency_id="fy-justice", allowed=offices, actor=MARKET, at=AFTER)
    assert filed.status is mtg.MeetingStatus.FILED
    assert filed.filing is not None and filed.filing.agency_id == "fy-justice"


def test_R_MTG_01_tasks_are_done_by_their_owner_and_complete_the_meeting() -> None:
    m = _issued().file_minutes(
        with_agency_id="fy-gov", allowed=frozenset({"fy-gov"}), actor=MARKET, at=AFTER
    )
    with pytest.raises(Forbidden):
        m.complete_task("t1", result="已测量", actor=HOUSING, at=AFTER)
    m = m.complete_task("t1", result="已完成测量", actor=NATRES, at=AFTER)
    assert next(c for c in m.clocks if c.kind == "meeting.task:t1").state == "met"
    assert m.status is mtg.MeetingStatus.FILED
    with pytest.raises(InvalidState):
        m.complete_task("t1", result="again", actor=NATRES, at=AFTER)
    m = m.complete_task("t2", result="已下达决定", actor=HOUSING, at=AFTER)
    assert m.status is mtg.MeetingStatus.COMPLETED
