"""Working-day arithmetic: :class:`WorkingCalendar` and the periods it computes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from kernel.calendar.days import (
    _END_OF_DAY,
    SHANGHAI,
    CalendarOverrides,
    DayCategory,
    DayKind,
    _as_date,
    _dates,
    _local,
)
from kernel.calendar.deadline import ConsideredDay, Deadline, Explanation, Revision, YearStatus
from kernel.calendar.explain import (
    _default_calendar_days_rule,
    _default_hours_rule,
    _default_working_days_rule,
    _zh_due,
)
from kernel.calendar.national import (
    _holiday_block,
    _nationally_working,
    holidays_version,
    last_confirmed_year,
    year_confirmed,
    year_data,
)
from kernel.calendar.official import ScheduleBook


@dataclass(frozen=True)
class Recheck:
    """A stored deadline computed again after the calendar learnt a year (issue 20)."""

    before: Deadline
    after: Deadline

    @property
    def moved(self) -> bool:
        """The due time changed (else only the years' status did: provisional → confirmed)."""
        return self.before.due != self.after.due

    @property
    def summary_zh(self) -> str:
        """E.g. ``截止时间由2027年1月6日（星期三）24时调整为2027年1月7日（星期四）24时``."""
        mode, closing = self.after.mode, self.after.explanation.closing_time
        before = _zh_due(self.before.due, closing, mode)
        if not self.moved:
            return f"节假日安排已确认，截止时间{before}不变"
        return f"截止时间由{before}调整为{_zh_due(self.after.due, closing, mode)}"


class WorkingCalendar:
    """Chinese working-day calendar (Asia/Shanghai) with optional district overrides.

    Instances are immutable and safe to share between threads and tasks; the national data
    is cached per year for the whole process. ``schedules`` is the book of official
    schedules the district loaded (:mod:`kernel.calendar.official`): a year found there
    follows it instead of the package, and calendars sharing a book see a load at once.
    """

    def __init__(
        self, overrides: CalendarOverrides | None = None, schedules: ScheduleBook | None = None
    ) -> None:
        self._overrides = overrides
        self._book = schedules if schedules is not None else ScheduleBook()

    @property
    def schedules(self) -> ScheduleBook:
        """The official schedules this calendar follows (shared, filled at run time)."""
        return self._book

    def year_status(self, year: int) -> YearStatus:
        """Whether ``year`` is confirmed, and by which loaded notice (None: the package)."""
        schedule = self._book.get(year)
        return YearStatus(
            year, year_confirmed(year, self._book), schedule.document_number if schedule else None
        )

    @property
    def overrides(self) -> CalendarOverrides | None:
        """The district overrides in force, if any."""
        return self._overrides

    @property
    def source(self) -> str:
        """Where the calendar comes from, in English (stored with every deadline)."""
        last = last_confirmed_year()
        text = f"holidays {holidays_version()} China"
        if last is not None:
            text += f" (State Council notices encoded up to {last})"
        for year in self._book.years():
            schedule = self._book.get(year)
            if schedule is not None:
                text += f" + official {year} schedule {schedule.document_number}"
        ov = self._overrides
        if ov is not None:
            text += f" + district {ov.district} overrides"
            if ov.policy_version:
                text += f" (policy {ov.policy_version})"
        return text

    @property
    def source_zh(self) -> str:
        """Where the calendar comes from, in Chinese."""
        last = last_confirmed_year()
        text = f"holidays {holidays_version()} 中国法定节假日及调休安排"
        if last is not None:
            text += f"（已录入国务院办公厅通知至{last}年）"
        for year in self._book.years():
            schedule = self._book.get(year)
            if schedule is not None:
                text += f"；{year}年依据{schedule.notice_zh}"
        ov = self._overrides
        if ov is not None:
            name = ov.district_name_zh or ov.district
            text += f"；{name}本地调整"
            if ov.policy_version:
                text += f"（政策版本 {ov.policy_version}）"
        return text

    # -- single days ---------------------------------------------------------------------

    def day_kind(self, d: date | datetime) -> DayKind:
        """Classify a date (an aware datetime is taken at its Asia/Shanghai date)."""
        d = _as_date(d)
        national = self._national_kind(d)
        ov = self._overrides
        if ov is not None:
            if d in ov.extra_days_off:
                return DayKind(
                    date=d,
                    category=DayCategory.DISTRICT_DAY_OFF,
                    is_working_day=False,
                    reason=ov.extra_days_off[d],
                    overridden=national.category,
                )
            if d in ov.extra_working_days:
                return DayKind(
                    date=d,
                    category=DayCategory.DISTRICT_WORKDAY,
                    is_working_day=True,
                    reason=ov.extra_working_days[d],
                    overridden=national.category,
                )
        return national

    def is_working_day(self, d: date | datetime) -> bool:
        """Whether offices work on ``d`` (district overrides first, then the national rule)."""
        d = _as_date(d)
        ov = self._overrides
        if ov is not None:
            if d in ov.extra_days_off:
                return False
            if d in ov.extra_working_days:
                return True
        return _nationally_working(d, self._book)

    def _national_kind(self, d: date) -> DayKind:
        data = year_data(d.year, self._book)
        period_zh, period_en = _holiday_block(d, self._book)
        pzh = "、".join(period_zh) or None
        pen = " / ".join(period_en) or None
        if d in data.names_zh:
            return DayKind(
                date=d,
                category=DayCategory.STATUTORY_HOLIDAY,
                is_working_day=False,
                name_zh="；".join(data.names_zh[d]),
                name_en="; ".join(data.names_en.get(d, ())) or None,
                holiday_period_zh=pzh,
                holiday_period_en=pen,
            )
        if d in data.weekend_workdays:
            return DayKind(date=d, category=DayCategory.ADJUSTED_WORKDAY, is_working_day=True)
        if d.weekday() >= 5:
            return DayKind(
                date=d,
                category=DayCategory.WEEKEND,
                is_working_day=False,
                holiday_period_zh=pzh,
                holiday_period_en=pen,
            )
        return DayKind(date=d, category=DayCategory.WORKDAY, is_working_day=True)

    # -- periods -------------------------------------------------------------------------

    def add_working_days(self, start: datetime, n: int, *, rule: str | None = None) -> Deadline:
        """The deadline ``n`` working days after ``start``.

        The start day is not counted; counting begins the next day and the deadline is the
        end of the ``n``-th working day (24:00, or the district's closing time). ``n == 0``
        gives the end of the start day. ``rule`` names the rule in the record (default
        ``"<n> working days"``).
        """
        local_start = _local(start, "start")
        _check_count(n, 0, "working days")
        start_day = local_start.date()
        considered = [ConsideredDay(self.day_kind(start_day), counted=False, is_start=True)]
        last = start_day
        count = 0
        cur = start_day
        while count < n:
            cur += timedelta(days=1)
            kind = self.day_kind(cur)
            if kind.is_working_day:
                count += 1
                considered.append(ConsideredDay(kind, counted=True, ordinal=count))
            else:
                considered.append(ConsideredDay(kind, counted=False))
            last = cur
        return self._ending_on(
            local_start,
            last,
            considered,
            "working_days",
            rule or _default_working_days_rule(n),
            working_days=n,
        )

    def add_hours(self, start: datetime, hours: float, *, rule: str | None = None) -> Deadline:
        """The deadline ``hours`` clock hours after ``start`` (holidays are not skipped).

        Used for the 24-hour urgent clock. The record lists the calendar days the period
        crosses, all counted, so that the text can say that a holiday did not stop the clock.
        """
        local_start = _local(start, "start")
        if isinstance(hours, bool) or not isinstance(hours, int | float):
            raise TypeError(f"hours must be a number, got {type(hours).__name__}")
        if hours < 0:
            raise ValueError(f"hours must be ≥ 0, got {hours}")
        due = (local_start.astimezone(UTC) + timedelta(hours=hours)).astimezone(SHANGHAI)
        considered = [
            ConsideredDay(self.day_kind(d), counted=d != local_start.date(), is_start=i == 0)
            for i, d in enumerate(_dates(local_start.date(), due.date()))
        ]
        return Deadline(
            start=local_start,
            due=due,
            rule=rule or _default_hours_rule(hours),
            hours=float(hours),
            explanation=self._explanation("clock", considered, None),
        )

    def add_calendar_days(self, start: datetime, n: int, *, rule: str | None = None) -> Deadline:
        """The deadline ``n`` days (日, calendar days) after ``start`` (DOMAIN §0).

        The start day is not counted; the period ends at the end of the ``n``-th day, and
        when that day is not a working day (a weekend, a statutory holiday, a district day
        off) it rolls over to the end of the next working day. The record keeps the start
        day, the nominal last day and each day it rolled over, not every day in between
        (a 90-day period would otherwise store 90 days per clock).
        """
        local_start = _local(start, "start")
        _check_count(n, 1, "day")
        start_day = local_start.date()
        nominal = start_day + timedelta(days=n)
        kind = self.day_kind(nominal)
        considered = [
            ConsideredDay(self.day_kind(start_day), counted=False, is_start=True),
            ConsideredDay(kind, counted=kind.is_working_day, ordinal=n),
        ]
        last = nominal
        while not self.is_working_day(last):
            last += timedelta(days=1)
            kind = self.day_kind(last)
            considered.append(ConsideredDay(kind, counted=kind.is_working_day))
        return self._ending_on(
            local_start,
            last,
            considered,
            "calendar_days",
            rule or _default_calendar_days_rule(n),
            calendar_days=n,
        )

    def _ending_on(
        self,
        local_start: datetime,
        last: date,
        considered: list[ConsideredDay],
        mode: Literal["working_days", "calendar_days"],
        rule: str,
        **count: int,
    ) -> Deadline:
        """A period that ends with the day ``last``: at 24:00, or the district's closing."""
        closing = self._overrides.office_closing_time if self._overrides else None
        due = datetime.combine(last, closing or _END_OF_DAY, tzinfo=SHANGHAI)
        # A closing time can fall before a same-day start (n == 0, started after hours);
        # a deadline never precedes its own start.
        due = max(due, local_start)
        return Deadline(
            start=local_start,
            due=due,
            rule=rule,
            explanation=self._explanation(mode, considered, closing),
            **count,
        )

    def working_days_between(self, start: datetime, end: datetime) -> int:
        """Working days from ``start`` to ``end``, negative when ``end`` is earlier.

        Counted like a period: days after ``start``'s date up to and including ``end``'s
        date (Asia/Shanghai dates). So ``working_days_between(s, add_working_days(s, n).due)
        == n``, and ``working_days_between(now, deadline.due)`` is the working days left:
        0 on the last day, negative once the due date is past. The count is by day; use
        :meth:`Deadline.is_overdue` for the exact instant.
        """
        a = _local(start, "start").date()
        b = _local(end, "end").date()
        sign = 1
        if b < a:
            a, b, sign = b, a, -1
        count = sum(1 for d in _dates(a + timedelta(days=1), b) if self.is_working_day(d))
        return sign * count

    def working_days_before(self, event: date | datetime, n: int) -> date:
        """The latest working day that is at least ``n`` working days before ``event``.

        For lead times such as "notice 5 working days before the meeting, RSVP 2 before"
        (R-MTG-01): with the same convention as :meth:`working_days_between` (days after the
        earlier date up to and including the event day), the result ``L`` satisfies
        ``working_days_between(L, event) >= n`` and is itself a working day.
        """
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"n must be an int, got {type(n).__name__}")
        if n < 0:
            raise ValueError(f"n must be ≥ 0 working days, got {n}")
        cur = _as_date(event)
        count = 0
        while count < n:
            if self.is_working_day(cur):
                count += 1
            cur -= timedelta(days=1)
        while not self.is_working_day(cur):
            cur -= timedelta(days=1)
        return cur

    @staticmethod
    def explain_dict(data: Mapping[str, Any], lang: str = "zh") -> str:
        """Render a stored deadline (:meth:`Deadline.to_dict` output) as text.

        Uses only the stored record, not this calendar, so the text is the computation as it
        was made even if the holiday data or the district overrides have changed since.
        """
        return Deadline.from_dict(data).explain(lang)

    def recompute(self, deadline: Deadline) -> Deadline:
        """The same period (start, count, rule) computed again with the calendar as it is now."""
        if deadline.mode == "working_days":
            return self.add_working_days(
                deadline.start, deadline.working_days or 0, rule=deadline.rule
            )
        if deadline.mode == "calendar_days":
            return self.add_calendar_days(
                deadline.start, deadline.calendar_days or 1, rule=deadline.rule
            )
        return self.add_hours(deadline.start, deadline.hours or 0.0, rule=deadline.rule)

    def recheck(
        self, stored: Mapping[str, Any], *, at: datetime, year: int | None = None
    ) -> Recheck | None:
        """Compute a stored deadline (:meth:`Deadline.to_dict`) again, when it needs it.

        With ``year`` (an official schedule of that year was loaded): every deadline whose
        computation touched the year. Without (at start): those computed across a year whose
        status has changed since (a ``holidays`` upgrade confirmed it, or a schedule was
        loaded meanwhile). None when the deadline is not concerned or nothing would change —
        so rechecking twice changes nothing. A moved deadline keeps its earlier due time and
        the notice that moved it (:class:`Revision`), which its explanation states.
        """
        before = Deadline.from_dict(stored)
        if before.mode == "clock":
            return None  # clock time skips no holiday: no schedule moves or confirms it
        stated = {y.year: y for y in before.explanation.years}
        if year is not None:
            if year not in stated:
                return None
            changed = [year]
        else:
            changed = [y for y, s in stated.items() if self.year_status(y) != s]
            if not changed:
                return None
        after = self.recompute(before)
        if after.due == before.due and after.explanation.years == before.explanation.years:
            return None
        revisions = before.explanation.revisions
        if after.due != before.due:
            revisions = (
                *revisions,
                Revision(_local(before.due, "due"), self._notice_zh(changed), changed[0], at),
            )
        explanation = replace(after.explanation, revisions=revisions)
        return Recheck(before, replace(after, explanation=explanation))

    def _notice_zh(self, years: list[int]) -> str:
        cited = []
        for y in years:
            schedule = self._book.get(y)
            cited.append(
                schedule.notice_zh
                if schedule is not None
                else f"holidays {holidays_version()} 录入的国务院办公厅{y}年节假日安排"
            )
        return "、".join(dict.fromkeys(cited))

    def next_working_day(self, d: date | datetime) -> date:
        """The first working day strictly after ``d``."""
        cur = _as_date(d) + timedelta(days=1)
        while not self.is_working_day(cur):
            cur += timedelta(days=1)
        return cur

    def _explanation(
        self,
        mode: Literal["working_days", "clock", "calendar_days"],
        considered: list[ConsideredDay],
        closing: time | None,
    ) -> Explanation:
        years = sorted({c.day.date.year for c in considered})
        return Explanation(
            mode=mode,
            days=tuple(considered),
            source=self.source,
            source_zh=self.source_zh,
            years=tuple(self.year_status(y) for y in years),
            closing_time=closing,
        )


def _check_count(n: object, minimum: int, unit: str) -> None:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"n must be an int, got {type(n).__name__}")
    if n < minimum:
        raise ValueError(f"n must be ≥ {minimum} {unit}, got {n}")
