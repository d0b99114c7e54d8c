"""Deadline watch (R-SUP-02) and unread-notice escalation (R-NTF-04): which timers a clock or
a notice needs, and the notices they produce. Pure Python.

A watched deadline's timers are planned from the district policy (``reminders``):
reminders before the due time to the responsible agency, the ``missed`` timer at the due
time (it publishes ``deadline.missed.v1``), and one timer per escalation step after it (the
agency's leader, then the supervising body). Timer ids are ``<deadline key>:<step>``: stable
across moves of the due time, so a moved deadline moves its pending timers, and the side
effect of a timer (an inbox item, an event) is keyed by the timer id so it happens once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from kernel.calendar import WorkingCalendar
from kernel.policy import ImmediatelyPolicy
from notify.policy import NoticePolicy, ReminderPolicy

CHINA = ZoneInfo("Asia/Shanghai")

DeadlineStateName = Literal["open", "met", "cancelled", "paused"]
TimerKind = Literal[
    "deadline.remind",
    "deadline.missed",
    "deadline.escalate",
    "notice.receipt",
    "report.monthly",
    "report.quarterly",
]

# Reminders before a working-day deadline go out at the start of the office day, not at
# midnight, so that they land when someone reads them.
REMINDER_HOUR = 9


@dataclass(frozen=True)
class WatchedDeadline:
    """The latest known state of one statutory clock (from a ``DeadlineV1`` block,
    ``kernel.contracts.deadlines``)."""

    key: str
    kind: str
    subject_type: str
    subject_id: str
    responsible_agency_id: str
    due: datetime
    state: DeadlineStateName
    rule: str
    explanation_zh: str | None
    event_time: datetime
    event_id: str
    mode: str | None = None
    """The block's ``mode``: ``working_days`` | ``clock`` | ``calendar_days`` (None from
    producers older than the field)."""
    provisional: bool = False
    """Computed across a year whose holidays are not yet officially announced."""
    escalate_to_agency_id: str | None = None
    """Whose leader the first escalation goes to when not the responsible agency's (a grid
    team's clock: the dispatching township's, R-GRD-01)."""
    escalate_to_agency_kind: str | None = None
    """The kind of agency of the next escalation when the producer names one (R-GRD-01:
    ``dispatch.escalation``); None: the district's supervising body."""
    escalate_to_supervisor_id: str | None = None
    """The agency of that next escalation when the producer's policy names it (R-GRD-01)."""

    @property
    def hour_clock(self) -> bool:
        """An hour clock (the urgent 24 hours) rather than a working-day one.

        The block's ``mode`` says which; blocks from producers older than the field are told
        apart by the rule text (producers write it for officials: ``24小时内`` /
        ``5个工作日内``). Hour clocks get the ``before_due_hours`` reminders, the others the
        ``before_due_working_days`` ones.
        """
        if self.mode is not None:
            return self.mode == "clock"
        rule = self.rule.lower()
        return "小时" in rule or "hour" in rule

    @property
    def immediate(self) -> bool:
        """A clock for an act due "immediately" (立即, DOMAIN §0): the addressee is alerted
        the moment it starts, whatever the hour reminders say."""
        return self.hour_clock and "立即" in self.rule


@dataclass(frozen=True)
class PlannedTimer:
    id: str
    kind: TimerKind
    step: str
    fire_at: datetime
    escalate_to: Literal["agency_leader", "supervising_body"] | None = None


def plan_deadline_timers(
    deadline: WatchedDeadline,
    reminders: ReminderPolicy,
    calendar: WorkingCalendar,
    immediately: ImmediatelyPolicy | None = None,
) -> list[PlannedTimer]:
    """Every timer the clock needs per the policy, whatever the time now.

    Hour clocks (the urgent 24 hours, "immediately") are reminded and escalated in clock
    hours; working-day clocks in working days (DOMAIN §0). An "immediately" clock also gets
    an alert at its start (``immediately.limit_hours`` before it is due)."""
    due = deadline.due
    out: list[PlannedTimer] = []
    started: datetime | None = None
    if deadline.immediate:
        started = due - timedelta(hours=(immediately or ImmediatelyPolicy()).limit_hours)
        out.append(
            PlannedTimer(
                id=f"{deadline.key}:alert", kind="deadline.remind", step="alert", fire_at=started
            )
        )
    if deadline.hour_clock:
        for hours in reminders.before_due_hours:
            if started is not None and due - timedelta(hours=hours) <= started:
                continue  # it would fire with the alert: the alert says it
            out.append(
                PlannedTimer(
                    id=f"{deadline.key}:remind-{hours}h",
                    kind="deadline.remind",
                    step=f"remind-{hours}h",
                    fire_at=due - timedelta(hours=hours),
                )
            )
    else:
        for days in reminders.before_due_working_days:
            day = calendar.working_days_before(due.astimezone(CHINA), days)
            fire_at = datetime(day.year, day.month, day.day, REMINDER_HOUR, tzinfo=CHINA)
            out.append(
                PlannedTimer(
                    id=f"{deadline.key}:remind-{days}wd",
                    kind="deadline.remind",
                    step=f"remind-{days}wd",
                    fire_at=min(fire_at, due),
                )
            )
    # "Passed" means strictly after the due instant (a deadline ends at 24:00 of its day).
    missed_at = due + timedelta(seconds=1)
    out.append(
        PlannedTimer(
            id=f"{deadline.key}:missed", kind="deadline.missed", step="missed", fire_at=missed_at
        )
    )
    for step in reminders.escalation:
        if deadline.hour_clock:
            at = due + timedelta(hours=step.after_hours)
        elif step.after_working_days == 0:
            at = missed_at
        else:
            at = calendar.add_working_days(due, step.after_working_days).due
        out.append(
            PlannedTimer(
                id=f"{deadline.key}:escalate-{step.to}",
                kind="deadline.escalate",
                step=f"escalate-{step.to}",
                fire_at=max(at, missed_at),
                escalate_to=step.to,
            )
        )
    return out


