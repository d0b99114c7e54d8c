"""Joint enforcement (联合执法, R-JNT-01…05; CQ 三(二), HC #5).

A joint operation (联合执法行动) is initiated (发起) by a higher authority, by the government
for a field with prominent violations, or by the legal office (coordination body / justice
bureau) on request (R-JNT-01). The lead agency (牵头单位) writes the plan (执法方案) with its
required sections; the cooperating agencies (配合单位) comment on it and name their daily
liaison (日常联络员) before it starts (R-JNT-02, R-JNT-03). The lead assigns tasks with
deadlines; a cooperating agency reports each within the district's limit after the deadline,
or explains in writing why it cannot (书面说明); the lead accepts or rejects the reason and may
report a rejected one to the government (R-JNT-04). An inspection of a target (检查对象) warns
when another agency inspected the same target within the district's window (综合查一次,
R-JNT-05).

Decision on comments (R-JNT-02): the plan starts only when EVERY cooperating agency has
commented on its current version — there is no deadline after which silence counts as
consent. No seed document or district policy gives a comment period, and the rule says the
cooperating agencies comment *before* it starts; an agency with nothing to add comments
"无意见". A revised plan needs fresh comments.

Pure Python: no I/O. Clocks are computed by the application layer and handed in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from coordination.domain.cooperation import Actor, Clock, Transition, require_text
from coordination.domain.errors import Forbidden, InvalidState, NotFound, ValidationFailed
from coordination.domain.model import check_phone

TASK_REPORT = "joint.task_report"


class InitiationBasis(StrEnum):
    """R-JNT-01: on what basis a joint operation is initiated."""

    HIGHER_AUTHORITY = "higher_authority"  # 上级机关部署
    PROMINENT_VIOLATIONS = "prominent_violations"  # 政府针对违法行为突出的领域
    LEGAL_OFFICE_REQUEST = "legal_office_request"  # 法制机构（协调机构/司法局）应申请


INITIATOR_ROLES: dict[InitiationBasis, tuple[str, ...]] = {
    # A higher authority's deployment is given by its leadership (or the government).
    InitiationBasis.HIGHER_AUTHORITY: ("leader", "government"),
    InitiationBasis.PROMINENT_VIOLATIONS: ("government",),
    InitiationBasis.LEGAL_OFFICE_REQUEST: ("coordinator", "legal_reviewer"),
}


class OperationStatus(StrEnum):
    PLANNING = "planning"  # initiated; the lead writes the plan
    COMMENTING = "commenting"  # plan submitted; cooperating agencies comment
    IN_PROGRESS = "in_progress"  # started; tasks are assigned and reported


class TaskStatus(StrEnum):
    ASSIGNED = "assigned"
    REPORTED = "reported"
    INABILITY_STATED = "inability_stated"  # 书面说明无法完成，待牵头单位认定
    INABILITY_ACCEPTED = "inability_accepted"
    INABILITY_REJECTED = "inability_rejected"  # the agency still owes the task


# (attribute, GraphQL field name, Chinese name) of the plan's required sections (R-JNT-02).
PLAN_SECTIONS: tuple[tuple[str, str, str], ...] = (
    ("legal_basis", "legalBasis", "法律依据"),
    ("goal", "goal", "执法目标"),
    ("scope", "scope", "执法范围"),
    ("field", "field", "执法领域"),
    ("division_of_duties", "divisionOfDuties", "职责分工"),
    ("steps", "steps", "实施步骤"),
    ("joint_method", "jointMethod", "联合方式"),
    ("safeguards", "safeguards", "保障措施"),
)


@dataclass(frozen=True)
class Plan:
    """The lead's plan (联合执法方案), every section non-empty."""

    legal_basis: str
    goal: str
    scope: str
    field: str
    division_of_duties: str
    steps: str
    joint_method: str
    safeguards: str
    version: int = 1
    submitted_by: str = ""
    submitted_at: datetime | None = None


@dataclass(frozen=True)
class JointLiaison:
    """R-JNT-03: the lead's general liaison (总联络员) or a cooperating agency's daily
    liaison (日常联络员)."""

    agency_id: str
    role: str  # general | daily
    name: str
    phone: str


@dataclass(frozen=True)
class PlanComment:
    agency_id: str
    plan_version: int
    text: str
    commented_by: str
    at: datetime


@dataclass(frozen=True)
class Inability:
    """A written statement that a task cannot be done (书面说明), and the lead's decision."""

    reasons: str
    stated_by: str
    stated_at: datetime
    accepted: bool | None = None  # None while undecided
    decision_reason: str = ""
    decided_by: str | None = None
    decided_at: datetime | None = None
    reported_to_government_id: str | None = None


@dataclass(frozen=True)
class JointTask:
    id: str
    agency_id: str
    description: str
    deadline: date
    status: TaskStatus
    assigned_at: datetime
    report_clock: Clock
    report: str = ""
    reported_by: str | None = None
    reported_at: datetime | None = None
    late: bool = False  # reported after the report clock ran out (kept for supervision)
    inability: Inability | None = None


