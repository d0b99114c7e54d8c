"""The referral service's sections of the district policy: sending a referral (``send``,
R-REF-04), the receiver's written acceptance (``acceptance``, R-REF-06, R-REF-07) and the
report of the handling result (``result_report``, R-REF-08).

They sit in the district's one YAML file next to the kernel's shared sections
(:mod:`kernel.policy`) and the other services'; :func:`policy_of` validates them from that
file with the same messages (file name and dotted field path) as every other section, e.g.
``fuyuan.yaml: send.extension_max_working_days: must be ≥ send.limit_working_days (5), got 3``.
Field docstrings cite the seed passage (see :mod:`kernel.policy` for the codes).
"""

from __future__ import annotations

from pydantic import ConfigDict, Field, model_validator

from kernel.policy import DistrictPolicy, sections_of
from kernel.policy_base import Bool, PolicyModel, PositiveInt, Text, check

__all__ = [
    "SECTIONS",
    "AcceptancePolicy",
    "CrimeTransferPolicy",
    "ReferralPolicy",
    "ResultReportPolicy",
    "SendPolicy",
    "SupervisionPolicy",
    "UrgentClock",
    "policy_of",
]


class ResultReportPolicy(PolicyModel):
    """The receiver reports the handling result back to the sender (处理结果通报, R-REF-08).

    No seed gives a limit. The Administrative Penalty Law (《中华人民共和国行政处罚法》, 2021)
    art. 60 gives 90 days from filing a case to the decision: the project's default, counted
    in days (日) from the written acceptance, the last day rolled over past a holiday
    (DOMAIN §0)."""

    limit_days: PositiveInt = 90
    """Calendar days (日), not working days."""
    basis_zh: Text = "行政处罚法第六十条；项目默认"
    """Where the number comes from, as the clock's rule cites it."""


class CrimeTransferPolicy(PolicyModel):
    """The crime route's limits (R-REF-10, R-REF-14): State Council Decree 310,
    《行政执法机关移送涉嫌犯罪案件的规定》 (2001, revised 2020). Law, not district practice, so
    the same in every district; kept in the file with their source (DOMAIN §0). "Days" (日) are
    calendar days whose last day rolls over past a holiday; the transfer limit is clock hours.
    """

    head_decision_days: PositiveInt = 3
    """第五条: the agency head approves or refuses within 3 days of the written report."""
    transfer_hours: PositiveInt = 24
    """第五条: an approved transfer reaches public security within 24 hours (clock time)."""
    police_decision_days: PositiveInt = 3
    """第八条: public security decides 立案 / 不立案 within 3 days of receiving the case and
    tells the agency in writing (不立案 with its reasons)."""
    reconsideration_request_days: PositiveInt = 3
    """第九条: the agency may ask for reconsideration (复议) within 3 days of the 不立案 notice."""
    reconsideration_answer_days: PositiveInt = 3
    """第九条: public security answers the reconsideration within 3 days."""
    supervision_request_days: PositiveInt = 3
    """第九条: an agency still disagreeing asks the procuratorate to supervise (立案监督) within
    3 days of the reconsideration decision."""
    handover_days: PositiveInt = 3
    """第十二条: after 立案 the agency hands over the seized goods and materials within 3 days
    of the 立案 notice."""
    basis_zh: Text = "《行政执法机关移送涉嫌犯罪案件的规定》（国务院令第310号）"
    """The source the clocks' rules cite."""
    supervision_outcome_days: PositiveInt = 30
    """After the procuratorate is asked to supervise (立案监督, 第九条), the transferring agency
    records how it ended within these days (日): the police file the case on the
    procuratorate's notice, or the agency takes 不立案 as final and the administrative case
    reopens. Neither Decree 310 nor DOMAIN.md gives a limit: a **project default**, not law,
    to be confirmed with the district (issue 14: no case without a running clock)."""
    supervision_outcome_basis_zh: Text = "项目默认；立案监督无法定期限"
    """Where ``supervision_outcome_days`` comes from, as the clock's rule cites it."""


class SupervisionPolicy(PolicyModel):
    """督办 (R-REF-13): the receiver of a lingering case answers the 督办 in writing, or acts
    on the case, within this limit; the clock is watched and escalated like the others.

    CQ 四(二) (由市政府或市政府指定的机关依法督办并查处) gives no limit, nor does any other
    seed: 5 working days, the limit the seeds give a written statement (FY (四)1, 受理情况),
    is the project's default and must be confirmed with the district."""

    answer_limit_working_days: PositiveInt = 5
    basis_zh: Text = "项目默认，参照书面告知受理情况的5个工作日（FY (四)1）"
    """Where the number comes from, as the clock's rule cites it."""


