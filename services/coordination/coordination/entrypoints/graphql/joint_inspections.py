"""Inspections of joint enforcement (R-JNT-05): an inspection of a target done for a joint
task, with the inspect-once warning (综合查一次) when another agency inspected the same target
within the district's window."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from coordination.application.joint import RecordJointInspection
from coordination.domain import joint as jnt
from coordination.entrypoints.graphql.types import Info, as_result
from kernel.graphql import INPUT, UserError, mirrored


@strawberry.type(description="R-JNT-05: the target was inspected by another agency recently.")
class JointInspectOnceWarning:
    previous_inspection_id: strawberry.ID = strawberry.field(
        description="the id of the earlier inspection of the same target"
    )
    previous_agency_id: strawberry.ID = strawberry.field(
        description="the agency id of the other agency that inspected it"
    )
    previous_operation_id: strawberry.ID = strawberry.field(
        description="the joint operation id the earlier inspection was done for"
    )
    previous_inspected_at: datetime = strawberry.field(
        description="when the earlier inspection was done (+08:00)"
    )
    window_days: int = strawberry.field(
        description="the district's inspect-once window, in calendar days (a project default "
        "in the seeds)"
    )
    message: str = strawberry.field(description="综合查一次 warning for officials (Chinese)")

    @classmethod
    def of(cls, w: jnt.InspectOnceWarning) -> JointInspectOnceWarning:
        return mirrored(cls, w, message=w.message_zh)


@strawberry.type(description="An inspection of a target done for a joint task (R-JNT-05).")
class JointInspection:
    id: strawberry.ID = strawberry.field(description="the inspection's id")
    operation_id: strawberry.ID = strawberry.field(description="the joint operation's id")
    task_id: strawberry.ID = strawberry.field(
        description="the id of the joint task it was done for"
    )
    agency_id: strawberry.ID = strawberry.field(description="the agency id of the inspector")
    target_key: str = strawberry.field(
        description="the target's identity used to find earlier inspections: "
        "`licence:<number>` or `name:<name>@<address>` (spaces removed)"
    )
    target_licence_number: str = strawberry.field(
        description="the target's licence number (统一社会信用代码 / 营业执照号); empty when "
        "it has none"
    )
    target_name: str = strawberry.field(description="the target's name, if given")
    target_address: str = strawberry.field(description="the target's address, if given")
    findings: str = strawberry.field(description="what the inspection found")
    inspected_by: str = strawberry.field(description="the person id of the inspector")
    inspected_at: datetime = strawberry.field(description="when it was recorded (+08:00)")
    warning: JointInspectOnceWarning | None = strawberry.field(
        description="R-JNT-05: another agency inspected the same target within the window; "
        "null when not"
    )

    @classmethod
    def of(cls, i: jnt.Inspection) -> JointInspection:
        return mirrored(
            cls,
            i,
            target_licence_number=i.target.licence_number,
            target_name=i.target.name,
            target_address=i.target.address,
            warning=JointInspectOnceWarning.of(i.warning) if i.warning else None,
        )


JointInspectionResult = Annotated[
    JointInspection | UserError,
    strawberry.union(
        "JointInspectionResult",
        description="What the mutation answers: the JointInspection as it is now, or the "
        "UserError that refused it (nothing was changed).",
    ),
]


@strawberry.input(
    description="A target (检查对象): its licence number, or its name and address when it has none."
)
class JointInspectionTargetInput:
    licence_number: str = strawberry.field(
        default="", description="统一社会信用代码 / 营业执照号; spaces and case do not matter"
    )
    name: str = strawberry.field(
        default="", description="the target's name; required without a licence number"
    )
    address: str = strawberry.field(
        default="", description="the target's address; required without a licence number"
    )


@strawberry.input(description="An inspection done for a joint task (R-JNT-05).")
class RecordJointInspectionInput:
    operation_id: strawberry.ID = strawberry.field(description="the joint operation's id")
    task_id: strawberry.ID = strawberry.field(
        description="the joint task's id; the task must be the caller's agency's"
    )
    target: JointInspectionTargetInput = strawberry.field(description="who was inspected")
    findings: str = strawberry.field(description="what the inspection found")


@strawberry.type
class JointInspectionMutation:
    @strawberry.mutation(
        description="R-JNT-05: record an inspection; warns when another agency inspected the "
        "same target within the district's window (综合查一次)."
    )
    async def record_joint_inspection(
        self, info: Info, input: Annotated[RecordJointInspectionInput, INPUT]
    ) -> JointInspectionResult:
        caller = info.context.caller()
        t = input.target
        cmd = RecordJointInspection(
            operation_id=str(input.operation_id),
            task_id=str(input.task_id),
            target=jnt.InspectionTarget(t.licence_number, t.name, t.address),
            findings=input.findings,
        )
        return await as_result(
            info.context.joint.record_inspection(cmd, caller),
            JointInspection.of,
        )
