"""Official holiday schedules (issue 20): validation of a loaded notice, provisional clocks,
and rechecking a stored clock once the year is known (kernel.calendar.official/working).

The schedule used here is hypothetical (``tests/fixtures/schedules.hypothetical_schedule``),
of the first year the ``holidays`` package does not confirm (derived, so these tests never
skip): it differs from the package's rule-based forecast of that year — which is what the
clocks are computed with before it is loaded — by a worked Saturday ``S`` and a Thursday
``OFF`` (S + 5) given off.
"""

from __future__ import annotations

import copy
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from kernel.calendar import (
    Deadline,
    ScheduleBook,
    ScheduleError,
    WorkingCalendar,
    parse_schedule,
)
from kernel.contracts.deadlines import DeadlineMovedV1, DeadlineV1, deadlines_of
from notify.domain.notices import build_items, rows_for
from notify.domain.watch import WatchedDeadline
from tests.fixtures.schedules import hypothetical_schedule

SH = ZoneInfo("Asia/Shanghai")
H = hypothetical_schedule()
YEAR = H.year
S, OFF = H.worked_saturday, H.extra_day_off
NOTICE = H.data["document_number"]
N_OFF, N_ON = len(H.data["days_off"]), len(H.data["working_days"])
MONDAY = OFF - timedelta(days=3)


def at(day: date, hh: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hh, 0, tzinfo=SH)


NOW = at(MONDAY)  # the Monday before the Thursday the notice gives off


def zh(day: date, note: str = "") -> str:
    return (
        f"{day.year}年{day.month}月{day.day}日（星期{'一二三四五六日'[day.weekday()]}{note}）24时"
    )


def schedule_data() -> dict[str, Any]:
    return copy.deepcopy(H.data)


def problems(data: Any) -> list[str]:
    with pytest.raises(ScheduleError) as info:
        parse_schedule(data, f"{YEAR}.yaml")
    return [str(p) for p in info.value.problems]


def with_rows(**rows: list[dict[str, Any]]) -> dict[str, Any]:
    data = schedule_data()
    for key, extra in rows.items():
        data[key] = [*data[key], *extra]
    return data


# -- validation ---------------------------------------------------------------------------


def test_the_sample_notice_parses_with_every_row() -> None:
    s = parse_schedule(schedule_data())
    assert s.year == YEAR and s.document_number == NOTICE
    assert len(s.days_off) == N_OFF and S in s.working_days and OFF in s.days_off
    # The version is the content's: the same file read twice has the same version.
    assert parse_schedule(schedule_data()).version == s.version


def test_dates_inside_the_year_just_inside_and_just_outside() -> None:
    edge = with_rows(
        days_off=[
            {"date": f"{YEAR}-12-31", "name": "测试"},  # inside (last day)
            {"date": f"{YEAR + 1}-01-01", "name": "测试"},  # outside (next day)
            {"date": f"{YEAR - 1}-12-31", "name": "测试"},  # outside (day before)
        ]
    )
    found = problems(edge)
    assert found == [
        f"days_off[{N_OFF + 1}] {YEAR + 1}-01-01: not in {YEAR}",
        f"days_off[{N_OFF + 2}] {YEAR - 1}-12-31: not in {YEAR}",
    ]


def test_adjusted_working_days_only_on_saturday_or_sunday() -> None:
    data = with_rows(
        working_days=[
            {"date": S + timedelta(days=7), "name": "周六"},  # Saturday: fine
            {"date": S + timedelta(days=8), "name": "周日"},  # Sunday: fine
            {"date": S - timedelta(days=1), "name": "周五"},  # Friday: refused
            {"date": S + timedelta(days=2), "name": "周一"},  # Monday: refused
        ]
    )
    found = problems(data)
    assert len(found) == 2
    friday, monday = S - timedelta(days=1), S + timedelta(days=2)
    assert found[0].startswith(f"working_days[{N_ON + 2}] {friday}: an adjusted working day")
    assert found[1].startswith(f"working_days[{N_ON + 3}] {monday}: an adjusted working day")


