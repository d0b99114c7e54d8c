"""The coordination service's sections of the district policy: technical support
(R-TEC-01), information queries (R-INF-01), assistance (R-AST-01), consultation meetings
(R-MTG-01), joint enforcement (R-JNT-04, R-JNT-05), delegation to townships (R-CAT-02) and
the jurisdiction-dispute ladder (R-DSP-01, R-DSP-02).

They sit in the district's one YAML file next to the kernel's shared sections
(:mod:`kernel.policy`) and the other services'; :func:`policy_of` validates them from that
file with the same messages (file name and dotted field path) as every other section, e.g.
``fuyuan.yaml: dispute.ladder[2].step: steps must be numbered 1, 2, 3, … in order``.
Field docstrings cite the seed passage (see :mod:`kernel.policy` for the codes).
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, model_validator

from kernel.policy import DistrictPolicy, sections_of
from kernel.policy_base import (
    Bool,
    NonNegativeInt,
    PolicyModel,
    PositiveInt,
    Slug,
    Text,
    check,
    duplicates,
)

__all__ = [
    "SECTIONS",
    "AssistancePolicy",
    "CoordinationPolicy",
    "CorrectionPolicy",
    "DelegationPolicy",
    "DispatchPhotoPolicy",
    "DispatchPolicy",
    "DisputePolicy",
    "InformationQueryPolicy",
    "JointEnforcementPolicy",
    "JointRulingPolicy",
    "LadderStep",
    "MeetingPolicy",
    "OnSitePolicy",
    "ParticipationPolicy",
    "Recurrence",
    "RoutineMeeting",
    "TechnicalSupportPolicy",
    "policy_of",
]

ConvenerKind = Literal["department", "coordination_body", "government", "justice_bureau"]
"""The agency kinds that convene routine meetings in the seeds."""
Recurrence = Literal["weekly", "monthly", "quarterly", "half_yearly", "yearly", "unspecified"]
"""How often a routine meeting is held; ``unspecified``: the seed says "regularly" (定期)."""


class TechnicalSupportPolicy(PolicyModel):
    """Technical support: 认定 / 鉴定 / 咨询意见 requested by a township (R-TEC-01)."""

    reply_limit_working_days: PositiveInt
    """Working days to answer in writing (FY (三)2: 3个工作日内书面反馈; default 3)."""
    extendable: Bool
    """Complex cases may take longer (FY (三)2: 可适当延长; SL 三(五))."""
    extension_requires_prior_notice: Bool
    """The extension is announced first (SL 三(五): 需事先告知)."""
    extension_max_working_days: PositiveInt | None = None
    """Fixed maximum when extended; None: no seed fixes one, the department states it."""
    urgent_on_site_immediately: Bool = True
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
        check(problems)
        return self


class InformationQueryPolicy(PolicyModel):
    """Information queries between agencies (R-INF-01)."""

    answer_limit_working_days: PositiveInt
    """Working days to answer (CQ 四(一): 接到查询请求之日起5个工作日内; default 5)."""
    urgent_immediately: Bool
    """Urgent queries are answered at once (CQ 四(一): 特别紧急的事项要立即提供)."""


class AssistancePolicy(PolicyModel):
    """Assistance between agencies (协助执法, R-AST-01). No seed gives a number: CQ 三(三)
    says only "协助执法机关应当及时回复《协助执法复函》" and, for a request by phone,
    "情况特别时可以采取电话或口头方式提请协助的事项" (the letter follows, no limit given); FY,
    HL, SL and HC name the duty (执法协助) without a limit. The defaults are the project's."""

    reply_limit_working_days: PositiveInt = 5
    """Working days for the reply letter (复函) to a non-urgent request: CQ 三(三) "及时回复";
    default 5, as the other written answers between agencies (DOMAIN §0: acceptance FY (四)1
    5 wd, information query CQ 四(一) 5 wd). Urgent requests are helped at once (CQ 三(三):
    "应当立即实施协助执法")."""
    letter_after_phone_working_days: PositiveInt = 2
    """Working days after a request by phone within which the written request letter
    (协助执法函) follows: CQ 三(三) allows the phone "情况特别时" and gives no limit; default 2."""
    mediation_limit_working_days: PositiveInt = 10
    """Working days for the legal office (政府法制机构) to settle a disputed refusal (调处,
    R-AST-02; CQ 三(三) "提请政府法制机构协调处理" gives no limit, nor does DOMAIN.md): a
    **project default**, to be confirmed with the district (issue 14: a request in mediation
    has a running clock and an owner, the mediating office)."""


class RoutineMeeting(PolicyModel):
    """A consultation meeting held on a schedule (R-MTG-01)."""

    name: Slug
    """Identifier, e.g. ``consultation``."""
    name_zh: Text
    """Name in the seed, e.g. 例行会议."""
    recurrence: Recurrence
    """How often it is held."""
    convened_by_zh: Text
    """Who calls it."""
    source: Text
    """Seed passage."""
    convener_kind: ConvenerKind = "coordination_body"
    """Which agencies convene it (each agency of this kind owes one meeting per period, and
    is reminded when none is scheduled in time): FY (四)3 例行会议由业务主管部门召集 →
    ``department``; HC #11 the platform → ``coordination_body`` (the default)."""


