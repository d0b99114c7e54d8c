"""Joint enforcement (R-JNT-01…05) through the handlers on both store adapters: state and
events land together in the outbox (task clocks in ``deadlines`` blocks); bad input changes
nothing; the inspect-once check finds earlier inspections of a target through its index."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from coordination.adapters.joint import JointInspectionLog, JointOperationRepository
from coordination.application.joint import (
    AssignJointTask,
    CommentOnJointPlan,
    DecideJointTaskInability,
    InitiateJointOperation,
    JointHandlers,
    LiaisonInput,
    RecordJointInspection,
    ReportJointTask,
    StartJointOperation,
    StateJointTaskInability,
    SubmitJointPlan,
)
from coordination.domain import joint as jnt
from kernel.calendar import SHANGHAI
from kernel.contracts.deadlines import deadlines_of
from kernel.errors import DomainError, Forbidden, InvalidState, NotFound, ValidationFailed
from kernel.store import DocumentStore
from tests.fixtures.coordination import (
    NOW,
    StoredDocs,
    caller,
    ensure_indexes,
    fuyuan,
    unchanged,
)
from tests.fixtures.joint import PLAN

GOV = caller("p-g", "fy-gov", ("government",))
MARKET = caller("p-m", "fy-market", ("leader",))
HOUSING = caller("p-h", "fy-housing", ("clerk",))
NATRES = caller("p-n", "fy-natres", ("clerk",))
OPS = "joint_operations"


@dataclass
class World:
    store: DocumentStore
    joint: JointHandlers
    now: list[datetime]

    async def raw(self, collection: str, doc_id: str) -> dict[str, Any]:
        return await StoredDocs(self.store).raw(collection, doc_id)

    async def outbox(self, doc_id: str, collection: str = OPS) -> list[dict[str, Any]]:
        return await StoredDocs(self.store).outbox(collection, doc_id)


@pytest.fixture
async def world(store: DocumentStore) -> World:
    f = await fuyuan(store)
    handlers = JointHandlers(
        JointOperationRepository(store), JointInspectionLog(store), *f.common, clock=f.clock
    )
    await ensure_indexes(handlers.operations, handlers.inspections)
    return World(store, handlers, f.now)


async def _unchanged(w: World, doc_id: str, call: Any) -> DomainError:
    """``call`` fails with a DomainError and leaves the operation exactly as it was."""
    return await unchanged(lambda: w.raw(OPS, doc_id), call)


async def _started(w: World) -> jnt.JointOperation:
    op = await w.joint.initiate(
        InitiateJointOperation(
            title="农村违法建设联合整治",
            basis="prominent_violations",
            basis_reference="抚政办〔2026〕3号",
            lead_id="fy-market",
            cooperating_ids=("fy-housing", "fy-natres"),
        ),
        GOV,
    )
    await w.joint.submit_plan(
        SubmitJointPlan(op.id, PLAN, LiaisonInput("王总联", "0454-1234567")), MARKET
    )
    await w.joint.comment(
        CommentOnJointPlan(op.id, "同意", LiaisonInput("李住建", "13800000001")), HOUSING
    )
    await w.joint.comment(
        CommentOnJointPlan(op.id, "无意见", LiaisonInput("赵自然", "13800000002")), NATRES
    )
    return await w.joint.start(StartJointOperation(op.id), MARKET)


async def test_R_JNT_01_R_JNT_02_R_JNT_03_initiate_plan_comments_start(world: World) -> None:
    w = world
    op = await _started(w)
    assert op.status is jnt.OperationStatus.IN_PROGRESS and op.version == 5
    stored = await w.joint.operations.get(op.id)
    assert stored is not None and stored.plan == op.plan and len(stored.liaisons) == 3
    outbox = await w.outbox(op.id)
    assert [e["type"] for e in outbox] == [
        "joint.initiated.v1",
        "joint.plan_submitted.v1",
        "joint.plan_commented.v1",
        "joint.plan_commented.v1",
        "joint.started.v1",
    ]
    initiated, *_, started = (e["data"] for e in outbox)
    assert initiated["basis"] == "prominent_violations" and initiated["actor_id"] == "p-g"
    assert initiated["state_before"] is None and initiated["state_after"] == "planning"
    assert outbox[3]["data"]["awaiting_comments_from"] == []
    assert started["initiated_by"] == "p-g" and started["initiator_agency_id"] == "fy-gov"
    assert started["state_before"] == "commenting" and started["state_after"] == "in_progress"
    assert {x["role"] for x in started["liaisons"]} == {"general", "daily"}
    listed = await w.joint.operations.list(
        agency_id="fy-natres", status="in_progress", basis=None, after=None, limit=10
    )
    assert [o.id for o in listed] == [op.id]


async def test_R_JNT_01_the_initiators_agency_kind_is_checked(world: World) -> None:
    cmd = InitiateJointOperation(
        title="x",
        basis="prominent_violations",
        basis_reference="r",
        lead_id="fy-market",
        cooperating_ids=("fy-housing",),
    )
    with pytest.raises(Forbidden):
        await world.joint.initiate(cmd, caller("p", "fy-market", ("government",)))
    with pytest.raises(ValidationFailed) as exc:
        await world.joint.initiate(
            InitiateJointOperation("x", "higher_authority", "r", "fy-market", ("fy-nowhere",)), GOV
        )
    assert exc.value.field == "cooperatingIds.0"
    assert (
        await world.joint.operations.list(
            agency_id=None, status=None, basis=None, after=None, limit=10
        )
        == []
    )


async def test_R_JNT_02_bad_input_changes_nothing(world: World) -> None:
    w = world
    op = await w.joint.initiate(
        InitiateJointOperation(
            "整治", "higher_authority", "黑政发〔2026〕1号", "fy-market", ("fy-housing",)
        ),
        MARKET,
    )
    bad_plan = SubmitJointPlan(
        op.id, jnt.Plan(**{**PLAN.__dict__, "safeguards": ""}), LiaisonInput("王", "13800000000")
    )
    err = await _unchanged(w, op.id, w.joint.submit_plan(bad_plan, MARKET))
    assert err.field == "plan.safeguards" and isinstance(err, ValidationFailed)
    await w.joint.submit_plan(
        SubmitJointPlan(op.id, PLAN, LiaisonInput("王", "13800000000")), MARKET
    )
    err = await _unchanged(w, op.id, w.joint.start(StartJointOperation(op.id), MARKET))
    assert isinstance(err, InvalidState) and err.field == "comments"


async def test_R_JNT_04_tasks_reports_and_written_inability(world: World) -> None:
    w = world
    op = await _started(w)
    op = await w.joint.assign_task(
        AssignJointTask(op.id, "fy-housing", "核查违法建设", date(2026, 3, 6)), MARKET
    )
    op = await w.joint.assign_task(
        AssignJointTask(op.id, "fy-natres", "核查占地", date(2026, 3, 6)), MARKET
    )
    t1, t2 = op.tasks
    # Friday 6 March + 5 working days = end of Friday 13 March (Asia/Shanghai).
    assert t1.report_clock.due.date() == date(2026, 3, 13)
    assigned = (await w.outbox(op.id))[-1]["data"]
    [block] = deadlines_of(assigned)
    assert block.kind == "joint.task_report" and block.subject_type == "JointTask"
    assert block.responsible_agency_id == "fy-natres" and block.state == "open"

    err = await _unchanged(
        w, op.id, w.joint.report_task(ReportJointTask(op.id, "nope", "x"), HOUSING)
    )
    assert isinstance(err, NotFound) and err.field == "taskId"
    err = await _unchanged(
        w, op.id, w.joint.state_inability(StateJointTaskInability(op.id, t2.id, " "), NATRES)
    )
    assert err.field == "reasons"

    await w.joint.report_task(ReportJointTask(op.id, t1.id, "已核查3处"), HOUSING)
    await w.joint.state_inability(StateJointTaskInability(op.id, t2.id, "无测绘设备"), NATRES)
    op = await w.joint.decide_inability(
        DecideJointTaskInability(
            op.id, t2.id, accept=False, reason="可借用设备", report_to_government=True
        ),
        MARKET,
    )
    assert op.task(t2.id).inability is not None
    assert op.task(t2.id).inability.reported_to_government_id == "fy-gov"  # type: ignore[union-attr]
    events = [e for e in await w.outbox(op.id)][-3:]
    assert [e["type"] for e in events] == [
        "joint.task_reported.v1",
        "joint.inability_stated.v1",
        "joint.inability_decided.v1",
    ]
    assert deadlines_of(events[0]["data"])[0].state == "met"
    decided = events[2]["data"]
    assert decided["accepted"] is False and decided["reported_to_government_id"] == "fy-gov"
    assert decided["actor_agency_id"] == "fy-market"
    mine = await w.joint.operations.with_tasks_of("fy-natres")
    assert [o.id for o in mine] == [op.id]


async def test_R_JNT_05_inspect_once_across_operations(world: World) -> None:
    w = world
    first = await _started(w)
    first = await w.joint.assign_task(
        AssignJointTask(first.id, "fy-natres", "检查", date(2026, 3, 6)), MARKET
    )
    second = await _started(w)
    second = await w.joint.assign_task(
        AssignJointTask(second.id, "fy-housing", "检查", date(2026, 3, 6)), MARKET
    )
    target = jnt.InspectionTarget(licence_number="91230881MA1B2C3D4E")
    a = await w.joint.record_inspection(
        RecordJointInspection(first.id, first.tasks[0].id, target, "未发现违法"), NATRES
    )
    assert a.warning is None
    w.now[0] = NOW + timedelta(days=2)
    bad = RecordJointInspection(second.id, "no-task", target, "x")
    with pytest.raises(NotFound):
        await w.joint.record_inspection(bad, HOUSING)
    b = await w.joint.record_inspection(
        RecordJointInspection(
            second.id,
            second.tasks[0].id,
            jnt.InspectionTarget(licence_number="91230881ma1b2c3d4e"),
            "发现违法建设1处",
        ),
        HOUSING,
    )
    assert b.warning is not None and b.warning.previous_inspection_id == a.id
    [event] = await w.outbox(b.id, "joint_inspections")
    assert event["type"] == "joint.inspection_recorded.v1"
    assert event["data"]["warning"]["previous_agency_id"] == "fy-natres"
    stored = await w.joint.inspections.of_operation(second.id)
    assert [i.warning for i in stored] == [b.warning]
    w.now[0] = NOW + timedelta(days=40)
    c = await w.joint.record_inspection(
        RecordJointInspection(second.id, second.tasks[0].id, target, "复查"), HOUSING
    )
    assert c.warning is None  # outside the window, and the last one there was its own


async def test_R_JNT_05_warns_before_an_inspection_is_planned(world: World) -> None:
    """A joint task naming a target another agency inspected within the window carries the
    warning from the moment it is assigned, before anyone goes; its own agency's earlier
    visit and a visit just outside the window (30 days, FY) warn about nothing."""
    w = world
    first = await _started(w)
    first = await w.joint.assign_task(
        AssignJointTask(first.id, "fy-natres", "检查", date(2026, 3, 6)), MARKET
    )
    target = jnt.InspectionTarget(licence_number="91230881MA1B2C3D4E")
    old = jnt.InspectionTarget(name="某某石料厂", address="寒葱沟镇东山村")
    done = await w.joint.record_inspection(
        RecordJointInspection(first.id, first.tasks[0].id, target, "未发现违法"), NATRES
    )
    await w.joint.record_inspection(
        RecordJointInspection(first.id, first.tasks[0].id, old, "未发现违法"), NATRES
    )
    second = await _started(w)
    window = 30  # fuyuan.yaml joint_enforcement.inspect_once_window_days
    w.now[0] = NOW + timedelta(days=window)  # the first inspections: exactly at the edge
    planned = await w.joint.assign_task(
        AssignJointTask(
            second.id,
            "fy-housing",
            "检查辖区石料厂",
            date(2026, 4, 10),
            targets=(
                jnt.InspectionTarget(licence_number="91230881ma1b2c3d4e"),
                jnt.InspectionTarget(licence_number=" 91230881MA1B2C3D4E "),  # the same target
                jnt.InspectionTarget(licence_number="91230881MA9Z9Z9Z9Z"),
            ),
        ),
        MARKET,
    )
    task = planned.tasks[0]
    assert len(task.targets) == 2
    [warning] = task.inspect_once_warnings
    assert warning.previous_inspection_id == done.id and warning.previous_agency_id == "fy-natres"
    assert "综合查一次" in warning.message_zh
    [event] = [e for e in await w.outbox(second.id) if e["type"] == "joint.task_assigned.v1"]
    assert event["data"]["inspect_once_warnings"][0]["previous_inspection_id"] == done.id
    stored = await w.joint.operations.get(second.id)
    assert stored is not None and stored.tasks[0].inspect_once_warnings == (warning,)

    # The inspecting agency's own earlier visit is no duplicate: no warning.
    own = await w.joint.assign_task(
        AssignJointTask(second.id, "fy-natres", "回访", date(2026, 4, 10), targets=(target,)),
        MARKET,
    )
    assert own.tasks[-1].inspect_once_warnings == ()
    # Just past the window: no warning.
    w.now[0] = NOW + timedelta(days=window, seconds=1)
    later = await w.joint.assign_task(
        AssignJointTask(second.id, "fy-housing", "复查", date(2026, 4, 10), targets=(old,)),
        MARKET,
    )
    assert later.tasks[-1].inspect_once_warnings == ()
    # A target named without a licence number needs its address.
    err = await _unchanged(
        w,
        second.id,
        w.joint.assign_task(
            AssignJointTask(
                second.id,
                "fy-housing",
                "检查",
                date(2026, 4, 10),
                targets=(jnt.InspectionTarget(name="某厂"),),
            ),
            MARKET,
        ),
    )
    assert isinstance(err, ValidationFailed) and err.field == "target.address"


async def test_R_JNT_04_a_stated_inability_runs_the_leads_decision_clock_5_working_days(
    world: World,
) -> None:
    """Issue 14: a written inability is the lead's to decide, on a clock (5 working days, a
    project default in the policy: no seed gives one). Stated on Mon 2 Mar 09:00, the clock
    ends at the end of Mon 9 Mar (just inside: 23:59 that day; just outside: 00:00 Tue 10
    Mar); the stall check is empty while it runs; the decision meets it."""
    from coordination.application.stalls import StallCheck

    w = world
    op = await _started(w)
    op = await w.joint.assign_task(
        AssignJointTask(op.id, "fy-natres", "核查占地", date(2026, 3, 6)), MARKET
    )
    [task] = op.tasks
    stated_op = await w.joint.state_inability(
        StateJointTaskInability(op.id, task.id, "无测绘设备"), NATRES
    )
    clock = stated_op.task(task.id).decision_clock
    assert clock is not None and clock.responsible_agency_id == "fy-market"
    end = datetime(2026, 3, 10, 0, 0, tzinfo=SHANGHAI)
    assert end - timedelta(minutes=1) < clock.due <= end
    assert "项目默认" in clock.rule
    stated = (await w.outbox(op.id))[-1]
    assert stated["type"] == "joint.inability_stated.v1"
    blocks = {b.kind: b for b in deadlines_of(stated["data"])}
    assert blocks["joint.inability_decision"].state == "open"
    assert blocks["joint.inability_decision"].responsible_agency_id == "fy-market"
    assert blocks["joint.task_report"].state == "met"
    assert [s for s in await StallCheck.over(w.store).stalls(None) if s.subject_id == task.id] == []

    w.now[0] = end - timedelta(minutes=1)  # decided just inside the limit
    op = await w.joint.decide_inability(
        DecideJointTaskInability(
            op.id, task.id, accept=True, reason="设备确无法借用", report_to_government=False
        ),
        MARKET,
    )
    decided = (await w.outbox(op.id))[-1]
    blocks = {b.kind: b for b in deadlines_of(decided["data"])}
    assert blocks["joint.inability_decision"].state == "met"
    assert blocks["joint.task_report"].state == "met"  # accepted: nothing more is owed