def fire_at_for_step(
    deadline: WatchedDeadline,
    step: str,
    reminders: ReminderPolicy,
    calendar: WorkingCalendar,
    immediately: ImmediatelyPolicy | None = None,
) -> datetime | None:
    """When ``step`` fires for the deadline as it is now (None: the policy has no such step)."""
    for t in plan_deadline_timers(deadline, reminders, calendar, immediately):
        if t.step == step:
            return t.fire_at
    return None


def receipt_limit(
    created_at: datetime, urgent: bool, notices: NoticePolicy, calendar: WorkingCalendar
) -> datetime:
    """When an unread notice escalates (R-NTF-04): urgent ones after hours, others after
    working days (``notices.receipt_limit_working_days``)."""
    if urgent:
        return created_at + timedelta(hours=notices.urgent_receipt_limit_hours)
    return calendar.add_working_days(created_at, notices.receipt_limit_working_days).due


def _when(at: datetime) -> str:
    return at.astimezone(CHINA).strftime("%Y年%m月%d日 %H:%M")


def _what(deadline: WatchedDeadline) -> str:
    rule = f"（{deadline.rule}）" if deadline.rule else ""
    return f"{deadline.subject_type} {deadline.subject_id} 的期限“{deadline.kind}”{rule}"


def reminder_text(deadline: WatchedDeadline) -> tuple[str, str]:
    title = f"【期限提醒】{deadline.kind} 将于{_when(deadline.due)}到期"
    body = f"{_what(deadline)}将于{_when(deadline.due)}到期，请及时办理。"
    return title, _with_computation(body, deadline)


def alert_text(deadline: WatchedDeadline) -> tuple[str, str]:
    """The alert at the start of an "immediately" clock (DOMAIN §0)."""
    title = f"【立即办理】{deadline.kind} 须于{_when(deadline.due)}前办理"
    body = f"{_what(deadline)}须立即办理，最迟于{_when(deadline.due)}前完成。"
    return title, _with_computation(body, deadline)


def _with_computation(body: str, deadline: WatchedDeadline) -> str:
    return body + (f"\n期限计算：{deadline.explanation_zh}" if deadline.explanation_zh else "")


def missed_text(deadline: WatchedDeadline) -> tuple[str, str]:
    title = f"【已超期】{deadline.kind} 已于{_when(deadline.due)}到期"
    body = f"{_what(deadline)}已于{_when(deadline.due)}到期仍未办结，请立即办理并说明情况。"
    return title, body


def escalation_text(
    deadline: WatchedDeadline,
    to: Literal["agency_leader", "supervising_body", "platform_leader"],
    agency_name: str,
) -> tuple[str, str]:
    """``platform_leader``: the leader of the township whose platform dispatched the step a
    team owes (R-GRD-01), not the team's own."""
    if to in ("agency_leader", "platform_leader"):
        whose = "本机关" if to == "agency_leader" else "派单的镇(街道)综合执法平台"
        title = f"【超期督办】{agency_name}：{deadline.kind} 已超期"
        body = (
            f"{agency_name}承办的{_what(deadline)}已于{_when(deadline.due)}到期仍未办结，"
            f"请{whose}负责人督促办理。"
        )
    else:
        title = f"【超期报告】{agency_name}：{deadline.kind} 已超期"
        body = (
            f"{agency_name}承办的{_what(deadline)}已于{_when(deadline.due)}到期，"
            "经提醒本机关负责人后仍未办结，报请监督。"
        )
    return title, body


def unread_escalation_text(title: str, agency_name: str, created_at: datetime) -> tuple[str, str]:
    return (
        f"【逾期未签收】{title}",
        f"{agency_name}于{_when(created_at)}收到的通知“{title}”逾期未签收，请本机关负责人督促签收。",
    )
