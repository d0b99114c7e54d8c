"""The national holiday calendar: State Council schedules as encoded in ``holidays``.

Only the *public* category of ``holidays.China`` is used; see the package docstring of
:mod:`kernel.calendar` for the sources of truth. Everything here is cached per year for the
whole process.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from types import MappingProxyType

import holidays

from kernel.calendar.official import OfficialSchedule, ScheduleBook

# A holiday block (放假调休) never exceeds nine or ten days; the neighbour walk that names
# the block around a weekend day stops well beyond that.
_MAX_BLOCK_DAYS = 16
# The package says it is checked against the State Council notices from 2001 on.
_FIRST_CHECKED_YEAR = 2001


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


_OFFICIAL_CACHE: dict[tuple[int, str], _NationalYear] = {}


def _official_year(schedule: OfficialSchedule) -> _NationalYear:
    key = (schedule.year, schedule.version)
    found = _OFFICIAL_CACHE.get(key)
    if found is None:
        found = _NationalYear(
            names_zh=MappingProxyType({d: (n,) for d, n in schedule.days_off.items()}),
            # The notice is Chinese only; the English text reuses the package's name of the
            # day where it has one.
            names_en=MappingProxyType(
                {d: _national_year(d.year).names_en.get(d, ("Holiday",)) for d in schedule.days_off}
            ),
            weekend_workdays=frozenset(schedule.working_days),
        )
        _OFFICIAL_CACHE[key] = found
    return found


def year_data(year: int, book: ScheduleBook | None = None) -> _NationalYear:
    """The year's national days: the loaded official schedule, else the package's."""
    schedule = book.get(year) if book is not None else None
    return _official_year(schedule) if schedule is not None else _national_year(year)


def year_confirmed(year: int, book: ScheduleBook | None = None) -> bool:
    """Whether ``year`` follows an official notice: loaded into ``book`` or in the package."""
    return (book is not None and book.get(year) is not None) or national_year_confirmed(year)


def _nationally_working(d: date, book: ScheduleBook | None = None) -> bool:
    data = year_data(d.year, book)
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


def _holiday_block(
    d: date, book: ScheduleBook | None = None
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """:func:`_package_holiday_block`, or the same walk over the loaded schedules when one
    of the years it may reach is loaded (cached in the book, per generation)."""
    if book is None or not any(book.get(y) for y in (d.year - 1, d.year, d.year + 1)):
        return _package_holiday_block(d)
    key = (book.generation, d)
    found = book.block_cache.get(key)
    if found is None:
        found = _walk_holiday_block(d, book)
        book.block_cache[key] = found
    return found


@functools.lru_cache(maxsize=4096)
def _package_holiday_block(d: date) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return _walk_holiday_block(d, None)


def _walk_holiday_block(
    d: date, book: ScheduleBook | None
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Festival names (zh, en) of the run of national days off around ``d``.

    The package lists only the days that are holidays *in law*; the weekend days inside a
    block (e.g. Sun 15 Feb 2026 in the Spring Festival block 15–23 Feb) are plain weekend
    days to it, while the official notice and every official reads them as part of the
    holiday ("2月15日至23日放假调休，共9天"). Naming the whole run keeps explanations in the
    notice's own terms. A run with no statutory holiday (a plain weekend) has no name.
    """
    if _nationally_working(d, book):
        return ((), ())
    run = [d]
    for step in (-1, 1):
        cur = d
        for _ in range(_MAX_BLOCK_DAYS):
            cur = cur + timedelta(days=step)
            if _nationally_working(cur, book):
                break
            run.append(cur)
    zh: list[str] = []
    en: list[str] = []
    for day in sorted(run):
        data = year_data(day.year, book)
        for name in data.names_zh.get(day, ()):
            fz = _festival_zh(name)
            if fz and fz not in zh:
                zh.append(fz)
        for name in data.names_en.get(day, ()):
            fe = _festival_en(name)
            if fe and fe not in en:
                en.append(fe)
    if not zh and any(day in year_data(day.year, book).names_zh for day in run):
        # Only swapped days off in the run (never seen in practice): still a holiday block.
        zh, en = ["调休"], ["swapped day off"]
    return (tuple(zh), tuple(en))
