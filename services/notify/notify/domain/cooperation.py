"""Inbox items for the cooperation coordination publishes: joint-enforcement tasks
(联合执法任务, R-JNT-04) and consultation meetings (协调会商 / 联席会议, R-MTG-01) — who must
act, by when, in words for officials. Pure Python.

Each item's id is derived from the event and the addressee, so a redelivered event collides
instead of duplicating. The clocks themselves (report due, RSVP due, meeting task due) are
watched by the deadline watch from the events' ``deadlines`` blocks like every other clock
(reminders before, escalation after, R-SUP-02); an item only shows the one that concerns its
addressee (``due_at``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from notify.domain.model import InboxItem, item_id

CHINA = ZoneInfo("Asia/Shanghai")

# The deadline kinds coordination gives these clocks (the ``kind`` of its events' deadline
# blocks): part of its published contract.
JOINT_TASK_REPORT = "joint.task_report"
MEETING_RSVP = "meeting.rsvp"  # one per attendee: "meeting.rsvp:<agency id>"
MEETING_TASK = "meeting.task"  # one per decided task: "meeting.task:<task id>"


@dataclass(frozen=True)
class Clock:
    """The part of a deadline block an item needs."""

    kind: str
    responsible_agency_id: str
    due: datetime


def due_of(clocks: Iterable[Clock], kind: str, agency_id: str | None = None) -> datetime | None:
    """The due time of the clock of ``kind`` (for ``agency_id`` when given), if carried."""
    for c in clocks:
        if c.kind == kind and (agency_id is None or c.responsible_agency_id == agency_id):
            return c.due
    return None


@dataclass(frozen=True)
class DecidedTask:
    task_id: str
    description: str
    owner_agency_id: str
    deadline: date


def _when(at: datetime) -> str:
    return at.astimezone(CHINA).strftime("%Y年%m月%d日 %H:%M")


def _day(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def joint_task_assigned(
    *,
    event_id: str,
    at: datetime,
    operation_id: str,
    task_id: str,
    agency_id: str,
    lead_name: str,
    description: str,
    deadline: date,
    report_due: datetime,
) -> InboxItem:
    """R-JNT-04: the cooperating agency's task, its deadline and the limit of its report."""
    return InboxItem(
        id=item_id(event_id, agency_id),
        agency_id=agency_id,
        kind="joint.task_assigned",
        title=f"联合执法任务：{description}",
        body=(
            f"{lead_name}牵头的联合执法行动（{operation_id}）分配任务“{description}”，"
            f"任务期限{_day(deadline)}；请于{_when(report_due)}前报告完成情况，"
            "不能完成的应书面说明理由。"
        ),
        subject_type="JointTask",
        subject_id=task_id,
        source_event_id=event_id,
        created_at=at,
        due_at=report_due,
    )


def meeting_notices(
    *,
    event_id: str,
    at: datetime,
    meeting_id: str,
    convener_id: str,
    convener_name: str,
    title: str,
    starts_at: datetime,
    place: str,
    attendee_ids: Sequence[str],
    agenda: Sequence[str],
    urgent: bool,
    clocks: Sequence[Clock],
) -> list[InboxItem]:
    """R-MTG-01: the meeting notice (time, place, agenda) to each invited agency, with the
    limit of its RSVP. The convener does not notify itself."""
    items = []
    agenda_text = "；".join(f"{n}. {a}" for n, a in enumerate(agenda, 1)) or "另行通知"
    for agency in dict.fromkeys(attendee_ids):
        if agency == convener_id:
            continue
        rsvp_due = due_of(clocks, f"{MEETING_RSVP}:{agency}")
        rsvp = f"请于{_when(rsvp_due)}前回复是否参会（回执）。" if rsvp_due else ""
        items.append(
            InboxItem(
                id=item_id(event_id, agency),
                agency_id=agency,
                kind="meeting.notice",
                title=f"{'【紧急】' if urgent else ''}会议通知：{title}",
                body=(
                    f"{convener_name}定于{_when(starts_at)}在{place}召开“{title}”。"
                    f"议程：{agenda_text}。{rsvp}"
                ),
                subject_type="Meeting",
                subject_id=meeting_id,
                source_event_id=event_id,
                created_at=at,
                due_at=rsvp_due,
                urgent=urgent,
            )
        )
    return items


def minutes_to_agree(
    *,
    event_id: str,
    at: datetime,
    meeting_id: str,
    convener_name: str,
    revision: int,
    awaiting: Sequence[str],
    tasks: Sequence[DecidedTask],
) -> list[InboxItem]:
    """R-MTG-01: minutes are issued only after the attendees agree: each attendee still to
    agree is asked to, for this revision."""
    listed = "；".join(f"{t.description}（{_day(t.deadline)}前）" for t in tasks) or "无"
    return [
        InboxItem(
            id=item_id(event_id, agency),
            agency_id=agency,
            kind="meeting.minutes_to_agree",
            title=f"会议纪要待确认（第{revision}稿）",
            body=(
                f"{convener_name}起草的会议纪要（第{revision}稿）请确认是否同意。"
                f"议定事项：{listed}。"
            ),
            subject_type="Meeting",
            subject_id=meeting_id,
            source_event_id=event_id,
            created_at=at,
        )
        for agency in dict.fromkeys(awaiting)
    ]


def meeting_tasks_assigned(
    *,
    event_id: str,
    at: datetime,
    meeting_id: str,
    number: str,
    tasks: Sequence[DecidedTask],
    clocks: Sequence[Clock],
) -> list[InboxItem]:
    """R-MTG-01: the issued minutes' decided tasks, one item per task to its owner, tracked
    to completion by the task's clock."""
    return [
        InboxItem(
            id=item_id(event_id, f"{t.owner_agency_id}:{t.task_id}"),
            agency_id=t.owner_agency_id,
            kind="meeting.task_assigned",
            title=f"会议议定事项：{t.description}",
            body=(
                f"会议纪要{number}议定由你单位承办“{t.description}”，"
                f"请于{_day(t.deadline)}前完成并反馈。"
            ),
            subject_type="Meeting",
            subject_id=meeting_id,
            source_event_id=event_id,
            created_at=at,
            due_at=due_of(clocks, f"{MEETING_TASK}:{t.task_id}"),
        )
        for t in tasks
    ]
