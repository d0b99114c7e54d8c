"""Joint enforcement (联合执法) in the domain: R-JNT-01…05. Pure: no store, no bus."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from coordination.domain import joint as jnt
from coordination.domain.cooperation import Actor, Clock
from kernel.errors import Forbidden, InvalidState, NotFound, ValidationFailed
from liandong.policy import load_policy
from tests.fixtures.joint import PLAN

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
GOV = Actor("p-g", "fy-gov", ("government",))
COORD = Actor("p-c", "fy-coord", ("coordinator",))
CLERK = Actor("p-x", "fy-market", ("clerk",))
LEAD = Actor("p-m", "fy-market", ("clerk",))
HOUSING = Actor("p-h", "fy-housing", ("clerk",))
NATRES = Actor("p-n", "fy-natres", ("clerk",))

GENERAL = jnt.JointLiaison("", "general", "王总联", "0454-1234567")


def daily(name: str) -> jnt.JointLiaison:
    return jnt.JointLiaison("", "daily", name, "13800000000")


def clock(due: datetime = NOW + timedelta(days=10)) -> Clock:
    return Clock(jnt.TASK_REPORT, "fy-housing", due, "5个工作日", {})


#: The lead's clock to decide on a written inability (R-JNT-04; a policy default).
DECISION = Clock(jnt.INABILITY_DECISION, "fy-market", NOW + timedelta(days=7), "5个工作日", {})


def initiated(**kw: object) -> jnt.JointOperation:
    args: dict[str, object] = dict(
        operation_id="op-1",
        title="农村违法建设联合整治",
        basis=jnt.InitiationBasis.PROMINENT_VIOLATIONS,
        basis_reference="抚政办〔2026〕3号",
        requested_by_agency_id=None,
        lead_id="fy-market",
        cooperating_ids=("fy-housing", "fy-natres"),
        actor=GOV,
        at=NOW,
    )
    args.update(kw)
    return jnt.initiate(**args)  # type: ignore[arg-type]


def commented() -> jnt.JointOperation:
    op = initiated().submit_plan(PLAN, GENERAL, actor=LEAD, at=NOW)
    op = op.comment("同意", daily("李住建"), actor=HOUSING, at=NOW)
    return op.comment("无意见", daily("赵自然"), actor=NATRES, at=NOW)


def started() -> jnt.JointOperation:
    return commented().start(actor=LEAD, at=NOW)


def with_task() -> jnt.JointOperation:
    return started().assign_task(
        task_id="t-1",
        agency_id="fy-housing",
        description="核查违法建设",
        deadline=date(2026, 3, 10),
        report_clock=clock(),
        today=date(2026, 3, 2),
        actor=LEAD,
        at=NOW,
    )


def test_R_JNT_01_initiation_records_who_and_on_what_basis() -> None:
    op = initiated()
    assert op.status is jnt.OperationStatus.PLANNING
    assert (op.initiated_by, op.initiator_agency_id) == ("p-g", "fy-gov")
    assert op.basis is jnt.InitiationBasis.PROMINENT_VIOLATIONS
    assert op.history[0].action == "initiate" and "抚政办" in op.history[0].note
    on_request = initiated(
        basis=jnt.InitiationBasis.LEGAL_OFFICE_REQUEST,
        requested_by_agency_id="fy-hancong",
        actor=COORD,
    )
    assert on_request.requested_by_agency_id == "fy-hancong"


def test_R_JNT_01_roles_are_checked_per_basis() -> None:
    with pytest.raises(Forbidden):
        initiated(actor=CLERK)  # a clerk cannot deploy anything
    with pytest.raises(Forbidden):
        initiated(basis=jnt.InitiationBasis.LEGAL_OFFICE_REQUEST, actor=GOV)
    with pytest.raises(ValidationFailed) as exc:
        initiated(basis=jnt.InitiationBasis.LEGAL_OFFICE_REQUEST, actor=COORD)
    assert exc.value.field == "requestedByAgencyId"
    with pytest.raises(ValidationFailed) as exc:
        initiated(basis_reference=" ")
    assert exc.value.field == "basisReference"
    with pytest.raises(ValidationFailed) as exc:
        initiated(cooperating_ids=("fy-market",))
    assert exc.value.field == "cooperatingIds"


@pytest.mark.parametrize(("attr", "gql", "_zh"), jnt.PLAN_SECTIONS)
def test_R_JNT_02_every_plan_section_is_required(attr: str, gql: str, _zh: str) -> None:
    op = initiated()
    with pytest.raises(ValidationFailed) as exc:
        blank: dict[str, Any] = {attr: "  "}
        op.submit_plan(replace(PLAN, **blank), GENERAL, actor=LEAD, at=NOW)
    assert exc.value.field == f"plan.{gql}"


def test_R_JNT_02_only_the_lead_writes_the_plan_and_cooperating_agencies_comment() -> None:
    op = initiated()
    with pytest.raises(Forbidden):
        op.submit_plan(PLAN, GENERAL, actor=HOUSING, at=NOW)
    op = op.submit_plan(PLAN, GENERAL, actor=LEAD, at=NOW)
    assert op.status is jnt.OperationStatus.COMMENTING and op.plan and op.plan.version == 1
    with pytest.raises(Forbidden):
        op.comment("同意", daily("x"), actor=LEAD, at=NOW)
    with pytest.raises(ValidationFailed) as exc:
        op.comment(" ", daily("x"), actor=HOUSING, at=NOW)
    assert exc.value.field == "comment"
    op = op.comment("同意", daily("李住建"), actor=HOUSING, at=NOW)
    assert op.missing_comments() == ("fy-natres",)


def test_R_JNT_02_cannot_start_before_every_cooperating_agency_commented() -> None:
    op = initiated().submit_plan(PLAN, GENERAL, actor=LEAD, at=NOW)
    op = op.comment("同意", daily("李住建"), actor=HOUSING, at=NOW)
    with pytest.raises(InvalidState) as exc:
        op.start(actor=LEAD, at=NOW)
    assert exc.value.field == "comments" and "fy-natres" in exc.value.message
    with pytest.raises(InvalidState):
        initiated().start(actor=LEAD, at=NOW)  # no plan yet


def test_R_JNT_02_a_revised_plan_needs_fresh_comments() -> None:
    op = commented().submit_plan(replace(PLAN, goal="新目标"), GENERAL, actor=LEAD, at=NOW)
    assert op.plan and op.plan.version == 2
    assert op.missing_comments() == ("fy-housing", "fy-natres")


def test_R_JNT_03_liaisons_general_for_the_lead_daily_for_each_cooperating_agency() -> None:
    op = started()
    assert {(x.agency_id, x.role) for x in op.liaisons} == {
        ("fy-market", "general"),
        ("fy-housing", "daily"),
        ("fy-natres", "daily"),
    }
    with pytest.raises(ValidationFailed) as exc:
        initiated().submit_plan(PLAN, replace(GENERAL, phone="n/a"), actor=LEAD, at=NOW)
    assert exc.value.field == "generalLiaison.phone"
    plan = initiated().submit_plan(PLAN, GENERAL, actor=LEAD, at=NOW)
    with pytest.raises(ValidationFailed) as exc:
        plan.comment("同意", daily(" "), actor=HOUSING, at=NOW)
    assert exc.value.field == "dailyLiaison.name"


def test_R_JNT_04_tasks_only_for_cooperating_agencies_after_the_start() -> None:
    kw: dict[str, object] = dict(
        task_id="t",
        agency_id="fy-housing",
        description="核查",
        deadline=date(2026, 3, 10),
        report_clock=clock(),
        today=date(2026, 3, 2),
        actor=LEAD,
        at=NOW,
    )
    with pytest.raises(InvalidState):
        commented().assign_task(**kw)  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed) as exc:
        started().assign_task(**{**kw, "agency_id": "fy-police"})  # type: ignore[arg-type]
    assert exc.value.field == "agencyId"
    with pytest.raises(ValidationFailed) as exc:
        started().assign_task(**{**kw, "deadline": date(2026, 3, 1)})  # type: ignore[arg-type]
    assert exc.value.field == "deadline"
    with pytest.raises(Forbidden):
        started().assign_task(**{**kw, "actor": HOUSING})  # type: ignore[arg-type]


def test_R_JNT_04_report_meets_the_clock_and_a_late_report_is_marked() -> None:
    op = with_task().report_task("t-1", "已核查3处", actor=HOUSING, at=NOW)
    task = op.task("t-1")
    assert task.status is jnt.TaskStatus.REPORTED and not task.late
    assert task.report_clock.state == "met"
    late = with_task().report_task("t-1", "已核查", actor=HOUSING, at=NOW + timedelta(days=30))
    assert late.task("t-1").late
    with pytest.raises(NotFound) as exc:
        with_task().report_task("nope", "x", actor=HOUSING, at=NOW)
    assert exc.value.field == "taskId"
    with pytest.raises(Forbidden):
        with_task().report_task("t-1", "x", actor=NATRES, at=NOW)


def test_R_JNT_04_written_inability_rejected_and_reported_to_the_government() -> None:
    with pytest.raises(ValidationFailed) as exc:
        with_task().state_inability("t-1", "  ", decision_clock=DECISION, actor=HOUSING, at=NOW)
    assert exc.value.field == "reasons"
    op = with_task().state_inability(
        "t-1", "无执法车辆", decision_clock=DECISION, actor=HOUSING, at=NOW
    )
    assert op.task("t-1").status is jnt.TaskStatus.INABILITY_STATED
    # Issue 14: the lead owns the stated inability, on its decision clock.
    assert op.task("t-1").decision_clock == DECISION
    with pytest.raises(Forbidden):
        op.decide_inability(
            "t-1", accept=False, reason="x", government_id=None, actor=HOUSING, at=NOW
        )
    with pytest.raises(ValidationFailed) as exc:
        op.decide_inability(
            "t-1", accept=True, reason="可以", government_id="fy-gov", actor=LEAD, at=NOW
        )
    assert exc.value.field == "reportToGovernment"
    decided = op.decide_inability(
        "t-1", accept=False, reason="可借用车辆", government_id="fy-gov", actor=LEAD, at=NOW
    )
    task = decided.task("t-1")
    assert task.status is jnt.TaskStatus.INABILITY_REJECTED
    assert task.inability and task.inability.reported_to_government_id == "fy-gov"
    assert task.report_clock.state == "open"  # still owed
    assert task.decision_clock is not None and task.decision_clock.state == "met"
    done = decided.report_task("t-1", "已完成", actor=HOUSING, at=NOW)
    assert done.task("t-1").status is jnt.TaskStatus.REPORTED
    accepted = op.decide_inability(
        "t-1", accept=True, reason="理由成立", government_id=None, actor=LEAD, at=NOW
    )
    assert accepted.task("t-1").status is jnt.TaskStatus.INABILITY_ACCEPTED


def test_R_JNT_04_chongqing_must_report_a_rejected_inability_to_the_government() -> None:
    """CQ 三(二): "法定事由不成立的，应当向市政府报告": where the district says so, a rejection
    without the report is refused and changes nothing; reported, or accepted, it passes."""
    op = with_task().state_inability(
        "t-1", "无执法车辆", decision_clock=DECISION, actor=HOUSING, at=NOW
    )

    def decide(accept: bool, reason: str, government_id: str | None) -> jnt.JointOperation:
        return op.decide_inability(
            "t-1",
            accept=accept,
            reason=reason,
            government_id=government_id,
            actor=LEAD,
            at=NOW,
            rejection_must_be_reported=True,
        )

    with pytest.raises(ValidationFailed) as exc:
        decide(False, "可借用车辆", None)
    assert exc.value.field == "reportToGovernment" and "应当向市政府报告" in exc.value.message
    assert op.task("t-1").status is jnt.TaskStatus.INABILITY_STATED
    reported = decide(False, "可借用车辆", "cq-gov")
    assert reported.task("t-1").status is jnt.TaskStatus.INABILITY_REJECTED
    accepted = decide(True, "理由成立", None)
    assert accepted.task("t-1").status is jnt.TaskStatus.INABILITY_ACCEPTED
    assert load_policy("chongqing").joint_enforcement.rejected_inability_reported_to_government
    assert not load_policy("fuyuan").joint_enforcement.rejected_inability_reported_to_government


def _inspection(agency: str, at: datetime, key: str = "licence:91230000X") -> jnt.Inspection:
    return jnt.Inspection(
        "i-" + agency,
        "op-0",
        "t-0",
        agency,
        key,
        jnt.InspectionTarget("91230000X"),
        "ok",
        "p",
        at,
    )


def test_R_JNT_05_inspect_once_warns_for_another_agency_within_the_window() -> None:
    target = jnt.InspectionTarget(licence_number=" 91230000x ")
    assert target.key() == "licence:91230000X"
    earlier = [_inspection("fy-natres", NOW - timedelta(days=3))]
    inspection = jnt.record_inspection(
        with_task(),
        inspection_id="i-1",
        task_id="t-1",
        target=target,
        findings="未发现违法",
        earlier=earlier,
        window_days=30,
        actor=HOUSING,
        at=NOW,
    )
    assert inspection.warning is not None
    assert inspection.warning.previous_agency_id == "fy-natres"
    assert "综合查一次" in inspection.warning.message_zh


def test_R_JNT_05_no_warning_for_own_repeat_visit_or_outside_the_window() -> None:
    key = "licence:91230000X"
    own = [_inspection("fy-housing", NOW - timedelta(days=1))]
    old = [_inspection("fy-natres", NOW - timedelta(days=31))]
    other_target = [_inspection("fy-natres", NOW - timedelta(days=1), "licence:OTHER")]
    for earlier in (own, old, other_target):
        assert jnt.inspect_once_warning(key, "fy-housing", earlier, at=NOW, window_days=30) is None


def test_R_JNT_05_a_target_needs_a_licence_number_or_name_and_address() -> None:
    with pytest.raises(ValidationFailed) as exc:
        jnt.InspectionTarget(name="张三商店").key()
    assert exc.value.field == "target.address"
    assert jnt.InspectionTarget(name="张三 商店", address="寒葱沟镇1号").key() == (
        "name:张三商店@寒葱沟镇1号"
    )