def test_no_day_both_off_and_working_and_every_bad_row_named_at_once() -> None:
    data = with_rows(
        days_off=[
            {"date": S + timedelta(days=7), "name": "测试"},  # also a working day below
            {"date": f"{YEAR}-02-31", "name": "测试"},  # no such date
            {"date": f"{YEAR}-07-01"},  # no name
            {"date": f"{YEAR}-01-01", "name": "元旦"},  # twice
        ],
        working_days=[{"date": S + timedelta(days=7), "name": "调休上班"}],
    )
    data["document_number"] = " "
    found = problems(data)
    assert found == [
        "document_number: the notice's 文号 is required (国办发明电〔…〕…号)",
        f"days_off[{N_OFF + 1}]: day is out of range for month",
        f"days_off[{N_OFF + 2}] {YEAR}-07-01: a day off needs its festival's name",
        f"days_off[{N_OFF + 3}] {YEAR}-01-01: listed twice in days_off",
        f"working_days {S + timedelta(days=7)}: also listed in days_off",
    ]


def test_a_bad_file_loads_nothing() -> None:
    book = ScheduleBook()
    cal = WorkingCalendar(schedules=book)
    with pytest.raises(ScheduleError):
        parse_schedule({"year": YEAR, "days_off": "soon", "surprise": 1})
    assert book.years() == [] and cal.year_status(YEAR).confirmed is False


# -- provisional clocks -------------------------------------------------------------------


def test_R_REF_06_a_clock_across_an_unannounced_year_is_provisional() -> None:
    cal = WorkingCalendar()
    across = cal.add_working_days(NOW, 5)
    inside = cal.add_working_days(at(date(YEAR - 1, 12, 1)), 2)  # a confirmed year only
    assert across.provisional and not inside.provisional
    assert f"{YEAR}年的节假日安排尚未经国务院办公厅通知确认" in across.explain()
    block = DeadlineV1.calendar_fields(across.to_dict())
    assert block == {"mode": "working_days", "provisional": True}


def test_R_REF_04_loading_the_notice_confirms_the_year_for_every_calendar_sharing_the_book() -> (
    None
):
    book = ScheduleBook()
    a, b = WorkingCalendar(schedules=book), WorkingCalendar(schedules=book)
    assert book.install(parse_schedule(schedule_data()))
    assert not book.install(parse_schedule(schedule_data()))  # same version: no change
    assert a.is_working_day(S) and b.is_working_day(S)
    assert not a.is_working_day(OFF) and not b.is_working_day(OFF)
    assert not a.add_working_days(NOW, 5).provisional


# -- recheck ------------------------------------------------------------------------------


def test_R_REF_06_recheck_moves_a_clock_and_says_which_notice() -> None:
    book = ScheduleBook()
    cal = WorkingCalendar(schedules=book)
    stored = cal.add_working_days(NOW, 5, rule="5个工作日内书面告知受理情况").to_dict()
    forecast_due, moved_due = MONDAY + timedelta(days=7), MONDAY + timedelta(days=8)
    assert stored["due"].startswith(forecast_due.isoformat())  # the forecast: OFF is worked
    book.install(parse_schedule(schedule_data()))
    found = cal.recheck(stored, at=NOW + timedelta(days=1), year=YEAR)
    assert found is not None and found.moved
    assert found.after.due == datetime.combine(moved_due, datetime.max.time(), SH).replace(
        microsecond=0
    )
    assert not found.after.provisional
    text = found.after.explain()
    assert NOTICE in text and f"原截止时间{zh(forecast_due)}" in text
    assert found.summary_zh == f"截止时间由{zh(forecast_due)}调整为{zh(moved_due)}"
    # Rechecking the new record again changes nothing (loading twice changes nothing).
    assert cal.recheck(found.after.to_dict(), at=NOW + timedelta(days=2), year=YEAR) is None


def test_R_AST_01_recheck_confirms_a_clock_that_does_not_move() -> None:
    book = ScheduleBook()
    cal = WorkingCalendar(schedules=book)
    # From the Tuesday a week and a half before S, 3 working days: Wed, Thu, Fri both ways.
    stored = cal.add_working_days(at(S - timedelta(days=11)), 3).to_dict()
    book.install(parse_schedule(schedule_data()))
    found = cal.recheck(stored, at=NOW, year=YEAR)
    assert found is not None and not found.moved and not found.after.provisional
    assert found.after.explanation.revisions == ()


def test_R_AST_01_recheck_moves_a_clock_earlier_on_a_working_saturday() -> None:
    book = ScheduleBook()
    cal = WorkingCalendar(schedules=book)
    # From the Wednesday before S, 3 working days: forecast Thu, Fri, Mon; notice Thu, Fri, S.
    stored = cal.add_working_days(at(S - timedelta(days=3)), 3).to_dict()
    assert stored["due"].startswith((S + timedelta(days=2)).isoformat())
    book.install(parse_schedule(schedule_data()))
    found = cal.recheck(stored, at=NOW, year=YEAR)
    assert found is not None and found.after.due.date() == S
    assert f"{S.month}月{S.day}日（星期六，调休上班）计入，为第3个工作日" in found.after.explain()


