"""The actions on joint enforcement in the graph (联合执法, R-JNT-01…04): initiate, plan,
comment, start, assign, report and the written inability. Each answers
``JointOperation | UserError``; the operation itself and its reads are in joint.py."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

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
from coordination.entrypoints.graphql.joint import (
    PLAN_SECTION,
    JointInitiationBasis,
    JointOperation,
)
from coordination.entrypoints.graphql.joint_inspections import JointInspectionTargetInput
from coordination.entrypoints.graphql.types import Info, as_result
from kernel.graphql import INPUT, UserError, day_input, moved, refusals_at, replaced_by

__all__ = ["JointMutation"]


JointOperationResult = Annotated[
    JointOperation | UserError,
    strawberry.union(
        "JointOperationResult",
        description="What the mutation answers: the JointOperation as it is now, or the "
        "UserError that refused it (nothing was changed).",
    ),
]


@strawberry.input(description="A joint operation to initiate (R-JNT-01).")
class InitiateJointOperationInput:
    title: str = strawberry.field(description="its title; required")
    basis: JointInitiationBasis = strawberry.field(
        description="the basis; it decides which roles may initiate"
    )
    basis_reference: str = strawberry.field(description="部署文件 / 政府决定 / 申请 文号")
    lead_id: strawberry.ID = strawberry.field(description="the lead agency's id (牵头单位)")
    cooperating_ids: list[strawberry.ID] = strawberry.field(
        description="the cooperating agencies' ids (配合单位); at least one, not the lead"
    )
    requested_by_agency_id: strawberry.ID | None = strawberry.field(
        default=None, description="legal_office_request only: the agency that asked"
    )


@strawberry.input(
    description="The lead's plan (联合执法方案, R-JNT-02): every section is required; the "
    "first one missing is named in the refusal."
)
class JointPlanInput:
    legal_basis: str = strawberry.field(default="", description=PLAN_SECTION["legal_basis"])
    goal: str = strawberry.field(default="", description=PLAN_SECTION["goal"])
    scope: str = strawberry.field(default="", description=PLAN_SECTION["scope"])
    field: str = strawberry.field(default="", description=PLAN_SECTION["field"])
    division_of_duties: str = strawberry.field(
        default="", description=PLAN_SECTION["division_of_duties"]
    )
    steps: str = strawberry.field(default="", description=PLAN_SECTION["steps"])
    joint_method: str = strawberry.field(default="", description=PLAN_SECTION["joint_method"])
    safeguards: str = strawberry.field(default="", description=PLAN_SECTION["safeguards"])


@strawberry.input(description="A liaison (联络员, R-JNT-03): name and phone.")
class JointLiaisonInput:
    name: str = strawberry.field(description="the liaison's name; required")
    phone: str = strawberry.field(description="a phone number that can be dialled; required")


@strawberry.input(description="The lead submits its plan and its general liaison (R-JNT-02/03).")
class SubmitJointPlanInput:
    operation_id: strawberry.ID = strawberry.field(description="the joint operation's id")
    plan: JointPlanInput = strawberry.field(description="the plan, every section filled")
    general_liaison: JointLiaisonInput = strawberry.field(
        description="the lead's general liaison (总联络员)"
    )


@strawberry.input(description="A task for a cooperating agency (R-JNT-04).")
class AssignJointTaskInput:
    operation_id: strawberry.ID = strawberry.field(description="the joint operation's id")
    agency_id: strawberry.ID = strawberry.field(
        description="the cooperating agency's id that is to do it"
    )
    description: str = strawberry.field(description="what is to be done; required")
    deadline: date | None = strawberry.field(
        default=None,
        description="the last day to do it; the report is due within the district's limit "
        "of working days after it (R-JNT-04); required unless `deadlineDate` is given",
        deprecation_reason=replaced_by("deadlineDate"),
    )
    deadline_date: str | None = strawberry.field(
        default=None,
        description="the last day to do it, YYYY-MM-DD; the report is due within the "
        "district's limit of working days after it (R-JNT-04); required (or the deprecated "
        "`deadline`)",
    )
    targets: list[JointInspectionTargetInput] = strawberry.field(
        default_factory=list,
        description="R-JNT-05: targets the task plans to inspect; warned about before it",
    )


@strawberry.type
class JointMutation:
    @strawberry.mutation(description="R-JNT-01: initiate a joint operation on a basis.")
    async def initiate_joint_operation(
        self,
        info: Info,
        input: Annotated[InitiateJointOperationInput, INPUT],
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
        self,
        info: Info,
        input: Annotated[SubmitJointPlanInput, INPUT],
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
        operation_id: Annotated[
            strawberry.ID, strawberry.argument(description="the joint operation's id")
        ],
        comment: Annotated[
            str, strawberry.argument(description="the agency's comment on the current plan")
        ],
        daily_liaison: Annotated[
            JointLiaisonInput,
            strawberry.argument(description="the agency's daily liaison (日常联络员, R-JNT-03)"),
        ],
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
        self,
        info: Info,
        operation_id: Annotated[
            strawberry.ID, strawberry.argument(description="the joint operation's id")
        ],
    ) -> JointOperationResult:
        caller = info.context.caller()
        return await as_result(
            info.context.joint.start(StartJointOperation(str(operation_id)), caller),
            lambda o: JointOperation.of(o, info),
        )

    @strawberry.mutation(description="R-JNT-04: a task with a deadline for a cooperating agency.")
    async def assign_joint_task(
        self,
        info: Info,
        input: Annotated[AssignJointTaskInput, INPUT],
    ) -> JointOperationResult:
        caller = info.context.caller()
        return await as_result(
            lambda: refusals_at(
                info.context.joint.assign_task(
                    AssignJointTask(
                        operation_id=str(input.operation_id),
                        agency_id=str(input.agency_id),
                        description=input.description,
                        deadline=day_input(
                            input.deadline,
                            input.deadline_date,
                            field="deadlineDate",
                            old_field="deadline",
                            required=True,
                        ),
                        targets=tuple(
                            jnt.InspectionTarget(t.licence_number, t.name, t.address)
                            for t in input.targets
                        ),
                    ),
                    caller,
                ),
                moved(input.deadline, "deadline", "deadlineDate"),
            ),
            lambda o: JointOperation.of(o, info),
        )

    @strawberry.mutation(description="R-JNT-04: the cooperating agency reports its task.")
    async def report_joint_task(
        self,
        info: Info,
        operation_id: Annotated[
            strawberry.ID, strawberry.argument(description="the joint operation's id")
        ],
        task_id: Annotated[strawberry.ID, strawberry.argument(description="the task reported")],
        summary: Annotated[str, strawberry.argument(description="the report; required")],
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
        self,
        info: Info,
        operation_id: Annotated[
            strawberry.ID, strawberry.argument(description="the joint operation's id")
        ],
        task_id: Annotated[
            strawberry.ID, strawberry.argument(description="the task that cannot be done")
        ],
        reasons: Annotated[
            str, strawberry.argument(description="why, in writing (书面说明); required")
        ],
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
        operation_id: Annotated[
            strawberry.ID, strawberry.argument(description="the joint operation's id")
        ],
        task_id: Annotated[
            strawberry.ID, strawberry.argument(description="the task whose inability is decided")
        ],
        accept: Annotated[
            bool,
            strawberry.argument(description="true: the reason stands; false: the task is owed"),
        ],
        reason: Annotated[str, strawberry.argument(description="the lead's reason; required")],
        report_to_government: Annotated[
            bool,
            strawberry.argument(
                description="report a rejection to the government (required where the "
                "district's policy says so, as in CQ); refused with an acceptance"
            ),
        ] = False,
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
