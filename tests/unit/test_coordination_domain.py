"""The coordination domain without I/O: catalogue entries and their versions, jurisdiction
answers through the shared resolver, and the dispute aggregate's rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from coordination.application.catalogue import to_contract
from coordination.domain.catalogue import (
    CatalogueEntry,
    DelegationMode,
    RoutingRule,
    define_entry,
    new_content,
    new_delegation,
    transition_end,
)
from coordination.domain.dispute import (
    Actor,
    AgreedMinutes,
    DisputeKind,
    DisputeStatus,
    OutcomeKind,
    StepPlan,
    TransferReason,
    open_dispute,
)
from coordination.domain.model import AgencyKind, Liaison, new_agency
from kernel.contracts.catalogue import resolve
from kernel.errors import Forbidden, InvalidState, ValidationFailed

AT = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def _entry(*delegations: tuple[str, str, date, date | None], months: int = 0) -> CatalogueEntry:
    content = new_content(
        code="FY-ZJ-003",
        name="对随意倾倒建筑垃圾的行政处罚",
        original_department_id="fy-housing",
        legal_basis="《城市建筑垃圾管理规定》第十五条",
        delegations=tuple(
            new_delegation(
                township_id=t, mode=m, effective_from=f, expires_on=e, transition_months=months
            )
            for t, m, f, e in delegations
        ),
    )
    return define_entry(content, actor_id="p1", actor_agency_id="fy-housing", at=AT)


# --------------------------------------------------------------------------- agencies


LIAISON = (Liaison("郑晓东", "0454-5430101"),)


def test_R_AG_01_every_kind_of_agency_is_known_and_unknown_kinds_are_refused() -> None:
    for kind in ("township", "department", "approval_bureau", "justice_bureau",
                 "coordination_body", "government", "public_security", "procuratorate",
                 "court", "management_centre", "discipline_commission",
                 "organisation_department"):  # fmt: skip
        assert new_agency(agency_id="x", name="某机关", kind=kind, district="fuyuan",
                          liaisons=LIAISON).kind == kind  # fmt: skip
    with pytest.raises(ValidationFailed) as err:
        new_agency(agency_id="x", name="某机关", kind="bureau", district="fuyuan", liaisons=LIAISON)
    assert err.value.field == "kind"


def test_R_AG_02_an_internal_unit_names_its_agency_and_does_not_act_externally() -> None:
    with pytest.raises(ValidationFailed) as err:
        new_agency(
            agency_id="c", name="执法中心", kind="township", district="f", internal_unit=True
        )
    assert err.value.field == "parentId"
    # An internal unit names no liaison of its own: it acts through its agency (R-AG-03).
    unit = new_agency(
        agency_id="c", name="执法中心", kind="township", district="f", internal_unit=True,
        parent_id="t",
    )  # fmt: skip
    assert not unit.acts_externally and unit.kind is AgencyKind.TOWNSHIP


def test_R_AG_03_liaisons_have_a_name_and_a_phone() -> None:
    ok = new_agency(
        agency_id="t", name="寒葱沟镇人民政府", kind="township", district="fuyuan",
        liaisons=(Liaison("郑晓东", "0454-5430101", "referral"),
                  Liaison("王", "13800000001", "joint")),
    )  # fmt: skip
    assert [x.duty for x in ok.liaisons] == ["referral", "joint"]
    # A number that cannot be dialled is refused, naming the liaison (issue 15, item 8).
    for phone in ("1", "123456", "n/a", "0454-54301o1"):
        two = (Liaison("郑晓东", "0454-5430101"), Liaison("王", phone))
        with pytest.raises(ValidationFailed) as bad:
            new_agency(agency_id="t", name="镇", kind="township", district="fuyuan", liaisons=two)
        assert bad.value.field == "liaisons.1.phone", phone
    shortest = new_agency(agency_id="t", name="镇", kind="township", district="fuyuan",
                          liaisons=(Liaison("王", "5430101"),))  # fmt: skip
    assert shortest.liaisons[0].phone == "5430101"
    with pytest.raises(ValidationFailed) as err:
        new_agency(agency_id="t", name="镇", kind="township", district="fuyuan",
                   liaisons=(Liaison("郑晓东", " "),))  # fmt: skip
    assert err.value.field == "liaisons.0"


def test_R_AG_03_an_agency_that_acts_externally_cannot_register_without_a_liaison() -> None:
    with pytest.raises(ValidationFailed) as err:
        new_agency(agency_id="t", name="镇", kind="township", district="fuyuan")
    assert err.value.field == "liaisons" and "R-AG-03" in err.value.message
    one = new_agency(agency_id="t", name="镇", kind="township", district="fuyuan",
                     liaisons=(Liaison("王", "5430101"),))  # fmt: skip
    assert len(one.liaisons) == 1


# --------------------------------------------------------------------------- catalogue


def test_R_CAT_01_entry_is_versioned_with_history_and_delegation_modes() -> None:
    entry = _entry(
        ("fy-hancong", "decision", date(2021, 1, 1), None),
        ("fy-wusu", "agreement", date(2024, 1, 1), date(2026, 12, 31)),
    )
    assert entry.catalogue_version == 1 and entry.history[0].change == "created"
    assert "赋权" in entry.history[0].summary_zh and "委托" in entry.history[0].summary_zh
    assert entry.townships_touched(None) == ["fy-hancong", "fy-wusu"]

    revised_content = new_content(
        code="FY-ZJ-003",
        name="对随意倾倒建筑垃圾的行政处罚",
        original_department_id="fy-housing",
        legal_basis="《城市建筑垃圾管理规定》第十五条（2026年修订）",
        delegations=(
            new_delegation(township_id="fy-hancong", mode="decision",
                           effective_from=date(2021, 1, 1), expires_on=None,
                           transition_months=0),
        ),
    )  # fmt: skip
    v2 = entry.revise(revised_content, actor_id="p2", actor_agency_id="fy-housing", at=AT)
    assert v2 is not None and v2.catalogue_version == 2
    assert v2.history[0].snapshot["legal_basis"] == "《城市建筑垃圾管理规定》第十五条"
    assert "实施依据调整" in v2.history[1].summary_zh and "收回fy-wusu" in v2.history[1].summary_zh
    # The township that lost the power is told too (R-NTF-02).
    assert v2.townships_touched(entry) == ["fy-hancong", "fy-wusu"]
    # Defining it again as it is makes no new version.
    assert v2.revise(revised_content, actor_id="p2", actor_agency_id=None, at=AT) is None


def test_R_CAT_01_agreement_needs_a_term_and_decision_has_none() -> None:
    with pytest.raises(ValidationFailed) as err:
        new_delegation(township_id="t", mode="agreement", effective_from=date(2024, 1, 1),
                       expires_on=None, transition_months=0)  # fmt: skip
    assert err.value.field == "delegations.expiresOn"
    with pytest.raises(ValidationFailed):
        new_delegation(township_id="t", mode="decision", effective_from=date(2024, 1, 1),
                       expires_on=date(2025, 1, 1), transition_months=0)  # fmt: skip
    with pytest.raises(ValidationFailed) as err:
        new_delegation(township_id="t", mode="given", effective_from=date(2024, 1, 1),
                       expires_on=None, transition_months=0)  # fmt: skip
    assert err.value.field == "delegations.mode"
    with pytest.raises(ValidationFailed) as err:
        new_content(code="X", name="n", original_department_id="d", legal_basis="")
    assert err.value.field == "legalBasis"


def test_R_CAT_02_resolution_delegated_not_delegated_transition_and_expired_agreement() -> None:
    entry = to_contract(
        _entry(
            ("fy-hancong", "decision", date(2026, 1, 1), None),
            ("fy-wusu", "agreement", date(2024, 1, 1), date(2025, 12, 31)),
            months=3,  # HC #12: 3 months' transition
        )
    )
    assert transition_end(date(2026, 1, 1), 3) == date(2026, 3, 31)
    during = resolve(entry, township_id="fy-hancong", on=date(2026, 3, 31))
    assert (during.agency_id, during.reason) == ("fy-housing", "transition_period")
    after = resolve(entry, township_id="fy-hancong", on=date(2026, 4, 1))
    assert (after.agency_id, after.reason) == ("fy-hancong", "delegated")
    kept = resolve(
        entry, township_id="fy-hancong", on=date(2026, 5, 1), case_opened_on=date(2026, 2, 1)
    )
    assert (kept.agency_id, kept.reason) == ("fy-housing", "opened_before_delegation")
    other = resolve(entry, township_id="fy-yanan", on=date(2026, 5, 1))
    assert (other.agency_id, other.reason) == ("fy-housing", "not_delegated")
    expired = resolve(entry, township_id="fy-wusu", on=date(2026, 5, 1))
    assert (expired.agency_id, expired.reason) == ("fy-housing", "agreement_expired")


def test_R_CAT_03_major_penalty_stays_with_the_department_even_when_delegated() -> None:
    entry = to_contract(_entry(("fy-hancong", "decision", date(2021, 1, 1), None)))
    r = resolve(entry, township_id="fy-hancong", on=date(2026, 5, 1), major_penalty=True)
    assert (r.agency_id, r.reason) == ("fy-housing", "major_penalty")


def test_R_CAT_04_a_ruling_is_added_once_and_wins_over_the_delegation() -> None:
    entry = _entry(("fy-hancong", "decision", date(2021, 1, 1), None))
    rule = RoutingRule(
        "rule-d1", "fy-market", date(2026, 3, 2), "fy-hancong", "d1", "纪要〔2026〕1号"
    )
    moved = entry.add_routing_rule(rule, actor_id="gov", actor_agency_id="fy-gov", at=AT)
    assert moved is not None and moved.catalogue_version == 2
    assert moved.townships_touched(entry) == ["fy-hancong"]
    assert moved.add_routing_rule(rule, actor_id="gov", actor_agency_id="fy-gov", at=AT) is None
    r = resolve(to_contract(moved), township_id="fy-hancong", on=date(2026, 3, 2))
    assert (r.agency_id, r.reason, r.rule_id) == ("fy-market", "routing_rule", "rule-d1")
    unknown = resolve(None, township_id="fy-hancong", on=date(2026, 3, 2))
    assert unknown.agency_id is None and unknown.reason == "unknown_matter"
    assert DelegationMode("agreement") is DelegationMode.AGREEMENT


# --------------------------------------------------------------------------- disputes


def _plan(n: int, body: str, at: datetime = AT) -> StepPlan:
    return StepPlan(n, f"step{n}", f"第{n}步", body, at, at + timedelta(days=7), "", {})


TOWNSHIP = Actor("p-hc", "fy-hancong", ("clerk",))
MARKET = Actor("p-m", "fy-market", ("leader",))
COORD = Actor("p-c", "fy-coord", ("coordinator",))
GOV = Actor("p-g", "fy-gov", ("government",))


def _open(**kw: object) -> object:
    args: dict[str, object] = dict(
        dispute_id="d1",
        kind=DisputeKind.JURISDICTION,
        matter_code="FY-SCJG-001",
        township_id="fy-hancong",
        parties=("fy-hancong", "fy-market"),
        reasons="双方均认为不属于本机关管辖",
        interim_handler_id="fy-hancong",
        interim_handler_required=True,
        first_step=_plan(1, "fy-hancong"),
        actor=TOWNSHIP,
        at=AT,
    )
    args.update(kw)
    return open_dispute(**args)  # type: ignore[arg-type]


def test_R_DSP_01_R_REF_07_a_dispute_names_an_interim_handler_party_or_third_agency() -> None:
    d = _open()
    assert d.status is DisputeStatus.OPEN and d.interim_handler_id == "fy-hancong"  # type: ignore[attr-defined]
    with pytest.raises(ValidationFailed) as err:
        _open(interim_handler_id=None)
    assert err.value.field == "interimHandlerId"
    # R-REF-07 (revised): a third agency may act meanwhile; it used to be refused, and the
    # referral whose decline named one was left with no dispute and no owner.
    third = _open(interim_handler_id="fy-natres")
    assert third.interim_handler_id == "fy-natres"  # type: ignore[attr-defined]
    with pytest.raises(ValidationFailed) as err:
        _open(parties=("fy-hancong",))
    assert err.value.field == "partyIds"
    with pytest.raises(Forbidden):
        _open(actor=Actor("x", "fy-natres", ("clerk",)))


def test_R_DSP_02_escalation_goes_one_step_up_and_only_by_a_party_or_the_body() -> None:
    d = _open()
    up = d.escalate(_plan(2, "fy-coord"), cause="escalated_by_party", actor=MARKET, at=AT)  # type: ignore[attr-defined]
    assert up.current_step.number == 2 and up.steps[0].ended_by == "escalated_by_party"
    with pytest.raises(InvalidState):
        up.escalate(_plan(4, "fy-gov"), cause="escalated_by_party", actor=MARKET, at=AT)
    with pytest.raises(Forbidden):
        up.escalate(
            _plan(3, "fy-justice"),
            cause="escalated_by_party",
            actor=Actor("x", "fy-natres", ()),
            at=AT,
        )
    by_timer = up.escalate(
        _plan(3, "fy-justice"),
        cause="escalated_deadline_missed",
        actor=Actor("system", None),
        at=AT,
    )
    assert by_timer.current_step.decided_by_agency_id == "fy-justice"


def _minutes(
    agreed_by: tuple[str, ...] = ("fy-hancong", "fy-market"), held_at: datetime = AT
) -> AgreedMinutes:
    return AgreedMinutes("m1", "协调会纪要〔2026〕2号", "管辖协调会", agreed_by, held_at)


def test_R_DSP_03_agreement_binds_when_each_partys_leader_confirmed_decision_from_the_body() -> (
    None
):
    d = _open()
    with pytest.raises(Forbidden):
        d.rule(kind=OutcomeKind.DECISION, basis="决定", signatories=(),  # type: ignore[attr-defined]
               responsible_agency_id="fy-market", actor=TOWNSHIP, at=AT)  # fmt: skip
    proposed = d.propose_agreement(basis="协议〔2026〕1号", responsible_agency_id="fy-market",  # type: ignore[attr-defined]
                                   actor=TOWNSHIP, at=AT)  # fmt: skip
    assert proposed.status is DisputeStatus.OPEN and proposed.agreement.revision == 1
    township_leader = Actor("p-hc-l", "fy-hancong", ("leader",))
    half = proposed.confirm_agreement(revision=1, actor=township_leader, at=AT)
    assert half.status is DisputeStatus.OPEN
    ruled = half.confirm_agreement(revision=1, actor=MARKET, at=AT)
    assert ruled.status is DisputeStatus.RULED and ruled.outcome.rule_id == "rule-d1"
    assert ruled.outcome.kind is OutcomeKind.AGREEMENT
    assert ruled.outcome.signatories == ("fy-hancong", "fy-market")
    assert ruled.outcome.basis == "协议〔2026〕1号"
    with pytest.raises(InvalidState):
        ruled.escalate(_plan(2, "fy-coord"), cause="escalated_by_party", actor=MARKET, at=AT)
    up = d.escalate(_plan(2, "fy-coord"), cause="escalated_by_party", actor=MARKET, at=AT)  # type: ignore[attr-defined]
    minutes = up.rule(kind=OutcomeKind.MINUTES, basis="", signatories=(),
                      responsible_agency_id="fy-hancong", actor=COORD, at=AT,
                      minutes=_minutes(("fy-coord", "fy-hancong", "fy-market")))  # fmt: skip
    assert minutes.outcome is not None and minutes.outcome.kind is OutcomeKind.MINUTES
    assert minutes.outcome.basis == "管辖协调会（协调会纪要〔2026〕2号）"
    assert minutes.outcome.signatories == ("fy-coord", "fy-hancong", "fy-market")


def test_issue_16_one_clerk_cannot_settle_a_dispute_alone() -> None:
    """Finding 1 (R-DSP-03): a party's clerk recorded an AGREEMENT whose signatories it typed
    itself, or MINUTES at the negotiation step with no meeting, and the ruling bound the other
    party (a routing rule, the referral moved). Both are refused; nothing changes."""
    d = _open()
    with pytest.raises(ValidationFailed) as err:
        d.rule(kind=OutcomeKind.AGREEMENT, basis="协议〔2026〕1号",  # type: ignore[attr-defined]
               signatories=("fy-hancong", "fy-market"), responsible_agency_id="fy-market",
               actor=TOWNSHIP, at=AT)  # fmt: skip
    assert err.value.field == "outcomeKind"
    with pytest.raises(ValidationFailed) as err:
        d.rule(kind=OutcomeKind.MINUTES, basis="协商纪要〔2026〕1号",  # type: ignore[attr-defined]
               signatories=("fy-hancong", "fy-market"), responsible_agency_id="fy-market",
               actor=TOWNSHIP, at=AT)  # fmt: skip
    assert err.value.field == "meetingId"
    assert d.status is DisputeStatus.OPEN  # type: ignore[attr-defined]


def test_issue_16_an_agreement_needs_each_partys_leader_on_the_same_revision() -> None:
    """Finding 1: the proposer's clerk cannot confirm; a party's leader confirms once and not
    for the others; a third agency cannot confirm; a new proposal clears confirmations."""
    d = _open().propose_agreement(basis="协议〔2026〕1号", responsible_agency_id="fy-market",  # type: ignore[attr-defined]
                                  actor=TOWNSHIP, at=AT)  # fmt: skip
    with pytest.raises(Forbidden):  # a clerk is not the party's leader
        d.confirm_agreement(revision=1, actor=TOWNSHIP, at=AT)
    with pytest.raises(Forbidden):  # a leader of an agency outside the dispute
        d.confirm_agreement(revision=1, actor=Actor("p-n", "fy-natres", ("leader",)), at=AT)
    once = d.confirm_agreement(revision=1, actor=MARKET, at=AT)
    with pytest.raises(InvalidState):  # one party confirms once, not for the others
        once.confirm_agreement(revision=1, actor=MARKET, at=AT)
    assert once.status is DisputeStatus.OPEN
    with pytest.raises(ValidationFailed) as err:  # an agreement names one of the parties
        once.propose_agreement(basis="协议", responsible_agency_id="fy-natres", actor=MARKET, at=AT)
    assert err.value.field == "responsibleAgencyId"
    with pytest.raises(Forbidden):
        once.propose_agreement(basis="协议", responsible_agency_id="fy-market",
                               actor=Actor("p-n", "fy-natres", ("leader",)), at=AT)  # fmt: skip
    revised = once.propose_agreement(basis="协议〔2026〕2号", responsible_agency_id="fy-hancong",
                                     actor=MARKET, at=AT)  # fmt: skip
    assert revised.agreement is not None and revised.agreement.confirmations == ()
    with pytest.raises(InvalidState) as err:  # the old draft's number
        revised.confirm_agreement(revision=1, actor=Actor("p-hl", "fy-hancong", ("leader",)), at=AT)
    assert err.value.field == "revision"


def test_issue_16_minutes_settle_a_dispute_only_when_every_party_agreed_to_them() -> None:
    """Finding 1, R-MTG-01: the meeting's agreed, issued minutes; every party among those who
    agreed; a meeting held before the dispute does not settle it."""
    d = _open()
    with pytest.raises(ValidationFailed) as err:
        d.rule(kind=OutcomeKind.MINUTES, basis="", signatories=(),  # type: ignore[attr-defined]
               responsible_agency_id="fy-market", actor=TOWNSHIP, at=AT,
               minutes=_minutes(("fy-hancong",)))  # fmt: skip
    assert err.value.field == "meetingId" and "fy-market" in str(err.value)
    with pytest.raises(ValidationFailed) as err:
        d.rule(kind=OutcomeKind.MINUTES, basis="", signatories=(),  # type: ignore[attr-defined]
               responsible_agency_id="fy-market", actor=TOWNSHIP, at=AT,
               minutes=_minutes(held_at=AT - timedelta(days=1)))  # fmt: skip
    assert err.value.field == "meetingId"
    ruled = d.rule(kind=OutcomeKind.MINUTES, basis="", signatories=("typed",),  # type: ignore[attr-defined]
                   responsible_agency_id="fy-market", actor=TOWNSHIP, at=AT,
                   minutes=_minutes())  # fmt: skip
    assert ruled.outcome.signatories == ("fy-hancong", "fy-market")


def test_issue_16_a_ruling_names_a_party_unless_the_government_decides() -> None:
    """Finding 1: a party's clerk could name any agency responsible, and the ruling became a
    catalogue routing rule and moved the referral there."""
    up = _open().escalate(_plan(2, "fy-coord"), cause="escalated_by_party", actor=MARKET, at=AT)  # type: ignore[attr-defined]
    with pytest.raises(ValidationFailed) as err:
        up.rule(kind=OutcomeKind.DECISION, basis="协调决定〔2026〕3号",
                signatories=(), responsible_agency_id="fy-natres",
                actor=COORD, at=AT)  # fmt: skip
    assert err.value.field == "responsibleAgencyId"
    assert up.status is DisputeStatus.OPEN
    # A party named is fine; the government may name another agency (R-CAT-04).
    by_body = up.rule(kind=OutcomeKind.DECISION, basis="协调决定", signatories=(),
                      responsible_agency_id="fy-market", actor=COORD, at=AT)  # fmt: skip
    assert by_body.outcome is not None
    by_gov = up.rule(kind=OutcomeKind.DECISION, basis="抚政决〔2026〕6号", signatories=(),
                     responsible_agency_id="fy-natres", actor=GOV, at=AT)  # fmt: skip
    assert by_gov.outcome is not None and by_gov.outcome.responsible_agency_id == "fy-natres"


def test_R_DSP_04_a_case_transfer_is_decided_by_the_government_and_makes_no_catalogue_rule() -> (
    None
):
    d = _open(
        kind=DisputeKind.TRANSFER_TO_DEPARTMENT,
        interim_handler_id=None,
        transfer_reason=TransferReason.RECUSAL,
        first_step=_plan(4, "fy-gov"),
    )
    with pytest.raises(Forbidden):
        d.rule(kind=OutcomeKind.DECISION, basis="决定", signatories=(),  # type: ignore[attr-defined]
               responsible_agency_id="fy-market", actor=TOWNSHIP, at=AT)  # fmt: skip
    ruled = d.rule(kind=OutcomeKind.DECISION, basis="抚政决〔2026〕5号", signatories=(),  # type: ignore[attr-defined]
                   responsible_agency_id="fy-market", actor=GOV, at=AT)  # fmt: skip
    assert ruled.outcome.responsible_agency_id == "fy-market" and ruled.outcome.rule_id is None


def test_R_REF_12_an_agency_names_its_document_code() -> None:
    """The 机关代字 heading an agency's letter numbers is agency data, checked at registration."""
    from coordination.domain.model import new_agency

    agency = new_agency(
        agency_id="fy-market",
        name="抚远市市场监督管理局",
        kind="department",
        district="fuyuan",
        document_code=" 抚市监 ",
        liaisons=LIAISON,
    )
    assert agency.document_code == "抚市监"
    for bad in ("抚市监〔2026〕", "抚 市", "A1"):
        with pytest.raises(ValidationFailed) as err:
            new_agency(
                agency_id="fy-market",
                name="抚远市市场监督管理局",
                kind="department",
                district="fuyuan",
                liaisons=LIAISON,
                document_code=bad,
            )
        assert err.value.field == "documentCode"
