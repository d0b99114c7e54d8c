"""The joint operation (联合执法行动, R-JNT-01…04): initiation, plan, comments, tasks.

Pure Python: no I/O. Clocks are computed by the application layer and handed in.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from coordination.domain.cooperation import (
    Actor,
    Clock,
    RecordsTransitions,
    Transition,
    require_text,
)
from coordination.domain.errors import Forbidden, InvalidState, NotFound, ValidationFailed
from coordination.domain.joint.records import (
    INITIATOR_ROLES,
    Inability,
    InitiationBasis,
    InspectionTarget,
    InspectOnceWarning,
    JointLiaison,
    JointTask,
    OperationStatus,
    Plan,
    PlanComment,
    TaskStatus,
    check_liaison,
    check_plan,
)


@dataclass(frozen=True)
class JointOperation(RecordsTransitions):
    id: str
    title: str
    basis: InitiationBasis
    basis_reference: str  # the deployment document, the field's decision, or the request
    initiated_by: str
    initiator_agency_id: str | None
    requested_by_agency_id: str | None  # R-JNT-01: who asked the legal office
    lead_id: str
    cooperating_ids: tuple[str, ...]
    status: OperationStatus
    initiated_at: datetime
    plan: Plan | None = None
    liaisons: tuple[JointLiaison, ...] = ()
    comments: tuple[PlanComment, ...] = ()
    started_by: str | None = None
    started_at: datetime | None = None
    tasks: tuple[JointTask, ...] = ()
    history: tuple[Transition, ...] = ()
    version: int = 0

    def _lead_only(self, actor: Actor, what: str) -> None:
        if actor.agency_id is not None and actor.agency_id != self.lead_id:
            raise Forbidden(f"only the lead agency (牵头单位) {what}", code="LEAD_AGENCY_ONLY")

    def task(self, task_id: str) -> JointTask:
        for t in self.tasks:
            if t.id == task_id:
                return t
        raise NotFound(f"task {task_id!r} is not a task of this operation", field="taskId")

    def _put_task(self, task: JointTask) -> tuple[JointTask, ...]:
        return tuple(task if t.id == task.id else t for t in self.tasks)

    def missing_comments(self) -> tuple[str, ...]:
        """Cooperating agencies that have not commented on the current plan version."""
        version = self.plan.version if self.plan else 0
        done = {c.agency_id for c in self.comments if c.plan_version == version}
        return tuple(a for a in self.cooperating_ids if a not in done)

    def missing_liaisons(self) -> tuple[str, ...]:
        have = {(x.agency_id, x.role) for x in self.liaisons}
        missing = [] if (self.lead_id, "general") in have else [self.lead_id]
        return (*missing, *(a for a in self.cooperating_ids if (a, "daily") not in have))

    def submit_plan(
        self, plan: Plan, general_liaison: JointLiaison, *, actor: Actor, at: datetime
    ) -> JointOperation:
        """R-JNT-02 / R-JNT-03: the lead's plan (every section) and its general liaison. A
        revised plan (before the start) asks for fresh comments."""
        self._lead_only(actor, "writes the plan")
        if self.status is OperationStatus.IN_PROGRESS:
            raise InvalidState(
                "the operation has started; its plan is fixed", field="status", code="WRONG_STATUS"
            )
        checked = check_plan(plan)
        liaison = check_liaison(general_liaison, self.lead_id, "general", "generalLiaison")
        version = self.plan.version + 1 if self.plan else 1
        checked = replace(checked, version=version, submitted_by=actor.person_id, submitted_at=at)
        liaisons = (*(x for x in self.liaisons if x.role != "general"), liaison)
        return replace(
            self,
            status=OperationStatus.COMMENTING,
            plan=checked,
            liaisons=liaisons,
            history=self._record(
                "submit_plan", actor, at, OperationStatus.COMMENTING, f"方案第{version}稿"
            ),
        )

    def comment(
        self, text: str, daily_liaison: JointLiaison, *, actor: Actor, at: datetime
    ) -> JointOperation:
        """R-JNT-02 / R-JNT-03: a cooperating agency comments on the current plan and names
        its daily liaison."""
        agency = actor.agency_id
        if agency not in self.cooperating_ids:
            raise Forbidden(
                "only a cooperating agency (配合单位) comments on the plan",
                code="COOPERATING_AGENCY_ONLY",
            )
        if self.status is not OperationStatus.COMMENTING or self.plan is None:
            raise InvalidState(
                "there is no plan open for comments", field="status", code="WRONG_STATUS"
            )
        body = require_text(text, "write the comment (无意见 if there is none)", "comment")
        liaison = check_liaison(daily_liaison, agency, "daily", "dailyLiaison")
        comments = (
            *(c for c in self.comments if c.agency_id != agency),
            PlanComment(agency, self.plan.version, body, actor.person_id, at),
        )
        liaisons = (
            *(x for x in self.liaisons if not (x.agency_id == agency and x.role == "daily")),
            liaison,
        )
        return replace(
            self,
            comments=comments,
            liaisons=liaisons,
            history=self._record("comment", actor, at, self.status, body),
        )

    def start(self, *, actor: Actor, at: datetime) -> JointOperation:
        """R-JNT-02 / R-JNT-03: the lead starts once every cooperating agency has commented
        and every liaison is named."""
        self._lead_only(actor, "starts the operation")
        if self.status is not OperationStatus.COMMENTING:
            raise InvalidState(
                f"the operation is {self.status.value}; only a commented plan starts",
                field="status",
                code="WRONG_STATUS",
            )
        missing = self.missing_comments()
        if missing:
            raise InvalidState(
                "the plan cannot start before every cooperating agency has commented; "
                f"waiting for: {', '.join(missing)}",
                field="comments",
                code="COMMENTS_PENDING",
            )
        no_liaison = self.missing_liaisons()
        if no_liaison:
            raise InvalidState(
                f"liaisons missing for: {', '.join(no_liaison)}",
                field="liaisons",
                code="LIAISONS_MISSING",
            )
        return replace(
            self,
            status=OperationStatus.IN_PROGRESS,
            started_by=actor.person_id,
            started_at=at,
            history=self._record("start", actor, at, OperationStatus.IN_PROGRESS),
        )

    def assign_task(
        self,
        *,
        task_id: str,
        agency_id: str,
        description: str,
        deadline: date,
        report_clock: Clock,
        today: date,
        actor: Actor,
        at: datetime,
        targets: tuple[InspectionTarget, ...] = (),
        warnings: tuple[InspectOnceWarning, ...] = (),
    ) -> JointOperation:
        """R-JNT-04: a task with a deadline for a cooperating agency. R-JNT-05: the targets
        it plans to inspect, with the inspect-once warnings found for them before the plan
        is made (the application looks the earlier inspections up)."""
        self._lead_only(actor, "assigns tasks")
        if self.status is not OperationStatus.IN_PROGRESS:
            raise InvalidState(
                "tasks are assigned once the operation has started",
                field="status",
                code="WRONG_STATUS",
            )
        if agency_id not in self.cooperating_ids:
            raise ValidationFailed(
                f"{agency_id!r} is not a cooperating agency of this operation",
                field="agencyId",
                code="NOT_COOPERATING",
            )
        text = require_text(description, "describe the task", "description")
        if deadline < today:
            raise ValidationFailed(
                "the task's deadline cannot lie in the past", field="deadline", code="IN_THE_PAST"
            )
        task = JointTask(
            task_id,
            agency_id,
            text,
            deadline,
            TaskStatus.ASSIGNED,
            at,
            report_clock,
            targets=targets,
            inspect_once_warnings=warnings,
        )
        return replace(
            self,
            tasks=(*self.tasks, task),
            history=self._record("assign_task", actor, at, self.status, f"{agency_id}: {text}"),
        )

    def _own_task(self, task_id: str, actor: Actor) -> JointTask:
        task = self.task(task_id)
        if actor.agency_id is not None and actor.agency_id != task.agency_id:
            raise Forbidden(
                "only the agency the task was assigned to answers for it",
                code="NOT_ASSIGNED_AGENCY",
            )
        return task

    def report_task(
        self, task_id: str, summary: str, *, actor: Actor, at: datetime
    ) -> JointOperation:
        """R-JNT-04: the cooperating agency reports the task (late reports are kept, marked)."""
        task = self._own_task(task_id, actor)
        if task.status not in (TaskStatus.ASSIGNED, TaskStatus.INABILITY_REJECTED):
            raise InvalidState(
                f"the task is {task.status.value}", field="taskId", code="WRONG_STATUS"
            )
        text = require_text(summary, "describe what was done", "summary")
        done = replace(
            task,
            status=TaskStatus.REPORTED,
            report=text,
            reported_by=actor.person_id,
            reported_at=at,
            late=at > task.report_clock.due,
            report_clock=replace(task.report_clock, state="met"),
        )
        return replace(
            self,
            tasks=self._put_task(done),
            history=self._record("report_task", actor, at, self.status, f"{task_id}: {text}"),
        )

    def state_inability(
        self, task_id: str, reasons: str, *, decision_clock: Clock, actor: Actor, at: datetime
    ) -> JointOperation:
        """R-JNT-04: a written statement that the task cannot be done. It answers the report
        clock (the agency did answer in time or not) until the lead decides, on
        ``decision_clock`` (the lead's)."""
        task = self._own_task(task_id, actor)
        if task.status is not TaskStatus.ASSIGNED:
            raise InvalidState(
                f"the task is {task.status.value}", field="taskId", code="WRONG_STATUS"
            )
        text = require_text(reasons, "explain in writing why the task cannot be done", "reasons")
        stated = replace(
            task,
            status=TaskStatus.INABILITY_STATED,
            inability=Inability(text, actor.person_id, at),
            late=at > task.report_clock.due,
            report_clock=replace(task.report_clock, state="met"),
            decision_clock=decision_clock,
        )
        return replace(
            self,
            tasks=self._put_task(stated),
            history=self._record("state_inability", actor, at, self.status, f"{task_id}: {text}"),
        )

    def decide_inability(
        self,
        task_id: str,
        *,
        accept: bool,
        reason: str,
        government_id: str | None,
        actor: Actor,
        at: datetime,
        rejection_must_be_reported: bool = False,
    ) -> JointOperation:
        """R-JNT-04: the lead accepts or rejects the reason; a rejected reason may be reported
        to the government (``government_id``), and must be where the district says so (CQ)."""
        self._lead_only(actor, "decides on a written inability")
        task = self.task(task_id)
        if task.status is not TaskStatus.INABILITY_STATED or task.inability is None:
            raise InvalidState(
                "no written inability awaits a decision", field="taskId", code="WRONG_STATUS"
            )
        text = require_text(reason, "state why the reason is accepted or rejected", "reason")
        if accept and government_id is not None:
            raise ValidationFailed(
                "only a rejected reason is reported to the government",
                field="reportToGovernment",
                code="REPORT_ONLY_WHEN_REJECTED",
            )
        if not accept and government_id is None and rejection_must_be_reported:
            raise ValidationFailed(
                "this district requires a rejected reason to be reported to the government "
                "(CQ 三(二): 应当向市政府报告)",
                field="reportToGovernment",
                code="GOVERNMENT_REPORT_REQUIRED",
            )
        inability = replace(
            task.inability,
            accepted=accept,
            decision_reason=text,
            decided_by=actor.person_id,
            decided_at=at,
            reported_to_government_id=government_id,
        )
        status = TaskStatus.INABILITY_ACCEPTED if accept else TaskStatus.INABILITY_REJECTED
        # A rejected reason means the task is still owed: its report clock runs again.
        clock = task.report_clock if accept else replace(task.report_clock, state="open")
        decision = (
            replace(task.decision_clock, state="met") if task.decision_clock is not None else None
        )
        decided = replace(
            task, status=status, inability=inability, report_clock=clock, decision_clock=decision
        )
        note = f"{task_id}: {'接受' if accept else '不予认可'} {text}"
        if government_id:
            note += f"；报告{government_id}"
        return replace(
            self,
            tasks=self._put_task(decided),
            history=self._record("decide_inability", actor, at, self.status, note),
        )


def initiate(
    *,
    operation_id: str,
    title: str,
    basis: InitiationBasis,
    basis_reference: str,
    requested_by_agency_id: str | None,
    lead_id: str,
    cooperating_ids: tuple[str, ...],
    actor: Actor,
    at: datetime,
) -> JointOperation:
    """R-JNT-01: who initiates, on what basis; the lead and the cooperating agencies."""
    allowed = INITIATOR_ROLES[basis]
    if not any(actor.has_role(r) for r in allowed):
        raise Forbidden(
            f"a joint operation on basis {basis.value} is initiated by: {', '.join(allowed)}",
            code="AGENCY_KIND_NOT_ALLOWED",
        )
    name = require_text(title, "give the operation a title", "title")
    reference = require_text(
        basis_reference,
        "cite the basis: the deployment document, the government's decision or the request",
        "basisReference",
    )
    requester = (requested_by_agency_id or "").strip() or None
    if basis is InitiationBasis.LEGAL_OFFICE_REQUEST and requester is None:
        raise ValidationFailed(
            "the legal office initiates on request: name the requesting agency",
            field="requestedByAgencyId",
            code="REQUIRED",
        )
    if basis is not InitiationBasis.LEGAL_OFFICE_REQUEST and requester is not None:
        raise ValidationFailed(
            "only an initiation on request names a requesting agency",
            field="requestedByAgencyId",
            code="NOT_APPLICABLE",
        )
    cooperating = tuple(dict.fromkeys(c.strip() for c in cooperating_ids if c.strip()))
    if not cooperating:
        raise ValidationFailed(
            "name the cooperating agencies (配合单位)", field="cooperatingIds", code="REQUIRED"
        )
    if lead_id in cooperating:
        raise ValidationFailed(
            "the lead agency cannot also be a cooperating agency",
            field="cooperatingIds",
            code="LEAD_ALSO_COOPERATING",
        )
    return JointOperation(
        id=operation_id,
        title=name,
        basis=basis,
        basis_reference=reference,
        initiated_by=actor.person_id,
        initiator_agency_id=actor.agency_id,
        requested_by_agency_id=requester,
        lead_id=lead_id,
        cooperating_ids=cooperating,
        status=OperationStatus.PLANNING,
        initiated_at=at,
        history=(
            Transition(
                "initiate",
                actor.person_id,
                actor.agency_id,
                at,
                None,
                OperationStatus.PLANNING.value,
                f"{basis.value}: {reference}",
            ),
        ),
    )
