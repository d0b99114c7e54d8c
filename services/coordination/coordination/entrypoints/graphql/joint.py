"""Joint enforcement in the graph (联合执法, R-JNT-01…04): operations, plans, comments,
tasks and written inability; the inspections of R-JNT-05 are in joint_inspections.py.
Mutations return ``Result | UserError``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import strawberry

from coordination.application import access
from coordination.application.access import own_scope
from coordination.application.actors import acting
from coordination.application.joint import (
    AssignJointTask,
    CommentOnJointPlan,
    DecideJointTaskInability,
    InitiateJointOperation,
    LiaisonInput,
    ReportJointTask,
    StartJointOperation,
    StateJointTaskInability,
    SubmitJointPlan,
)
from coordination.domain import joint as jnt
from coordination.entrypoints.graphql.joint_inspections import (
    JointInspection,
    JointInspectionTargetInput,
    JointInspectOnceWarning,
)
from coordination.entrypoints.graphql.types import (
    Agency,
    CooperationDeadline,
    CooperationTransition,
    Info,
    as_result,
    connection,
    load_agency,
)
from kernel.graphql import Connection, UserError, page_size

READ = "jointOperation"  # the matrix's read rule (kernel.authz)

strawberry.enum(
    jnt.InitiationBasis,
    name="JointInitiationBasis",
    description="R-JNT-01: higher_authority (上级部署), prominent_violations (政府针对违法行为"
    "突出领域), legal_office_request (法制机构应申请)",
)
strawberry.enum(jnt.OperationStatus, name="JointOperationStatus")
strawberry.enum(jnt.TaskStatus, name="JointTaskStatus")
JointInitiationBasis = jnt.InitiationBasis
JointOperationStatus = jnt.OperationStatus
JointTaskStatus = jnt.TaskStatus


@strawberry.type(description="The lead's plan (联合执法方案), R-JNT-02.")
class JointPlan:
    legal_basis: str
    goal: str
    scope: str
    field: str
    division_of_duties: str
    steps: str
    joint_method: str
    safeguards: str
    version: int
    submitted_by: str
    submitted_at: datetime | None


@strawberry.type(description="R-JNT-03: general (牵头) or daily (配合) liaison.")
class JointLiaison:
    agency_id: strawberry.ID
    role: str = strawberry.field(description="general | daily")
    name: str
    phone: str


@strawberry.type(description="A cooperating agency's comment on a plan version (R-JNT-02).")
class JointPlanComment:
    agency_id: strawberry.ID
    plan_version: int
    text: str
    commented_by: str
    at: datetime


@strawberry.type(description="A written statement that a task cannot be done (R-JNT-04).")
class JointInability:
    reasons: str
    stated_by: str
    stated_at: datetime
    accepted: bool | None = strawberry.field(description="null while the lead has not decided")
    decision_reason: str
    decided_by: str | None
    decided_at: datetime | None
    reported_to_government_id: strawberry.ID | None


@strawberry.federation.type(keys=["id"], description="A task of a cooperating agency (R-JNT-04).")
class JointTask:
    id: strawberry.ID
    operation_id: strawberry.ID
    agency_id: strawberry.ID
    description: str
    deadline: date
    status: JointTaskStatus
    assigned_at: datetime
    report: str
    reported_at: datetime | None
    late: bool = strawberry.field(description="answered after the report clock ran out")
    inability: JointInability | None
    report_deadline: CooperationDeadline
    decision_deadline: CooperationDeadline | None = strawberry.field(
        default=None,
        description="R-JNT-04: the lead's clock to accept or reject a written inability (a "
        "policy default limit); null before an inability is stated",
    )
    planned_targets: list[str] = strawberry.field(
        default_factory=list,
        description="R-JNT-05: the targets the task plans to inspect (licence number, or name"
        "@address)",
    )
    inspect_once_warnings: list[JointInspectOnceWarning] = strawberry.field(
        default_factory=list,
        description="R-JNT-05: planned targets another agency inspected within the window, "
        "warned before the inspection (综合查一次)",
    )

    @strawberry.field
    async def agency(self, info: Info) -> Agency | None:
        return await load_agency(info, str(self.agency_id))

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> JointTask | None:
        """A reference from another subgraph (a task's report clock in notify's work queue),
        read-checked as its operation is (``jointOperation``): null when not the caller's."""
        actor = acting(info.context.caller())
        o = await info.context.joint.operations.with_task(str(id))
        if o is None or not access.may(actor, READ, access.joint_relations(actor, o)):
            return None
        return cls.of(o.id, o.task(str(id)), info)

    @classmethod
    def of(cls, op_id: str, t: jnt.JointTask, info: Info) -> JointTask:
        i = t.inability
        return cls(
            id=strawberry.ID(t.id),
            operation_id=strawberry.ID(op_id),
            agency_id=strawberry.ID(t.agency_id),
            description=t.description,
            deadline=t.deadline,
            status=t.status,
            assigned_at=t.assigned_at,
            report=t.report,
            reported_at=t.reported_at,
            late=t.late,
            inability=JointInability(
                reasons=i.reasons,
                stated_by=i.stated_by,
                stated_at=i.stated_at,
                accepted=i.accepted,
                decision_reason=i.decision_reason,
                decided_by=i.decided_by,
                decided_at=i.decided_at,
                reported_to_government_id=strawberry.ID(i.reported_to_government_id)
                if i.reported_to_government_id
                else None,
            )
            if i
            else None,
            report_deadline=CooperationDeadline.of(t.report_clock, info),
            decision_deadline=CooperationDeadline.of(t.decision_clock, info)
            if t.decision_clock
            else None,
            planned_targets=[x.key().split(":", 1)[1] for x in t.targets],
            inspect_once_warnings=[JointInspectOnceWarning.of(w) for w in t.inspect_once_warnings],
        )