@dataclass(frozen=True)
class JointOperation:
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

    def _record(
        self, action: str, actor: Actor, at: datetime, after: OperationStatus, note: str = ""
    ) -> tuple[Transition, ...]:
        t = Transition(
            action, actor.person_id, actor.agency_id, at, self.status.value, after.value, note
        )
        return (*self.history, t)

    def _lead_only(self, actor: Actor, what: str) -> None:
        if actor.agency_id is not None and actor.agency_id != self.lead_id:
            raise Forbidden(f"only the lead agency (牵头单位) {what}")

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
            raise InvalidState("the operation has started; its plan is fixed", field="status")
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
            raise Forbidden("only a cooperating agency (配合单位) comments on the plan")
        if self.status is not OperationStatus.COMMENTING or self.plan is None:
            raise InvalidState("there is no plan open for comments", field="status")
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
            )
        missing = self.missing_comments()
        if missing:
            raise InvalidState(
                "the plan cannot start before every cooperating agency has commented; "
                f"waiting for: {', '.join(missing)}",
                field="comments",
            )
        no_liaison = self.missing_liaisons()
        if no_liaison:
            raise InvalidState(f"liaisons missing for: {', '.join(no_liaison)}", field="liaisons")
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
    ) -> JointOperation:
        """R-JNT-04: a task with a deadline for a cooperating agency."""
        self._lead_only(actor, "assigns tasks")
        if self.status is not OperationStatus.IN_PROGRESS:
            raise InvalidState("tasks are assigned once the operation has started", field="status")
        if agency_id not in self.cooperating_ids:
            raise ValidationFailed(
                f"{agency_id!r} is not a cooperating agency of this operation", field="agencyId"
            )
        text = require_text(description, "describe the task", "description")
        if deadline < today:
            raise ValidationFailed("the task's deadline cannot lie in the past", field="deadline")
        task = JointTask(task_id, agency_id, text, deadline, TaskStatus.ASSIGNED, at, report_clock)
        return replace(
            self,
            tasks=(*self.tasks, task),
            history=self._record("assign_task", actor, at, self.status, f"{agency_id}: {text}"),
        )

    def _own_task(self, task_id: str, actor: Actor) -> JointTask:
        task = self.task(task_id)
        if actor.agency_id is not None and actor.agency_id != task.agency_id:
            raise Forbidden("only the agency the task was assigned to answers for it")
        return task

    def report_task(
        self, task_id: str, summary: str, *, actor: Actor, at: datetime
    ) -> JointOperation:
        """R-JNT-04: the cooperating agency reports the task (late reports are kept, marked)."""
        task = self._own_task(task_id, actor)
        if task.status not in (TaskStatus.ASSIGNED, TaskStatus.INABILITY_REJECTED):
            raise InvalidState(f"the task is {task.status.value}", field="taskId")
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
        self, task_id: str, reasons: str, *, actor: Actor, at: datetime
    ) -> JointOperation:
        """R-JNT-04: a written statement that the task cannot be done. It answers the report
        clock (the agency did answer in time or not) until the lead decides."""
        task = self._own_task(task_id, actor)
        if task.status is not TaskStatus.ASSIGNED:
            raise InvalidState(f"the task is {task.status.value}", field="taskId")
        text = require_text(reasons, "explain in writing why the task cannot be done", "reasons")
        stated = replace(
            task,
            status=TaskStatus.INABILITY_STATED,
            inability=Inability(text, actor.person_id, at),
            late=at > task.report_clock.due,
            report_clock=replace(task.report_clock, state="met"),
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
            raise InvalidState("no written inability awaits a decision", field="taskId")
        text = require_text(reason, "state why the reason is accepted or rejected", "reason")
        if accept and government_id is not None:
            raise ValidationFailed(
                "only a rejected reason is reported to the government", field="reportToGovernment"
            )
        if not accept and government_id is None and rejection_must_be_reported:
            raise ValidationFailed(
                "this district requires a rejected reason to be reported to the government "
                "(CQ 三(二): 应当向市政府报告)",
                field="reportToGovernment",
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
        decided = replace(task, status=status, inability=inability, report_clock=clock)
        note = f"{task_id}: {'接受' if accept else '不予认可'} {text}"
        if government_id:
            note += f"；报告{government_id}"
        return replace(
            self,
            tasks=self._put_task(decided),
            history=self._record("decide_inability", actor, at, self.status, note),
        )


def check_plan(plan: Plan) -> Plan:
    """R-JNT-02: every required section non-empty (the first missing one is named)."""
    values: dict[str, Any] = {}
    for attr, gql, zh in PLAN_SECTIONS:
        values[attr] = require_text(
            getattr(plan, attr), f"the plan's section {zh} ({gql}) is required", f"plan.{gql}"
        )
    return replace(plan, **values)


def check_liaison(liaison: JointLiaison, agency_id: str, role: str, field: str) -> JointLiaison:
    """R-JNT-03: name and a phone number that can be dialled."""
    name = require_text(liaison.name, "the liaison's name is required", f"{field}.name")
    phone = require_text(liaison.phone, "the liaison's phone is required", f"{field}.phone")
    return JointLiaison(agency_id, role, name, check_phone(phone, f"{field}.phone"))


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
            f"a joint operation on basis {basis.value} is initiated by: {', '.join(allowed)}"
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
        )
    if basis is not InitiationBasis.LEGAL_OFFICE_REQUEST and requester is not None:
        raise ValidationFailed(
            "only an initiation on request names a requesting agency",
            field="requestedByAgencyId",
        )
    cooperating = tuple(dict.fromkeys(c.strip() for c in cooperating_ids if c.strip()))
    if not cooperating:
        raise ValidationFailed("name the cooperating agencies (配合单位)", field="cooperatingIds")
    if lead_id in cooperating:
        raise ValidationFailed(
            "the lead agency cannot also be a cooperating agency", field="cooperatingIds"
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


# --------------------------------------------------------------------------- inspect once


@dataclass(frozen=True)
class InspectionTarget:
    """A party inspected (检查对象): its business licence number (统一社会信用代码 / 营业执照
    号), or its name and address when it has none."""

    licence_number: str = ""
    name: str = ""
    address: str = ""

    def key(self) -> str:
        """The identity used to find earlier inspections of the same target."""
        licence = re.sub(r"\s+", "", self.licence_number).upper()
        if licence:
            return f"licence:{licence}"
        name = require_text(
            self.name,
            "identify the target: a licence number, or name and address",
            "target.name",
        )
        address = require_text(
            self.address,
            "a target without a licence number needs its address",
            "target.address",
        )
        return "name:" + re.sub(r"\s+", "", name) + "@" + re.sub(r"\s+", "", address)


@dataclass(frozen=True)
class InspectOnceWarning:
    """R-JNT-05: the same target was inspected by another agency within the window."""

    previous_inspection_id: str
    previous_agency_id: str
    previous_operation_id: str
    previous_inspected_at: datetime
    window_days: int
    message_zh: str


@dataclass(frozen=True)
class Inspection:
    id: str
    operation_id: str
    task_id: str
    agency_id: str
    target_key: str
    target: InspectionTarget
    findings: str
    inspected_by: str
    inspected_at: datetime
    warning: InspectOnceWarning | None = None


def inspect_once_warning(
    target_key: str,
    agency_id: str,
    earlier: list[Inspection],
    *,
    at: datetime,
    window_days: int,
) -> InspectOnceWarning | None:
    """R-JNT-05: the most recent inspection of ``target_key`` by ANOTHER agency within
    ``window_days`` calendar days before ``at`` (the agency's own repeat visits are its own
    business, not a duplicate inspection)."""
    since = at - timedelta(days=window_days)
    others = [
        i
        for i in earlier
        if i.target_key == target_key and i.agency_id != agency_id and since <= i.inspected_at <= at
    ]
    if not others:
        return None
    last = max(others, key=lambda i: i.inspected_at)
    return InspectOnceWarning(
        previous_inspection_id=last.id,
        previous_agency_id=last.agency_id,
        previous_operation_id=last.operation_id,
        previous_inspected_at=last.inspected_at,
        window_days=window_days,
        message_zh=(
            f"综合查一次：该检查对象已于{last.inspected_at.date().isoformat()}由{last.agency_id}"
            f"检查，{window_days}日内请勿重复检查，可共享检查结果"
        ),
    )


def record_inspection(
    operation: JointOperation,
    *,
    inspection_id: str,
    task_id: str,
    target: InspectionTarget,
    findings: str,
    earlier: list[Inspection],
    window_days: int,
    actor: Actor,
    at: datetime,
) -> Inspection:
    """R-JNT-05: an inspection done for a task, with the inspect-once warning if any. The
    inspection is recorded even with a warning: it has happened; the warning is the record
    that it should not have been separate."""
    if operation.status is not OperationStatus.IN_PROGRESS:
        raise InvalidState("inspections are recorded on a started operation", field="status")
    task = operation.task(task_id)
    if actor.agency_id is not None and actor.agency_id != task.agency_id:
        raise Forbidden("only the agency the task was assigned to records its inspections")
    key = target.key()
    text = require_text(findings, "record what the inspection found", "findings")
    warning = inspect_once_warning(key, task.agency_id, earlier, at=at, window_days=window_days)
    return Inspection(
        id=inspection_id,
        operation_id=operation.id,
        task_id=task_id,
        agency_id=task.agency_id,
        target_key=key,
        target=InspectionTarget(
            target.licence_number.strip(), target.name.strip(), target.address.strip()
        ),
        findings=text,
        inspected_by=actor.person_id,
        inspected_at=at,
        warning=warning,
    )
