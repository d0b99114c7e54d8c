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
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

__all__ = [
    "SHANGHAI",
    "CalendarOverrides",
    "ConsideredDay",
    "DayCategory",
    "DayKind",
    "Deadline",
    "Explanation",
    "WorkingCalendar",
    "YearStatus",
    "holidays_version",
    "last_confirmed_year",
    "national_year_confirmed",
]


def _shanghai() -> tzinfo:
    try:
        return ZoneInfo("Asia/Shanghai")
    except ZoneInfoNotFoundError:  # pragma: no cover - depends on the host's tz database
        # Slim images may lack the IANA database. China has used a fixed UTC+8 without DST
        # since 1992, so a fixed offset gives identical results for every date we handle.
        return timezone(timedelta(hours=8), "Asia/Shanghai")


SHANGHAI: tzinfo = _shanghai()
"""The zone every Liandong deadline is computed and displayed in."""

_END_OF_DAY = time(23, 59, 59)
_WEEKDAYS_ZH = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")
_WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS_EN = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)
# A holiday block (放假调休) never exceeds nine or ten days; the neighbour walk that names
# the block around a weekend day stops well beyond that.
_MAX_BLOCK_DAYS = 16
# The package says it is checked against the State Council notices from 2001 on.
_FIRST_CHECKED_YEAR = 2001


# --------------------------------------------------------------------------- national data


def holidays_version() -> str:
    """Version of the ``holidays`` package that supplies the national calendar."""
    return str(getattr(holidays, "__version__", "unknown"))


@functools.cache
def last_confirmed_year() -> int | None:
    """Last year whose State Council holiday notice is encoded in ``holidays``.

    The package records each announced year's swaps (调休) as special holidays keyed by
    year; years after the last key are computed by rule only. ``None`` if the package no
    longer exposes that table (then no year is reported as confirmed).
    """
    table = getattr(holidays.country_holidays("CN", years=2000), "special_public_holidays", None)
    if not isinstance(table, Mapping) or not table:
        return None
    return max(int(y) for y in table)


def national_year_confirmed(year: int) -> bool:
    """Whether ``year`` follows an official notice encoded in the package (not a forecast)."""
    last = last_confirmed_year()
    return last is not None and _FIRST_CHECKED_YEAR <= year <= last


@dataclass(frozen=True)
class _NationalYear:
    names_zh: Mapping[date, tuple[str, ...]]
    names_en: Mapping[date, tuple[str, ...]]
    weekend_workdays: frozenset[date]


@functools.cache
def _national_year(year: int) -> _NationalYear:
    zh = holidays.country_holidays("CN", years=year, language="zh_CN")
    en = holidays.country_holidays("CN", years=year, language="en_US")
    return _NationalYear(
        names_zh=MappingProxyType({d: tuple(zh.get_list(d)) for d in zh}),
        names_en=MappingProxyType({d: tuple(en.get_list(d)) for d in en}),
        # The package's set also holds a few historic dates of other years; keep this year's.
        weekend_workdays=frozenset(d for d in zh.weekend_workdays if d.year == year),
    )


def _nationally_working(d: date) -> bool:
    data = _national_year(d.year)
    if d in data.weekend_workdays:
        return True
    return d.weekday() < 5 and d not in data.names_zh


def _festival_zh(name: str) -> str | None:
    """The festival a package holiday name belongs to, or None for a swapped day off."""
    if name.startswith("休息日"):  # "休息日（由 2026-02-14 调休）": a swap, no festival
        return None
    for suffix in ("（补假，推定）", "（补假）", "（推定）"):
        name = name.removesuffix(suffix)
    if name in ("农历除夕", "春节延长假期"):
        return "春节"
    return name


def _festival_en(name: str) -> str | None:
    if name.startswith("Day off"):
        return None
    for suffix in (" (observed, estimated)", " (observed)", " (estimated)"):
        name = name.removesuffix(suffix)
    if name.startswith("Chinese New Year"):
        return "Spring Festival"
    return name