@strawberry.type(description="A joint enforcement operation (联合执法), R-JNT-01…04.")
class JointOperation:
    id: strawberry.ID
    title: str
    basis: JointInitiationBasis
    basis_reference: str
    initiated_by: str
    initiator_agency_id: strawberry.ID | None
    requested_by_agency_id: strawberry.ID | None
    lead_id: strawberry.ID
    cooperating_ids: list[strawberry.ID]
    status: JointOperationStatus
    initiated_at: datetime
    plan: JointPlan | None
    liaisons: list[JointLiaison]
    comments: list[JointPlanComment]
    awaiting_comments_from: list[strawberry.ID] = strawberry.field(
        description="cooperating agencies yet to comment on the current plan (R-JNT-02)"
    )
    started_at: datetime | None
    tasks: list[JointTask]
    history: list[CooperationTransition]

    @strawberry.field
    async def lead(self, info: Info) -> Agency | None:
        return await load_agency(info, str(self.lead_id))

    @strawberry.field(description="Inspections recorded for this operation's tasks (R-JNT-05).")
    async def inspections(self, info: Info) -> list[JointInspection]:
        rows = await info.context.joint.inspections.of_operation(str(self.id))
        return [JointInspection.of(i) for i in rows]

    @classmethod
    def of(cls, o: jnt.JointOperation, info: Info) -> JointOperation:
        p = o.plan
        return cls(
            id=strawberry.ID(o.id),
            title=o.title,
            basis=o.basis,
            basis_reference=o.basis_reference,
            initiated_by=o.initiated_by,
            initiator_agency_id=strawberry.ID(o.initiator_agency_id)
            if o.initiator_agency_id
            else None,
            requested_by_agency_id=strawberry.ID(o.requested_by_agency_id)
            if o.requested_by_agency_id
            else None,
            lead_id=strawberry.ID(o.lead_id),
            cooperating_ids=[strawberry.ID(c) for c in o.cooperating_ids],
            status=o.status,
            initiated_at=o.initiated_at,
            plan=JointPlan(
                legal_basis=p.legal_basis,
                goal=p.goal,
                scope=p.scope,
                field=p.field,
                division_of_duties=p.division_of_duties,
                steps=p.steps,
                joint_method=p.joint_method,
                safeguards=p.safeguards,
                version=p.version,
                submitted_by=p.submitted_by,
                submitted_at=p.submitted_at,
            )
            if p
            else None,
            liaisons=[
                JointLiaison(
                    agency_id=strawberry.ID(x.agency_id), role=x.role, name=x.name, phone=x.phone
                )
                for x in o.liaisons
            ],
            comments=[
                JointPlanComment(
                    agency_id=strawberry.ID(c.agency_id),
                    plan_version=c.plan_version,
                    text=c.text,
                    commented_by=c.commented_by,
                    at=c.at,
                )
                for c in o.comments
            ],
            awaiting_comments_from=[strawberry.ID(a) for a in o.missing_comments()]
            if o.plan
            else [],
            started_at=o.started_at,
            tasks=[JointTask.of(o.id, t, info) for t in o.tasks],
            history=[CooperationTransition.of(t) for t in o.history],
        )


