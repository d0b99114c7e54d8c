"""District policy: every number that differs between districts, loaded from YAML.

A deployment serves one district, and the districts' documents disagree on the numbers
(send a referral within 5 working days in Fuyuan, 3 in Hualong, 2 in Chongqing; Chongqing's
receiver may not refuse; Huancui keeps penalties of 50,000 yuan and more with the department;
...). So the numbers live in a versioned YAML file per district, shipped inside this package
(``kernel/policies/<district>.yaml``), validated at start, never in code (DOMAIN.md §0).

Validation is strict on purpose: a misspelt key (``extention_max_working_days``) or a number
written as text would otherwise silently fall back to a default and move a legal deadline.
Every failure is a :class:`PolicyError` naming the file, the field path and what is wrong,
e.g. ``fuyuan.yaml: send.extension_max_working_days: must be ≥ send.limit_working_days (5),
got 3``.

Units are in the field names: ``_working_days`` (counted with
:class:`kernel.calendar.WorkingCalendar`), ``_days`` (calendar days), ``_hours`` (clock
hours), ``_months``, ``_yuan``. Field docstrings cite the seed passage: FY = Fuyuan 2020,
SL = Shangri-La 2024, HL = Hualong 2021, CQ = Chongqing 2006, HC = Huancui 2024.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import itertools
import types
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
    field_validator,
    model_validator,
)

from kernel.calendar import CalendarOverrides, WorkingCalendar

__all__ = [
    "AcceptancePolicy",
    "AssistancePolicy",
    "CalendarPolicy",
    "DateOverride",
    "DelegationPolicy",
    "DisputePolicy",
    "DistrictPolicy",
    "EscalationStep",
    "ImmediatelyPolicy",
    "InformationQueryPolicy",
    "JointEnforcementPolicy",
    "LadderStep",
    "MajorPenaltyCriteria",
    "MeetingPolicy",
    "NoticePolicy",
    "PenaltyKind",
    "PolicyError",
    "PolicyProblem",
    "Recurrence",
    "ReminderPolicy",
    "ResultReportPolicy",
    "RoutineMeeting",
    "SendPolicy",
    "SourceDocument",
    "SupervisionPolicy",
    "TechnicalSupportPolicy",
    "UrgentClock",
    "available_districts",
    "load_policy",
    "load_policy_file",
    "parse_policy",
]

# --------------------------------------------------------------------------- errors


@dataclass(frozen=True)
class PolicyProblem:
    """One thing wrong with a policy file: where (dotted field path) and what."""

    path: str
    message: str


class PolicyError(ValueError):
    """A district policy cannot be loaded; ``str()`` lists every problem, one per line."""

    def __init__(self, file: str, problems: Sequence[PolicyProblem]) -> None:
        self.file = file
        self.problems = tuple(problems)
        super().__init__(
            "\n".join(
                f"{file}: {p.path}: {p.message}" if p.path else f"{file}: {p.message}"
                for p in self.problems
            )
        )


class _RuleViolations(ValueError):
    """Cross-field rule failures raised inside model validators.

    Each is (field relative to the model, message). ``{at}`` in a message stands for the
    model's own path so the loader can name sibling fields absolutely
    (``must be ≥ send.limit_working_days``) although the model does not know where it sits.
    """

    def __init__(self, violations: list[tuple[str, str]]) -> None:
        self.violations = violations
        super().__init__("; ".join(f"{f}: {m.replace('{at}', '')}" for f, m in violations))


def _check(violations: list[tuple[str, str]]) -> None:
    if violations:
        raise _RuleViolations(violations)


# --------------------------------------------------------------------------- field types

# Strict numbers: YAML "5" (a string) or `true` must not pass as a count of days.
_PositiveInt = Annotated[int, Strict(), Field(ge=1)]
_NonNegativeInt = Annotated[int, Strict(), Field(ge=0)]
_Bool = Annotated[bool, Strict()]
_Slug = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]*$")]
_Text = Annotated[str, Field(min_length=1)]

Recurrence = Literal["weekly", "monthly", "quarterly", "half_yearly", "yearly", "unspecified"]
"""How often a routine meeting is held; ``unspecified``: the seed says "regularly" (定期)."""

PenaltyKind = Literal[
    "lower_qualification",
    "revoke_licence",
    "order_suspend_production_or_business",
    "order_close",
    "restrict_practice",
]
"""Kinds of major penalty (HC #13): 降低资质等级, 吊销许可证件, 责令停产停业, 责令关闭, 限制从业."""

PENALTY_KIND_ZH: dict[str, str] = {
    "lower_qualification": "降低资质等级",
    "revoke_licence": "吊销许可证件",
    "order_suspend_production_or_business": "责令停产停业",
    "order_close": "责令关闭",
    "restrict_practice": "限制从业",
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


# --------------------------------------------------------------------------- sections


class SourceDocument(_Model):
    """The seed document a district policy is taken from."""

    code: Literal["FY", "SL", "HL", "CQ", "HC"]
    """Short code used in DOMAIN.md citations."""
    title_zh: _Text
    """Title of the document."""
    document_number: str | None = None
    """文号, e.g. 抚法办发〔2020〕8号 (None when the document has none)."""
    issuer_zh: _Text
    """Issuing body."""
    issued_on: dt.date
    """Date of issue (印发/公布)."""


class ImmediatelyPolicy(_Model):
    """What "immediately" (立即) means as a clock (DOMAIN §0): the addressee is alerted at
    once, and the act is due within this many clock hours, so an urgent request is not late
    the moment it is made. No seed gives a number: 2 hours is DOMAIN §0's default."""

    limit_hours: _PositiveInt = 2
    """Clock hours (never 0: DOMAIN §0)."""


class ResultReportPolicy(_Model):
    """The receiver reports the handling result back to the sender (处理结果通报, R-REF-08).

    No seed gives a limit. The Administrative Penalty Law (《中华人民共和国行政处罚法》, 2021)
    art. 60 gives 90 days from filing a case to the decision: the project's default, counted
    in days (日) from the written acceptance, the last day rolled over past a holiday
    (DOMAIN §0)."""

    limit_days: _PositiveInt = 90
    """Calendar days (日), not working days."""
    basis_zh: _Text = "行政处罚法第六十条；项目默认"
    """Where the number comes from, as the clock's rule cites it."""


class UrgentClock(_Model):
    """The clock for urgent cases: a number of clock hours, or "immediately" (an alert now
    and the policy's ``immediately.limit_hours``)."""

    hours: _PositiveInt | None = None
    """Clock hours (FY (四)1, HL 四(一)1: 24 小时)."""
    immediately: _Bool = False
    """Act at once (CQ: 立即移送, 不得拖延时间或压案不送): alerted now, due within the
    district's ``immediately.limit_hours``."""

    @model_validator(mode="after")
    def _one_of(self) -> UrgentClock:
        if self.immediately and self.hours is not None:
            _check([("hours", "must be absent when {at}immediately is true")])
        if not self.immediately and self.hours is None:
            _check([("hours", "required unless {at}immediately is true")])
        return self


class SendPolicy(_Model):
    """Sending a referral to the competent agency (R-REF-04)."""

    limit_working_days: _PositiveInt
    """Working days from discovery to send (FY (四)1: 5; HL 四(一)1: 3; CQ: 2; default 5)."""
    extension_max_working_days: _PositiveInt
    """Latest send date when extended (FY (四)1: 最长不超过10个工作日). Equal to
    ``limit_working_days`` where the seed allows no extension."""
    extension_requires_prior_notice: _Bool = True
    """An extension must be announced to the receiver first (FY (四)1: 应事先告知)."""
    urgent: UrgentClock
    """Urgent cases (FY, HL: 24 hours; CQ: immediately)."""

    @property
    def extendable(self) -> bool:
        """Whether the limit can be extended at all."""
        return self.extension_max_working_days > self.limit_working_days

    @model_validator(mode="after")
    def _extension_not_below_limit(self) -> SendPolicy:
        if self.extension_max_working_days < self.limit_working_days:
            _check(
                [
                    (
                        "extension_max_working_days",
                        f"must be ≥ {{at}}limit_working_days ({self.limit_working_days}), "
                        f"got {self.extension_max_working_days}",
                    )
                ]
            )
        return self


class AcceptancePolicy(_Model):
    """The receiver's written statement on acceptance (受理情况, R-REF-06, R-REF-07)."""

    may_refuse: _Bool
    """Whether the receiver may decline a referral (CQ: 受移送有管辖权的行政机关不得拒绝接受)."""
    limit_working_days: _PositiveInt
    """Working days to state acceptance in writing (FY (四)1: 5; default 5)."""


class TechnicalSupportPolicy(_Model):
    """Technical support: 认定 / 鉴定 / 咨询意见 requested by a township (R-TEC-01)."""

    reply_limit_working_days: _PositiveInt
    """Working days to answer in writing (FY (三)2: 3个工作日内书面反馈; default 3)."""
    extendable: _Bool
    """Complex cases may take longer (FY (三)2: 可适当延长; SL 三(五))."""
    extension_requires_prior_notice: _Bool
    """The extension is announced first (SL 三(五): 需事先告知)."""
    extension_max_working_days: _PositiveInt | None = None
    """Fixed maximum when extended; None: no seed fixes one, the department states it."""
    urgent_on_site_immediately: _Bool = True
    """Urgent or evidence at risk: staff on site at once (FY (三)2: 及时派员现场处置)."""

    @model_validator(mode="after")
    def _extension_consistent(self) -> TechnicalSupportPolicy:
        problems: list[tuple[str, str]] = []
        if self.extension_max_working_days is not None:
            if not self.extendable:
                problems.append(
                    ("extension_max_working_days", "must be absent when {at}extendable is false")
                )
            elif self.extension_max_working_days < self.reply_limit_working_days:
                problems.append(
                    (
                        "extension_max_working_days",
                        f"must be ≥ {{at}}reply_limit_working_days "
                        f"({self.reply_limit_working_days}), got {self.extension_max_working_days}",
                    )
                )
        _check(problems)
        return self


class InformationQueryPolicy(_Model):
    """Information queries between agencies (R-INF-01)."""

    answer_limit_working_days: _PositiveInt
    """Working days to answer (CQ 四(一): 接到查询请求之日起5个工作日内; default 5)."""
    urgent_immediately: _Bool
    """Urgent queries are answered at once (CQ 四(一): 特别紧急的事项要立即提供)."""


class AssistancePolicy(_Model):
    """Assistance between agencies (协助执法, R-AST-01). No seed gives a number: CQ 三(三)
    says only "协助执法机关应当及时回复《协助执法复函》" and, for a request by phone,
    "情况特别时可以采取电话或口头方式提请协助的事项" (the letter follows, no limit given); FY,
    HL, SL and HC name the duty (执法协助) without a limit. The defaults are the project's."""

    reply_limit_working_days: _PositiveInt = 5
    """Working days for the reply letter (复函) to a non-urgent request: CQ 三(三) "及时回复";
    default 5, as the other written answers between agencies (DOMAIN §0: acceptance FY (四)1
    5 wd, information query CQ 四(一) 5 wd). Urgent requests are helped at once (CQ 三(三):
    "应当立即实施协助执法")."""
    letter_after_phone_working_days: _PositiveInt = 2
    """Working days after a request by phone within which the written request letter
    (协助执法函) follows: CQ 三(三) allows the phone "情况特别时" and gives no limit; default 2."""


class RoutineMeeting(_Model):
    """A consultation meeting held on a schedule (R-MTG-01)."""

    name: _Slug
    """Identifier, e.g. ``consultation``."""
    name_zh: _Text
    """Name in the seed, e.g. 例行会议."""
    recurrence: Recurrence
    """How often it is held."""
    convened_by_zh: _Text
    """Who calls it."""
    source: _Text
    """Seed passage."""


class MeetingPolicy(_Model):
    """Consultation meetings: notice and RSVP lead times, routine meetings (R-MTG-01)."""

    notice_lead_working_days: _PositiveInt
    """Notice sent this many working days before (CQ 四(二): 召开前5个工作日; default 5)."""
    rsvp_lead_working_days: _PositiveInt
    """RSVP due this many working days before (CQ 四(二): 召开前2个工作日; default 2)."""
    routine: list[RoutineMeeting] = Field(default_factory=list)
    """Scheduled meetings (FY (四)3: 每半年; HC #11: 周例会、月会商、季度汇报)."""

    @model_validator(mode="after")
    def _rsvp_after_notice(self) -> MeetingPolicy:
        problems: list[tuple[str, str]] = []
        if self.rsvp_lead_working_days >= self.notice_lead_working_days:
            problems.append(
                (
                    "rsvp_lead_working_days",
                    f"must be < {{at}}notice_lead_working_days "
                    f"({self.notice_lead_working_days}), got {self.rsvp_lead_working_days}",
                )
            )
        problems += _duplicates("routine", [m.name for m in self.routine], "name")
        _check(problems)
        return self


class JointEnforcementPolicy(_Model):
    """Joint enforcement (R-JNT-04, R-JNT-05)."""

    task_report_limit_working_days: _PositiveInt
    """A cooperating agency reports a task within this many working days after its deadline
    (CQ 三(二): 期限届满后5个工作日内; default 5)."""
    inspect_once_window_days: _PositiveInt
    """Calendar days within which a second inspection of the same target by another agency
    raises a warning (综合查一次, HC #5, CQ). No seed gives a number: project default."""
    rejected_inability_reported_to_government: _Bool = False
    """Whether the lead must report a rejected written inability to the government (CQ 三(二):
    "法定事由不成立的，应当向市政府报告"); elsewhere it may (R-JNT-04)."""


class NoticePolicy(_Model):
    """Receipts (签收) for notices and copies (R-NTF-04)."""

    receipt_limit_working_days: _PositiveInt
    """Working days before an unreceipted notice is escalated. No seed gives a number:
    project default."""
    urgent_receipt_limit_hours: _PositiveInt
    """Clock hours for urgent notices (an urgent copy goes out 立即, FY (三)1). No seed
    gives a number: project default."""


class DelegationPolicy(_Model):
    """Delegation of powers to townships (R-CAT-02)."""

    transition_period_months: _NonNegativeInt
    """Months after delegation during which the department stays responsible, and cases open
    at its end stay with it (HC #12: 3个月过渡期). 0: no transition period."""


class MajorPenaltyCriteria(_Model):
    """Cases that stay with (or go to) the department even when delegated (R-CAT-03)."""

    penalty_kinds: list[PenaltyKind] = Field(default_factory=list)
    """Penalties that make a case major (HC #13). Empty: the district sets none."""
    fine_threshold_yuan: _PositiveInt | None = None
    """A fine of at least this many yuan makes a case major (HC #13: 罚款5万元以上; 以上
    includes the number itself). None: no threshold."""

    @property
    def applies(self) -> bool:
        """Whether the district reserves any case to the department."""
        return bool(self.penalty_kinds) or self.fine_threshold_yuan is not None

    def is_major(self, kinds: Iterable[str] = (), fine_yuan: int | Decimal | None = None) -> bool:
        """Whether a case that may end in ``kinds`` of penalty or a ``fine_yuan`` fine is major."""
        if any(k in self.penalty_kinds for k in kinds):
            return True
        return (
            self.fine_threshold_yuan is not None
            and fine_yuan is not None
            and fine_yuan >= self.fine_threshold_yuan
        )

    @model_validator(mode="after")
    def _unique(self) -> MajorPenaltyCriteria:
        _check(_duplicates("penalty_kinds", list(self.penalty_kinds), None))
        return self


class LadderStep(_Model):
    """One step of the jurisdiction-dispute ladder (R-DSP-02)."""

    step: _PositiveInt
    """Position in the ladder, 1 = first."""
    name: _Slug
    """Identifier, e.g. ``negotiation``."""
    name_zh: _Text
    """Name of the step in the seed's words."""
    decided_by: _Text
    """Body that resolves the dispute at this step (English)."""
    decided_by_zh: _Text
    """The same body as the seed names it."""
    time_limit_working_days: _PositiveInt
    """Working days the step may take before the dispute goes up. No seed gives these
    numbers: project defaults unless the YAML comment says otherwise."""
    source: _Text
    """Seed passage."""
    advisory: _Bool = False
    """The step's body only gives an opinion (处理意见) that goes to the next step; it cannot
    bind (FY (四)5: 市委编办和市司法局提出处理意见, then 报市依法治市委员会作出决定)."""


class DisputePolicy(_Model):
    """Jurisdiction disputes (R-DSP-01, R-DSP-02)."""

    interim_handler_required: _Bool = True
    """Enforcement is not held up: an interim handler acts first (FY (四)5: 先予协同处置)."""
    ladder: list[LadderStep]
    """Ordered escalation steps, first to last."""
    decline_route: Literal["ladder", "government"] = "ladder"
    """Where the dispute a declined referral opens starts (R-REF-07): at the first step of the
    ladder, or at its last step, the government's decision (FY (四)1: 报请市人民政府决定)."""

    @model_validator(mode="after")
    def _ladder_ordered(self) -> DisputePolicy:
        problems: list[tuple[str, str]] = []
        if not self.ladder:
            problems.append(("ladder", "must have at least one step"))
        for i, s in enumerate(self.ladder):
            if s.step != i + 1:
                problems.append(
                    (
                        f"ladder[{i}].step",
                        f"steps must be numbered 1, 2, 3, … in order; expected {i + 1}, "
                        f"got {s.step}",
                    )
                )
        problems += _duplicates("ladder", [s.name for s in self.ladder], "name")
        if self.ladder and self.ladder[-1].advisory:
            problems.append(
                (
                    f"ladder[{len(self.ladder) - 1}].advisory",
                    "the last step decides: it cannot be advisory (someone must bind)",
                )
            )
        _check(problems)
        return self


class EscalationStep(_Model):
    """Who is told when a deadline has passed, and when (R-SUP-02)."""

    to: Literal["agency_leader", "supervising_body"]
    """The agency's own leader first, then the supervising body."""
    to_zh: _Text
    """The body as officials name it."""
    agency_kind: Literal["justice_bureau", "coordination_body", "government"] | None = None
    """For the supervising body: the kind of agency (R-AG-01) that receives the escalation,
    e.g. the justice bureau (FY, SL) or the district's enforcement platform office, a
    coordination body (HC). Absent for the agency's own leader."""
    after_working_days: _NonNegativeInt
    """Working days after a working-day deadline (0: as soon as it has passed)."""
    after_hours: _NonNegativeInt
    """Clock hours after an hour-clock deadline (the urgent 24 hours, "immediately"): an
    urgent clock escalates in hours, not in working days (DOMAIN §0; 0: as soon as it has
    passed)."""


class ReminderPolicy(_Model):
    """Deadline reminders and escalation (R-SUP-02). No seed gives numbers: project defaults."""

    before_due_working_days: list[_PositiveInt]
    """Remind this many working days before a working-day deadline, e.g. ``[2, 1]``."""
    before_due_hours: list[_PositiveInt]
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
        _check(problems)
        return self


class SupervisionPolicy(_Model):
    """Reports to the supervising body (R-SUP-02: 月提示 + 季通报, SL 四(一))."""

    reports_to_zh: _Text
    """Receiver of the reports (the justice bureau or the government's legal office)."""
    monthly_reminder_list: _Bool
    """A monthly list of deadlines due and overdue (月提示)."""
    quarterly_bulletin: _Bool
    """A quarterly bulletin with per-agency figures (季通报)."""
    report_day_of_month: Annotated[int, Strict(), Field(ge=1, le=28)]
    """Day of the month the reports for the previous month / quarter are issued (≤ 28 so
    that every month has it). Project default."""


class DateOverride(_Model):
    """A district's change to one day of the national calendar."""

    date: dt.date
    """The day (YYYY-MM-DD, unquoted)."""
    reason: _Text
    """Why, as it will appear in deadline explanations."""


class CalendarPolicy(_Model):
    """District overrides of the national working-day calendar."""

    extra_days_off: list[DateOverride] = Field(default_factory=list)
    """Local days off (e.g. a local festival decreed by the district government)."""
    extra_working_days: list[DateOverride] = Field(default_factory=list)
    """Local extra working days."""
    office_closing_time: dt.time | None = None
    """If set (quoted, "17:30"), a working-day period ends at this local time on its last day
    instead of 24:00 (民法典第二百零三条: 有业务时间的，停止业务活动的时间为截止时间)."""

    @field_validator("office_closing_time", mode="before")
    @classmethod
    def _quoted_time(cls, value: object) -> object:
        # YAML 1.1 reads an unquoted 17:30 as the base-60 integer 1050, which pydantic would
        # happily turn into 00:17:30.
        if isinstance(value, int | float) and not isinstance(value, bool):
            raise ValueError('write the time as a quoted string, e.g. "17:30"')
        return value

    @model_validator(mode="after")
    def _no_conflicts(self) -> CalendarPolicy:
        problems: list[tuple[str, str]] = []
        for name in ("extra_days_off", "extra_working_days"):
            entries: list[DateOverride] = getattr(self, name)
            problems += _duplicates(name, [e.date.isoformat() for e in entries], "date")
        off = {e.date for e in self.extra_days_off}
        for i, e in enumerate(self.extra_working_days):
            if e.date in off:
                problems.append(
                    (
                        f"extra_working_days[{i}].date",
                        f"{e.date.isoformat()} is also in {{at}}extra_days_off",
                    )
                )
        _check(problems)
        return self


def _duplicates(list_name: str, values: list[str], attr: str | None) -> list[tuple[str, str]]:
    seen: set[str] = set()
    out: list[tuple[str, str]] = []
    for i, v in enumerate(values):
        if v in seen:
            where = f"{list_name}[{i}].{attr}" if attr else f"{list_name}[{i}]"
            out.append((where, f"duplicate {v!r}"))
        seen.add(v)
    return out


# --------------------------------------------------------------------------- the policy


class DistrictPolicy(_Model):
    """All district parameters of DOMAIN.md §0 and what the features need.

    Load with :func:`load_policy` (shipped districts) or :func:`load_policy_file`.
    """

    district: _Slug
    """District id, equal to the file name (``fuyuan``, ``shangri-la``, ...)."""
    name_zh: _Text
    """Chinese name, e.g. 抚远市."""
    name_en: _Text
    """English name."""
    government_zh: _Text
    """The government that takes final decisions (人民政府, R-AG-01)."""
    justice_bureau_zh: _Text
    """The justice bureau or legal office: supervision and filing (备案)."""
    version: _Text
    """Policy version (quote it in YAML: "1.0"); recorded with every computed deadline."""
    effective_from: dt.date
    """Date from which this version applies."""
    source: SourceDocument
    """The seed document."""
    send: SendPolicy
    """R-REF-04."""
    acceptance: AcceptancePolicy
    """R-REF-06, R-REF-07."""
    technical_support: TechnicalSupportPolicy
    """R-TEC-01."""
    information_query: InformationQueryPolicy
    """R-INF-01."""
    assistance: AssistancePolicy = Field(default_factory=AssistancePolicy)
    """R-AST-01 (optional in a file: every number is a project default)."""
    meetings: MeetingPolicy
    """R-MTG-01."""
    joint_enforcement: JointEnforcementPolicy
    """R-JNT-04, R-JNT-05."""
    notices: NoticePolicy
    """R-NTF-04."""
    delegation: DelegationPolicy
    """R-CAT-02."""
    major_penalty: MajorPenaltyCriteria
    """R-CAT-03."""
    dispute: DisputePolicy
    """R-DSP-01, R-DSP-02."""
    reminders: ReminderPolicy
    """R-SUP-02."""
    supervision: SupervisionPolicy
    """R-SUP-02."""
    calendar: CalendarPolicy = Field(default_factory=CalendarPolicy)
    """District overrides of the working-day calendar."""
    immediately: ImmediatelyPolicy = Field(default_factory=ImmediatelyPolicy)
    """DOMAIN §0: "immediately" as a clock of a few hours (optional in a file: 2 hours)."""
    result_report: ResultReportPolicy = Field(default_factory=ResultReportPolicy)
    """R-REF-08: days to report the handling result (optional in a file: 90 days, the
    Administrative Penalty Law art. 60)."""

    def acceptance_limit_working_days(self) -> int | None:
        """Working days for the receiver's written acceptance statement (R-REF-06).

        Always set in the shipped policies (even where the receiver may not refuse, CQ, it
        still states 受理情况); ``None`` is kept in the signature for callers that treat
        "no limit" as "no deadline to watch".
        """
        return self.acceptance.limit_working_days

    def calendar_overrides(self) -> CalendarOverrides:
        """The calendar section as :class:`~kernel.calendar.CalendarOverrides`."""
        return CalendarOverrides(
            district=self.district,
            extra_days_off={e.date: e.reason for e in self.calendar.extra_days_off},
            extra_working_days={e.date: e.reason for e in self.calendar.extra_working_days},
            office_closing_time=self.calendar.office_closing_time,
            district_name_zh=self.name_zh,
            policy_version=self.version,
        )

    def working_calendar(self) -> WorkingCalendar:
        """A :class:`~kernel.calendar.WorkingCalendar` with this district's overrides."""
        return WorkingCalendar(self.calendar_overrides())


# --------------------------------------------------------------------------- loading


class _UniqueKeyLoader(yaml.SafeLoader):
    """Safe loader that rejects duplicate keys (PyYAML silently keeps the last one)."""


def _construct_unique_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        try:
            duplicate = key in seen
        except TypeError:  # unhashable key: let the normal constructor report it
            break
        if duplicate:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                f"found duplicate key {key!r}",
                key_node.start_mark,
            )
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_unique_mapping,
)


