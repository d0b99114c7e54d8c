"""Working-day calendar for statutory deadlines, in Asia/Shanghai.

Why this module exists
    Most Liandong deadlines are counted in working days (工作日): a referral must be sent
    within 5 working days in Fuyuan, an acceptance stated within 5, a technical opinion given
    within 3, and so on. Statutory holidays are off, adjusted working days (调休, e.g. a
    working Saturday) are on, and a district may add its own days. Every deadline must also
    be *explainable* to an official, so a computed :class:`Deadline` keeps the days it
    looked at and renders them as text (:meth:`Deadline.explain`).

Sources of truth
    * The national calendar comes from the maintained ``holidays`` package
      (``holidays.China``: public holidays incl. substituted days off, plus
      ``weekend_workdays``). Nothing national is hard-coded here. Only the *public*
      category is used: the half-day holidays (三八妇女节, 五四青年节, ...) apply to some
      groups of people only and do not close offices.
    * The package encodes the State Council's yearly notice (国务院办公厅关于××年部分节假日
      安排的通知) for the years it has been updated for; later years are computed by rule
      and may still change. :func:`national_year_confirmed` tells them apart and every
      explanation says which kind of year it relied on.
    * Once the notice for a forecast year is out, the district's calendar administrator
      loads it (:mod:`kernel.calendar.official`): that year then follows the loaded
      schedule, clocks computed across it are checked again (:meth:`WorkingCalendar.recheck`)
      and a clock computed across a year still forecast is *provisional*
      (:attr:`Deadline.provisional`).
    * District overrides (:class:`CalendarOverrides`) come from the district policy.

Counting convention
    Chinese law does not count the day on which a period starts (期间开始之日不计算在内,
    民法典第二百零一条; 行政处罚法第八十五条 makes "日" in such limits working days). So
    ``add_working_days(start, n)`` counts from the next day and the deadline is the end of
    the *n*-th working day; ``n == 0`` means the end of the start day itself.

    "End of the day" is 24:00 local time (represented as 23:59:59, a value MongoDB stores
    exactly at its millisecond precision) unless the district
    policy gives an office closing time: the last day of a period ends at 24:00, or when
    business stops where there are business hours (民法典第二百零三条). With a closing time
    the deadline is that time on the last day, and never earlier than the start.

    "24 hours" (the urgent clock) is clock time: :meth:`WorkingCalendar.add_hours` skips
    nothing. China has observed no daylight-saving time since 1991, so clock arithmetic in
    Asia/Shanghai is plain arithmetic.

All datetimes must be timezone-aware; naive ones are rejected with :class:`ValueError`
because guessing their zone is exactly the kind of silent error a legal deadline cannot have.

Layout
    ``national`` the holiday data (State Council schedules via ``holidays``); ``days`` the
    zone, the kinds of day and district overrides; ``working`` the working-day arithmetic
    (:class:`WorkingCalendar`); ``deadline`` the computed deadline and its stored record;
    ``explain`` its Chinese and English explanation. Import from ``kernel.calendar``.
"""

from __future__ import annotations

from kernel.calendar.days import SHANGHAI, CalendarOverrides, DayCategory, DayKind
from kernel.calendar.deadline import ConsideredDay, Deadline, Explanation, Revision, YearStatus
from kernel.calendar.national import holidays_version, last_confirmed_year, national_year_confirmed
from kernel.calendar.official import (
    OfficialSchedule,
    ScheduleBook,
    ScheduleError,
    ScheduleProblem,
    parse_schedule,
)
from kernel.calendar.working import Recheck, WorkingCalendar

__all__ = [
    "SHANGHAI",
    "CalendarOverrides",
    "ConsideredDay",
    "DayCategory",
    "DayKind",
    "Deadline",
    "Explanation",
    "OfficialSchedule",
    "Recheck",
    "Revision",
    "ScheduleBook",
    "ScheduleError",
    "ScheduleProblem",
    "WorkingCalendar",
    "YearStatus",
    "holidays_version",
    "last_confirmed_year",
    "national_year_confirmed",
    "parse_schedule",
]
