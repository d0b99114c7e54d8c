"""Official holiday schedules (issue 20): validation of a loaded notice, provisional clocks,
and rechecking a stored clock once the year is known (kernel.calendar.official/working).

The 2027 schedule used here is hypothetical (tests/fixtures/calendar): it differs from the
``holidays`` package's rule-based forecast of 2027, which is what the clocks are computed
with before it is loaded.
"""

from __future__ import annotations

import copy
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from kernel.calendar import (
    Deadline,
    ScheduleBook,
    ScheduleError,
    WorkingCalendar,
    national_year_confirmed,
    parse_schedule,
)
from kernel.contracts.deadlines import DeadlineMovedV1, DeadlineV1, deadlines_of
from notify.domain.notices import build_items, rows_for
from notify.domain.watch import WatchedDeadline
from tests.fixtures.schedules import schedule_2027_data

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 29, 10, 0, tzinfo=SH)  # a Tuesday, late December

pytestmark = pytest.mark.skipif(
    national_year_confirmed(2027), reason="the holidays package already confirms 2027"
)


def at(y: int, m: int, d: int, hh: int = 10) -> datetime:
    return datetime(y, m, d, hh, 0, tzinfo=SH)


def problems(data: Any) -> list[str]:
    with pytest.raises(ScheduleError) as info:
        parse_schedule(data, "2027.yaml")
    return [str(p) for p in info.value.problems]


def with_rows(**rows: list[dict[str, Any]]) -> dict[str, Any]:
    data = copy.deepcopy(schedule_2027_data())
    for key, extra in rows.items():
        data[key] = [*data[key], *extra]
    return data


# -- validation ---------------------------------------------------------------------------


def test_the_sample_notice_parses_with_every_row() -> None:
    s = parse_schedule(schedule_2027_data())
    assert s.year == 2027 and s.document_number == "国办发明电〔2026〕99号"
    assert len(s.days_off) == 30 and date(2027, 2, 20) in s.working_days
    # The version is the content's: the same file read twice has the same version.
    assert parse_schedule(schedule_2027_data()).version == s.version


def test_dates_inside_the_year_just_inside_and_just_outside() -> None:
    edge = with_rows(
        days_off=[
            {"date": "2027-12-31", "name": "测试"},  # inside (last day)
            {"date": "2028-01-01", "name": "测试"},  # outside (next day)
            {"date": "2026-12-31", "name": "测试"},  # outside (day before)
        ]
    )
    found = problems(edge)
    assert found == [
        "days_off[31] 2028-01-01: not in 2027",
        "days_off[32] 2026-12-31: not in 2027",
    ]


def test_adjusted_working_days_only_on_saturday_or_sunday() -> None:
    data = with_rows(
        working_days=[
            {"date": "2027-03-06", "name": "周六"},  # Saturday: fine
            {"date": "2027-03-07", "name": "周日"},  # Sunday: fine
            {"date": "2027-03-05", "name": "周五"},  # Friday: refused
            {"date": "2027-03-08", "name": "周一"},  # Monday: refused
        ]
    )
    found = problems(data)
    assert len(found) == 2
    assert found[0].startswith("working_days[6] 2027-03-05: an adjusted working day")
    assert found[1].startswith("working_days[7] 2027-03-08: an adjusted working day")


def test_no_day_both_off_and_working_and_every_bad_row_named_at_once() -> None:
    data = with_rows(
        days_off=[
            {"date": "2027-03-06", "name": "测试"},  # also a working day below
            {"date": "2027-02-31", "name": "测试"},  # no such date
            {"date": "2027-07-01"},  # no name
            {"date": "2027-01-01", "name": "元旦"},  # twice
        ],
        working_days=[{"date": "2027-03-06", "name": "调休上班"}],
    )
    data["document_number"] = " "
    found = problems(data)
    assert found == [
        "document_number: the notice's 文号 is required (国办发明电〔…〕…号)",
        "days_off[31]: day is out of range for month",
        "days_off[32] 2027-07-01: a day off needs its festival's name",
        "days_off[33] 2027-01-01: listed twice in days_off",
        "working_days 2027-03-06: also listed in days_off",
    ]


def test_a_bad_file_loads_nothing() -> None:
    book = ScheduleBook()
    cal = WorkingCalendar(schedules=book)
    with pytest.raises(ScheduleError):
        parse_schedule({"year": 2027, "days_off": "soon", "surprise": 1})
    assert book.years() == [] and cal.year_status(2027).confirmed is False


# -- provisional clocks -------------------------------------------------------------------


def test_R_REF_06_a_clock_across_an_unannounced_year_is_provisional() -> None:
    cal = WorkingCalendar()
    across = cal.add_working_days(NOW, 5)
    inside = cal.add_working_days(NOW, 2)  # Dec 30, Dec 31: 2026 only
    assert across.provisional and not inside.provisional
    assert "2027年的节假日安排尚未经国务院办公厅通知确认" in across.explain()
    block = DeadlineV1.calendar_fields(across.to_dict())
    assert block == {"mode": "working_days", "provisional": True}