def _path(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _model_class(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside an annotation such as ``list[X]`` or ``X | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = get_origin(annotation)
    if origin in (list, Union, types.UnionType, Annotated):
        for arg in get_args(annotation):
            found = _model_class(arg)
            if found is not None:
                return found
    return None


def _fields_at(loc: Sequence[int | str]) -> list[str]:
    """Field names allowed at ``loc`` (the location of an unknown key, minus the key)."""
    model: type[BaseModel] | None = DistrictPolicy
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        info = model.model_fields.get(part)
        model = _model_class(info.annotation) if info is not None else None
    return list(model.model_fields) if model is not None else []


def _describe(value: Any) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def _problems(error: ValidationError) -> list[PolicyProblem]:
    out: list[PolicyProblem] = []
    for err in error.errors():
        loc = tuple(err["loc"])
        here = _path(loc)
        ctx_error = (err.get("ctx") or {}).get("error")
        if isinstance(ctx_error, _RuleViolations):
            prefix = f"{here}." if here else ""
            for field, message in ctx_error.violations:
                out.append(PolicyProblem(prefix + field, message.replace("{at}", prefix)))
        elif err["type"] == "extra_forbidden":
            allowed = _fields_at(loc[:-1])
            near = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            out.append(
                PolicyProblem(
                    here, f"unknown field{hint}; allowed here: {', '.join(sorted(allowed))}"
                )
            )
        elif err["type"] == "missing":
            out.append(PolicyProblem(here, "required field is missing"))
        elif err["type"] == "value_error":
            out.append(PolicyProblem(here, str(ctx_error) if ctx_error else err["msg"]))
        else:
            msg = err["msg"]
            msg = msg[:1].lower() + msg[1:]
            out.append(PolicyProblem(here, f"{msg}, got {_describe(err['input'])}"))
    return out


def parse_policy(text: str, source: str = "<policy>") -> DistrictPolicy:
    """Parse and validate a policy from YAML text; ``source`` names it in errors."""
    try:
        data = yaml.load(
            text, Loader=_UniqueKeyLoader
        )  # a SafeLoader subclass: no arbitrary objects
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        what = exc.problem or "invalid YAML"
        if exc.context:
            what += f" ({exc.context})"
        raise PolicyError(source, [PolicyProblem("", f"{where}YAML syntax error: {what}")]) from exc
    except yaml.YAMLError as exc:
        raise PolicyError(source, [PolicyProblem("", f"YAML syntax error: {exc}")]) from exc
    if not isinstance(data, dict):
        raise PolicyError(
            source,
            [
                PolicyProblem(
                    "", f"the file must be a mapping of policy fields, got {type(data).__name__}"
                )
            ],
        )
    try:
        return DistrictPolicy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(source, _problems(exc)) from None


def load_policy_file(path: Path) -> DistrictPolicy:
    """Load and validate a policy file; errors name the file as given."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(str(path), [PolicyProblem("", f"cannot read the file: {exc}")]) from exc
    return parse_policy(text, str(path))


def _policy_dir() -> Any:
    # A Traversable, so this also works from a zipped wheel; hatchling ships the YAML files
    # because they sit inside the package directory.
    return resources.files("kernel").joinpath("policies")


@functools.cache
def _shipped_districts() -> tuple[str, ...]:
    return tuple(
        sorted(
            entry.name.removesuffix(".yaml")
            for entry in _policy_dir().iterdir()
            if entry.name.endswith(".yaml")
        )
    )


def available_districts() -> list[str]:
    """Ids of the shipped district policies, sorted."""
    return list(_shipped_districts())


@functools.cache
def _load_shipped(district: str) -> DistrictPolicy:
    name = f"{district}.yaml"
    policy = parse_policy(_policy_dir().joinpath(name).read_text(encoding="utf-8"), name)
    if policy.district != district:
        raise PolicyError(
            name,
            [
                PolicyProblem(
                    "district", f"must match the file name {district!r}, got {policy.district!r}"
                )
            ],
        )
    return policy


def load_policy(district: str) -> DistrictPolicy:
    """The shipped policy of ``district`` (validated once, then cached; models are frozen)."""
    available = available_districts()
    if district not in available:
        raise PolicyError(
            f"{district}.yaml",
            [
                PolicyProblem(
                    "", f"unknown district {district!r}; available: {', '.join(available)}"
                )
            ],
        )
    return _load_shipped(district)


def district_policy(district: str, policy_file: Path | None = None) -> DistrictPolicy:
    """The policy a deployment runs on: the file its settings name (``policy_file``), else
    the district's shipped one."""
    return load_policy_file(policy_file) if policy_file is not None else load_policy(district)