class MeetingPolicy(PolicyModel):
    """Consultation meetings: notice and RSVP lead times, routine meetings (R-MTG-01)."""

    notice_lead_working_days: PositiveInt
    """Notice sent this many working days before (CQ 四(二): 召开前5个工作日; default 5)."""
    rsvp_lead_working_days: PositiveInt
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
        problems += duplicates("routine", [m.name for m in self.routine], "name")
        check(problems)
        return self


class JointEnforcementPolicy(PolicyModel):
    """Joint enforcement (R-JNT-04, R-JNT-05)."""

    task_report_limit_working_days: PositiveInt
    """A cooperating agency reports a task within this many working days after its deadline
    (CQ 三(二): 期限届满后5个工作日内; default 5)."""
    inspect_once_window_days: PositiveInt
    """Calendar days within which a second inspection of the same target by another agency
    raises a warning (综合查一次, HC #5, CQ). No seed gives a number: project default."""
    rejected_inability_reported_to_government: Bool = False
    """Whether the lead must report a rejected written inability to the government (CQ 三(二):
    "法定事由不成立的，应当向市政府报告"); elsewhere it may (R-JNT-04)."""
    inability_decision_limit_working_days: PositiveInt = 5
    """Working days for the lead to accept or reject a written inability (R-JNT-04; CQ 三(二)
    gives no limit, nor does DOMAIN.md): a **project default**, the 5 working days the seeds
    give the other written answers (DOMAIN §0), to be confirmed with the district (issue 14:
    a stated inability has a running clock and an owner, the lead)."""


class DelegationPolicy(PolicyModel):
    """Delegation of powers to townships (R-CAT-02)."""

    transition_period_months: NonNegativeInt
    """Months after delegation during which the department stays responsible, and cases open
    at its end stay with it (HC #12: 3个月过渡期). 0: no transition period."""


class LadderStep(PolicyModel):
    """One step of the jurisdiction-dispute ladder (R-DSP-02)."""

    step: PositiveInt
    """Position in the ladder, 1 = first."""
    name: Slug
    """Identifier, e.g. ``negotiation``."""
    name_zh: Text
    """Name of the step in the seed's words."""
    decided_by: Text
    """Body that resolves the dispute at this step (English)."""
    decided_by_zh: Text
    """The same body as the seed names it."""
    time_limit_working_days: PositiveInt
    """Working days the step may take before the dispute goes up. No seed gives these
    numbers: project defaults unless the YAML comment says otherwise."""
    source: Text
    """Seed passage."""
    advisory: Bool = False
    """The step's body only gives an opinion (处理意见) that goes to the next step; it cannot
    bind (FY (四)5: 市委编办和市司法局提出处理意见, then 报市依法治市委员会作出决定)."""


class DisputePolicy(PolicyModel):
    """Jurisdiction disputes (R-DSP-01, R-DSP-02)."""

    interim_handler_required: Bool = True
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
        problems += duplicates("ladder", [s.name for s in self.ladder], "name")
        if self.ladder and self.ladder[-1].advisory:
            problems.append(
                (
                    f"ladder[{len(self.ladder) - 1}].advisory",
                    "the last step decides: it cannot be advisory (someone must bind)",
                )
            )
        check(problems)
        return self


class OnSitePolicy(PolicyModel):
    """On-site dispatch for urgent cases and hazards (R-REF-15). The limit is the policy's
    ``immediately`` hours (DOMAIN §0: SL 三(四) "立即派员到达现场", HL 四(四) "立即派行政执法
    人员进行处理")."""

    report_unhandled_to_government: Bool = False
    """HL 四(四): "对接到通知后不能说明理由又拒不处理的，乡镇街道应立即向华龙区人民政府报告";
    the other seeds have no such report (default false)."""


class CorrectionPolicy(PolicyModel):
    """Correction opinions (纠正意见, R-NTF-05; HL 三(二) "及时提出纠正意见，并抄送华龙区
    司法局")."""

    response_limit_working_days: PositiveInt = 5
    """Working days for the township's reply on what it corrected. No seed gives one: default
    5, as the other written answers between agencies (DOMAIN §0)."""


class ParticipationPolicy(PolicyModel):
    """Written participation notices (R-NTF-06; FY (三)2 "情况紧急的也可先电话通知，事后补办
    书面手续")."""

    written_after_phone_working_days: PositiveInt = 2
    """Working days after an emergency phone notice within which the writing follows. FY gives
    no limit ("事后补办"): default 2, as the assistance letter after a phone request."""


