"""Routine consultation meetings due on the district's period (例行会议, R-MTG-01). Pure Python.

The policy's ``meetings.routine`` says how often each routine meeting is held (FY (四)3: every
six months, convened by the departments; HC #11: a weekly platform meeting, a monthly joint
meeting, a quarterly report, by the platform). For each routine meeting and each convening
agency one :class:`RoutineDue` keeps a clock: the meeting of the current period must be
scheduled (its notice sent) before the period ends. notify watches the clock like any other
(reminders to the convener before the end, escalation after, R-SUP-02); scheduling a routine
meeting of that name meets the clock and opens the next period's. A seed that only says
"regularly" (定期, ``unspecified``) gives no period: nothing is due.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from coordination.domain.cooperation import Clock

__all__ = ["KIND", "RECURRENCE_ZH", "Period", "RoutineDue", "next_period", "period_of"]

CHINA = ZoneInfo("Asia/Shanghai")
KIND = "meeting.routine"

RECURRENCE_ZH = {
    "weekly": "每周",
    "monthly": "每月",
    "quarterly": "每季度",
    "half_yearly": "每半年",
    "yearly": "每年",
}


@dataclass(frozen=True)
class Period:
    label: str  # 2026-W49 | 2026-12 | 2026-Q4 | 2026-H2 | 2026
    start: date
    end: date  # inclusive

    @property
    def due(self) -> datetime:
        """The period's last moment (Asia/Shanghai)."""
        return datetime.combine(self.end, time(23, 59, 59), CHINA)


def _month_end(year: int, month: int) -> date:
    first_next = date(year + month // 12, month % 12 + 1, 1)
    return first_next - timedelta(days=1)


def period_of(recurrence: str, day: date) -> Period:
    """The period of ``recurrence`` that contains ``day``."""
    y, m = day.year, day.month
    if recurrence == "weekly":
        start = day - timedelta(days=day.weekday())
        iso = start.isocalendar()
        return Period(f"{iso.year}-W{iso.week:02d}", start, start + timedelta(days=6))
    if recurrence == "monthly":
        return Period(f"{y}-{m:02d}", date(y, m, 1), _month_end(y, m))
    if recurrence == "quarterly":
        q = (m - 1) // 3 + 1
        return Period(f"{y}-Q{q}", date(y, 3 * q - 2, 1), _month_end(y, 3 * q))
    if recurrence == "half_yearly":
        h = 1 if m <= 6 else 2
        return Period(f"{y}-H{h}", date(y, 6 * h - 5, 1), _month_end(y, 6 * h))
    if recurrence == "yearly":
        return Period(str(y), date(y, 1, 1), date(y, 12, 31))
    raise ValueError(f"no period for recurrence {recurrence!r}")


def next_period(recurrence: str, period: Period) -> Period:
    return period_of(recurrence, period.end + timedelta(days=1))


@dataclass(frozen=True)
class RoutineDue:
    """The next routine meeting one convening agency owes (its clock in ``clock``)."""

    id: str
    name: str
    name_zh: str
    convener_id: str
    recurrence: str
    source: str
    period: str
    clock: Clock
    met_by_meeting_id: str | None = None
    version: int = 0

    @staticmethod
    def id_for(name: str, convener_id: str) -> str:
        return f"routine:{name}:{convener_id}"

    def scheduled(self, meeting_id: str, meeting_day: date, next_clock: Clock) -> RoutineDue:
        """A routine meeting of this name was scheduled: this period's clock is met (whenever
        the meeting is held, its notice went out now) and the clock of the period after the
        meeting's opens."""
        nxt = next_period(self.recurrence, period_of(self.recurrence, meeting_day))
        return replace(self, period=nxt.label, clock=next_clock, met_by_meeting_id=meeting_id)


def rule_zh(name_zh: str, recurrence: str, period: Period, source: str) -> str:
    """The clock's rule in words (no 小时: a day clock for notify's watch)."""
    return (
        f"{name_zh}{RECURRENCE_ZH[recurrence]}召开1次（{source}）：本期（{period.label}）"
        f"于{period.end.isoformat()}前发出会议通知"
    )
