"""The catalogue's reservations as pure rules (issue 15, item 5; R-CAT-02…05): the shared
resolver's order, the Huancui major-penalty list with its fine boundary, the law's penalty
kinds, and the competence check a stated reason cannot get around."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from kernel.contracts.catalogue import CatalogueEntryV1, DelegationV1, RoutingRuleV1, resolve
from kernel.errors import ValidationFailed
from kernel.policy import load_policy
from referral.domain.model import Competence, check_competence
from referral.domain.model.penalties import canonical_penalty_kinds, normalize_penalty_kinds

HC = load_policy("huancui").major_penalty
ON = date(2026, 11, 30)


def _entry(*rules: RoutingRuleV1, delegation: DelegationV1 | None = None) -> CatalogueEntryV1:
    return CatalogueEntryV1(
        code="HC-1",
        name="无证经营",
        original_department_id="hc-market",
        delegations=[
            delegation
            or DelegationV1(
                township_id="hc-zhangcun",
                mode="decision",
                effective_from=date(2026, 6, 1),
                transition_until=date(2026, 8, 31),
            )
        ],
        routing_rules=list(rules),
        version=1,
    )


def _rule(exception: bool = False, dispute: str | None = "d1") -> RoutingRuleV1:
    return RoutingRuleV1(
        rule_id="r1",
        responsible_agency_id="hc-zhangcun",
        effective_from=date(2026, 10, 1),
        township_id="hc-zhangcun",
        dispute_id=dispute,
        major_penalty_exception=exception,
    )


def test_R_CAT_03_huancui_fine_boundary_49999_99_is_not_major_50000_is() -> None:
    """HC #13: 罚款5万元以上 — 以上 includes 50,000 itself; one fen below is not major."""
    assert not HC.is_major((), Decimal("49999.99"))
    assert HC.is_major((), Decimal("50000"))
    assert HC.is_major((), 50_000)
    assert not HC.is_major((), 49_999)


@pytest.mark.parametrize(
    "kind",
    [
        "revoke_licence",
        "吊销许可证件",
        "lower_qualification",
        "降低资质等级",
        "order_suspend_production_or_business",
        "责令停产停业",
        "order_close",
        "责令关闭",
        "restrict_practice",
        "限制从业",
    ],
)
def test_R_CAT_03_each_huancui_major_kind_by_code_or_chinese_name(kind: str) -> None:
    assert HC.is_major([kind])


def test_R_CAT_03_ordinary_kinds_are_not_major_and_other_districts_reserve_nothing() -> None:
    assert not HC.is_major(["warning", "罚款", "暂扣许可证件"], 1_000)
    assert not load_policy("fuyuan").major_penalty.is_major(["revoke_licence"], 10**7)


def test_R_CAT_03_penalty_kinds_are_the_laws_and_unknown_ones_are_refused() -> None:
    assert normalize_penalty_kinds(["吊销许可证件", " fine ", "罚款"]) == ("revoke_licence", "fine")
    with pytest.raises(ValidationFailed) as err:
        normalize_penalty_kinds(["警告", "吊销执照"], field="penaltyKinds")
    assert err.value.field == "penaltyKinds.1" and "行政处罚法第九条" in err.value.message
    # Stored records are read as written where unknown (never refused afterwards).
    assert canonical_penalty_kinds(["责令关闭", "旧写法"]) == ("order_close", "旧写法")


def test_R_CAT_03_reservation_ranks_above_a_dispute_rule() -> None:
    entry = _entry(_rule())
    ordinary = resolve(entry, township_id="hc-zhangcun", on=ON)
    assert (ordinary.agency_id, ordinary.reason) == ("hc-zhangcun", "routing_rule")
    major = resolve(entry, township_id="hc-zhangcun", on=ON, major_penalty=True)
    assert (major.agency_id, major.reason) == ("hc-market", "major_penalty")


