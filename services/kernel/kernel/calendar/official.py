"""Official holiday schedules (国务院办公厅关于××年部分节假日安排的通知) loaded by a district.

Why this module exists
    The ``holidays`` package encodes the State Council's yearly notice only once a release
    catches up with it; until then a year is a rule-based forecast, and every clock that
    crosses it is provisional. The notice is published late in the year before, so a
    district's calendar administrator loads it here as soon as it is out (issue 20):
    the days off and the adjusted working days (调休上班) of one year, with the notice's
    document number (文号).

Validation
    :func:`parse_schedule` reads the whole file and names every bad row (``days_off[3]
    2028-01-01: not in 2027``); it returns a schedule only when every row is good, so a
    half-valid file is never applied. Rules: every date lies inside the year; an adjusted
    working day falls on a Saturday or Sunday (a weekday is a working day already); no day
    is both off and on; no date appears twice; days off have a name (the festival, shown in
    explanations).

Versions
    A schedule's ``version`` is a digest of its content (year, 文号, days): loading the same
    notice twice gives the same version and changes nothing. Where the schedule comes from
    (the file, who loaded it) travels beside it in the published event, not in the version.

Sharing
    A :class:`ScheduleBook` holds the schedules a process has installed; every
    :class:`~kernel.calendar.WorkingCalendar` built over the same book sees them at once. The
    book is filled from the service's store at start and from the published event
    (``calendar.schedule_published.v1``), never from a file each process reads.
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any

__all__ = [
    "OfficialSchedule",
    "ScheduleBook",
    "ScheduleError",
    "ScheduleProblem",
    "parse_schedule",
]


@dataclass(frozen=True)
class ScheduleProblem:
    """One bad row (or field) of a schedule file."""

    where: str
    """E.g. ``working_days[2]`` or ``year``."""
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class ScheduleError(ValueError):
    """A schedule file with bad rows; ``problems`` names every one."""

    def __init__(self, problems: Sequence[ScheduleProblem], source: str = "") -> None:
        self.problems = tuple(problems)
        self.source = source
        head = f"{source}: " if source else ""
        super().__init__(
            f"{head}{len(self.problems)} problem(s), nothing loaded:\n"
            + "\n".join(f"  {p}" for p in self.problems)
        )


@dataclass(frozen=True)
class OfficialSchedule:
    """One year's holiday arrangement as the State Council announced it."""

    year: int
    document_number: str
    """The notice's 文号, e.g. ``国办发明电〔2026〕12号``."""
    days_off: Mapping[date, str]
    """Every day off of the arrangement (statutory holidays, swapped days and the weekend
    days inside a holiday block), with the festival's name."""
    working_days: Mapping[date, str] = field(default_factory=dict)
    """Weekend days made working days (调休上班), with a note (e.g. ``春节调休上班``)."""
    title: str = ""
    """The notice's title, e.g. ``国务院办公厅关于2027年部分节假日安排的通知``."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "days_off", MappingProxyType(dict(sorted(self.days_off.items()))))
        object.__setattr__(
            self, "working_days", MappingProxyType(dict(sorted(self.working_days.items())))
        )

    @functools.cached_property
    def version(self) -> str:
        """A digest of the content: equal for the same arrangement, whoever loads it."""
        body = json.dumps(
            {
                "year": self.year,
                "document_number": self.document_number,
                "days_off": {d.isoformat(): n for d, n in self.days_off.items()},
                "working_days": {d.isoformat(): n for d, n in self.working_days.items()},
            },
            ensure_ascii=False,
            sort_keys=True,
        )
        return hashlib.sha256(body.encode()).hexdigest()[:16]

    @property
    def notice_zh(self) -> str:
        """How explanations cite it: the title (when known) and the 文号."""
        title = self.title or f"国务院办公厅关于{self.year}年部分节假日安排的通知"
        return f"《{title}》（{self.document_number}）"

    def to_dict(self) -> dict[str, Any]:
        """The file's own shape (what :func:`parse_schedule` reads)."""
        return {
            "year": self.year,
            "document_number": self.document_number,
            "title": self.title,
            "days_off": [{"date": d.isoformat(), "name": n} for d, n in self.days_off.items()],
            "working_days": [
                {"date": d.isoformat(), "name": n} for d, n in self.working_days.items()
            ],
        }


def _date(value: Any) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return date.fromisoformat(value.strip())
    raise ValueError(f"expected a date YYYY-MM-DD, got {value!r}")


