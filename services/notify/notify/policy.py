"""The notify service's sections of the district policy: receipts for notices
(``notices``, R-NTF-04), deadline reminders and escalation (``reminders``, R-SUP-02) and the
reports to the supervising body (``supervision``, R-SUP-02).

They sit in the district's one YAML file next to the kernel's shared sections
(:mod:`kernel.policy`) and the other services'; :func:`policy_of` validates them from that
file with the same messages (file name and dotted field path) as every other section, e.g.
``fuyuan.yaml: reminders.escalation[1].after_hours: must be > reminders.escalation[0]
.after_hours (2), got 2``.
"""

from __future__ import annotations

import itertools
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, Strict, model_validator

from kernel.policy import DistrictPolicy, sections_of
from kernel.policy_base import Bool, NonNegativeInt, PolicyModel, PositiveInt, Text, check

__all__ = [
    "SECTIONS",
    "EscalationStep",
    "NoticePolicy",
    "NotifyPolicy",
    "ReminderPolicy",
    "SupervisionPolicy",
    "policy_of",
]


class NoticePolicy(PolicyModel):
    """Receipts (签收) for notices and copies (R-NTF-04)."""

    receipt_limit_working_days: PositiveInt
    """Working days before an unreceipted notice is escalated. No seed gives a number:
    project default."""
    urgent_receipt_limit_hours: PositiveInt
    """Clock hours for urgent notices (an urgent copy goes out 立即, FY (三)1). No seed
    gives a number: project default."""


class EscalationStep(PolicyModel):
    """Who is told when a deadline has passed, and when (R-SUP-02)."""

    to: Literal["agency_leader", "supervising_body"]
    """The agency's own leader first, then the supervising body."""
    to_zh: Text
    """The body as officials name it."""
    agency_kind: Literal["justice_bureau", "coordination_body", "government"] | None = None
    """For the supervising body: the kind of agency (R-AG-01) that receives the escalation,
    e.g. the justice bureau (FY, SL) or the district's enforcement platform office, a
    coordination body (HC). Absent for the agency's own leader."""
    after_working_days: NonNegativeInt
    """Working days after a working-day deadline (0: as soon as it has passed)."""
    after_hours: NonNegativeInt
    """Clock hours after an hour-clock deadline (the urgent 24 hours, "immediately"): an
    urgent clock escalates in hours, not in working days (DOMAIN §0; 0: as soon as it has
    passed)."""


class ReminderPolicy(PolicyModel):
    """Deadline reminders and escalation (R-SUP-02). No seed gives numbers: project defaults."""

    before_due_working_days: list[PositiveInt]
    """Remind this many working days before a working-day deadline, e.g. ``[2, 1]``."""
    before_due_hours: list[PositiveInt]
    """Remind this many clock hours before an hour-clock deadline (the urgent 24 h)."""
    escalation: list[EscalationStep]
    """Escalation ladder after the deadline, in order."""

    @model_validator(mode="after")
    def _ordered(self) -> ReminderPolicy:
        problems: list[tuple[str, str]] = []
        for name in ("before_due_working_days", "before_due_hours"):
            values: list[int] = getattr(self, name)
            if any(a <= b for a, b in itertools.pairwise(values)):
                problems.append(
                    (name, f"must be strictly decreasing (earliest first), got {values}")
                )
        if not self.escalation:
            problems.append(("escalation", "must have at least one step"))
        elif self.escalation[0].to != "agency_leader":
            problems.append(("escalation[0].to", "the first escalation goes to agency_leader"))
        for i, step in enumerate(self.escalation):
            if step.to == "supervising_body" and step.agency_kind is None:
                problems.append(
                    (f"escalation[{i}].agency_kind", "required for the supervising body")
                )
            if step.to == "agency_leader" and step.agency_kind is not None:
                problems.append(
                    (f"escalation[{i}].agency_kind", "must be absent for the agency's own leader")
                )
        rank = {"agency_leader": 0, "supervising_body": 1}
        for i in range(1, len(self.escalation)):
            prev, cur = self.escalation[i - 1], self.escalation[i]
            for name in ("after_working_days", "after_hours"):
                before, now = getattr(prev, name), getattr(cur, name)
                if now <= before:
                    problems.append(
                        (
                            f"escalation[{i}].{name}",
                            f"must be > {{at}}escalation[{i - 1}].{name} ({before}), got {now}",
                        )
                    )
            if rank[cur.to] < rank[prev.to]:
                problems.append(
                    (f"escalation[{i}].to", "escalation never goes back from supervising_body")
                )
        check(problems)
        return self


class SupervisionPolicy(PolicyModel):
    """Reports to the supervising body (R-SUP-02: 月提示 + 季通报, SL 四(一))."""

    reports_to_zh: Text
    """Receiver of the reports (the justice bureau or the government's legal office)."""
    monthly_reminder_list: Bool
    """A monthly list of deadlines due and overdue (月提示)."""
    quarterly_bulletin: Bool
    """A quarterly bulletin with per-agency figures (季通报)."""
    report_day_of_month: Annotated[int, Strict(), Field(ge=1, le=28)]
    """Day of the month the reports for the previous month / quarter are issued (≤ 28 so
    that every month has it). Project default."""


class NotifyPolicy(PolicyModel):
    """The notify service's sections of a district policy (the file's other sections are the
    kernel's and the other services')."""

    model_config = ConfigDict(extra="ignore")

    notices: NoticePolicy
    """R-NTF-04."""
    reminders: ReminderPolicy
    """R-SUP-02."""
    supervision: SupervisionPolicy
    """R-SUP-02."""


SECTIONS: frozenset[str] = frozenset(NotifyPolicy.model_fields)
"""The top-level keys of a policy file that belong to this service."""


def policy_of(policy: DistrictPolicy) -> NotifyPolicy:
    """The notify sections of ``policy``'s file, validated once (a :class:`PolicyError`
    naming the file and the field path if one is wrong)."""
    return sections_of(policy, NotifyPolicy)