def test_recheck_leaves_clocks_of_other_years_and_hour_clocks_keep_their_due() -> None:
    book = ScheduleBook()
    cal = WorkingCalendar(schedules=book)
    within_last_year = cal.add_working_days(at(date(YEAR - 1, 12, 1)), 3).to_dict()
    urgent = cal.add_hours(at(date(YEAR - 1, 12, 31), 12), 24).to_dict()
    book.install(parse_schedule(schedule_data()))
    assert cal.recheck(within_last_year, at=NOW, year=YEAR) is None
    # Clock time skips no holiday: an urgent clock into the year is never provisional.
    assert not Deadline.from_dict(urgent).provisional
    assert "尚未经国务院办公厅通知确认" not in Deadline.from_dict(urgent).explain()
    assert cal.recheck(urgent, at=NOW, year=YEAR) is None


def test_at_start_recheck_finds_the_clocks_whose_year_was_confirmed_meanwhile() -> None:
    """A ``holidays`` upgrade (or a schedule loaded while a service was down): at start the
    service rechecks without a year, and only clocks whose years changed status move."""
    book = ScheduleBook()
    cal = WorkingCalendar(schedules=book)
    stored = cal.add_working_days(NOW, 5).to_dict()
    assert cal.recheck(stored, at=NOW) is None  # nothing changed yet
    book.install(parse_schedule(schedule_data()))
    found = cal.recheck(stored, at=NOW)
    assert found is not None and found.moved
    assert cal.recheck(found.after.to_dict(), at=NOW) is None


# -- the deadline block, the watch and the notice ------------------------------------------


def test_R_SUP_02_the_watch_tells_hour_clocks_by_mode_not_by_words() -> None:
    common: dict[str, Any] = {
        "key": "k",
        "kind": "referral.send",
        "subject_type": "Referral",
        "subject_id": "r1",
        "responsible_agency_id": "a",
        "due": NOW,
        "state": "open",
        "explanation_zh": None,
        "event_time": NOW,
        "event_id": "e",
    }
    # A working-day rule that happens to mention hours, and an hour clock without the word.
    worded = WatchedDeadline(
        **common, rule="5个工作日（自收到之日8小时后起算）", mode="working_days"
    )
    bare = WatchedDeadline(**common, rule="urgent", mode="clock")
    legacy = WatchedDeadline(**common, rule="24小时内移送")
    assert not worded.hour_clock and bare.hour_clock and legacy.hour_clock


def test_an_old_block_without_mode_still_reads() -> None:
    old = {
        "key": "k",
        "kind": "referral.accept",
        "subject_type": "Referral",
        "subject_id": "r1",
        "responsible_agency_id": "a",
        "due": "2027-01-06T23:59:59+08:00",
    }
    (block,) = deadlines_of({"deadlines": [old]})
    assert block.mode is None and block.provisional is False


def test_R_NTF_04_a_moved_clock_is_a_notice_to_the_responsible_agency() -> None:
    book = ScheduleBook()
    cal = WorkingCalendar(schedules=book)
    stored = cal.add_working_days(NOW, 5, rule="5个工作日内书面告知受理情况").to_dict()
    book.install(parse_schedule(schedule_data()))
    found = cal.recheck(stored, at=NOW, year=YEAR)
    assert found is not None
    block = DeadlineV1(
        key="Referral:r1:referral.accept",
        kind="referral.accept",
        subject_type="Referral",
        subject_id="r1",
        responsible_agency_id="fy-market",
        due=found.after.due,
        rule=found.after.rule,
        **DeadlineV1.calendar_fields(found.after.to_dict()),
    )
    event = DeadlineMovedV1.of(block, found)
    (row,) = rows_for("deadline.moved.v1")
    (item,) = build_items(row, event_id="e1", at=NOW, data=event.model_dump(mode="json"), names={})
    assert item.agency_id == "fy-market" and item.subject_type == "Referral"
    assert item.title == "【期限调整】referral.accept 的截止时间已调整"
    assert NOTICE in item.body and f"调整为{zh(MONDAY + timedelta(days=8))}" in item.body
    assert item.due_at == found.after.due and item.receipt_required