class JointRulingPolicy(PolicyModel):
    """Joint ruling on a unit that fails to carry out a ruling or task (R-SUP-04; HC #11
    "启动联合裁定程序，并向纪委监委、组织部移交线索")."""

    decide_limit_working_days: PositiveInt = 10
    """Working days the platform has to rule once it started. HC gives none: project default."""


class DispatchEscalationPolicy(PolicyModel):
    """Who a late dispatch step escalates to (R-GRD-01 with R-SUP-02). The first step always
    goes to the leader of the township whose platform dispatched it (a team's clock never
    escalates only to the team); the next goes to the agency of ``agency_kind``. When each
    step fires is the district's ``reminders.escalation`` ladder (``after_hours``: the
    dispatch limits are clock hours), the same as for every other clock."""

    agency_kind: Literal["justice_bureau", "coordination_body", "government"] = "justice_bureau"
    """The kind of agency (R-AG-01) of the second step. HC #3/#10: the district's
    comprehensive enforcement platform (区级综合执法平台办公室, a coordination body) oversees
    the townships' platforms; the other seeds have no grid dispatch, so the default is the
    justice bureau, as their other clocks' supervising body."""
    agency_id: Slug | None = None
    """The agency of the second step, by its id in the register, where the seed names the
    body (HC #3/#10: 区级综合执法平台办公室). It must be of ``agency_kind`` (checked when
    coordination starts and finds it registered, and by notify before escalating to it).
    None: the first registered agency of ``agency_kind`` (the labelled default)."""
    to_zh: Text = "区司法局（项目默认）"
    """The body as officials name it."""


class DispatchPhotoPolicy(PolicyModel):
    """Photos of a dispatch (R-GRD-01: "photos as materials"): what an upload may be. No seed
    gives a number; both are project defaults, the size well under the referral's material cap
    (200 MiB) since a phone photo is a few MiB."""

    max_bytes: PositiveInt = 20 * 1024 * 1024
    """Largest photo accepted, in bytes. Default (20 MiB)."""
    media_types: list[Text] = Field(
        default_factory=lambda: ["image/jpeg", "image/png", "image/heic", "image/webp"]
    )
    """Media types accepted. Default: the formats phone cameras write."""


class DispatchPolicy(PolicyModel):
    """Grid dispatch: the limit of each step in clock hours (R-GRD-01). HC #10 asks for a
    "快速反应渠道" ("镇(街道)派单、执法队接单"、"网格员呼叫、执法队报到") and gives no number;
    no other seed has the mechanism. Every number is a project default, counted in clock hours
    (``mode`` clock) like the other urgent clocks (DOMAIN §0)."""

    mode: Literal["hours"] = "hours"
    """How the limits count: clock hours (holidays do not stop them)."""
    dispatch_limit_hours: PositiveInt = 2
    """Hours for the platform to dispatch a reported or returned problem (派单). Default."""
    accept_limit_hours: PositiveInt = 1
    """Hours for the team to accept (接单). Default."""
    arrive_limit_hours: PositiveInt = 2
    """Hours after accepting for the team to arrive on site (报到). Default."""
    handle_limit_hours: PositiveInt = 24
    """Hours after arriving for the team to report what it did (处置). Default."""
    escalation: DispatchEscalationPolicy = Field(default_factory=DispatchEscalationPolicy)
    """Who a late step escalates to (R-GRD-01, R-SUP-02)."""
    photos: DispatchPhotoPolicy = Field(default_factory=DispatchPhotoPolicy)
    """Size and media types of a photo upload (defaults)."""


class CoordinationPolicy(PolicyModel):
    """The coordination service's sections of a district policy (the file's other sections
    are the kernel's and the other services')."""

    model_config = ConfigDict(extra="ignore")

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
    delegation: DelegationPolicy
    """R-CAT-02."""
    dispute: DisputePolicy
    """R-DSP-01, R-DSP-02."""
    on_site: OnSitePolicy = Field(default_factory=OnSitePolicy)
    """R-REF-15 (optional in a file: the report flag defaults to false)."""
    correction: CorrectionPolicy = Field(default_factory=CorrectionPolicy)
    """R-NTF-05 (optional: the limit is a default)."""
    participation: ParticipationPolicy = Field(default_factory=ParticipationPolicy)
    """R-NTF-06 (optional: the limit is a default)."""
    joint_ruling: JointRulingPolicy = Field(default_factory=JointRulingPolicy)
    """R-SUP-04 (optional: the limit is a project default)."""
    dispatch: DispatchPolicy = Field(default_factory=DispatchPolicy)
    """R-GRD-01 (optional: every limit is a project default)."""


SECTIONS: frozenset[str] = frozenset(CoordinationPolicy.model_fields)
"""The top-level keys of a policy file that belong to this service."""


def policy_of(policy: DistrictPolicy) -> CoordinationPolicy:
    """The coordination sections of ``policy``'s file, validated once (a :class:`PolicyError`
    naming the file and the field path if one is wrong)."""
    return sections_of(policy, CoordinationPolicy)
