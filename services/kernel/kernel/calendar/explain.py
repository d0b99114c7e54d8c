"""Chinese and English explanations of a computed :class:`~kernel.calendar.Deadline`.

The text is rendered from the stored record only, so a deadline computed years ago still
explains itself as it was computed. The default rule names live here because the text
leaves out a rule that merely restates the count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

from kernel.calendar.days import _END_OF_DAY, DayCategory, DayKind

if TYPE_CHECKING:
    from kernel.calendar.deadline import ConsideredDay, Deadline, Explanation

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


def _default_working_days_rule(n: int | None) -> str:
    return f"{n} working day{'s' if n != 1 else ''}"


def _default_calendar_days_rule(n: int | None) -> str:
    return f"{n} day{'s' if n != 1 else ''}"


def _show_hours(hours: float | None) -> str:
    h = hours or 0.0
    return str(int(h)) if float(h).is_integer() else str(h)


def _default_hours_rule(hours: float | None) -> str:
    return f"{_show_hours(hours)} hour{'s' if hours != 1 else ''}"


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
    lines = [
        f"本期限因{r.notice_zh}公布{r.year}年节假日安排，于{_zh_date(r.at.date())}重新计算，"
        f"原截止时间{_zh_due(r.previous_due, e.closing_time, e.mode)}。"
        for r in e.revisions
    ]
    pending = [y.year for y in e.years if not y.confirmed]
    if not pending or not e.provisional:
        return lines
    years = "、".join(f"{y}年" for y in pending)
    return [
        *lines,
        f"注意：{years}的节假日安排尚未经国务院办公厅通知确认（holidays 按规则推算），"
        "通知发布后应复核本期限（临时期限）。",
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
    for r in e.revisions:
        lines.append(
            f"Computed again on {_en_date(r.at.date())} after the official {r.year} holiday "
            f"schedule was loaded ({r.notice_zh}); it was due {_en_date(r.previous_due.date())} "
            f"{r.previous_due:%H:%M}."
        )
    pending = [str(y.year) for y in e.years if not y.confirmed]
    if pending and e.provisional:
        lines.append(
            f"Note: the holidays of {', '.join(pending)} are not yet confirmed by a State "
            "Council notice (computed by rule by the holidays package); re-check this "
            "deadline once the notice is published (provisional)."
        )
    return "\n".join(lines)
