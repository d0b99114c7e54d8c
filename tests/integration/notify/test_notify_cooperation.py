"""Coordination's joint-enforcement (R-JNT-04) and meeting (R-MTG-01) events put inbox items
in the cooperating agencies' inboxes, each once, and their clocks are watched (R-SUP-02):
reminders before the due time, escalation after. The events are built from coordination's
own published models, so this also checks that notify reads the real contract."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from coordination.contracts.meetings import (
    MeetingMinutesDraftedV1,
    MeetingMinutesIssuedV1,
    MeetingScheduledV1,
    MeetingTaskV1,
)
from coordination.contracts.published import JointTaskAssignedV1
from kernel.bus import PermanentError
from kernel.contracts.deadlines import DeadlineV1
from kernel.envelope import Envelope, EventPayload, new_envelope

from .test_notify_watch import (
    Harness,
    deliver,
    harness,
    items,
    local,
    register_agencies,
)

__all__ = ["harness"]

pytestmark = pytest.mark.timeout(120)

ASSIGNED = local(2026, 3, 2, 10)
TASK_DEADLINE = date(2026, 3, 6)
# 5 working days after the task's deadline (Friday 6 March): end of Friday 13 March.
REPORT_DUE = local(2026, 3, 13, 23, 59, 59)


def event(payload: EventPayload, subject: str, at: datetime) -> Envelope:
    return new_envelope(
        payload, district="fuyuan", service="coordination", subject=subject, time=at
    )


def block(kind: str, subject_type: str, subject_id: str, agency: str, due: datetime) -> DeadlineV1:
    return DeadlineV1(
        key=DeadlineV1.key_for(subject_type, subject_id, kind),
        kind=kind,
        subject_type=subject_type,
        subject_id=subject_id,
        responsible_agency_id=agency,
        due=due,
        state="open",
        rule="任务期限届满后5个工作日内报告",
    )


def task_assigned() -> Envelope:
    return event(
        JointTaskAssignedV1(
            operation_id="jo-1",
            lead_id="fy-market",
            cooperating_ids=["fy-hancong"],
            task_id="jt-1",
            agency_id="fy-hancong",
            description="排查辖区无证食品经营户",
            deadline=TASK_DEADLINE.isoformat(),
            report_due=REPORT_DUE,
            actor_id="p-wang",
            actor_agency_id="fy-market",
            state_before=None,
            state_after="assigned",
            deadlines=[block("joint.task_report", "JointTask", "jt-1", "fy-hancong", REPORT_DUE)],
        ),
        "jo-1",
        ASSIGNED,
    )


async def test_R_JNT_04_task_assigned_reaches_the_cooperating_agency_once_and_is_watched(
    harness: Harness,
) -> None:
    service = await harness.start(workers=False)
    await register_agencies(service)
    assigned = task_assigned()
    await deliver(service, assigned)
    await deliver(service, assigned)  # a redelivery

    [item] = [i for i in await items(service, "fy-hancong") if i.kind == "joint.task_assigned"]
    assert item.subject_type == "JointTask" and item.subject_id == "jt-1"
    assert item.due_at == REPORT_DUE and item.created_at == ASSIGNED
    assert item.title == "联合执法任务：排查辖区无证食品经营户"
    assert "抚远市市场监督管理局牵头" in item.body and "2026年3月6日" in item.body
    assert "2026年03月13日 23:59" in item.body
    assert item.receipt_required  # R-NTF-04: an unread task escalates too
    assert [i for i in await items(service, "fy-market") if i.kind == "joint.task_assigned"] == []

    # Its report clock is watched like every clock: a reminder on the working day before…
    harness.clock.set(2026, 3, 12, 9, 0, 1)
    await service.scheduler.run_once()

    async def of_kind(kind: str) -> list[object]:
        return [
            i
            for i in await items(service, "fy-hancong")
            if i.kind == kind and i.subject_id == "jt-1"
        ]

    assert len(await of_kind("deadline.reminder")) == 1
    assert await of_kind("deadline.escalated") == []
    # …and the agency's leader one working day after it ran out.
    harness.clock.set(2026, 3, 17, 0, 0, 1)
    await service.scheduler.run_once()
    assert len(await of_kind("deadline.missed")) == 1
    assert len(await of_kind("deadline.escalated")) == 1


async def test_R_MTG_01_notice_rsvp_minutes_and_tasks_reach_the_attendees(
    harness: Harness,
) -> None:
    service = await harness.start(workers=False)
    await register_agencies(service)
    starts = local(2026, 3, 16, 9, 30)
    rsvp_due = {a: local(2026, 3, 12, 23, 59, 59) for a in ("fy-hancong", "fy-justice")}
    scheduled = event(
        MeetingScheduledV1(
            meeting_id="m-1",
            convener_id="fy-market",
            actor_id="p-wang",
            actor_agency_id="fy-market",
            state_after="scheduled",
            kind="special",
            title="食品安全联合执法协调会",
            starts_at=starts,
            place="市政府三楼会议室",
            attendee_ids=["fy-market", "fy-hancong", "fy-justice"],
            agenda=["通报检查情况", "明确分工"],
            notice_latest_on=date(2026, 3, 9),
            deadlines=[
                block(f"meeting.rsvp:{a}", "Meeting", "m-1", a, due) for a, due in rsvp_due.items()
            ],
        ),
        "m-1",
        local(2026, 3, 2, 11),
    )
    for _ in range(2):
        await deliver(service, scheduled)
    for agency in ("fy-hancong", "fy-justice"):
        [notice] = [i for i in await items(service, agency) if i.kind == "meeting.notice"]
        assert notice.title == "会议通知：食品安全联合执法协调会"
        assert notice.due_at == rsvp_due[agency]
        assert "2026年03月16日 09:30" in notice.body and "市政府三楼会议室" in notice.body
        assert "1. 通报检查情况；2. 明确分工" in notice.body
        assert "抚远市市场监督管理局" in notice.body and "回执" in notice.body
    # The convener does not notify itself.
    assert [i for i in await items(service, "fy-market") if i.kind == "meeting.notice"] == []

    task = MeetingTaskV1(
        task_id="mt-1",
        description="寒葱沟镇牵头清理占道经营",
        owner_agency_id="fy-hancong",
        deadline=date(2026, 3, 31),
    )
    drafted = event(
        MeetingMinutesDraftedV1(
            meeting_id="m-1",
            convener_id="fy-market",
            actor_id="p-wang",
            revision=2,
            decisions="会议议定以下事项",
            tasks=[task],
            awaiting_agreement_of=["fy-hancong", "fy-justice"],
        ),
        "m-1",
        local(2026, 3, 16, 15),
    )
    await deliver(service, drafted)
    await deliver(service, drafted)
    for agency in ("fy-hancong", "fy-justice"):
        [ask] = [i for i in await items(service, agency) if i.kind == "meeting.minutes_to_agree"]
        assert ask.title == "会议纪要待确认（第2稿）"
        assert "寒葱沟镇牵头清理占道经营（2026年3月31日前）" in ask.body

    task_due = local(2026, 3, 31, 23, 59, 59)
    issued = event(
        MeetingMinutesIssuedV1(
            meeting_id="m-1",
            convener_id="fy-market",
            actor_id="p-wang",
            number="抚执协纪〔2026〕3号",
            revision=2,
            attendee_ids=["fy-market", "fy-hancong", "fy-justice"],
            tasks=[task],
            issued_at=local(2026, 3, 17, 10),
            deadlines=[block("meeting.task:mt-1", "Meeting", "m-1", "fy-hancong", task_due)],
        ),
        "m-1",
        local(2026, 3, 17, 10),
    )
    await deliver(service, issued)
    await deliver(service, issued)
    [todo] = [i for i in await items(service, "fy-hancong") if i.kind == "meeting.task_assigned"]
    assert todo.due_at == task_due and "抚执协纪〔2026〕3号" in todo.body
    assert [
        i for i in await items(service, "fy-justice") if i.kind == "meeting.task_assigned"
    ] == []
    # The decided task's clock is watched: it is among the notify's deadlines.
    watched = await service.deadlines.get(DeadlineV1.key_for("Meeting", "m-1", "meeting.task:mt-1"))
    assert watched is not None and watched.due == task_due


async def test_R_JNT_04_malformed_task_event_is_refused_and_changes_nothing(
    harness: Harness,
) -> None:
    service = await harness.start(workers=False)
    await register_agencies(service)
    good = task_assigned()
    data = {k: v for k, v in good.data.items() if k != "agency_id"}
    bad = good.model_copy(update={"data": data})
    router = service.runtime.subscriptions[0].handler
    with pytest.raises(PermanentError, match="agency_id"):
        await router(bad)
    kinds = {i.kind for a in ("fy-hancong", "fy-market") for i in await items(service, a)}
    assert "joint.task_assigned" not in kinds