def test_R_REF_04_loading_the_notice_confirms_the_year_for_every_calendar_sharing_the_book() -> (
    None
):
    book = ScheduleBook()
    a, b = WorkingCalendar(schedules=book), WorkingCalendar(schedules=book)
    assert book.install(parse_schedule(schedule_2027_data()))
    assert not book.install(parse_schedule(schedule_2027_data()))  # same version: no change
    assert a.is_working_day(date(2027, 2, 20)) and b.is_working_day(date(2027, 1, 9))
    assert not a.is_working_day(date(2027, 1, 4))
    assert not a.add_working_days(NOW, 5).provisional


# -- recheck ------------------------------------------------------------------------------


def test_R_REF_06_recheck_moves_a_clock_and_says_which_notice() -> None:
    book = ScheduleBook()
    cal = WorkingCalendar(schedules=book)
    stored = cal.add_working_days(NOW, 5, rule="5个工作日内书面告知受理情况").to_dict()
    assert stored["due"].startswith("2027-01-06")  # the forecast: 1 January off only
    book.install(parse_schedule(schedule_2027_data()))
    found = cal.recheck(stored, at=at(2026, 12, 30), year=2027)
    assert found is not None and found.moved
    assert found.after.due == datetime(2027, 1, 7, 23, 59, 59, tzinfo=SH)
    assert not found.after.provisional
    text = found.after.explain()
    assert "国办发明电〔2026〕99号" in text and "原截止时间2027年1月6日（星期三）24时" in text
    assert found.summary_zh == (
        "截止时间由2027年1月6日（星期三）24时调整为2027年1月7日（星期四）24时"
    )
    # Rechecking the new record again changes nothing (loading twice changes nothing).
    assert cal.recheck(found.after.to_dict(), at=at(2026, 12, 31), year=2027) is None


def test_R_AST_01_recheck_confirms_a_clock_that_does_not_move() -> None:
    book = ScheduleBook()
    cal = WorkingCalendar(schedules=book)
    # From Tue 12 Jan 2027, 3 working days: 13, 14, 15 Jan both ways.
    stored = cal.add_working_days(at(2027, 1, 12), 3).to_dict()
    book.install(parse_schedule(schedule_2027_data()))
    found = cal.recheck(stored, at=NOW, year=2027)
    assert found is not None and not found.moved and not found.after.provisional
    assert found.after.explanation.revisions == ()


def test_R_AST_01_recheck_moves_a_clock_earlier_on_a_working_saturday() -> None:
    book = ScheduleBook()
    cal = WorkingCalendar(schedules=book)
    # From Wed 17 Feb 2027, 3 working days: forecast 18, 19, 22 Feb; notice 18, 19, Sat 20.
    stored = cal.add_working_days(at(2027, 2, 17), 3).to_dict()
    assert stored["due"].startswith("2027-02-22")
    book.install(parse_schedule(schedule_2027_data()))
    found = cal.recheck(stored, at=NOW, year=2027)
    assert found is not None and found.after.due.date() == date(2027, 2, 20)
    assert "2月20日（星期六，调休上班）计入，为第3个工作日" in found.after.explain()


def test_recheck_leaves_clocks_of_other_years_and_hour_clocks_keep_their_due() -> None:
    book = ScheduleBook()
    cal = WorkingCalendar(schedules=book)
    within_2026 = cal.add_working_days(at(2026, 12, 1), 3).to_dict()
    urgent = cal.add_hours(at(2026, 12, 31, 12), 24).to_dict()
    book.install(parse_schedule(schedule_2027_data()))
    assert cal.recheck(within_2026, at=NOW, year=2027) is None
    # Clock time skips no holiday: an urgent clock into 2027 is never provisional.
    assert not Deadline.from_dict(urgent).provisional
    assert "尚未经国务院办公厅通知确认" not in Deadline.from_dict(urgent).explain()
    assert cal.recheck(urgent, at=NOW, year=2027) is None


def test_at_start_recheck_finds_the_clocks_whose_year_was_confirmed_meanwhile() -> None:
    """A ``holidays`` upgrade (or a schedule loaded while a service was down): at start the
    service rechecks without a year, and only clocks whose years changed status move."""
    book = ScheduleBook()
    cal = WorkingCalendar(schedules=book)
    stored = cal.add_working_days(NOW, 5).to_dict()
    assert cal.recheck(stored, at=NOW) is None  # nothing changed yet
    book.install(parse_schedule(schedule_2027_data()))
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
    book.install(parse_schedule(schedule_2027_data()))
    found = cal.recheck(stored, at=NOW, year=2027)
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
    assert "国办发明电〔2026〕99号" in item.body and "调整为2027年1月7日（星期四）24时" in item.body
    assert item.due_at == found.after.due and item.receipt_required
