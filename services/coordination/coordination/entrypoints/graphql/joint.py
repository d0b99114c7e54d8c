"""Joint enforcement in the graph (联合执法, R-JNT-01…04): operations, plans, comments,
tasks and written inability, and their reads; the actions are in joint_mutations.py, the
inspections of R-JNT-05 in joint_inspections.py."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import strawberry

from coordination.application import access
from coordination.application.access import own_scope
from coordination.application.actors import acting
from coordination.domain import joint as jnt
from coordination.entrypoints.graphql.joint_inspections import (
    JointInspection,
    JointInspectOnceWarning,
)
from coordination.entrypoints.graphql.types import (
    CooperationDeadline,
    CooperationTransition,
    Info,
    agency_field,
    connection,
)
from kernel.graphql import (
    AfterArg,
    Connection,
    FirstArg,
    expose_enum,
    iso_day,
    page_size,
    replaced_by,
)

READ = "jointOperation"  # the matrix's read rule (kernel.authz)

expose_enum(
    jnt.InitiationBasis,
    "JointInitiationBasis",
    "R-JNT-01: higher_authority (上级部署), prominent_violations (政府针对违法行为"
    "突出领域), legal_office_request (法制机构应申请)",
    {
        "higher_authority": "上级机关部署: deployed by a higher authority (its leader or the "
        "government initiates)",
        "prominent_violations": "政府针对违法行为突出的领域: the government initiates it for a "
        "field with prominent violations",
        "legal_office_request": "法制机构应申请: the legal office (coordination body or justice "
        "bureau) initiates it at an agency's request (`requestedByAgencyId`)",
    },
)
expose_enum(
    jnt.OperationStatus,
    "JointOperationStatus",
    "Where a joint operation (联合执法) stands: planning → commenting → in progress (R-JNT-02).",
    {
        "planning": "initiated; the lead (牵头单位) writes the plan",
        "commenting": "the plan is submitted; the cooperating agencies (配合单位) comment on it",
        "in_progress": "started; tasks are assigned and reported (R-JNT-04)",
    },
)
expose_enum(
    jnt.TaskStatus,
    "JointTaskStatus",
    "Where a cooperating agency's joint task stands (R-JNT-04).",
    {
        "assigned": "assigned with a deadline; the agency owes its report",
        "reported": "the agency reported it (see `report`, `late`)",
        "inability_stated": "书面说明: the agency stated in writing why it cannot do it; the "
        "lead decides",
        "inability_accepted": "the lead accepted the reason; nothing more is owed",
        "inability_rejected": "the lead rejected the reason; the agency still owes the task "
        "(the rejection may be reported to the government)",
    },
)
JointInitiationBasis = jnt.InitiationBasis
JointOperationStatus = jnt.OperationStatus
JointTaskStatus = jnt.TaskStatus


# R-JNT-02: each section of the plan, described once for the plan and for its input.
_PLAN_GLOSS = {
    "legal_basis": "the laws the operation rests on",
    "goal": "what the operation is to achieve",
    "scope": "the places and parties it covers",
    "field": "the enforcement field",
    "division_of_duties": "who does what among the lead and cooperating agencies",
    "steps": "the steps and their dates",
    "joint_method": "how the agencies work together (joint inspection, ...)",
    "safeguards": "staff, vehicles, funds and so on",
}
PLAN_SECTION = {attr: f"{zh}: {_PLAN_GLOSS[attr]}" for attr, _, zh in jnt.PLAN_SECTIONS}


@strawberry.type(description="The lead's plan (联合执法方案), R-JNT-02.")
class JointPlan:
    legal_basis: str = strawberry.field(description=PLAN_SECTION["legal_basis"])
    goal: str = strawberry.field(description=PLAN_SECTION["goal"])
    scope: str = strawberry.field(description=PLAN_SECTION["scope"])
    field: str = strawberry.field(description=PLAN_SECTION["field"])
    division_of_duties: str = strawberry.field(description=PLAN_SECTION["division_of_duties"])
    steps: str = strawberry.field(description=PLAN_SECTION["steps"])
    joint_method: str = strawberry.field(description=PLAN_SECTION["joint_method"])
    safeguards: str = strawberry.field(description=PLAN_SECTION["safeguards"])
    version: int = strawberry.field(
        description="1, 2, …: each resubmission is a new version the agencies comment on"
    )
    submitted_by: str = strawberry.field(description="the person id of who submitted it")
    submitted_at: datetime | None = strawberry.field(
        description="when this version was submitted (+08:00)"
    )


@strawberry.type(description="R-JNT-03: general (牵头) or daily (配合) liaison.")
class JointLiaison:
    agency_id: strawberry.ID = strawberry.field(description="the agency id the liaison is for")
    role: str = strawberry.field(description="general | daily")
    name: str = strawberry.field(description="the liaison's name (联络员)")
    phone: str = strawberry.field(description="the liaison's phone number, as given")


@strawberry.type(description="A cooperating agency's comment on a plan version (R-JNT-02).")
class JointPlanComment:
    agency_id: strawberry.ID = strawberry.field(
        description="the agency id of the cooperating agency that commented"
    )
    plan_version: int = strawberry.field(description="the plan version it commented on")
    text: str = strawberry.field(description="the comment (意见)")
    commented_by: str = strawberry.field(description="the person id of who commented")
    at: datetime = strawberry.field(description="when (+08:00)")


@strawberry.type(description="A written statement that a task cannot be done (R-JNT-04).")
class JointInability:
    reasons: str = strawberry.field(description="why the task cannot be done (书面说明)")
    stated_by: str = strawberry.field(description="the person id of who stated it")
    stated_at: datetime = strawberry.field(description="when it was stated (+08:00)")
    accepted: bool | None = strawberry.field(description="null while the lead has not decided")
    decision_reason: str = strawberry.field(
        description="the lead's reason for accepting or rejecting; empty while undecided"
    )
    decided_by: str | None = strawberry.field(
        description="the person id of who decided for the lead; null while undecided"
    )
    decided_at: datetime | None = strawberry.field(
        description="when the lead decided (+08:00); null while undecided"
    )
    reported_to_government_id: strawberry.ID | None = strawberry.field(
        description="the government's agency id a rejection was reported to (R-JNT-04); "
        "null when not reported"
    )


@strawberry.federation.type(keys=["id"], description="A task of a cooperating agency (R-JNT-04).")
class JointTask:
    id: strawberry.ID = strawberry.field(
        description="the task's id, unique across operations (an entity key)"
    )
    operation_id: strawberry.ID = strawberry.field(description="the joint operation's id")
    agency_id: strawberry.ID = strawberry.field(
        description="the agency id of the cooperating agency that owes it (see `agency`)"
    )
    description: str = strawberry.field(description="what is to be done")
    deadline: date = strawberry.field(
        description="the last day to do it (a date in Asia/Shanghai); the report is due "
        "within the district's limit of working days after it (5 in CQ, R-JNT-04)",
        deprecation_reason=replaced_by("deadlineDate"),
    )
    deadline_date: str = iso_day(
        "deadline",
        "the last day to do it; the report is due within the district's limit of working days "
        "after it (5 in CQ, R-JNT-04)",
    )
    status: JointTaskStatus = strawberry.field(description="where the task stands")
    assigned_at: datetime = strawberry.field(description="when it was assigned (+08:00)")
    report: str = strawberry.field(description="the agency's report; empty until reported")
    reported_at: datetime | None = strawberry.field(
        description="when it was reported (+08:00); null until then"
    )
    late: bool = strawberry.field(description="answered after the report clock ran out")
    inability: JointInability | None = strawberry.field(
        description="the written statement that it cannot be done; null when none"
    )
    report_deadline: CooperationDeadline = strawberry.field(
        description="the report clock: the district's limit of working days after the "
        "task's deadline (5 in CQ, R-JNT-04)"
    )
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

    agency = agency_field(
        "agency_id", "the agency that owes the task; null when unknown to the directory"
    )

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
    id: strawberry.ID = strawberry.field(description="the joint operation's id")
    title: str = strawberry.field(description="its title, as the initiator gave it")
    basis: JointInitiationBasis = strawberry.field(
        description="on what basis it was initiated (R-JNT-01)"
    )
    basis_reference: str = strawberry.field(
        description="the deployment document, government decision or request (文号)"
    )
    initiated_by: str = strawberry.field(description="the person id of who initiated it")
    initiator_agency_id: strawberry.ID | None = strawberry.field(
        description="the agency id the initiator acted for; null when not acting for one"
    )
    requested_by_agency_id: strawberry.ID | None = strawberry.field(
        description="LEGAL_OFFICE_REQUEST only: the agency id that asked; null otherwise"
    )
    lead_id: strawberry.ID = strawberry.field(
        description="the agency id of the lead (牵头单位, see `lead`)"
    )
    cooperating_ids: list[strawberry.ID] = strawberry.field(
        description="agency ids of the cooperating agencies (配合单位)"
    )
    status: JointOperationStatus = strawberry.field(description="where the operation stands")
    initiated_at: datetime = strawberry.field(description="when it was initiated (+08:00)")
    plan: JointPlan | None = strawberry.field(
        description="the current plan (R-JNT-02); null until the lead submits one"
    )
    liaisons: list[JointLiaison] = strawberry.field(
        description="the lead's general liaison and each cooperating agency's daily liaison "
        "(R-JNT-03), as named so far"
    )
    comments: list[JointPlanComment] = strawberry.field(
        description="the cooperating agencies' comments on every plan version, oldest first"
    )
    awaiting_comments_from: list[strawberry.ID] = strawberry.field(
        description="cooperating agencies yet to comment on the current plan (R-JNT-02)"
    )
    started_at: datetime | None = strawberry.field(
        description="when it started (+08:00); null before"
    )
    tasks: list[JointTask] = strawberry.field(
        description="the tasks assigned to the cooperating agencies (R-JNT-04)"
    )
    history: list[CooperationTransition] = strawberry.field(
        description="every recorded transition, oldest first"
    )

    lead = agency_field("lead_id", "the lead agency; null when unknown to the directory")

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


@strawberry.type
class JointQuery:
    @strawberry.field(
        description="One joint operation by id (null when absent or not yours to see: the lead, "
        "the cooperating agencies and the supervising roles see it)."
    )
    async def joint_operation(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="the operation's id")],
    ) -> JointOperation | None:
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
        agency_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="only those this agency leads or cooperates in"),
        ] = None,
        status: Annotated[
            JointOperationStatus | None, strawberry.argument(description="only in this status")
        ] = None,
        basis: Annotated[
            JointInitiationBasis | None,
            strawberry.argument(description="only those initiated on this basis"),
        ] = None,
        first: FirstArg = 50,
        after: AfterArg = None,
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
        self,
        info: Info,
        agency_id: Annotated[
            strawberry.ID, strawberry.argument(description="the agency the tasks are assigned to")
        ],
        status: Annotated[
            JointTaskStatus | None, strawberry.argument(description="only tasks in this status")
        ] = None,
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