def test_R_CAT_04_only_the_governments_exception_lifts_the_reservation() -> None:
    entry = _entry(_rule(exception=True, dispute=None))
    r = resolve(entry, township_id="hc-zhangcun", on=ON, major_penalty=True)
    assert (r.agency_id, r.reason, r.rule_id) == ("hc-zhangcun", "routing_rule", "r1")
    # Not before the designation takes effect, and not in another township.
    before = resolve(entry, township_id="hc-zhangcun", on=date(2026, 9, 30), major_penalty=True)
    assert before.reason == "major_penalty"
    other = resolve(entry, township_id="hc-wenquan", on=ON, major_penalty=True)
    assert other.reason == "major_penalty"


def test_R_CAT_02_open_at_the_end_of_the_transition_stays_with_the_department() -> None:
    """HC #12 boundaries: opened on the transition's last day stays; the next day moves."""
    entry = _entry()
    kept = resolve(entry, township_id="hc-zhangcun", on=ON, case_opened_on=date(2026, 8, 31))
    assert (kept.agency_id, kept.reason) == ("hc-market", "opened_before_delegation")
    moved = resolve(entry, township_id="hc-zhangcun", on=ON, case_opened_on=date(2026, 9, 1))
    assert (moved.agency_id, moved.reason) == ("hc-zhangcun", "delegated")
    during = resolve(entry, township_id="hc-zhangcun", on=date(2026, 8, 31))
    assert during.reason == "transition_period"


def test_R_REF_11_without_a_transition_period_open_cases_go_with_the_power() -> None:
    """FY (四)1: no transition (policy.delegation 0 months) — a case opened before the
    delegation is the township's now, so the bulk move takes it."""
    entry = _entry(
        delegation=DelegationV1(
            township_id="hc-zhangcun", mode="decision", effective_from=date(2026, 6, 1)
        )
    )
    r = resolve(entry, township_id="hc-zhangcun", on=ON, case_opened_on=date(2026, 5, 1))
    assert (r.agency_id, r.reason) == ("hc-zhangcun", "delegated")


def test_R_CAT_05_an_entrustment_routes_only_from_its_approval() -> None:
    pending = DelegationV1(
        township_id="hc-zhangcun",
        mode="agreement",
        effective_from=date(2026, 1, 1),
        expires_on=date(2027, 12, 31),
        reviewed_on=date(2026, 11, 2),
    )
    r = resolve(_entry(delegation=pending), township_id="hc-zhangcun", on=ON)
    assert (r.agency_id, r.reason) == ("hc-market", "entrustment_pending")
    approved = pending.model_copy(update={"approved_on": ON})
    r = resolve(_entry(delegation=approved), township_id="hc-zhangcun", on=ON)
    assert (r.agency_id, r.reason) == ("hc-zhangcun", "delegated")
    r = resolve(_entry(delegation=approved), township_id="hc-zhangcun", on=date(2026, 11, 29))
    assert r.reason == "entrustment_pending"


def test_R_CAT_03_a_stated_reason_covers_a_mismatch_but_never_the_reservation() -> None:
    at = datetime(2026, 11, 30, tzinfo=UTC)
    ordinary = Competence("hc-zhangcun", "delegated", "已赋权", False, at)
    assert check_competence(ordinary, "hc-market", "区级重点对象").override_reason == "区级重点对象"
    reserved = Competence("hc-market", "major_penalty", "重大行政处罚", True, at)
    with pytest.raises(ValidationFailed) as err:
        check_competence(reserved, "hc-zhangcun", "该镇更熟悉情况")
    assert err.value.field == "receiverId" and "R-CAT-04" in err.value.message
    assert check_competence(reserved, "hc-market", "").reason == "major_penalty"


def test_R_CAT_03_the_reservation_keeps_cases_from_townships_not_between_departments() -> None:
    """A case reserved to the original department may go to another department with a stated
    reason (e.g. a ruling between departments); to a township it never may."""
    at = datetime(2026, 11, 30, tzinfo=UTC)
    reserved = Competence("hc-market", "major_penalty", "重大行政处罚", True, at)
    to_other = check_competence(reserved, "hc-natres", "争议裁定由自然资源局承办", "department")
    assert to_other.override_reason == "争议裁定由自然资源局承办"
    with pytest.raises(ValidationFailed):
        check_competence(reserved, "hc-natres", "", "department")
    with pytest.raises(ValidationFailed):
        check_competence(reserved, "hc-zhangcun", "政府会议决定", "township")
