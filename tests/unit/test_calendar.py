"""Unit tests for the working-day calendar (kernel.calendar).

Ground truth for 2026 is the State Council notice 国务院办公厅关于2026年部分节假日安排的通知:
元旦 1月1日至3日放假调休，1月4日（周日）上班；春节 2月15日至23日放假调休，2月14日（周六）、
2月28日（周六）上班；清明节 4月4日至6日；劳动节 5月1日至5日，5月9日（周六）上班；端午节
6月19日至21日；中秋节 9月25日至27日；国庆节 10月1日至7日，9月20日（周日）、10月10日（周六）
上班. The calendar itself takes these from the ``holidays`` package; the test holds the
notice so that a package regression is caught.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest

from kernel.calendar import (
    SHANGHAI,
    CalendarOverrides,
    DayCategory,
    Deadline,
    WorkingCalendar,
    holidays_version,
    last_confirmed_year,
    national_year_confirmed,
)

SH = ZoneInfo("Asia/Shanghai")


def at(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SH)


def days(a: date, b: date) -> list[date]:
    return [a + timedelta(days=i) for i in range((b - a).days + 1)]


END = time(23, 59, 59)

# The State Council notice for 2026, transcribed (see module docstring).
OFFICIAL_2026_DAYS_OFF = {
    d
    for a, b in [
        ((1, 1), (1, 3)),
        ((2, 15), (2, 23)),
        ((4, 4), (4, 6)),
        ((5, 1), (5, 5)),
        ((6, 19), (6, 21)),
        ((9, 25), (9, 27)),
        ((10, 1), (10, 7)),
    ]
    for d in days(date(2026, *a), date(2026, *b))
}
OFFICIAL_2026_WORKING_WEEKENDS = {
    date(2026, 1, 4),
    date(2026, 2, 14),
    date(2026, 2, 28),
    date(2026, 5, 9),
    date(2026, 9, 20),
    date(2026, 10, 10),
}


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return WorkingCalendar()


# --------------------------------------------------------------------------- national data


def test_holidays_package_agrees_with_the_2026_state_council_notice(cal: WorkingCalendar) -> None:
    """Every day of 2026: working or not, as the notice says (calendar and raw package)."""
    raw = holidays.country_holidays("CN", years=2026)
    disagreements = []
    for d in days(date(2026, 1, 1), date(2026, 12, 31)):
        official = d in OFFICIAL_2026_WORKING_WEEKENDS or (
            d.weekday() < 5 and d not in OFFICIAL_2026_DAYS_OFF
        )
        if cal.is_working_day(d) != official or raw.is_working_day(d) != official:
            disagreements.append(d)
    assert disagreements == []
    assert national_year_confirmed(2026)


def test_new_year_2026_holiday_and_working_sunday(cal: WorkingCalendar) -> None:
    assert [cal.is_working_day(d) for d in days(date(2026, 1, 1), date(2026, 1, 5))] == [
        False,  # Thu 1 Jan 元旦
        False,  # Fri 2 Jan swapped day off
        False,  # Sat 3 Jan
        True,  # Sun 4 Jan 调休上班
        True,
    ]
    jan1 = cal.day_kind(date(2026, 1, 1))
    assert jan1.category is DayCategory.STATUTORY_HOLIDAY
    assert jan1.name_zh == "元旦"
    jan3 = cal.day_kind(date(2026, 1, 3))
    # A weekend day inside the block is read as part of the holiday, as the notice does.
    assert jan3.category is DayCategory.WEEKEND
    assert jan3.holiday_period_zh == "元旦"
    assert cal.day_kind(date(2026, 1, 4)).category is DayCategory.ADJUSTED_WORKDAY


def test_spring_festival_2026_block_and_working_saturdays(cal: WorkingCalendar) -> None:
    assert cal.day_kind(date(2026, 2, 14)).category is DayCategory.ADJUSTED_WORKDAY
    assert cal.day_kind(date(2026, 2, 28)).category is DayCategory.ADJUSTED_WORKDAY
    for d in days(date(2026, 2, 15), date(2026, 2, 23)):
        kind = cal.day_kind(d)
        assert not kind.is_working_day, d
        assert kind.holiday_period_zh == "春节", d
        assert kind.holiday_period_en == "Spring Festival", d
    assert cal.day_kind(date(2026, 2, 17)).name_zh == "春节"
    assert cal.is_working_day(date(2026, 2, 24))


def test_national_day_2026_block_and_working_weekends(cal: WorkingCalendar) -> None:
    assert cal.day_kind(date(2026, 9, 20)).category is DayCategory.ADJUSTED_WORKDAY  # Sunday
    assert cal.day_kind(date(2026, 10, 10)).category is DayCategory.ADJUSTED_WORKDAY  # Saturday
    for d in days(date(2026, 10, 1), date(2026, 10, 7)):
        assert cal.day_kind(d).holiday_period_zh == "国庆节", d
        assert not cal.is_working_day(d)
    assert cal.is_working_day(date(2026, 10, 8))


def test_plain_weekend_and_workday(cal: WorkingCalendar) -> None:
    sat = cal.day_kind(date(2026, 3, 7))
    assert sat.category is DayCategory.WEEKEND
    assert sat.holiday_period_zh is None
    assert cal.day_kind(date(2026, 3, 9)).category is DayCategory.WORKDAY


def test_day_kind_takes_aware_datetime_at_its_shanghai_date(cal: WorkingCalendar) -> None:
    # 16:30 UTC on 13 Feb is 00:30 on Sat 14 Feb in Shanghai: the working Saturday.
    kind = cal.day_kind(datetime(2026, 2, 13, 16, 30, tzinfo=UTC))
    assert kind.date == date(2026, 2, 14)
    assert kind.category is DayCategory.ADJUSTED_WORKDAY


# --------------------------------------------------------------------------- add_working_days


def test_R_REF_04_deadline_across_spring_festival(cal: WorkingCalendar) -> None:
    """Found Fri 13 Feb 2026, FY limit 5 wd: Sat 14 (调休) is day 1, 15–23 Feb are skipped,
    24–27 Feb are days 2–5: due at the end of Fri 27 Feb."""
    dl = cal.add_working_days(at(2026, 2, 13), 5)
    assert dl.due == datetime.combine(date(2026, 2, 27), END, tzinfo=SH)
    assert dl.due.utcoffset() == timedelta(hours=8)
    assert dl.working_days == 5
    assert dl.rule == "5 working days"
    counted = [c.day.date for c in dl.explanation.days if c.counted]
    assert counted == [date(2026, 2, 14), *days(date(2026, 2, 24), date(2026, 2, 27))]
    assert [c.ordinal for c in dl.explanation.days if c.counted] == [1, 2, 3, 4, 5]
    start = dl.explanation.days[0]
    assert start.is_start and not start.counted and start.day.date == date(2026, 2, 13)
    skipped = [c.day.date for c in dl.explanation.days if not c.counted and not c.is_start]
    assert skipped == days(date(2026, 2, 15), date(2026, 2, 23))
    assert cal.working_days_between(at(2026, 2, 13), dl.due) == 5


def test_R_REF_04_deadline_lands_on_a_working_saturday(cal: WorkingCalendar) -> None:
    # Mon 28 Sep + 5 wd: 29, 30 Sep, (1–7 Oct off), 8, 9 Oct, Sat 10 Oct (调休上班).
    dl = cal.add_working_days(at(2026, 9, 28), 5)
    assert dl.due.date() == date(2026, 10, 10)
    assert dl.due.weekday() == 5
    # Fri 27 Feb + 1 wd: Sat 28 Feb is a working day.
    assert cal.add_working_days(at(2026, 2, 27), 1).due.date() == date(2026, 2, 28)


def test_R_REF_04_hualong_three_days_across_new_year(cal: WorkingCalendar) -> None:
    # Wed 31 Dec 2025 + 3 wd: 1–3 Jan off, Sun 4 Jan works (1), Mon 5 (2), Tue 6 (3).
    dl = cal.add_working_days(at(2025, 12, 31), 3)
    assert dl.due.date() == date(2026, 1, 6)
    assert next(c.day.date for c in dl.explanation.days if c.counted) == date(2026, 1, 4)


def test_start_day_is_not_counted(cal: WorkingCalendar) -> None:
    """期间开始之日不计算在内: Mon 9 Mar + 1 wd is Tue 10 Mar, even when found at 08:00."""
    assert cal.add_working_days(at(2026, 3, 9, 8, 0), 1).due.date() == date(2026, 3, 10)
    # Found on a Friday: the weekend is skipped.
    assert cal.add_working_days(at(2026, 3, 13), 1).due.date() == date(2026, 3, 16)


def test_start_on_a_holiday_counts_from_the_next_working_day(cal: WorkingCalendar) -> None:
    assert cal.add_working_days(at(2026, 2, 18), 1).due.date() == date(2026, 2, 24)


def test_zero_working_days_is_end_of_start_day(cal: WorkingCalendar) -> None:
    dl = cal.add_working_days(at(2026, 2, 15, 9, 30), 0)
    assert dl.due == datetime.combine(date(2026, 2, 15), END, tzinfo=SH)
    assert "期间为0个工作日" in dl.explain()


def test_negative_working_days_rejected(cal: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match="≥ 0"):
        cal.add_working_days(at(2026, 2, 13), -1)
    with pytest.raises(TypeError):
        cal.add_working_days(at(2026, 2, 13), True)


def test_start_in_another_zone_is_converted_to_shanghai(cal: WorkingCalendar) -> None:
    # 20:00 UTC on Fri 13 Feb is 04:00 on Sat 14 Feb in Shanghai: the start day is the
    # Saturday, so day 1 is Tue 24 Feb.
    dl = cal.add_working_days(datetime(2026, 2, 13, 20, 0, tzinfo=UTC), 1)
    assert dl.start.date() == date(2026, 2, 14)
    assert dl.due.date() == date(2026, 2, 24)
    assert dl.due.tzinfo is SHANGHAI


def test_R_REF_06_acceptance_limit_from_a_custom_rule_label(cal: WorkingCalendar) -> None:
    dl = cal.add_working_days(at(2026, 3, 2), 5, rule="R-REF-06 受理情况书面告知（5个工作日）")
    assert dl.rule.startswith("R-REF-06")
    assert "依据：R-REF-06" in dl.explain()
    assert dl.due.date() == date(2026, 3, 9)


# --------------------------------------------------------------------------- add_hours


def test_R_REF_04_urgent_24_hours_run_through_the_holiday(cal: WorkingCalendar) -> None:
    """The urgent 24 h clock ignores holidays: Sun 15 Feb 09:00 → Mon 16 Feb 09:00."""
    dl = cal.add_hours(at(2026, 2, 15, 9, 0), 24)
    assert dl.due == at(2026, 2, 16, 9, 0)
    assert dl.hours == 24.0
    assert dl.working_days is None
    assert dl.rule == "24 hours"
    assert dl.explanation.mode == "clock"
    zh = dl.explain()
    assert "24小时" in zh
    assert "春节假期" in zh
    assert "节假日和周末不扣除" in zh
    assert "截止时间：2026年2月16日（星期一）9时00分" in zh
    assert "holidays are not skipped" in dl.explain("en")


def test_add_hours_from_utc_and_fractional(cal: WorkingCalendar) -> None:
    dl = cal.add_hours(datetime(2026, 9, 30, 20, 0, tzinfo=UTC), 1.5)
    assert dl.due == at(2026, 10, 1, 5, 30)
    assert dl.due.tzinfo is SHANGHAI
    with pytest.raises(ValueError, match="≥ 0"):
        cal.add_hours(at(2026, 10, 1), -1)


# --------------------------------------------------------------------------- district overrides


def test_district_overrides_day_off_and_working_day() -> None:
    overrides = CalendarOverrides(
        district="fuyuan",
        district_name_zh="抚远市",
        policy_version="1.0",
        extra_days_off={date(2026, 3, 10): "抚远市人民政府决定：防汛应急停止办公"},
        extra_working_days={date(2026, 3, 14): "集中执法行动日（周六上班）"},
    )
    cal = WorkingCalendar(overrides)
    off = cal.day_kind(date(2026, 3, 10))
    assert off.category is DayCategory.DISTRICT_DAY_OFF
    assert off.reason is not None and "防汛" in off.reason
    assert off.overridden is DayCategory.WORKDAY
    assert not cal.is_working_day(date(2026, 3, 10))
    on = cal.day_kind(date(2026, 3, 14))
    assert on.category is DayCategory.DISTRICT_WORKDAY
    assert on.overridden is DayCategory.WEEKEND
    assert cal.is_working_day(date(2026, 3, 14))

    # Mon 9 Mar + 5 wd: 10 off; 11, 12, 13, Sat 14 (district), 16 → Mon 16 Mar. The day off
    # and the extra Saturday cancel out; each alone moves the deadline.
    dl = cal.add_working_days(at(2026, 3, 9), 5)
    assert dl.due.date() == date(2026, 3, 16)
    only_on = WorkingCalendar(
        CalendarOverrides("fuyuan", extra_working_days={date(2026, 3, 14): "集中执法行动日"})
    )
    assert only_on.add_working_days(at(2026, 3, 9), 5).due.date() == date(2026, 3, 14)
    only_off = WorkingCalendar(
        CalendarOverrides("fuyuan", extra_days_off={date(2026, 3, 10): "停止办公"})
    )
    assert only_off.add_working_days(at(2026, 3, 9), 5).due.date() == date(2026, 3, 17)

    text = dl.explain()
    assert "本地休息日（抚远市人民政府决定：防汛应急停止办公）" in text
    assert "集中执法行动日" in text
    assert "抚远市本地调整" in text
    assert "district fuyuan overrides (policy 1.0)" in dl.explanation.source


def test_district_override_can_close_an_adjusted_working_day() -> None:
    cal = WorkingCalendar(
        CalendarOverrides("huancui", extra_days_off={date(2026, 2, 14): "本地停止办公"})
    )
    assert not cal.is_working_day(date(2026, 2, 14))
    assert cal.day_kind(date(2026, 2, 14)).overridden is DayCategory.ADJUSTED_WORKDAY
    assert cal.add_working_days(at(2026, 2, 13), 1).due.date() == date(2026, 2, 24)


def test_overrides_conflict_rejected() -> None:
    with pytest.raises(ValueError, match="2026-03-10"):
        CalendarOverrides(
            "fuyuan",
            extra_days_off={date(2026, 3, 10): "a"},
            extra_working_days={date(2026, 3, 10): "b"},
        )


def test_office_closing_time_ends_the_last_day() -> None:
    cal = WorkingCalendar(CalendarOverrides("fuyuan", office_closing_time=time(17, 30)))
    dl = cal.add_working_days(at(2026, 2, 13), 5)
    assert dl.due == at(2026, 2, 27, 17, 30)
    assert "17时30分" in dl.explain()
    assert "office closing time" in dl.explain("en")
    # n == 0 after closing: the deadline never precedes its start.
    late = at(2026, 3, 9, 18, 0)
    assert cal.add_working_days(late, 0).due == late


# --------------------------------------------------------------------------- between / before


def test_working_days_between_positive_zero_negative(cal: WorkingCalendar) -> None:
    assert cal.working_days_between(at(2026, 2, 13), at(2026, 2, 27)) == 5
    assert cal.working_days_between(at(2026, 2, 27, 9), at(2026, 2, 27, 18)) == 0
    # Overdue: due Fri 27 Feb, now Tue 3 Mar → Sat 28 Feb (调休), Mon 2, Tue 3 passed.
    assert cal.working_days_between(at(2026, 3, 3), at(2026, 2, 27)) == -3
    assert cal.working_days_between(at(2026, 2, 27), at(2026, 3, 3)) == 3


def test_working_days_between_inverts_add_working_days(cal: WorkingCalendar) -> None:
    for start in (at(2026, 2, 10), at(2026, 9, 25), at(2025, 12, 30), at(2026, 2, 21)):
        for n in range(0, 12):
            dl = cal.add_working_days(start, n)
            assert cal.working_days_between(start, dl.due) == n, (start, n)


def test_R_MTG_01_notice_and_rsvp_lead_times(cal: WorkingCalendar) -> None:
    """Meeting Wed 25 Feb 2026: notice 5 wd before is Wed 11 Feb (Sat 14 Feb works, the
    festival does not); RSVP 2 wd before is the working Saturday 14 Feb."""
    meeting = date(2026, 2, 25)
    notice = cal.working_days_before(meeting, 5)
    rsvp = cal.working_days_before(meeting, 2)
    assert notice == date(2026, 2, 11)
    assert rsvp == date(2026, 2, 14)
    for lead, day in ((5, notice), (2, rsvp)):
        assert cal.is_working_day(day)
        start = datetime.combine(day, time(9), tzinfo=SH)
        end = datetime.combine(meeting, time(9), tzinfo=SH)
        assert cal.working_days_between(start, end) >= lead
    assert cal.next_working_day(date(2026, 2, 14)) == date(2026, 2, 24)


# --------------------------------------------------------------------------- explanation


def test_explanation_text_names_the_skipped_holiday(cal: WorkingCalendar) -> None:
    dl = cal.add_working_days(at(2026, 2, 13), 5)
    zh = dl.explain("zh")
    assert zh.startswith("自2026年2月13日（星期五）10时00分起计算5个工作日")
    assert "期间开始之日不计算在内" in zh
    assert "2月14日（星期六，调休上班）计入，为第1个工作日" in zh
    assert "2月15日至2月23日 春节假期，不计入" in zh
    assert "2月24日至2月27日（星期二至星期五）计入，为第2至第5个工作日" in zh
    assert "截止时间：2026年2月27日（星期五）24时" in zh
    assert f"holidays {holidays_version()}" in zh
    assert "尚未经国务院办公厅通知确认" not in zh  # 2026 is announced
    en = dl.explain("en")
    assert "Sun 15 Feb – Mon 23 Feb: Spring Festival holiday, not counted" in en
    assert "Due: end of Fri 27 Feb 2026 (24:00 Asia/Shanghai)" in en
    with pytest.raises(ValueError):
        dl.explain("fr")


def test_explanation_flags_a_year_not_yet_announced(cal: WorkingCalendar) -> None:
    last = last_confirmed_year()
    assert last is not None and last >= 2026
    year = last + 1
    assert not national_year_confirmed(year)
    dl = cal.add_working_days(at(year, 3, 2), 3)
    assert any(not y.confirmed for y in dl.explanation.years)
    assert f"{year}年的节假日安排尚未经国务院办公厅通知确认" in dl.explain()
    assert "not yet confirmed by a State Council notice" in dl.explain("en")


def test_deadline_round_trips_through_a_dict(cal: WorkingCalendar) -> None:
    for dl in (
        cal.add_working_days(at(2026, 2, 13), 5),
        cal.add_hours(at(2026, 2, 15, 9, 0), 24),
        WorkingCalendar(
            CalendarOverrides(
                "fuyuan",
                extra_days_off={date(2026, 3, 10): "停止办公"},
                office_closing_time=time(17, 30),
            )
        ).add_working_days(at(2026, 3, 9), 3),
    ):
        stored = json.loads(json.dumps(dl.to_dict()))
        back = Deadline.from_dict(stored)
        assert back == dl
        assert back.explain() == dl.explain()
        assert WorkingCalendar.explain_dict(stored, lang="en") == dl.explain("en")
    data = cal.add_working_days(at(2026, 2, 13), 5).to_dict()
    assert data["due"] == "2026-02-27T23:59:59+08:00"
    assert data["explanation"]["days"][1]["category"] == "adjusted_workday"


def test_is_overdue(cal: WorkingCalendar) -> None:
    dl = cal.add_working_days(at(2026, 2, 13), 5)
    assert not dl.is_overdue(at(2026, 2, 27, 23, 59))
    assert dl.is_overdue(at(2026, 2, 28, 0, 0))


# --------------------------------------------------------------------------- naive datetimes


def test_naive_datetimes_rejected(cal: WorkingCalendar) -> None:
    naive = datetime(2026, 2, 13, 10, 0)
    with pytest.raises(ValueError, match="naive"):
        cal.add_working_days(naive, 5)
    with pytest.raises(ValueError, match="naive"):
        cal.add_hours(naive, 24)
    with pytest.raises(ValueError, match="naive"):
        cal.working_days_between(naive, at(2026, 2, 27))
    with pytest.raises(ValueError, match="naive"):
        cal.working_days_between(at(2026, 2, 13), naive)
    with pytest.raises(ValueError, match="naive"):
        cal.day_kind(naive)
    dl = cal.add_working_days(at(2026, 2, 13), 5)
    with pytest.raises(ValueError, match="naive"):
        dl.is_overdue(naive)


# --------------------------------------------------------------------------- calendar days


def test_calendar_days_end_on_the_nth_day_when_it_is_a_working_day(cal: WorkingCalendar) -> None:
    """DOMAIN §0: "N days" (日) are calendar days; the start day is not counted."""
    dl = cal.add_calendar_days(at(2026, 3, 2), 3)  # Monday
    assert dl.due == datetime(2026, 3, 5, 23, 59, 59, tzinfo=SH)
    assert dl.calendar_days == 3 and dl.working_days is None and dl.hours is None
    assert "为工作日" in dl.explain()


def test_calendar_days_last_day_on_a_weekend_rolls_to_monday(cal: WorkingCalendar) -> None:
    dl = cal.add_calendar_days(at(2026, 3, 4), 3)  # Wednesday + 3 = Saturday 7 March
    assert dl.due.date() == date(2026, 3, 9)
    assert "顺延至3月9日（星期一）" in dl.explain()
    just_before = cal.add_calendar_days(at(2026, 3, 3), 3)  # ends Friday 6 March
    assert just_before.due.date() == date(2026, 3, 6)


def test_decree_310_three_day_clock_ending_on_a_holiday_rolls_past_the_national_day(
    cal: WorkingCalendar,
) -> None:
    """A 3-day clock (Decree 310's limits are days, 日) started Monday 28 September 2026
    ends on 1 October, the National Day: it rolls over to the first working day after."""
    dl = cal.add_calendar_days(at(2026, 9, 28), 3)
    assert dl.due == datetime(2026, 10, 8, 23, 59, 59, tzinfo=SH)
    zh = dl.explain()
    assert "期间最后一日为10月1日（星期四），适逢" in zh and "国庆节假期" in zh
    assert "顺延至10月8日（星期四）" in zh and "截止时间：2026年10月8日（星期四）24时" in zh
    assert "rolled over to Thu 8 Oct" in dl.explain("en")
    # The record keeps the start, the nominal last day and the roll-over, not every day.
    assert len(dl.explanation.days) == 2 + 7
    assert Deadline.from_dict(json.loads(json.dumps(dl.to_dict()))) == dl


def test_calendar_days_count_is_at_least_one(cal: WorkingCalendar) -> None:
    assert cal.add_calendar_days(at(2026, 3, 2), 1).due.date() == date(2026, 3, 3)
    with pytest.raises(ValueError, match="≥ 1 day"):
        cal.add_calendar_days(at(2026, 3, 2), 0)
    with pytest.raises(TypeError):
        cal.add_calendar_days(at(2026, 3, 2), True)
