"""Inspect once (综合查一次, R-JNT-05): a warning when a target was inspected recently.

Pure Python: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from coordination.domain.cooperation import Actor, require_text
from coordination.domain.errors import Forbidden, InvalidState
from coordination.domain.joint.operation import JointOperation
from coordination.domain.joint.records import (
    InspectionTarget,
    InspectOnceWarning,
    OperationStatus,
)


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


def planning_warnings(
    targets: tuple[InspectionTarget, ...],
    agency_id: str,
    earlier: list[Inspection],
    *,
    at: datetime,
    window_days: int,
) -> tuple[tuple[InspectionTarget, ...], tuple[InspectOnceWarning, ...]]:
    """R-JNT-05 before an inspection is planned: the targets a task names (validated, one
    each) and a warning for every one another agency inspected within the window, so the
    lead can share that inspection's results instead of sending a second team."""
    seen: set[str] = set()
    kept: list[InspectionTarget] = []
    warnings: list[InspectOnceWarning] = []
    for target in targets:
        key = target.key()
        if key in seen:
            continue
        seen.add(key)
        kept.append(
            InspectionTarget(
                target.licence_number.strip(), target.name.strip(), target.address.strip()
            )
        )
        warning = inspect_once_warning(key, agency_id, earlier, at=at, window_days=window_days)
        if warning is not None:
            warnings.append(warning)
    return tuple(kept), tuple(warnings)


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
        raise InvalidState(
            "inspections are recorded on a started operation", field="status", code="WRONG_STATUS"
        )
    task = operation.task(task_id)
    if actor.agency_id is not None and actor.agency_id != task.agency_id:
        raise Forbidden(
            "only the agency the task was assigned to records its inspections",
            code="NOT_ASSIGNED_AGENCY",
        )
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