class UrgentClock(PolicyModel):
    """The clock for urgent cases: a number of clock hours, or "immediately" (an alert now
    and the policy's ``immediately.limit_hours``)."""

    hours: PositiveInt | None = None
    """Clock hours (FY (四)1, HL 四(一)1: 24 小时)."""
    immediately: Bool = False
    """Act at once (CQ: 立即移送, 不得拖延时间或压案不送): alerted now, due within the
    district's ``immediately.limit_hours``."""

    @model_validator(mode="after")
    def _one_of(self) -> UrgentClock:
        if self.immediately and self.hours is not None:
            check([("hours", "must be absent when {at}immediately is true")])
        if not self.immediately and self.hours is None:
            check([("hours", "required unless {at}immediately is true")])
        return self


class SendPolicy(PolicyModel):
    """Sending a referral to the competent agency (R-REF-04)."""

    limit_working_days: PositiveInt
    """Working days from discovery to send (FY (四)1: 5; HL 四(一)1: 3; CQ: 2; default 5)."""
    extension_max_working_days: PositiveInt
    """Latest send date when extended (FY (四)1: 最长不超过10个工作日). Equal to
    ``limit_working_days`` where the seed allows no extension."""
    extension_requires_prior_notice: Bool = True
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
            check(
                [
                    (
                        "extension_max_working_days",
                        f"must be ≥ {{at}}limit_working_days ({self.limit_working_days}), "
                        f"got {self.extension_max_working_days}",
                    )
                ]
            )
        return self


class AcceptancePolicy(PolicyModel):
    """The receiver's written statement on acceptance (受理情况, R-REF-06, R-REF-07)."""

    may_refuse: Bool
    """Whether the receiver may decline a referral (CQ: 受移送有管辖权的行政机关不得拒绝接受)."""
    limit_working_days: PositiveInt
    """Working days to state acceptance in writing (FY (四)1: 5; default 5)."""
    forward_when_not_competent: Bool = False
    """A receiver without jurisdiction passes the case at once to the competent agency and
    stays responsible until that one accepts (CQ 四(二): 对案件无管辖权的行政机关应当立即将案件
    移送有管辖权的行政机关，不得拖延时间或压案不送; 首接负责). False (FY, HL and the default):
    it declines instead and nobody passes a case on (不得再行移送, R-REF-07)."""


class ReferralPolicy(PolicyModel):
    """The referral service's sections of a district policy (the file's other sections are
    the kernel's and the other services')."""

    model_config = ConfigDict(extra="ignore")

    send: SendPolicy
    """R-REF-04."""
    acceptance: AcceptancePolicy
    """R-REF-06, R-REF-07."""
    result_report: ResultReportPolicy = Field(default_factory=ResultReportPolicy)
    """R-REF-08: days to report the handling result (optional in a file: 90 days, the
    Administrative Penalty Law art. 60)."""
    crime_transfer: CrimeTransferPolicy = Field(default_factory=CrimeTransferPolicy)
    """R-REF-14: Decree 310's limits (optional in a file: the Decree's numbers)."""
    supervision_answer: SupervisionPolicy = Field(default_factory=SupervisionPolicy)
    """R-REF-13: the 督办's own clock (optional in a file: the project default). Not
    ``supervision``: that section is notify's (reminders to the supervising bodies)."""

    def acceptance_limit_working_days(self) -> int | None:
        """Working days for the receiver's written acceptance statement (R-REF-06).

        Always set in the shipped policies (even where the receiver may not refuse, CQ, it
        still states 受理情况); ``None`` is kept in the signature for callers that treat
        "no limit" as "no deadline to watch".
        """
        return self.acceptance.limit_working_days


SECTIONS: frozenset[str] = frozenset(ReferralPolicy.model_fields)
"""The top-level keys of a policy file that belong to this service."""


def policy_of(policy: DistrictPolicy) -> ReferralPolicy:
    """The referral sections of ``policy``'s file, validated once (a :class:`PolicyError`
    naming the file and the field path if one is wrong)."""
    return sections_of(policy, ReferralPolicy)