def parse_schedule(data: Any, source: str = "") -> OfficialSchedule:
    """A validated schedule from a file's content (a mapping, e.g. read from YAML or JSON).

    Shape::

        year: 2027
        document_number: 国办发明电〔2026〕12号
        title: 国务院办公厅关于2027年部分节假日安排的通知   # optional
        days_off:      [{date: 2027-01-01, name: 元旦}, ...]
        working_days:  [{date: 2027-02-20, name: 春节调休上班}, ...]

    Raises :class:`ScheduleError` naming every bad row; nothing is returned unless all are
    good.
    """
    problems: list[ScheduleProblem] = []
    if not isinstance(data, Mapping):
        raise ScheduleError([ScheduleProblem("file", "expected a mapping with year, ...")], source)
    known = {"year", "document_number", "title", "days_off", "working_days"}
    for key in sorted(set(map(str, data)) - known):
        problems.append(ScheduleProblem(key, f"unknown field; known: {', '.join(sorted(known))}"))
    year = data.get("year")
    if isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year <= 2200:
        problems.append(ScheduleProblem("year", f"expected a year such as 2027, got {year!r}"))
        year = None
    number = data.get("document_number")
    if not isinstance(number, str) or not number.strip():
        problems.append(
            ScheduleProblem("document_number", "the notice's 文号 is required (国办发明电〔…〕…号)")
        )
        number = ""
    title = data.get("title") or ""
    if not isinstance(title, str):
        problems.append(ScheduleProblem("title", f"expected text, got {title!r}"))
        title = ""

    def rows(name: str) -> dict[date, str]:
        raw = data.get(name) or []
        out: dict[date, str] = {}
        if not isinstance(raw, list):
            problems.append(ScheduleProblem(name, "expected a list of {date, name} rows"))
            return out
        for i, row in enumerate(raw):
            where = f"{name}[{i}]"
            if not isinstance(row, Mapping):
                problems.append(ScheduleProblem(where, f"expected {{date, name}}, got {row!r}"))
                continue
            try:
                d = _date(row.get("date"))
            except ValueError as exc:
                problems.append(ScheduleProblem(where, str(exc)))
                continue
            where = f"{where} {d.isoformat()}"
            label = row.get("name")
            label = label.strip() if isinstance(label, str) else ""
            bad = False
            if year is not None and d.year != year:
                problems.append(ScheduleProblem(where, f"not in {year}"))
                bad = True
            if d in out:
                problems.append(ScheduleProblem(where, f"listed twice in {name}"))
                bad = True
            if name == "working_days" and d.weekday() < 5:
                problems.append(
                    ScheduleProblem(
                        where,
                        "an adjusted working day (调休上班) must be a Saturday or Sunday; "
                        "a weekday is a working day already",
                    )
                )
                bad = True
            if name == "days_off" and not label:
                problems.append(ScheduleProblem(where, "a day off needs its festival's name"))
                bad = True
            if not bad:
                out[d] = label or "调休上班"
        return out

    days_off = rows("days_off")
    working = rows("working_days")
    for d in sorted(set(days_off) & set(working)):
        problems.append(ScheduleProblem(f"working_days {d.isoformat()}", "also listed in days_off"))
    if not days_off and not problems:
        problems.append(ScheduleProblem("days_off", "a schedule without days off is no schedule"))
    if problems:
        raise ScheduleError(problems, source)
    assert year is not None
    return OfficialSchedule(
        year=year,
        document_number=number.strip(),
        days_off=days_off,
        working_days=working,
        title=title.strip(),
    )


class ScheduleBook:
    """The official schedules this process has installed, one per year (the latest wins).

    Shared by the calendars of a service; :meth:`install` is atomic for readers (a calendar
    sees the old or the new schedule of a year, never a mix), and every change bumps
    :attr:`generation`, which the calendars' caches are keyed by.
    """

    def __init__(self, schedules: Sequence[OfficialSchedule] = ()) -> None:
        self._lock = threading.Lock()
        self._by_year: dict[int, OfficialSchedule] = {}
        self.generation = 0
        #: Holiday-block names per (generation, date), kept by kernel.calendar.national; a
        #: new generation makes the old entries unreachable, so they are dropped with it.
        self.block_cache: dict[tuple[int, date], tuple[tuple[str, ...], tuple[str, ...]]] = {}
        for s in schedules:
            self.install(s)

    def install(self, schedule: OfficialSchedule) -> bool:
        """Install ``schedule`` for its year; False when that very version is installed."""
        with self._lock:
            current = self._by_year.get(schedule.year)
            if current is not None and current.version == schedule.version:
                return False
            self._by_year = {**self._by_year, schedule.year: schedule}
            self.generation += 1
            self.block_cache = {}
            return True

    def get(self, year: int) -> OfficialSchedule | None:
        return self._by_year.get(year)

    def years(self) -> list[int]:
        return sorted(self._by_year)