@functools.lru_cache(maxsize=4096)
def _holiday_block(d: date) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Festival names (zh, en) of the run of national days off around ``d``.

    The package lists only the days that are holidays *in law*; the weekend days inside a
    block (e.g. Sun 15 Feb 2026 in the Spring Festival block 15–23 Feb) are plain weekend
    days to it, while the official notice and every official reads them as part of the
    holiday ("2月15日至23日放假调休，共9天"). Naming the whole run keeps explanations in the
    notice's own terms. A run with no statutory holiday (a plain weekend) has no name.
    """
    if _nationally_working(d):
        return ((), ())
    run = [d]
    for step in (-1, 1):
        cur = d
        for _ in range(_MAX_BLOCK_DAYS):
            cur = cur + timedelta(days=step)
            if _nationally_working(cur):
                break
            run.append(cur)
    zh: list[str] = []
    en: list[str] = []
    for day in sorted(run):
        data = _national_year(day.year)
        for name in data.names_zh.get(day, ()):
            fz = _festival_zh(name)
            if fz and fz not in zh:
                zh.append(fz)
        for name in data.names_en.get(day, ()):
            fe = _festival_en(name)
            if fe and fe not in en:
                en.append(fe)
    if not zh and any(day in _national_year(day.year).names_zh for day in run):
        # Only swapped days off in the run (never seen in practice): still a holiday block.
        zh, en = ["调休"], ["swapped day off"]
    return (tuple(zh), tuple(en))


# --------------------------------------------------------------------------- day kinds


class DayCategory(StrEnum):
    """What kind of day a date is, after national rules and district overrides."""

    WORKDAY = "workday"
    """Monday to Friday, no holiday."""
    WEEKEND = "weekend"
    """Saturday or Sunday, not a working day (may lie inside a holiday block)."""
    STATUTORY_HOLIDAY = "statutory_holiday"
    """A national holiday, an observed day or a swapped day off (休息日 由…调休)."""
    ADJUSTED_WORKDAY = "adjusted_workday"
    """A weekend day made a working day by the State Council notice (调休上班)."""
    DISTRICT_DAY_OFF = "district_day_off"
    """A day off added by the district policy (with a reason)."""
    DISTRICT_WORKDAY = "district_workday"
    """A working day added by the district policy (with a reason)."""


@dataclass(frozen=True)
class DayKind:
    """One calendar day as the deadline rules see it."""

    date: date
    category: DayCategory
    is_working_day: bool
    name_zh: str | None = None
    """Holiday name from the package (zh_CN), e.g. ``春节`` or ``休息日（由 2026-02-14 调休）``."""
    name_en: str | None = None
    """The same name in English."""
    holiday_period_zh: str | None = None
    """Festival(s) of the holiday block the day lies in (also for weekend days in it)."""
    holiday_period_en: str | None = None
    """The same, in English."""
    reason: str | None = None
    """Why the district overrides this day (district categories only)."""
    overridden: DayCategory | None = None
    """The national category a district override replaced, if any."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (dates as ISO strings)."""
        return {
            "date": self.date.isoformat(),
            "category": self.category.value,
            "is_working_day": self.is_working_day,
            "name_zh": self.name_zh,
            "name_en": self.name_en,
            "holiday_period_zh": self.holiday_period_zh,
            "holiday_period_en": self.holiday_period_en,
            "reason": self.reason,
            "overridden": self.overridden.value if self.overridden else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DayKind:
        """Inverse of :meth:`to_dict`."""
        overridden = data.get("overridden")
        return cls(
            date=date.fromisoformat(data["date"]),
            category=DayCategory(data["category"]),
            is_working_day=bool(data["is_working_day"]),
            name_zh=data.get("name_zh"),
            name_en=data.get("name_en"),
            holiday_period_zh=data.get("holiday_period_zh"),
            holiday_period_en=data.get("holiday_period_en"),
            reason=data.get("reason"),
            overridden=DayCategory(overridden) if overridden else None,
        )


@dataclass(frozen=True)
class CalendarOverrides:
    """A district's changes to the national calendar, taken from its policy.

    ``extra_days_off`` and ``extra_working_days`` map a date to the reason (shown in every
    explanation that touches the day). A date may not be in both. ``office_closing_time``,
    if set, is when the last day of a working-day period ends instead of 24:00.
    """

    district: str
    extra_days_off: Mapping[date, str] = field(default_factory=dict)
    extra_working_days: Mapping[date, str] = field(default_factory=dict)
    office_closing_time: time | None = None
    district_name_zh: str | None = None
    policy_version: str | None = None

    def __post_init__(self) -> None:
        both = sorted(set(self.extra_days_off) & set(self.extra_working_days))
        if both:
            raise ValueError(
                f"district {self.district}: dates both extra day off and extra working day: "
                + ", ".join(d.isoformat() for d in both)
            )
        if self.office_closing_time is not None and self.office_closing_time.tzinfo is not None:
            raise ValueError("office_closing_time is local Asia/Shanghai time; give no tzinfo")
        # Freeze the mappings so a shared calendar cannot be changed behind its users' backs.
        object.__setattr__(self, "extra_days_off", MappingProxyType(dict(self.extra_days_off)))
        object.__setattr__(
            self, "extra_working_days", MappingProxyType(dict(self.extra_working_days))
        )


# --------------------------------------------------------------------------- explanation


@dataclass(frozen=True)
class ConsideredDay:
    """A day looked at while computing a deadline, and whether it counted."""

    day: DayKind
    counted: bool
    ordinal: int | None = None
    """For a counted working day, which one it was (1-based)."""
    is_start: bool = False
    """The start day: never counted (期间开始之日不计算在内)."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: the day's fields plus ``counted``, ``ordinal``, ``is_start``."""
        return {
            **self.day.to_dict(),
            "counted": self.counted,
            "ordinal": self.ordinal,
            "is_start": self.is_start,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ConsideredDay:
        """Inverse of :meth:`to_dict`."""
        return cls(
            day=DayKind.from_dict(data),
            counted=bool(data["counted"]),
            ordinal=data.get("ordinal"),
            is_start=bool(data.get("is_start", False)),
        )


@dataclass(frozen=True)
class YearStatus:
    """Whether a year's national calendar is the announced one or a rule-based forecast."""

    year: int
    confirmed: bool


@dataclass(frozen=True)
class Explanation:
    """How a deadline was computed: the days considered, in order, and the calendar used."""

    mode: Literal["working_days", "clock", "calendar_days"]
    days: tuple[ConsideredDay, ...]
    source: str
    """E.g. ``holidays 0.109 China (State Council notices to 2026) + district fuyuan ...``."""
    source_zh: str
    years: tuple[YearStatus, ...]
    closing_time: time | None = None
    """The district's office closing time used as end of day, or None for 24:00."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "mode": self.mode,
            "days": [d.to_dict() for d in self.days],
            "source": self.source,
            "source_zh": self.source_zh,
            "years": [{"year": y.year, "confirmed": y.confirmed} for y in self.years],
            "closing_time": self.closing_time.isoformat() if self.closing_time else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Explanation:
        """Inverse of :meth:`to_dict`."""
        mode = data["mode"]
        if mode not in ("working_days", "clock", "calendar_days"):
            raise ValueError(f"unknown explanation mode {mode!r}")
        closing = data.get("closing_time")
        return cls(
            mode=mode,
            days=tuple(ConsideredDay.from_dict(d) for d in data["days"]),
            source=data["source"],
            source_zh=data["source_zh"],
            years=tuple(YearStatus(int(y["year"]), bool(y["confirmed"])) for y in data["years"]),
            closing_time=time.fromisoformat(closing) if closing else None,
        )


@dataclass(frozen=True)
class Deadline:
    """A computed deadline with the record of how it was computed.

    ``due`` and ``start`` are aware datetimes in Asia/Shanghai. ``working_days`` is set for
    working-day periods, ``hours`` for clock periods. Store it with :meth:`to_dict` and
    rebuild it with :meth:`from_dict`; :meth:`explain` renders the stored record, so a
    stored deadline still explains itself after the holiday data has changed.
    """

    start: datetime
    due: datetime
    rule: str
    explanation: Explanation
    working_days: int | None = None
    hours: float | None = None
    calendar_days: int | None = None

    def is_overdue(self, at: datetime) -> bool:
        """Whether the deadline has passed at ``at`` (aware)."""
        return _require_aware(at, "at") > self.due

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict for storage (datetimes as ISO 8601 with offset)."""
        return {
            "start": self.start.isoformat(),
            "due": self.due.isoformat(),
            "rule": self.rule,
            "working_days": self.working_days,
            "hours": self.hours,
            "calendar_days": self.calendar_days,
            "explanation": self.explanation.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Deadline:
        """Inverse of :meth:`to_dict`."""
        return cls(
            start=datetime.fromisoformat(data["start"]).astimezone(SHANGHAI),
            due=datetime.fromisoformat(data["due"]).astimezone(SHANGHAI),
            rule=data["rule"],
            explanation=Explanation.from_dict(data["explanation"]),
            working_days=data.get("working_days"),
            hours=data.get("hours"),
            calendar_days=data.get("calendar_days"),
        )

    def explain(self, lang: str = "zh") -> str:
        """A readable account of the computation: ``lang`` is ``"zh"`` (default) or ``"en"``.

        Typed ``str`` because it usually comes straight from a CLI option or a GraphQL
        argument; anything else raises :class:`ValueError`.
        """
        if lang == "zh":
            return _explain_zh(self)
        if lang == "en":
            return _explain_en(self)
        raise ValueError(f"lang must be 'zh' or 'en', got {lang!r}")


# --------------------------------------------------------------------------- the calendar


def _require_aware(dt: datetime, what: str) -> datetime:
    if not isinstance(dt, datetime):
        raise TypeError(f"{what} must be a datetime, got {type(dt).__name__}")
    if dt.tzinfo is None or dt.tzinfo.utcoffset(dt) is None:
        raise ValueError(
            f"{what} is a naive datetime ({dt.isoformat()}); deadlines need timezone-aware "
            "datetimes, e.g. datetime(..., tzinfo=ZoneInfo('Asia/Shanghai'))"
        )
    return dt


def _local(dt: datetime, what: str) -> datetime:
    return _require_aware(dt, what).astimezone(SHANGHAI)


def _as_date(d: date | datetime) -> date:
    if isinstance(d, datetime):
        return _local(d, "d").date()
    return d


class WorkingCalendar:
    """Chinese working-day calendar (Asia/Shanghai) with optional district overrides.

    Instances are immutable and safe to share between threads and tasks; the national data
    is cached per year for the whole process.
    """

    def __init__(self, overrides: CalendarOverrides | None = None) -> None:
        self._overrides = overrides

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
        return _nationally_working(d)

    @staticmethod
    def _national_kind(d: date) -> DayKind:
        data = _national_year(d.year)
        period_zh, period_en = _holiday_block(d)
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
            years=tuple(YearStatus(y, national_year_confirmed(y)) for y in years),
            closing_time=closing,
        )


def _check_count(n: object, minimum: int, unit: str) -> None:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"n must be an int, got {type(n).__name__}")
    if n < minimum:
        raise ValueError(f"n must be ≥ {minimum} {unit}, got {n}")


def _default_working_days_rule(n: int | None) -> str:
    return f"{n} working day{'s' if n != 1 else ''}"


def _default_calendar_days_rule(n: int | None) -> str:
    return f"{n} day{'s' if n != 1 else ''}"


def _show_hours(hours: float | None) -> str:
    h = hours or 0.0
    return str(int(h)) if float(h).is_integer() else str(h)


def _default_hours_rule(hours: float | None) -> str:
    return f"{_show_hours(hours)} hour{'s' if hours != 1 else ''}"


def _dates(first: date, last: date) -> Iterator[date]:
    cur = first
    while cur <= last:
        yield cur
        cur += timedelta(days=1)


# --------------------------------------------------------------------------- rendering


@dataclass
class _Segment:
    """Consecutive considered days that read as one phrase."""

    days: list[ConsideredDay]

    @property
    def first(self) -> ConsideredDay:
        return self.days[0]

    @property
    def last(self) -> ConsideredDay:
        return self.days[-1]


def _group_key(c: ConsideredDay) -> tuple[Any, ...] | None:
    """Days with equal keys merge into one phrase; None means the day stands alone."""
    k = c.day
    if c.is_start or k.category in (DayCategory.ADJUSTED_WORKDAY, DayCategory.DISTRICT_WORKDAY):
        return None
    if c.counted and k.category is DayCategory.WORKDAY:
        return ("work",)
    if k.category is DayCategory.DISTRICT_DAY_OFF:
        return ("district_off", k.reason)
    if k.holiday_period_zh:
        return ("holiday", k.holiday_period_zh, c.counted)
    return (k.category.value, c.counted)


def _segments(days: tuple[ConsideredDay, ...]) -> list[_Segment]:
    out: list[_Segment] = []
    for c in days:
        key = _group_key(c)
        if out and key is not None and _group_key(out[-1].last) == key:
            out[-1].days.append(c)
        else:
            out.append(_Segment([c]))
    return out


def _zh_date(d: date, ref_year: int | None = None) -> str:
    if ref_year is not None and d.year == ref_year:
        return f"{d.month}月{d.day}日"
    return f"{d.year}年{d.month}月{d.day}日"


def _zh_clock(t: time) -> str:
    text = f"{t.hour}时{t.minute:02d}分"
    return text + (f"{t.second:02d}秒" if t.second else "")


def _zh_due(dt: datetime, closing: time | None, mode: str) -> str:
    day = f"{_zh_date(dt.date())}（{_WEEKDAYS_ZH[dt.weekday()]}）"
    if (
        mode in ("working_days", "calendar_days")
        and closing is None
        and dt.timetz().replace(tzinfo=None) == (_END_OF_DAY)
    ):
        return day + "24时"
    return day + _zh_clock(dt.time())


def _zh_range(seg: _Segment, ref_year: int, with_weekday: bool) -> str:
    a, b = seg.first.day.date, seg.last.day.date
    if a == b:
        text = _zh_date(a, ref_year)
        return text + (f"（{_WEEKDAYS_ZH[a.weekday()]}）" if with_weekday else "")
    # The end of a range repeats the year only when the range crosses into another year.
    text = f"{_zh_date(a, ref_year)}至{_zh_date(b, ref_year if b.year == ref_year else a.year)}"
    if with_weekday:
        text += f"（{_WEEKDAYS_ZH[a.weekday()]}至{_WEEKDAYS_ZH[b.weekday()]}）"
    return text


_CATEGORY_ZH = {
    DayCategory.WORKDAY: "工作日",
    DayCategory.WEEKEND: "周末",
    DayCategory.STATUTORY_HOLIDAY: "法定节假日",
    DayCategory.ADJUSTED_WORKDAY: "调休上班",
    DayCategory.DISTRICT_DAY_OFF: "本地休息日",
    DayCategory.DISTRICT_WORKDAY: "本地调整工作日",
}

_CATEGORY_EN = {
    DayCategory.WORKDAY: "working day",
    DayCategory.WEEKEND: "weekend",
    DayCategory.STATUTORY_HOLIDAY: "statutory holiday",
    DayCategory.ADJUSTED_WORKDAY: "adjusted working day, 调休",
    DayCategory.DISTRICT_DAY_OFF: "district day off",
    DayCategory.DISTRICT_WORKDAY: "district working day",
}


def _zh_label(k: DayKind) -> str:
    if k.category is DayCategory.DISTRICT_DAY_OFF:
        return f"本地休息日（{k.reason}）"
    if k.category is DayCategory.DISTRICT_WORKDAY:
        was = _CATEGORY_ZH[k.overridden] if k.overridden else ""
        return f"本地调整为工作日（{k.reason}{'，原为' + was if was else ''}）"
    if k.holiday_period_zh:
        return f"{k.holiday_period_zh}假期"
    return _CATEGORY_ZH[k.category]


def _zh_ordinals(seg: _Segment) -> str:
    a, b = seg.first.ordinal, seg.last.ordinal
    return f"第{a}个工作日" if a == b else f"第{a}至第{b}个工作日"


def _years_note_zh(e: Explanation) -> list[str]:
    pending = [y.year for y in e.years if not y.confirmed]
    if not pending:
        return []
    years = "、".join(f"{y}年" for y in pending)
    return [
        f"注意：{years}的节假日安排尚未经国务院办公厅通知确认（holidays 按规则推算），"
        "通知发布后应复核本期限。"
    ]


def _explain_zh(dl: Deadline) -> str:
    e = dl.explanation
    ref = dl.start.year
    start = dl.start
    head = (
        f"自{_zh_date(start.date())}（{_WEEKDAYS_ZH[start.weekday()]}）{_zh_clock(start.time())}起"
    )
    lines: list[str] = []
    if e.mode == "working_days":
        basis = (
            "" if dl.rule == _default_working_days_rule(dl.working_days) else f"依据：{dl.rule}；"
        )
        lines.append(
            f"{head}计算{dl.working_days}个工作日（{basis}期间开始之日不计算在内，自次日起算）："
        )
        body: list[str] = []
        for seg in _segments(e.days):
            k = seg.first.day
            if seg.first.is_start:
                continue
            if seg.first.counted:
                if k.category is DayCategory.WORKDAY:
                    body.append(f"{_zh_range(seg, ref, True)}计入，为{_zh_ordinals(seg)}")
                else:
                    wd = _WEEKDAYS_ZH[k.date.weekday()]
                    label = "调休上班" if k.category is DayCategory.ADJUSTED_WORKDAY else None
                    label = label or _zh_label(k)
                    body.append(
                        f"{_zh_date(k.date, ref)}（{wd}，{label}）计入，为{_zh_ordinals(seg)}"
                    )
            else:
                with_wd = k.holiday_period_zh is None or k.category is DayCategory.DISTRICT_DAY_OFF
                sep = "" if with_wd else " "
                body.append(f"{_zh_range(seg, ref, with_wd)}{sep}{_zh_label(k)}，不计入")
        if body:
            lines.append("；\n".join(body) + "。")
        else:
            lines.append("期间为0个工作日，于开始之日届满。")
        closing_note = (
            f"（本地办公时间截止于{_zh_clock(e.closing_time)}）" if e.closing_time else ""
        )
        lines.append(f"截止时间：{_zh_due(dl.due, e.closing_time, e.mode)}{closing_note}。")
    elif e.mode == "calendar_days":
        basis = (
            "" if dl.rule == _default_calendar_days_rule(dl.calendar_days) else f"依据：{dl.rule}；"
        )
        lines.append(
            f"{head}计算{dl.calendar_days}日（{basis}期间开始之日不计算在内，自次日起算；"
            "期间最后一日是节假日的，以节假日后的第一个工作日为期间届满的日期）："
        )
        nominal = e.days[1].day
        text = (
            f"期间最后一日为{_zh_date(nominal.date, ref)}（{_WEEKDAYS_ZH[nominal.date.weekday()]}）"
        )
        if nominal.is_working_day:
            text += "，为工作日。"
        else:
            rolled = _segments(tuple(c for c in e.days[1:] if not c.day.is_working_day))
            off = "、".join(
                f"{_zh_range(seg, ref, False)} {_zh_label(seg.first.day)}" for seg in rolled
            )
            due_day = f"{_zh_date(dl.due.date(), ref)}（{_WEEKDAYS_ZH[dl.due.weekday()]}）"
            text += f"，适逢{off}，顺延至{due_day}。"
        lines.append(text)
        closing_note = (
            f"（本地办公时间截止于{_zh_clock(e.closing_time)}）" if e.closing_time else ""
        )
        lines.append(f"截止时间：{_zh_due(dl.due, e.closing_time, e.mode)}{closing_note}。")
    else:
        basis = "" if dl.rule == _default_hours_rule(dl.hours) else f"依据：{dl.rule}；"
        lines.append(
            f"{head}计算{_show_hours(dl.hours)}小时（{basis}按自然时间连续计算，节假日和周末不扣除）。"
        )
        passed = [
            f"{_zh_range(seg, ref, False)} {_zh_label(seg.first.day)}"
            for seg in _segments(e.days)
            if not seg.first.day.is_working_day
        ]
        if passed:
            lines.append("期间经过：" + "；".join(passed) + "，照常计时。")
        lines.append(f"截止时间：{_zh_due(dl.due, None, e.mode)}。")
    lines.append(f"日历依据：{e.source_zh}。")
    lines.extend(_years_note_zh(e))
    return "\n".join(lines)


def _en_date(d: date, ref_year: int | None = None) -> str:
    text = f"{_WEEKDAYS_EN[d.weekday()]} {d.day} {_MONTHS_EN[d.month - 1]}"
    return text if ref_year is not None and d.year == ref_year else f"{text} {d.year}"


def _en_range(seg: _Segment, ref_year: int) -> str:
    a, b = seg.first.day.date, seg.last.day.date
    if a == b:
        return _en_date(a, ref_year)
    # English puts the year last: "Fri 1 Jan – Sun 3 Jan 2027".
    return f"{_en_date(a, a.year if a.year == b.year else ref_year)} – {_en_date(b, ref_year)}"


def _en_label(k: DayKind) -> str:
    if k.category is DayCategory.DISTRICT_DAY_OFF:
        return f"district day off ({k.reason})"
    if k.category is DayCategory.DISTRICT_WORKDAY:
        return f"district working day ({k.reason})"
    if k.holiday_period_en:
        return f"{k.holiday_period_en} holiday"
    return _CATEGORY_EN[k.category]


def _explain_en(dl: Deadline) -> str:
    e = dl.explanation
    ref = dl.start.year
    start = f"{_en_date(dl.start.date())} {dl.start:%H:%M}"
    lines: list[str] = []
    if e.mode == "working_days":
        basis = "" if dl.rule == _default_working_days_rule(dl.working_days) else f" ({dl.rule})"
        lines.append(
            f"Counting {_default_working_days_rule(dl.working_days)}{basis} from {start}; "
            "the start day is not counted:"
        )
        body: list[str] = []
        for seg in _segments(e.days):
            k = seg.first.day
            if seg.first.is_start:
                continue
            if seg.first.counted:
                a, b = seg.first.ordinal, seg.last.ordinal
                which = f"working day {a}" if a == b else f"working days {a}–{b}"
                extra = "" if k.category is DayCategory.WORKDAY else f" ({_en_label(k)})"
                body.append(f"{_en_range(seg, ref)}{extra}: counted, {which}")
            else:
                body.append(f"{_en_range(seg, ref)}: {_en_label(k)}, not counted")
        lines.append(";\n".join(body) + "." if body else "Zero working days: due the same day.")
        if e.closing_time is None and dl.due.time() == _END_OF_DAY:
            due = f"end of {_en_date(dl.due.date())} (24:00 Asia/Shanghai)"
        else:
            due = f"{_en_date(dl.due.date())} {dl.due:%H:%M} Asia/Shanghai"
            if e.closing_time is not None:
                due += " (district office closing time)"
        lines.append(f"Due: {due}.")
    elif e.mode == "calendar_days":
        basis = "" if dl.rule == _default_calendar_days_rule(dl.calendar_days) else f" ({dl.rule})"
        lines.append(
            f"Counting {_default_calendar_days_rule(dl.calendar_days)}{basis} from {start}; "
            "the start day is not counted, and a last day that is not a working day rolls "
            "over to the next working day."
        )
        nominal = e.days[1].day
        if nominal.is_working_day:
            lines.append(f"The last day, {_en_date(nominal.date, ref)}, is a working day.")
        else:
            rolled = _segments(tuple(c for c in e.days[1:] if not c.day.is_working_day))
            off = "; ".join(f"{_en_range(seg, ref)} ({_en_label(seg.first.day)})" for seg in rolled)
            lines.append(
                f"The last day, {_en_date(nominal.date, ref)}, falls in {off}: rolled over to "
                f"{_en_date(dl.due.date(), ref)}."
            )
        if e.closing_time is None and dl.due.time() == _END_OF_DAY:
            lines.append(f"Due: end of {_en_date(dl.due.date())} (24:00 Asia/Shanghai).")
        else:
            lines.append(f"Due: {_en_date(dl.due.date())} {dl.due:%H:%M} Asia/Shanghai.")
    else:
        basis = "" if dl.rule == _default_hours_rule(dl.hours) else f" ({dl.rule})"
        lines.append(
            f"Counting {_default_hours_rule(dl.hours)}{basis} of clock time from {start}; "
            "holidays are not skipped."
        )
        passed = [
            f"{_en_range(seg, ref)} ({_en_label(seg.first.day)})"
            for seg in _segments(e.days)
            if not seg.first.day.is_working_day
        ]
        if passed:
            lines.append("The clock runs through " + "; ".join(passed) + ".")
        lines.append(f"Due: {_en_date(dl.due.date())} {dl.due:%H:%M} Asia/Shanghai.")
    lines.append(f"Calendar: {e.source}.")
    pending = [str(y.year) for y in e.years if not y.confirmed]
    if pending:
        lines.append(
            f"Note: the holidays of {', '.join(pending)} are not yet confirmed by a State "
            "Council notice (computed by rule by the holidays package); re-check this "
            "deadline once the notice is published."
        )
    return "\n".join(lines)
