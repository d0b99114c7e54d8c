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

Layout: ``records`` (basis, states, plan, liaisons, comments, tasks), ``operation`` (the
:class:`JointOperation` aggregate and :func:`initiate`), ``inspection`` (综合查一次).
Import from ``coordination.domain.joint``.
"""

from __future__ import annotations

from coordination.domain.joint.inspection import (
    Inspection,
    inspect_once_warning,
    planning_warnings,
    record_inspection,
)
from coordination.domain.joint.operation import JointOperation, initiate
from coordination.domain.joint.records import (
    INABILITY_DECISION,
    INITIATOR_ROLES,
    PLAN_SECTIONS,
    TASK_REPORT,
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

__all__ = [
    "INABILITY_DECISION",
    "INITIATOR_ROLES",
    "PLAN_SECTIONS",
    "TASK_REPORT",
    "Inability",
    "InitiationBasis",
    "InspectOnceWarning",
    "Inspection",
    "InspectionTarget",
    "JointLiaison",
    "JointOperation",
    "JointTask",
    "OperationStatus",
    "Plan",
    "PlanComment",
    "TaskStatus",
    "check_liaison",
    "check_plan",
    "initiate",
    "inspect_once_warning",
    "planning_warnings",
    "record_inspection",
]
