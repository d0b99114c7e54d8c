"""Command handlers of joint enforcement (联合执法, R-JNT-01…05). Each command loads the
operation, lets the domain decide, and writes the new state with its events in one
conditional update (the outbox). Inspections (R-JNT-05) are their own append-only records,
each written with its event."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from coordination.adapters.joint import JointInspectionLog, JointOperationRepository
from coordination.application import access
from coordination.application.actors import acting
from coordination.application.catalogue import CHINA, local_date
from coordination.application.cooperation import _AggregateSteps
from coordination.contracts.published import (
    JointInabilityDecidedV1,
    JointInabilityStatedV1,
    JointInitiatedV1,
    JointInspectionRecordedV1,
    JointInspectOnceWarningV1,
    JointLiaisonV1,
    JointPlanCommentedV1,
    JointPlanSubmittedV1,
    JointStartedV1,
    JointTaskAssignedV1,
    JointTaskReportedV1,
)
from coordination.domain import joint as jnt
from coordination.domain.cooperation import Actor
from coordination.domain.model import AgencyKind
from coordination.policy import policy_of
from kernel.authz import Relation
from kernel.caller import Caller
from kernel.contracts.deadlines import DeadlineV1
from kernel.errors import Forbidden, InvalidState, ValidationFailed

# Who may initiate for which basis, by the kind of the initiator's agency (R-JNT-01); the
# roles are checked by the domain.
INITIATOR_KINDS: dict[jnt.InitiationBasis, tuple[AgencyKind, ...] | None] = {
    jnt.InitiationBasis.HIGHER_AUTHORITY: None,  # any registered agency above the lead
    jnt.InitiationBasis.PROMINENT_VIOLATIONS: (AgencyKind.GOVERNMENT,),
    jnt.InitiationBasis.LEGAL_OFFICE_REQUEST: (
        AgencyKind.COORDINATION_BODY,
        AgencyKind.JUSTICE_BUREAU,
    ),
}


@dataclass(frozen=True)
class InitiateJointOperation:
    title: str
    basis: str
    basis_reference: str
    lead_id: str
    cooperating_ids: tuple[str, ...]
    requested_by_agency_id: str | None = None


@dataclass(frozen=True)
class LiaisonInput:
    name: str
    phone: str


@dataclass(frozen=True)
class SubmitJointPlan:
    operation_id: str
    plan: jnt.Plan
    general_liaison: LiaisonInput


@dataclass(frozen=True)
class CommentOnJointPlan:
    """R-JNT-02/03: a cooperating agency comments on the plan and names its daily liaison."""

    operation_id: str
    comment: str
    daily_liaison: LiaisonInput


@dataclass(frozen=True)
class StartJointOperation:
    operation_id: str


@dataclass(frozen=True)
class AssignJointTask:
    operation_id: str
    agency_id: str
    description: str
    deadline: date
    targets: tuple[jnt.InspectionTarget, ...] = ()
    """R-JNT-05: the targets the task plans to inspect; each one another agency inspected
    within the window is warned about now, before anyone goes (综合查一次)."""


@dataclass(frozen=True)
class RecordJointInspection:
    operation_id: str
    task_id: str
    target: jnt.InspectionTarget
    findings: str


@dataclass(frozen=True)
class ReportJointTask:
    operation_id: str
    task_id: str
    summary: str


@dataclass(frozen=True)
class StateJointTaskInability:
    operation_id: str
    task_id: str
    reasons: str


@dataclass(frozen=True)
class DecideJointTaskInability:
    """R-JNT-04: the lead accepts or rejects a stated inability; a rejected one may be
    reported to the government."""

    operation_id: str
    task_id: str
    accept: bool
    reason: str
    report_to_government: bool


class JointHandlers(_AggregateSteps[jnt.JointOperation]):
    noun = "joint operation"
    id_field = "operationId"

    def __init__(
        self,
        operations: JointOperationRepository,
        inspections: JointInspectionLog,
        *args: Any,
        **kw: Any,
    ) -> None:
        super().__init__(*args, **kw)
        self.operations = operations
        self._repository = operations
        self.inspections = inspections

    def _relations(self, actor: Actor, found: jnt.JointOperation) -> set[Relation]:
        return access.joint_relations(actor, found)

    def _common(
        self, before: jnt.JointOperation | None, after: jnt.JointOperation, actor: Actor
    ) -> dict[str, Any]:
        return dict(
            operation_id=after.id,
            lead_id=after.lead_id,
            cooperating_ids=list(after.cooperating_ids),
            actor_id=actor.person_id,
            actor_agency_id=actor.agency_id,
            state_before=before.status.value if before else None,
            state_after=after.status.value,
        )

    def _task_deadlines(self, task: jnt.JointTask) -> list[DeadlineV1]:
        clocks = (task.report_clock, *([task.decision_clock] if task.decision_clock else []))
        return self._deadlines(
            "JointTask", task.id, clocks, jnt.TASK_REPORT, jnt.INABILITY_DECISION
        )

    @staticmethod
    def _liaison(x: jnt.JointLiaison) -> JointLiaisonV1:
        return JointLiaisonV1(agency_id=x.agency_id, role=x.role, name=x.name, phone=x.phone)

    # ----------------------------------------------------------------------- R-JNT-01

    async def initiate(self, cmd: InitiateJointOperation, caller: Caller) -> jnt.JointOperation:
        """R-JNT-01: initiate on a basis; the initiator's roles and agency kind are checked."""
        actor = acting(caller)
        relations = access.relations_to(actor, sender=[cmd.lead_id], party=cmd.cooperating_ids)
        access.authorize_on(actor, "initiateJointOperation", relations)
        try:
            basis = jnt.InitiationBasis(cmd.basis)
        except ValueError:
            raise ValidationFailed(
                f"unknown basis {cmd.basis!r}", field="basis", code="UNKNOWN_VALUE"
            ) from None
        kinds = INITIATOR_KINDS[basis]
        if kinds is not None and actor.agency_id is not None:
            own = (await self.agencies.get_many([actor.agency_id])).get(actor.agency_id)
            if own is None or own.kind not in kinds:
                allowed = ", ".join(k.value for k in kinds)
                raise Forbidden(
                    f"on basis {basis.value} the initiator's agency is a {allowed}",
                    code="AGENCY_KIND_NOT_ALLOWED",
                )
        named = {"leadId": cmd.lead_id}
        named.update({f"cooperatingIds.{i}": c for i, c in enumerate(cmd.cooperating_ids)})
        if cmd.requested_by_agency_id:
            named["requestedByAgencyId"] = cmd.requested_by_agency_id
        now = self.clock()
        operation = jnt.initiate(
            operation_id=str(uuid.uuid4()),
            title=cmd.title,
            basis=basis,
            basis_reference=cmd.basis_reference,
            requested_by_agency_id=cmd.requested_by_agency_id,
            lead_id=cmd.lead_id,
            cooperating_ids=cmd.cooperating_ids,
            actor=actor,
            at=now,
        )
        await self._external(named)
        payload = JointInitiatedV1(
            **self._common(None, operation, actor),
            title=operation.title,
            basis=operation.basis.value,
            basis_reference=operation.basis_reference,
            requested_by_agency_id=operation.requested_by_agency_id,
            initiated_at=now,
        )
        await self.operations.add(
            operation, [self._event(payload, operation.id, caller.correlation_id)]
        )
        return replace(operation, version=1)

    # ----------------------------------------------------------------------- R-JNT-02/03

    async def submit_plan(self, cmd: SubmitJointPlan, caller: Caller) -> jnt.JointOperation:
        actor = acting(caller)
        before = await self._authorized(cmd.operation_id, actor, "submitJointPlan")
        now = self.clock()
        liaison = jnt.JointLiaison(
            before.lead_id, "general", cmd.general_liaison.name, cmd.general_liaison.phone
        )
        after = before.submit_plan(cmd.plan, liaison, actor=actor, at=now)
        assert after.plan is not None
        general = next(x for x in after.liaisons if x.role == "general")
        payload = JointPlanSubmittedV1(
            **self._common(before, after, actor),
            plan_version=after.plan.version,
            field=after.plan.field,
            general_liaison=self._liaison(general),
            submitted_at=now,
        )
        return await self._save(after, [payload], caller.correlation_id)

    async def comment(self, cmd: CommentOnJointPlan, caller: Caller) -> jnt.JointOperation:
        actor = acting(caller)
        before = await self._authorized(cmd.operation_id, actor, "commentOnJointPlan")
        now = self.clock()
        liaison = jnt.JointLiaison(
            actor.agency_id or "", "daily", cmd.daily_liaison.name, cmd.daily_liaison.phone
        )
        after = before.comment(cmd.comment, liaison, actor=actor, at=now)
        assert after.plan is not None
        mine = after.comments[-1]
        daily = next(
            x for x in after.liaisons if x.role == "daily" and x.agency_id == mine.agency_id
        )
        payload = JointPlanCommentedV1(
            **self._common(before, after, actor),
            agency_id=mine.agency_id,
            plan_version=mine.plan_version,
            comment=mine.text,
            daily_liaison=self._liaison(daily),
            awaiting_comments_from=list(after.missing_comments()),
            commented_at=now,
        )
        return await self._save(after, [payload], caller.correlation_id)

    async def start(self, cmd: StartJointOperation, caller: Caller) -> jnt.JointOperation:
        actor = acting(caller)
        before = await self._authorized(cmd.operation_id, actor, "startJointOperation")
        now = self.clock()
        after = before.start(actor=actor, at=now)
        assert after.plan is not None
        payload = JointStartedV1(
            **self._common(before, after, actor),
            title=after.title,
            basis=after.basis.value,
            basis_reference=after.basis_reference,
            initiated_by=after.initiated_by,
            initiator_agency_id=after.initiator_agency_id,
            requested_by_agency_id=after.requested_by_agency_id,
            plan_version=after.plan.version,
            liaisons=[self._liaison(x) for x in after.liaisons],
            started_at=now,
        )
        return await self._save(after, [payload], caller.correlation_id)

    # ----------------------------------------------------------------------- R-JNT-04

    async def assign_task(self, cmd: AssignJointTask, caller: Caller) -> jnt.JointOperation:
        actor = acting(caller)
        before = await self._authorized(cmd.operation_id, actor, "assignJointTask")
        now = self.clock()
        n = policy_of(self.policy).joint_enforcement.task_report_limit_working_days
        # Counting starts the day after the task's deadline (the deadline day is not counted).
        deadline = self.calendar.add_working_days(
            datetime.combine(cmd.deadline, time(12), tzinfo=CHINA),
            n,
            rule=f"任务期限届满后{n}个工作日内报告完成情况（CQ 三(二)）",
        )
        task_id = str(uuid.uuid4())
        window = policy_of(self.policy).joint_enforcement.inspect_once_window_days
        earlier: list[jnt.Inspection] = []
        for target in cmd.targets:
            earlier += await self.inspections.of_target(
                target.key(), since=now - timedelta(days=window)
            )
        targets, warnings = jnt.planning_warnings(
            cmd.targets, cmd.agency_id, earlier, at=now, window_days=window
        )
        after = before.assign_task(
            task_id=task_id,
            agency_id=cmd.agency_id,
            description=cmd.description,
            deadline=cmd.deadline,
            report_clock=self._clock(jnt.TASK_REPORT, cmd.agency_id, deadline),
            today=local_date(now),
            actor=actor,
            at=now,
            targets=targets,
            warnings=warnings,
        )
        task = after.task(task_id)
        payload = JointTaskAssignedV1(
            **self._common(before, after, actor),
            task_id=task.id,
            agency_id=task.agency_id,
            description=task.description,
            deadline=task.deadline.isoformat(),
            report_due=task.report_clock.due,
            deadlines=self._task_deadlines(task),
            inspect_once_warnings=[_warning_v1(w) for w in task.inspect_once_warnings],
        )
        return await self._save(after, [payload], caller.correlation_id)

    async def report_task(self, cmd: ReportJointTask, caller: Caller) -> jnt.JointOperation:
        actor = acting(caller)
        before = await self._authorized(cmd.operation_id, actor, "reportJointTask")
        now = self.clock()
        after = before.report_task(cmd.task_id, cmd.summary, actor=actor, at=now)
        task = after.task(cmd.task_id)
        payload = JointTaskReportedV1(
            **self._common(before, after, actor),
            task_id=task.id,
            agency_id=task.agency_id,
            summary=task.report,
            late=task.late,
            reported_at=now,
            deadlines=self._task_deadlines(task),
        )
        return await self._save(after, [payload], caller.correlation_id)

    async def state_inability(
        self, cmd: StateJointTaskInability, caller: Caller
    ) -> jnt.JointOperation:
        actor = acting(caller)
        before = await self._authorized(cmd.operation_id, actor, "stateJointTaskInability")
        now = self.clock()
        n = policy_of(self.policy).joint_enforcement.inability_decision_limit_working_days
        what = "牵头单位对无法完成任务的书面说明作出认定"
        decision = self._default_clock(
            jnt.INABILITY_DECISION, before.lead_id, now, n, what, "CQ 三(二)"
        )
        after = before.state_inability(
            cmd.task_id, cmd.reasons, decision_clock=decision, actor=actor, at=now
        )
        task = after.task(cmd.task_id)
        assert task.inability is not None
        payload = JointInabilityStatedV1(
            **self._common(before, after, actor),
            task_id=task.id,
            agency_id=task.agency_id,
            reasons=task.inability.reasons,
            late=task.late,
            stated_at=now,
            deadlines=self._task_deadlines(task),
        )
        return await self._save(after, [payload], caller.correlation_id)

    async def _government(self) -> str:
        found = [a for a in await self.agencies.of_kind("government") if not a.internal_unit]
        if not found:
            raise InvalidState(
                "no government is registered to report to; register the district's government",
                field="reportToGovernment",
                code="DISTRICT_NOT_SET_UP",
            )
        return found[0].id

    async def decide_inability(
        self, cmd: DecideJointTaskInability, caller: Caller
    ) -> jnt.JointOperation:
        actor = acting(caller)
        before = await self._authorized(cmd.operation_id, actor, "decideJointTaskInability")
        now = self.clock()
        government = await self._government() if cmd.report_to_government else None
        after = before.decide_inability(
            cmd.task_id,
            accept=cmd.accept,
            reason=cmd.reason,
            government_id=government,
            actor=actor,
            at=now,
            rejection_must_be_reported=(
                policy_of(self.policy).joint_enforcement.rejected_inability_reported_to_government
            ),
        )
        task = after.task(cmd.task_id)
        assert task.inability is not None
        payload = JointInabilityDecidedV1(
            **self._common(before, after, actor),
            task_id=task.id,
            agency_id=task.agency_id,
            accepted=cmd.accept,
            decision_reason=task.inability.decision_reason,
            reasons=task.inability.reasons,
            reported_to_government_id=task.inability.reported_to_government_id,
            decided_at=now,
            # The lead's decision clock is met; a rejected reason reopens the report clock
            # (the task is still owed), an accepted one leaves it met.
            deadlines=self._task_deadlines(task),
        )
        return await self._save(after, [payload], caller.correlation_id)

    # ----------------------------------------------------------------------- R-JNT-05

    async def record_inspection(self, cmd: RecordJointInspection, caller: Caller) -> jnt.Inspection:
        actor = acting(caller)
        operation = await self._authorized(cmd.operation_id, actor, "recordJointInspection")
        now = self.clock()
        window = policy_of(self.policy).joint_enforcement.inspect_once_window_days
        key = cmd.target.key()
        earlier = await self.inspections.of_target(key, since=now - timedelta(days=window))
        inspection = jnt.record_inspection(
            operation,
            inspection_id=str(uuid.uuid4()),
            task_id=cmd.task_id,
            target=cmd.target,
            findings=cmd.findings,
            earlier=earlier,
            window_days=window,
            actor=actor,
            at=now,
        )
        w = inspection.warning
        payload = JointInspectionRecordedV1(
            **self._common(operation, operation, actor),
            inspection_id=inspection.id,
            task_id=inspection.task_id,
            agency_id=inspection.agency_id,
            target_key=inspection.target_key,
            target_licence_number=inspection.target.licence_number,
            target_name=inspection.target.name,
            target_address=inspection.target.address,
            findings=inspection.findings,
            inspected_at=now,
            warning=JointInspectOnceWarningV1(
                previous_inspection_id=w.previous_inspection_id,
                previous_agency_id=w.previous_agency_id,
                previous_operation_id=w.previous_operation_id,
                previous_inspected_at=w.previous_inspected_at,
                window_days=w.window_days,
                message_zh=w.message_zh,
            )
            if w
            else None,
        )
        await self.inspections.record(
            inspection, [self._event(payload, operation.id, caller.correlation_id)]
        )
        return inspection


def _warning_v1(w: jnt.InspectOnceWarning) -> JointInspectOnceWarningV1:
    return JointInspectOnceWarningV1(
        previous_inspection_id=w.previous_inspection_id,
        previous_agency_id=w.previous_agency_id,
        previous_operation_id=w.previous_operation_id,
        previous_inspected_at=w.previous_inspected_at,
        window_days=w.window_days,
        message_zh=w.message_zh,
    )
