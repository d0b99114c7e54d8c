"""Days and times in Asia/Shanghai: the zone, the kinds of day and district overrides."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from enum import StrEnum
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


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


def _dates(first: date, last: date) -> Iterator[date]:
    cur = first
    while cur <= last:
        yield cur
        cur += timedelta(days=1)