JointOperationResult = Annotated[
    JointOperation | UserError,
    strawberry.union(
        "JointOperationResult",
        description="What the mutation answers: the JointOperation as it is now, or the "
        "UserError that refused it (nothing was changed).",
    ),
]


@strawberry.input
class InitiateJointOperationInput:
    title: str
    basis: JointInitiationBasis
    basis_reference: str = strawberry.field(description="部署文件 / 政府决定 / 申请 文号")
    lead_id: strawberry.ID
    cooperating_ids: list[strawberry.ID]
    requested_by_agency_id: strawberry.ID | None = strawberry.field(
        default=None, description="legal_office_request only: the agency that asked"
    )


@strawberry.input
class JointPlanInput:
    legal_basis: str = ""
    goal: str = ""
    scope: str = ""
    field: str = ""
    division_of_duties: str = ""
    steps: str = ""
    joint_method: str = ""
    safeguards: str = ""


@strawberry.input
class JointLiaisonInput:
    name: str
    phone: str


@strawberry.input
class SubmitJointPlanInput:
    operation_id: strawberry.ID
    plan: JointPlanInput
    general_liaison: JointLiaisonInput


@strawberry.input
class AssignJointTaskInput:
    operation_id: strawberry.ID
    agency_id: strawberry.ID
    description: str
    deadline: date
    targets: list[JointInspectionTargetInput] = strawberry.field(
        default_factory=list,
        description="R-JNT-05: targets the task plans to inspect; warned about before it",
    )


