"""A joint operation's records: its basis and states, the plan, liaisons, comments, tasks.

With the checks of a single record (the plan's required sections, a liaison). Pure Python.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from coordination.domain.cooperation import Clock, require_text
from coordination.domain.model import check_phone

TASK_REPORT = "joint.task_report"
#: The lead's decision on a written inability (R-JNT-04; a policy default limit).
INABILITY_DECISION = "joint.inability_decision"


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
    # R-JNT-04: the lead's clock to accept or reject a stated inability (None before one).
    decision_clock: Clock | None = None
    # R-JNT-05 before the fact: the targets the task plans to inspect, and the warning for
    # each that another agency inspected within the window (综合查一次 — warn before planning).
    targets: tuple[InspectionTarget, ...] = ()
    inspect_once_warnings: tuple[InspectOnceWarning, ...] = ()


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
