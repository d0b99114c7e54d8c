"""The matter catalogue as published (事项清单, R-CAT-01) and how it names the responsible
agency (R-CAT-02…04).

Coordination owns the catalogue and publishes every entry's full snapshot as
``catalogue.entry_changed.v1``; services that must check competence (referral) keep a read
model of those snapshots. Reading a snapshot is part of the contract, so the resolution lives
here, once, beside the payload model: coordination's jurisdiction query and referral's
receiver check give the same answer for the same catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from kernel.envelope import EventPayload

__all__ = [
    "CatalogueEntryV1",
    "DelegationV1",
    "Resolution",
    "RoutingRuleV1",
    "resolve",
]


class DelegationV1(BaseModel):
    """A power delegated to one township (赋权 by decision, or 委托 by agreement with a term)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    township_id: str
    mode: Literal["decision", "agreement"]
    effective_from: date
    expires_on: date | None = None
    """Last day of an agreement's term (委托); None for a decision."""
    transition_until: date | None = None
    """Last day of the transition period during which the department stays responsible."""
    reviewed_on: date | None = None
    """R-CAT-05: the day the justice bureau reviewed an entrustment (委托)."""
    approved_on: date | None = None
    """R-CAT-05: the day the government approved an entrustment; it is in force from this day
    (or its ``effective_from``, whichever is later), never before. A decision (赋权) needs
    neither."""


class RoutingRuleV1(BaseModel):
    """A binding ruling added to the catalogue (R-CAT-04, R-DSP-03)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    rule_id: str
    responsible_agency_id: str
    effective_from: date
    township_id: str | None = None
    """The place it applies to; None: everywhere in the district."""
    dispute_id: str | None = None
    basis: str = ""
    """Which agreement, minutes or decision made it (e.g. 会议纪要〔2026〕3号)."""
    major_penalty_exception: bool = False
    """The government's own decision (R-CAT-04 designation) that this agency handles the
    matter even in cases that may end in a major penalty: the only exception to the R-CAT-03
    reservation. A dispute's ruling or a sender's stated reason never sets it."""


class CatalogueEntryV1(EventPayload):
    """Full snapshot of one catalogue entry, published on every change."""

    event_type = "catalogue.entry_changed.v1"

    code: str
    name: str
    original_department_id: str
    legal_basis: str = ""
    penalty_basis: str = ""
    discretion_benchmark: str = ""
    delegations: list[DelegationV1] = Field(default_factory=list)
    routing_rules: list[RoutingRuleV1] = Field(default_factory=list)
    withdrawn: bool = False
    version: int


ResolutionReason = Literal[
    "unknown_matter",
    "routing_rule",
    "major_penalty",
    "not_delegated",
    "delegated",
    "transition_period",
    "opened_before_delegation",
    "agreement_expired",
    "entrustment_pending",
]


@dataclass(frozen=True)
class Resolution:
    agency_id: str | None
    reason: ResolutionReason
    explanation: str
    rule_id: str | None = None


def resolve(
    entry: CatalogueEntryV1 | None,
    *,
    township_id: str,
    on: date,
    major_penalty: bool = False,
    case_opened_on: date | None = None,
) -> Resolution:
    """Who handles this matter at this township on this date.

    Order of precedence:

    1. a case that may end in a major penalty stays with (or goes to) the department
       (R-CAT-03, HC #13) — the reservation ranks above every routing rule; the only exception
       is the government's own designation that says so (R-CAT-04,
       ``major_penalty_exception``), never a dispute's ruling or a sender's stated reason;
    2. a binding routing rule (R-CAT-04, R-DSP-03), the most specific and then the most recent;
    3. a matter not delegated to the township stays with the department (R-CAT-02);
    4. an entrustment (委托) not yet reviewed by the justice bureau and approved by the
       government is not in force (R-CAT-05); one past its term returns the power;
    5. during the transition period the department stays responsible, and where the district
       has one (``transition_until`` set from policy.delegation) so do the cases opened before
       the delegation took effect or during the transition (R-CAT-02, HC #12:
       至过渡期结束时未办结事项，仍由原行政执法部门承担) — ``case_opened_on`` is the case's own
       date (when it was found), which every caller that has a case passes;
    6. otherwise the township.
    """
    if entry is None or entry.withdrawn:
        return Resolution(
            None, "unknown_matter", "事项不在清单内，需由政府或其指定机构确定承办主体（R-CAT-04）"
        )
    dept = entry.original_department_id
    rules = [
        r
        for r in entry.routing_rules
        if r.effective_from <= on and (r.township_id is None or r.township_id == township_id)
    ]
    if major_penalty:
        exceptions = [r for r in rules if r.major_penalty_exception]
        if exceptions:
            rule = _winning(exceptions)
            return Resolution(
                rule.responsible_agency_id,
                "routing_rule",
                f"政府决定重大行政处罚案件亦由其承办（R-CAT-04，{rule.basis or rule.rule_id}）",
                rule.rule_id,
            )
        return Resolution(
            dept, "major_penalty", "可能作出重大行政处罚，仍由原业务主管部门承办（R-CAT-03）"
        )
    if rules:
        rule = _winning(rules)
        return Resolution(
            rule.responsible_agency_id,
            "routing_rule",
            f"依据争议处理结果确定（{rule.basis or rule.rule_id}）",
            rule.rule_id,
        )
    delegation = next((d for d in entry.delegations if d.township_id == township_id), None)
    if delegation is None or delegation.effective_from > on:
        return Resolution(
            dept, "not_delegated", "该事项未下放至该乡镇，由原业务主管部门承办（R-CAT-02）"
        )
    if delegation.expires_on is not None and on > delegation.expires_on:
        return Resolution(dept, "agreement_expired", "委托协议期限已届满，由原业务主管部门承办")
    if delegation.mode == "agreement" and (
        delegation.approved_on is None or delegation.approved_on > on
    ):
        return Resolution(
            dept,
            "entrustment_pending",
            "委托尚未经司法局审查和政府批准，未生效，由原业务主管部门承办（R-CAT-05）",
        )
    if delegation.transition_until is not None and on <= delegation.transition_until:
        return Resolution(
            dept,
            "transition_period",
            f"下放过渡期内（至{delegation.transition_until.isoformat()}），由原业务主管部门承办（R-CAT-02）",
        )
    # A district with a transition period (policy.delegation, HC #12) keeps with the department
    # the cases opened before the power moved or during the transition and still open at its
    # end. A district without one (transition_until None) moves them to the township in bulk
    # (R-REF-11, FY (四)1): there a case's age keeps nothing back.
    if (
        case_opened_on is not None
        and delegation.transition_until is not None
        and case_opened_on <= delegation.transition_until
    ):
        return Resolution(
            dept,
            "opened_before_delegation",
            "下放前或过渡期内已立案、至过渡期结束时未办结的案件仍由原业务主管部门办结"
            "（R-CAT-02，HC #12）",
        )
    how = "赋权" if delegation.mode == "decision" else "委托"
    return Resolution(
        township_id,
        "delegated",
        f"该事项已{how}至该乡镇（自{delegation.effective_from.isoformat()}起）",
    )


def _winning(rules: list[RoutingRuleV1]) -> RoutingRuleV1:
    """The most specific (place-bound) and then the most recent ruling wins."""
    return max(rules, key=lambda r: (r.township_id is not None, r.effective_from))
