"""A computed deadline and the record of how it was computed (stored, then explained)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any, Literal

from kernel.calendar.days import SHANGHAI, DayKind, _require_aware
from kernel.calendar.explain import _explain_en, _explain_zh


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
    notice: str | None = None
    """The loaded official schedule it followed (its 文号), or None for the package's data."""

    def to_dict(self) -> dict[str, Any]:
        return {"year": self.year, "confirmed": self.confirmed, "notice": self.notice}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> YearStatus:
        return cls(int(data["year"]), bool(data["confirmed"]), data.get("notice"))


@dataclass(frozen=True)
class Revision:
    """Why a deadline was computed again: an official schedule replaced a forecast year."""

    previous_due: datetime
    notice_zh: str
    """The notice as cited: its title in 《》 and its 文号."""
    year: int
    at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "previous_due": self.previous_due.isoformat(),
            "notice_zh": self.notice_zh,
            "year": self.year,
            "at": self.at.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Revision:
        return cls(
            previous_due=datetime.fromisoformat(data["previous_due"]).astimezone(SHANGHAI),
            notice_zh=data["notice_zh"],
            year=int(data["year"]),
            at=datetime.fromisoformat(data["at"]).astimezone(SHANGHAI),
        )


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
    revisions: tuple[Revision, ...] = ()
    """Earlier due times this deadline had before an official schedule moved it."""

    @property
    def provisional(self) -> bool:
        """Computed across a year whose holidays are a forecast (no official notice yet).

        Never for a clock of hours: clock time skips no holiday, so no notice can move it."""
        return self.mode != "clock" and any(not y.confirmed for y in self.years)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "mode": self.mode,
            "days": [d.to_dict() for d in self.days],
            "source": self.source,
            "source_zh": self.source_zh,
            "years": [y.to_dict() for y in self.years],
            "closing_time": self.closing_time.isoformat() if self.closing_time else None,
            "revisions": [r.to_dict() for r in self.revisions],
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
            years=tuple(YearStatus.from_dict(y) for y in data["years"]),
            closing_time=time.fromisoformat(closing) if closing else None,
            revisions=tuple(Revision.from_dict(r) for r in data.get("revisions") or ()),
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

    @property
    def provisional(self) -> bool:
        """See :attr:`Explanation.provisional`."""
        return self.explanation.provisional

    @property
    def mode(self) -> Literal["working_days", "clock", "calendar_days"]:
        return self.explanation.mode

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