@strawberry.type
class JointQuery:
    @strawberry.field(
        description="One joint operation by id (null when absent or not yours to see: the lead, "
        "the cooperating agencies and the supervising roles see it)."
    )
    async def joint_operation(self, info: Info, id: strawberry.ID) -> JointOperation | None:
        actor = acting(info.context.caller())
        o = await info.context.joint.operations.get(str(id))
        # Absent and not yours to see read the same (the matrix, coordination.jointOperation).
        if o is None or not access.may(actor, READ, access.joint_relations(actor, o)):
            return None
        return JointOperation.of(o, info)

    @strawberry.field(
        description="Joint operations, filtered, cursor-paginated by id; only those your agency "
        "leads or cooperates in unless your role supervises."
    )
    async def joint_operations(
        self,
        info: Info,
        agency_id: strawberry.ID | None = None,
        status: JointOperationStatus | None = None,
        basis: JointInitiationBasis | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> Connection[JointOperation]:
        actor = acting(info.context.caller())
        first = page_size(first)
        operations = info.context.joint.operations
        where = {
            "party_id": own_scope(actor, READ),
            "agency_id": str(agency_id) if agency_id else None,
            "status": status.value if status else None,
            "basis": basis.value if basis else None,
        }
        rows = await operations.list(**where, after=after, limit=first + 1)
        return connection(
            rows,
            first,
            cursor=lambda o: o.id,
            node=lambda o: JointOperation.of(o, info),
            after=after,
            count=lambda: operations.count(**where),
        )

    @strawberry.field(
        description="Tasks assigned to an agency across the joint operations you may see."
    )
    async def joint_tasks(
        self, info: Info, agency_id: strawberry.ID, status: JointTaskStatus | None = None
    ) -> list[JointTask]:
        actor = acting(info.context.caller())
        ops = await info.context.joint.operations.with_tasks_of(str(agency_id))
        return [
            JointTask.of(o.id, t, info)
            for o in ops
            if access.may(actor, READ, access.joint_relations(actor, o))
            for t in o.tasks
            if t.agency_id == str(agency_id) and (status is None or t.status is status)
        ]


@strawberry.type
class JointMutation:
    @strawberry.mutation(description="R-JNT-01: initiate a joint operation on a basis.")
    async def initiate_joint_operation(
        self, info: Info, input: InitiateJointOperationInput
    ) -> JointOperationResult:
        caller = info.context.caller()
        cmd = InitiateJointOperation(
            title=input.title,
            basis=input.basis.value,
            basis_reference=input.basis_reference,
            lead_id=str(input.lead_id),
            cooperating_ids=tuple(str(c) for c in input.cooperating_ids),
            requested_by_agency_id=str(input.requested_by_agency_id)
            if input.requested_by_agency_id
            else None,
        )
        return await as_result(
            info.context.joint.initiate(cmd, caller),
            lambda o: JointOperation.of(o, info),
        )

    @strawberry.mutation(description="R-JNT-02/03: the lead's plan and its general liaison.")
    async def submit_joint_plan(
        self, info: Info, input: SubmitJointPlanInput
    ) -> JointOperationResult:
        caller = info.context.caller()
        x = input.plan
        cmd = SubmitJointPlan(
            operation_id=str(input.operation_id),
            plan=jnt.Plan(
                legal_basis=x.legal_basis,
                goal=x.goal,
                scope=x.scope,
                field=x.field,
                division_of_duties=x.division_of_duties,
                steps=x.steps,
                joint_method=x.joint_method,
                safeguards=x.safeguards,
            ),
            general_liaison=LiaisonInput(input.general_liaison.name, input.general_liaison.phone),
        )
        return await as_result(
            info.context.joint.submit_plan(cmd, caller),
            lambda o: JointOperation.of(o, info),
        )

    @strawberry.mutation(
        description="R-JNT-02/03: a cooperating agency comments and names its daily liaison."
    )
    async def comment_on_joint_plan(
        self,
        info: Info,
        operation_id: strawberry.ID,
        comment: str,
        daily_liaison: JointLiaisonInput,
    ) -> JointOperationResult:
        caller = info.context.caller()
        return await as_result(
            info.context.joint.comment(
                CommentOnJointPlan(
                    str(operation_id),
                    comment,
                    LiaisonInput(daily_liaison.name, daily_liaison.phone),
                ),
                caller,
            ),
            lambda o: JointOperation.of(o, info),
        )

    @strawberry.mutation(description="R-JNT-02: start once every cooperating agency commented.")
    async def start_joint_operation(
        self, info: Info, operation_id: strawberry.ID
    ) -> JointOperationResult:
        caller = info.context.caller()
        return await as_result(
            info.context.joint.start(StartJointOperation(str(operation_id)), caller),
            lambda o: JointOperation.of(o, info),
        )

    @strawberry.mutation(description="R-JNT-04: a task with a deadline for a cooperating agency.")
    async def assign_joint_task(
        self, info: Info, input: AssignJointTaskInput
    ) -> JointOperationResult:
        caller = info.context.caller()
        cmd = AssignJointTask(
            operation_id=str(input.operation_id),
            agency_id=str(input.agency_id),
            description=input.description,
            deadline=input.deadline,
            targets=tuple(
                jnt.InspectionTarget(t.licence_number, t.name, t.address) for t in input.targets
            ),
        )
        return await as_result(
            info.context.joint.assign_task(cmd, caller),
            lambda o: JointOperation.of(o, info),
        )

    @strawberry.mutation(description="R-JNT-04: the cooperating agency reports its task.")
    async def report_joint_task(
        self, info: Info, operation_id: strawberry.ID, task_id: strawberry.ID, summary: str
    ) -> JointOperationResult:
        caller = info.context.caller()
        return await as_result(
            info.context.joint.report_task(
                ReportJointTask(str(operation_id), str(task_id), summary), caller
            ),
            lambda o: JointOperation.of(o, info),
        )

    @strawberry.mutation(description="R-JNT-04: explain in writing why a task cannot be done.")
    async def state_joint_task_inability(
        self, info: Info, operation_id: strawberry.ID, task_id: strawberry.ID, reasons: str
    ) -> JointOperationResult:
        caller = info.context.caller()
        return await as_result(
            info.context.joint.state_inability(
                StateJointTaskInability(str(operation_id), str(task_id), reasons), caller
            ),
            lambda o: JointOperation.of(o, info),
        )

    @strawberry.mutation(
        description="R-JNT-04: the lead accepts or rejects the reason; a rejected one may be "
        "reported to the government."
    )
    async def decide_joint_task_inability(
        self,
        info: Info,
        operation_id: strawberry.ID,
        task_id: strawberry.ID,
        accept: bool,
        reason: str,
        report_to_government: bool = False,
    ) -> JointOperationResult:
        caller = info.context.caller()
        return await as_result(
            info.context.joint.decide_inability(
                DecideJointTaskInability(
                    str(operation_id),
                    str(task_id),
                    accept=accept,
                    reason=reason,
                    report_to_government=report_to_government,
                ),
                caller,
            ),
            lambda o: JointOperation.of(o, info),
        )
