"""Issue 20 for joint tasks (R-JNT-04) on both stores: a task's report clock (5 working days
after its deadline) computed across the forecast 2027 moves when the official schedule is
loaded, is recorded on the operation and announced (``deadline.moved.v1`` in the outbox);
checking again changes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from coordination.adapters.cooperation import AssistanceRepository
from coordination.adapters.repository import DisputeRepository
from coordination.application.calendar import CoordinationCalendar
from coordination.application.joint import AssignJointTask
from kernel.calendar import national_year_confirmed, parse_schedule
from kernel.calendar_follow import CalendarFollower
from tests.fixtures.schedules import schedule_2027_data
from tests.integration.coordination.test_coordination_joint import (
    MARKET,
    World,
    _started,
    world,
)

__all__ = ["world"]

pytestmark = pytest.mark.skipif(
    national_year_confirmed(2027), reason="the holidays package already confirms 2027"
)

SHANGHAI_FEB_1 = datetime(2027, 2, 1, 1, 0, tzinfo=UTC)  # Monday 09:00 in Asia/Shanghai


async def test_R_JNT_04_a_task_report_clock_moves_with_the_official_schedule(world: World) -> None:
    w = world
    w.now[0] = SHANGHAI_FEB_1
    op = await _started(w)
    # Deadline Wed 17 Feb; 5 working days after: forecast 18, 19, 22, 23, 24 Feb; with the
    # notice Saturday 20 Feb is worked: 18, 19, 20, 22, 23 Feb.
    op = await w.joint.assign_task(
        AssignJointTask(op.id, "fy-housing", "核查违法建设", date(2027, 2, 17)), MARKET
    )
    [task] = op.tasks
    assert task.report_clock.due.date() == date(2027, 2, 24)
    calendar = w.joint.calendar
    rechecks = CoordinationCalendar(
        calendar,
        "fuyuan",
        lambda: w.now[0],
        {"AssistanceRequest": AssistanceRepository(w.store)},
        DisputeRepository(w.store),
        w.joint.operations,
    )
    calendar.schedules.install(parse_schedule(schedule_2027_data()))
    follower = CalendarFollower(w.store, calendar, [rechecks.recheck_joint_tasks])
    assert await rechecks.recheck_joint_tasks(2027) == 1
    moved = await w.joint.operations.get(op.id)
    assert moved is not None
    assert moved.tasks[0].report_clock.due.date() == date(2027, 2, 23)
    assert moved.history[-1].action == "revise_clocks"
    outbox = await w.outbox(op.id)
    [event] = [e for e in outbox if e["type"] == "deadline.moved.v1"]
    assert event["data"]["subject_type"] == "JointTask"
    assert event["data"]["responsible_agency_id"] == "fy-housing"
    assert event["data"]["deadlines"][0]["provisional"] is False
    # Again (a redelivered event, a restart): nothing changes.
    assert await rechecks.recheck_joint_tasks(2027) == 0
    await follower.start()
    assert (await w.joint.operations.get(op.id)).version == moved.version  # type: ignore[union-attr]
