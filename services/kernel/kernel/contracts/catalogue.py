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

    Order of precedence: a binding routing rule (R-CAT-04, R-DSP-03); a case that may end in
    a major penalty stays with the department (R-CAT-03); a matter not delegated to the
    township stays with the department (R-CAT-02); during the transition period, and for
    cases the department opened before the delegation took effect, the department stays
    responsible (R-CAT-02); an agreement past its term returns the power; otherwise the
    township.
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
    if rules:
        # The most specific (place-bound) and then the most recent ruling wins.
        rule = max(rules, key=lambda r: (r.township_id is not None, r.effective_from))
        return Resolution(
            rule.responsible_agency_id,
            "routing_rule",
            f"依据争议处理结果确定（{rule.basis or rule.rule_id}）",
            rule.rule_id,
        )
    if major_penalty:
        return Resolution(
            dept, "major_penalty", "可能作出重大行政处罚，仍由原业务主管部门承办（R-CAT-03）"
        )
    delegation = next((d for d in entry.delegations if d.township_id == township_id), None)
    if delegation is None or delegation.effective_from > on:
        return Resolution(
            dept, "not_delegated", "该事项未下放至该乡镇，由原业务主管部门承办（R-CAT-02）"
        )
    if delegation.expires_on is not None and on > delegation.expires_on:
        return Resolution(dept, "agreement_expired", "委托协议期限已届满，由原业务主管部门承办")
    if delegation.transition_until is not None and on <= delegation.transition_until:
        return Resolution(
            dept,
            "transition_period",
            f"下放过渡期内（至{delegation.transition_until.isoformat()}），由原业务主管部门承办（R-CAT-02）",
        )
    # Cases the department opened before the power moved (or during the transition) and
    # that are still open stay with it (HC #12).
    if case_opened_on is not None and (
        case_opened_on < delegation.effective_from
        or (
            delegation.transition_until is not None
            and case_opened_on <= delegation.transition_until
        )
    ):
        return Resolution(
            dept,
            "opened_before_delegation",
            "下放前或过渡期内已立案的案件仍由原业务主管部门办结（R-CAT-02）",
        )
    how = "赋权" if delegation.mode == "decision" else "委托"
    return Resolution(
        township_id,
        "delegated",
        f"该事项已{how}至该乡镇（自{delegation.effective_from.isoformat()}起）",
    )
