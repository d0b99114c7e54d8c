"""Issue 20 for joint tasks (R-JNT-04) on both stores: a task's report clock (5 working days
after its deadline) computed across a forecast year (the first one the ``holidays`` package
does not confirm, so the test never skips) moves when the official schedule is
loaded, is recorded on the operation and announced (``deadline.moved.v1`` in the outbox);
checking again changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from coordination.adapters.cooperation import AssistanceRepository
from coordination.adapters.repository import DisputeRepository
from coordination.application.calendar import CoordinationCalendar
from coordination.application.joint import AssignJointTask
from kernel.calendar import SHANGHAI, parse_schedule
from kernel.calendar_follow import CalendarFollower
from tests.fixtures.schedules import hypothetical_schedule
from tests.integration.coordination.test_coordination_joint import (
    MARKET,
    World,
    _started,
    world,
)

__all__ = ["world"]


async def test_R_JNT_04_a_task_report_clock_moves_with_the_official_schedule(world: World) -> None:
    w = world
    h = hypothetical_schedule()
    saturday = h.worked_saturday
    # A Monday 09:00 in Asia/Shanghai, four weeks before.
    w.now[0] = datetime.combine(saturday - timedelta(days=26), time(9), SHANGHAI).astimezone(UTC)
    op = await _started(w)
    # Deadline the Wednesday before; 5 working days after: by the forecast Thu, Fri, Mon, Tue,
    # Wed; with the notice the Saturday is worked: Thu, Fri, Sat, Mon, Tue.
    op = await w.joint.assign_task(
        AssignJointTask(op.id, "fy-housing", "核查违法建设", saturday - timedelta(days=3)), MARKET
    )
    [task] = op.tasks
    assert task.report_clock.due.date() == saturday + timedelta(days=4)
    calendar = w.joint.calendar
    rechecks = CoordinationCalendar(
        calendar,
        "fuyuan",
        lambda: w.now[0],
        {"AssistanceRequest": AssistanceRepository(w.store)},
        DisputeRepository(w.store),
        w.joint.operations,
    )
    calendar.schedules.install(parse_schedule(h.data))
    follower = CalendarFollower(w.store, calendar, [rechecks.recheck_joint_tasks])
    assert await rechecks.recheck_joint_tasks(h.year) == 1
    moved = await w.joint.operations.get(op.id)
    assert moved is not None
    assert moved.tasks[0].report_clock.due.date() == saturday + timedelta(days=3)
    assert moved.history[-1].action == "revise_clocks"
    outbox = await w.outbox(op.id)
    [event] = [e for e in outbox if e["type"] == "deadline.moved.v1"]
    assert event["data"]["subject_type"] == "JointTask"
    assert event["data"]["responsible_agency_id"] == "fy-housing"
    assert event["data"]["deadlines"][0]["provisional"] is False
    # Again (a redelivered event, a restart): nothing changes.
    assert await rechecks.recheck_joint_tasks(h.year) == 0
    await follower.start()
    assert (await w.joint.operations.get(op.id)).version == moved.version  # type: ignore[union-attr]
