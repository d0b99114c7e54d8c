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
from kernel.graphql import UserError


@strawberry.type(description="R-JNT-05: the target was inspected by another agency recently.")
class JointInspectOnceWarning:
    previous_inspection_id: strawberry.ID
    previous_agency_id: strawberry.ID
    previous_operation_id: strawberry.ID
    previous_inspected_at: datetime
    window_days: int
    message: str = strawberry.field(description="综合查一次 warning for officials (Chinese)")

    @classmethod
    def of(cls, w: jnt.InspectOnceWarning) -> JointInspectOnceWarning:
        return cls(
            previous_inspection_id=strawberry.ID(w.previous_inspection_id),
            previous_agency_id=strawberry.ID(w.previous_agency_id),
            previous_operation_id=strawberry.ID(w.previous_operation_id),
            previous_inspected_at=w.previous_inspected_at,
            window_days=w.window_days,
            message=w.message_zh,
        )


@strawberry.type(description="An inspection of a target done for a joint task (R-JNT-05).")
class JointInspection:
    id: strawberry.ID
    operation_id: strawberry.ID
    task_id: strawberry.ID
    agency_id: strawberry.ID
    target_key: str
    target_licence_number: str
    target_name: str
    target_address: str
    findings: str
    inspected_by: str
    inspected_at: datetime
    warning: JointInspectOnceWarning | None

    @classmethod
    def of(cls, i: jnt.Inspection) -> JointInspection:
        w = i.warning
        return cls(
            id=strawberry.ID(i.id),
            operation_id=strawberry.ID(i.operation_id),
            task_id=strawberry.ID(i.task_id),
            agency_id=strawberry.ID(i.agency_id),
            target_key=i.target_key,
            target_licence_number=i.target.licence_number,
            target_name=i.target.name,
            target_address=i.target.address,
            findings=i.findings,
            inspected_by=i.inspected_by,
            inspected_at=i.inspected_at,
            warning=JointInspectOnceWarning.of(w) if w else None,
        )


JointInspectionResult = Annotated[
    JointInspection | UserError,
    strawberry.union(
        "JointInspectionResult",
        description="What the mutation answers: the JointInspection as it is now, or the "
        "UserError that refused it (nothing was changed).",
    ),
]


@strawberry.input
class JointInspectionTargetInput:
    licence_number: str = ""
    name: str = ""
    address: str = ""


@strawberry.input
class RecordJointInspectionInput:
    operation_id: strawberry.ID
    task_id: strawberry.ID
    target: JointInspectionTargetInput
    findings: str


@strawberry.type
class JointInspectionMutation:
    @strawberry.mutation(
        description="R-JNT-05: record an inspection; warns when another agency inspected the "
        "same target within the district's window (综合查一次)."
    )
    async def record_joint_inspection(
        self, info: Info, input: RecordJointInspectionInput
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
