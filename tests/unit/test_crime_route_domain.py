"""The crime route of State Council Decree 310 (R-REF-10, R-REF-14) over the pure domain and
the policy's clocks: each step's rule, each limit pinned just inside and just outside, a
3-day clock ending in the National Day holiday rolled over, the 24-hour transfer in clock
hours, and a referral drafted straight to the police following the whole route."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kernel.errors import Forbidden, InvalidState, ValidationFailed
from kernel.policy import load_policy
from kernel.wiring import calendar_for
from referral.application.clocks import ReferralClocks
from referral.domain.model import (
    Actor,
    AgencyRef,
    CrimeStage,
    Penalty,
    Referral,
    Route,
    Status,
    draft_referral,
)
from referral.domain.model import crime as route
from referral.policy import policy_of

SH = ZoneInfo("Asia/Shanghai")
MARKET = AgencyRef("fy-market", "抚远市市场监督管理局", "department", False)
TOWN = AgencyRef("fy-hancong", "寒葱沟镇人民政府", "township", False)
POLICE = AgencyRef("fy-police", "抚远市公安局", "public_security", False)
PROCURATORATE = AgencyRef("fy-procuratorate", "抚远市人民检察院", "procuratorate", False)
TOWN_CLERK = Actor("t1", "王芳", "fy-hancong", ("clerk",))
TOWN_LEADER = Actor("t2", "镇长", "fy-hancong", ("leader",))
MARKET_CLERK = Actor("m1", "李春梅", "fy-market", ("clerk",))
MARKET_LEADER = Actor("m2", "局长", "fy-market", ("leader",))
POLICE_CLERK = Actor("p1", "张警官", "fy-police", ("clerk",))
OBSERVER = Actor("j1", "检察官", "fy-procuratorate", ("judicial_observer",))

# Monday 28 Sep 2026; 1-7 Oct is the National Day holiday, 8 Oct the next working day.
MON = datetime(2026, 9, 28, 10, 0, tzinfo=SH)


@pytest.fixture(scope="module")
def clocks() -> ReferralClocks:
    policy = load_policy("fuyuan")
    return ReferralClocks(policy, calendar_for(policy))


def _draft(receiver: AgencyRef, at: datetime = MON) -> Referral:
    return draft_referral(
        referral_id="r1",
        sender=MARKET,
        receiver=receiver,
        sender_id=MARKET.id,
        receiver_id=receiver.id,
        matter_code="330217001",
        title="生产销售伪劣产品",
        facts="涉案金额较大",
        party="某厂",
        place="中心街12号",
        found_at=at - timedelta(days=1),
        urgent=False,
        actor=MARKET_CLERK,
        at=at,
    )


def _accepted(clocks: ReferralClocks, at: datetime = MON) -> Referral:
    """A referral the township accepted (a case it handles, with its report clock)."""
    r = _draft(TOWN, at - timedelta(days=2))
    r = replace(r, status=Status.SENT, sent_at=at - timedelta(days=1))
    return r.accept(TOWN_CLERK, at - timedelta(hours=1), "受理", clocks.report(at, TOWN.id))


def _reported(clocks: ReferralClocks, at: datetime = MON) -> Referral:
    return route.report_suspected_crime(
        _accepted(clocks, at),
        TOWN_CLERK,
        at,
        police=POLICE,
        police_id=POLICE.id,
        reason="涉嫌生产、销售伪劣产品罪",
        head_clock=clocks.crime,
    )


def _transferred(clocks: ReferralClocks, at: datetime = MON) -> Referral:
    r = route.decide_transfer(
        _reported(clocks, at),
        TOWN_LEADER,
        at + timedelta(hours=1),
        approve=True,
        reason="同意移送",
        transfer_clock=clocks.crime,
        report_clock=clocks.report(at, TOWN.id),
    )
    return route.transfer_to_police(
        r,
        TOWN_CLERK,
        at + timedelta(hours=2),
        police=POLICE,
        police_id=POLICE.id,
        reason="",
        police_clock=clocks.crime,
    )


def _not_filed(clocks: ReferralClocks, at: datetime = MON, r: Referral | None = None) -> Referral:
    """不立案 a day after ``at``: of the case transferred at ``at``, or of ``r``."""
    return route.record_police_decision(
        r or _transferred(clocks, at),
        POLICE_CLERK,
        at + timedelta(days=1),
        filed=False,
        note="抚公不立字〔2026〕3号",
        reasons="犯罪事实显著轻微",
        handover_clock=clocks.crime,
        reconsideration_clock=clocks.crime,
    )


def _supervised(clocks: ReferralClocks, at: datetime = MON + timedelta(days=2)) -> Referral:
    """The procuratorate asked to supervise after the 不立案 notice (Decree 310 第九条)."""
    return route.request_supervision(
        _not_filed(clocks),
        TOWN_CLERK,
        at,
        procuratorate=PROCURATORATE,
        procuratorate_id=PROCURATORATE.id,
        reason="应当立案",
        outcome_clock=clocks.crime,
    )


def _open(r: Referral, kind: str):
    c = r.clock(kind)
    assert c is not None and c.state == "open", (kind, r.deadlines)
    return c


def test_R_REF_14_decree_310_limits_live_in_every_policy_with_their_source() -> None:
    """DOMAIN §0: law-based limits are in the policy file, naming their source."""
    for district in ("fuyuan", "shangri-la", "hualong", "chongqing", "huancui"):
        c = policy_of(load_policy(district)).crime_transfer
        assert (c.head_decision_days, c.transfer_hours, c.police_decision_days) == (3, 24, 3)
        assert (c.reconsideration_request_days, c.reconsideration_answer_days) == (3, 3)
        assert (c.supervision_request_days, c.handover_days) == (3, 3)
        assert "国务院令第310号" in c.basis_zh


def test_R_REF_14_head_decision_clock_of_3_days_ending_in_a_holiday_rolls_over(
    clocks: ReferralClocks,
) -> None:
    """A written report on Mon 28 Sep: 3 days end on 1 Oct (National Day) and roll over to
    the end of Thu 8 Oct, the next working day; just inside it is not late, just after it
    is."""
    r = _reported(clocks)
    assert r.status is Status.CRIME_PENDING and r.crime is not None
    assert r.crime.stage is CrimeStage.REPORTED
    head = _open(r, "crime_head_decision")
    assert head.responsible_agency_id == TOWN.id and "第五条" in head.rule
    assert head.due.astimezone(SH).date().isoformat() in ("2026-10-08", "2026-10-09")
    assert head.due.astimezone(SH) > datetime(2026, 10, 8, 23, 59, tzinfo=SH)
    assert not r.is_overdue(head.due) and r.is_overdue(head.due + timedelta(seconds=1))
    assert "10月8日" in clocks.explain(head) or "10月08日" in clocks.explain(head)
    # The report clock stopped while the head decides; no penalty replaces the transfer.
    assert r.clock("report").state == "cancelled"
    with pytest.raises(InvalidState, match="不得以罚代刑"):
        r.record_penalty(TOWN_CLERK, MON, Penalty((), 3000, "寒罚〔2026〕1号", MON))


def test_R_REF_14_three_day_clock_without_holiday_ends_on_the_third_day(
    clocks: ReferralClocks,
) -> None:
    """Just inside / just outside a plain 3-day clock: Mon 14 Sep → end of Thu 17 Sep."""
    at = datetime(2026, 9, 14, 10, 0, tzinfo=SH)
    r = _reported(clocks, at)
    head = _open(r, "crime_head_decision")
    end = datetime(2026, 9, 18, 0, 0, tzinfo=SH)
    assert head.due <= end and head.due > end - timedelta(minutes=1)
    assert not r.is_overdue(datetime(2026, 9, 17, 23, 59, tzinfo=SH))
    assert r.is_overdue(end + timedelta(seconds=1))


def test_R_REF_14_the_head_decides_only_a_leader_of_the_agency(clocks: ReferralClocks) -> None:
    r = _reported(clocks)
    kw = dict(approve=True, reason="", transfer_clock=clocks.crime)
    with pytest.raises(Forbidden, match="正职负责人"):
        route.decide_transfer(r, TOWN_CLERK, MON, report_clock=clocks.report(MON, TOWN.id), **kw)
    with pytest.raises(Forbidden):
        route.decide_transfer(r, MARKET_LEADER, MON, report_clock=clocks.report(MON, TOWN.id), **kw)


def test_R_REF_14_approved_transfer_reaches_the_police_within_24_clock_hours(
    clocks: ReferralClocks,
) -> None:
    """The approval starts a 24-hour clock (clock time, across the holiday: no roll-over)."""
    at = datetime(2026, 9, 30, 15, 0, tzinfo=SH)
    r = route.decide_transfer(
        _reported(clocks, at - timedelta(hours=1)),
        TOWN_LEADER,
        at,
        approve=True,
        reason="同意",
        transfer_clock=clocks.crime,
        report_clock=clocks.report(at, TOWN.id),
    )
    assert r.crime is not None and r.crime.stage is CrimeStage.APPROVED
    assert r.clock("crime_head_decision").state == "met"
    transfer = _open(r, "crime_transfer")
    assert transfer.due == at + timedelta(hours=24) and "小时" in transfer.rule
    assert not r.is_overdue(at + timedelta(hours=24)) and r.is_overdue(
        at + timedelta(hours=24, seconds=1)
    )


def test_R_REF_14_refused_transfer_keeps_the_reasons_and_the_case_goes_on(
    clocks: ReferralClocks,
) -> None:
    r = _reported(clocks)
    kw = dict(approve=False, transfer_clock=clocks.crime, report_clock=clocks.report(MON, TOWN.id))
    with pytest.raises(ValidationFailed, match="记录在案"):
        route.decide_transfer(r, TOWN_LEADER, MON, reason=" ", **kw)
    r = route.decide_transfer(r, TOWN_LEADER, MON, reason="未达追诉标准", **kw)
    assert r.status is Status.ACCEPTED and r.crime is not None
    assert r.crime.stage is CrimeStage.REFUSED and r.crime.head_refusal_reason == "未达追诉标准"
    assert r.clock("crime_head_decision").state == "met"
    assert [d.state for d in r.deadlines if d.kind == "report"] == ["cancelled", "open"]


def test_R_REF_14_without_an_approval_only_a_leader_transfers(clocks: ReferralClocks) -> None:
    r = _accepted(clocks)
    kw = dict(police=POLICE, police_id=POLICE.id, reason="涉嫌犯罪", police_clock=clocks.crime)
    with pytest.raises(Forbidden):
        route.transfer_to_police(r, TOWN_CLERK, MON, **kw)
    r = route.transfer_to_police(r, TOWN_LEADER, MON, **kw)
    assert r.status is Status.CRIME_PENDING and r.crime is not None
    assert r.crime.stage is CrimeStage.TRANSFERRED and r.crime.transferred_at == MON
    assert _open(r, "crime_police_decision").responsible_agency_id == POLICE.id


def test_R_REF_14_police_decide_within_3_days_and_not_filed_says_why(
    clocks: ReferralClocks,
) -> None:
    r = _transferred(clocks)
    assert r.clock("crime_transfer").state == "met"
    police = _open(r, "crime_police_decision")
    assert "第八条" in police.rule and police.responsible_agency_id == POLICE.id
    kw = dict(
        note="抚公不立字〔2026〕3号",
        handover_clock=clocks.crime,
        reconsideration_clock=clocks.crime,
    )
    with pytest.raises(ValidationFailed, match="说明理由"):
        route.record_police_decision(r, POLICE_CLERK, MON, filed=False, reasons="", **kw)
    with pytest.raises(Forbidden):
        route.record_police_decision(r, OBSERVER, MON, filed=False, reasons="轻微", **kw)
    with pytest.raises(Forbidden):
        route.record_police_decision(r, TOWN_CLERK, MON, filed=False, reasons="轻微", **kw)
    nf = _not_filed(clocks)
    assert nf.crime is not None and nf.crime.decision_reasons == "犯罪事实显著轻微"
    assert nf.clock("crime_police_decision").state == "met"
    window = _open(nf, "crime_reconsideration_request")
    assert window.responsible_agency_id == TOWN.id and "复议" in window.rule


def test_R_REF_14_reconsideration_is_answered_within_3_days_then_supervision(
    clocks: ReferralClocks,
) -> None:
    nf = _not_filed(clocks)
    at = MON + timedelta(days=2)
    with pytest.raises(Forbidden):
        route.request_reconsideration(nf, MARKET_CLERK, at, reason="x", answer_clock=clocks.crime)
    r = route.request_reconsideration(
        nf, TOWN_CLERK, at, reason="涉案金额已达追诉标准", answer_clock=clocks.crime
    )
    assert r.crime is not None and r.crime.stage is CrimeStage.RECONSIDERATION
    assert r.clock("crime_reconsideration_request").state == "met"
    answer = _open(r, "crime_reconsideration_answer")
    assert answer.responsible_agency_id == POLICE.id
    r = route.answer_reconsideration(
        r,
        POLICE_CLERK,
        at + timedelta(days=1),
        filed=False,
        note="抚公复字〔2026〕1号",
        reasons="维持不予立案",
        handover_clock=clocks.crime,
        supervision_clock=clocks.crime,
    )
    assert r.crime is not None and r.crime.stage is CrimeStage.UPHELD
    assert r.crime.reconsideration_decision == "not_filed"
    window = _open(r, "crime_supervision_request")
    assert window.responsible_agency_id == TOWN.id
    kw = dict(procuratorate_id="fy-police", reason="应当立案")
    with pytest.raises(ValidationFailed, match="procuratorate"):
        route.request_supervision(
            r, TOWN_CLERK, at, procuratorate=POLICE, outcome_clock=clocks.crime, **kw
        )
    r = route.request_supervision(
        r,
        TOWN_CLERK,
        at + timedelta(days=2),
        procuratorate=PROCURATORATE,
        procuratorate_id=PROCURATORATE.id,
        reason="应当立案",
        outcome_clock=clocks.crime,
    )
    assert r.crime is not None and r.crime.stage is CrimeStage.SUPERVISION
    assert r.crime.procuratorate_id == PROCURATORATE.id
    assert r.clock("crime_supervision_request").state == "met"
    # Issue 14: the case is not left without a clock while the procuratorate supervises:
    # the transferring agency's outcome clock is the one running.
    assert [d.kind for d in r.open_clocks() if d.kind.startswith("crime_")] == [
        "crime_supervision_outcome"
    ]


def test_R_REF_14_after_supervision_the_police_may_still_file(clocks: ReferralClocks) -> None:
    r = _supervised(clocks)
    with pytest.raises(InvalidState):
        route.record_handover(r, TOWN_CLERK, MON, note="x")
    r = route.record_police_decision(
        r,
        POLICE_CLERK,
        MON + timedelta(days=5),
        filed=True,
        note="立案决定书",
        reasons="",
        handover_clock=clocks.crime,
        reconsideration_clock=clocks.crime,
    )
    assert r.crime is not None and r.crime.stage is CrimeStage.FILED
    assert _open(r, "crime_handover").responsible_agency_id == TOWN.id
    # The police filing on the procuratorate's notice ends the supervision: its clock is met.
    assert r.clock("crime_supervision_outcome").state == "met"


def test_R_REF_14_filed_materials_handed_over_within_3_days_then_closed(
    clocks: ReferralClocks,
) -> None:
    r = route.record_police_decision(
        _transferred(clocks),
        POLICE_CLERK,
        MON + timedelta(days=1),
        filed=True,
        note="抚公立字〔2026〕9号",
        reasons="",
        handover_clock=clocks.crime,
        reconsideration_clock=clocks.crime,
    )
    handover = _open(r, "crime_handover")
    assert "第十二条" in handover.rule
    with pytest.raises(ValidationFailed):
        route.record_handover(r, TOWN_CLERK, MON, note=" ")
    r = route.record_handover(r, TOWN_CLERK, MON + timedelta(days=2), note="涉案物品清单")
    assert r.status is Status.CLOSED and r.crime is not None
    assert r.crime.stage is CrimeStage.HANDED_OVER and r.clock("crime_handover").state == "met"
    assert r.open_clocks() == []


def test_R_REF_10_final_not_filed_reopens_the_administrative_case_with_a_new_clock(
    clocks: ReferralClocks,
) -> None:
    r = route.accept_not_filed(
        _not_filed(clocks),
        TOWN_CLERK,
        MON + timedelta(days=2),
        note="依法处罚",
        report_clock=clocks.crime,
    )
    assert r.status is Status.ACCEPTED and r.crime is not None
    assert r.crime.stage is CrimeStage.CLOSED_NOT_FILED
    reports = [d for d in r.deadlines if d.kind == "report"]
    assert [d.state for d in reports] == ["cancelled", "open"] and reports[1].key.endswith("#2")
    assert reports[1].responsible_agency_id == TOWN.id
    assert r.clock("crime_reconsideration_request").state == "met"
    # Now a penalty may be given.
    r = r.record_penalty(TOWN_CLERK, MON, Penalty(("fine",), 3000, "寒罚〔2026〕1号", MON))
    assert r.penalty is not None


def test_R_REF_14_penalties_given_stand_and_a_paid_fine_is_recorded(
    clocks: ReferralClocks,
) -> None:
    """Administrative penalties already given stand; a fine paid counts against a later
    criminal fine (Decree 310 第十一条)."""
    accepted = _accepted(clocks)
    fined = accepted.record_penalty(
        TOWN_CLERK, MON, Penalty(("fine",), 5000, "寒罚〔2026〕2号", MON)
    )
    r = route.transfer_to_police(
        fined,
        TOWN_LEADER,
        MON + timedelta(hours=1),
        police=POLICE,
        police_id=POLICE.id,
        reason="涉嫌犯罪",
        police_clock=clocks.crime,
    )
    assert r.crime is not None and r.crime.penalties_standing == ("寒罚〔2026〕2号",)
    assert r.penalty is not None  # it stands
    kw = dict(decision_number="寒罚〔2026〕2号", receipt="缴款书 0001")
    with pytest.raises(ValidationFailed, match="5000"):
        route.record_fine_paid(r, TOWN_CLERK, MON, amount_yuan=5001, paid_at=MON, **kw)
    with pytest.raises(ValidationFailed):
        route.record_fine_paid(r, TOWN_CLERK, MON, amount_yuan=0, paid_at=MON, **kw)
    with pytest.raises(ValidationFailed, match="future"):
        route.record_fine_paid(
            r, TOWN_CLERK, MON, amount_yuan=10, paid_at=MON + timedelta(days=1), **kw
        )
    with pytest.raises(Forbidden):
        route.record_fine_paid(r, POLICE_CLERK, MON, amount_yuan=5000, paid_at=MON, **kw)
    r = route.record_fine_paid(
        r, TOWN_CLERK, MON + timedelta(hours=2), amount_yuan=5000, paid_at=MON, **kw
    )
    assert r.crime is not None and r.crime.fine_paid is not None
    assert r.crime.fine_paid.amount_yuan == 5000


def test_R_REF_14_a_referral_drafted_straight_to_the_police_follows_the_route(
    clocks: ReferralClocks,
) -> None:
    """Any agency: the market bureau drafts to the police. Submit = the written report (head
    clock), approve = the head's decision (24 h), send = the transfer (police clock, no accept
    clock); the police record 不立案; reconsideration; the procuratorate; reopen returns the
    case to its sender with a new clock."""
    r = _draft(POLICE)
    assert r.route is Route.CRIME
    # (submit / approve / send themselves are the lifecycle's, tested with their materials
    # elsewhere; here only the acts as the history records them.)
    r = r._moved("submit", MARKET_CLERK, MON, Status.PENDING_APPROVAL)
    r = route.follow_direct_transfer(r, clocks.crime) or r
    assert r.crime is not None and r.crime.stage is CrimeStage.REPORTED
    assert _open(r, "crime_head_decision").responsible_agency_id == MARKET.id
    assert route.follow_direct_transfer(r, clocks.crime) is None  # already followed
    r = r.approve(MARKET_LEADER, MON + timedelta(hours=1))
    r = route.follow_direct_transfer(r, clocks.crime) or r
    assert r.crime is not None and r.crime.stage is CrimeStage.APPROVED
    assert r.clock("crime_head_decision").state == "met"
    sent = r._moved("send", MARKET_CLERK, MON + timedelta(hours=3), Status.SENT)
    sent = route.follow_direct_transfer(sent, clocks.crime) or sent
    assert sent.crime is not None and sent.crime.stage is CrimeStage.TRANSFERRED
    assert sent.clock("crime_transfer").state == "met" and sent.clock("accept") is None
    assert _open(sent, "crime_police_decision").responsible_agency_id == POLICE.id
    with pytest.raises(InvalidState, match="立案"):
        sent.accept(POLICE_CLERK, MON, "受理", clocks.report(MON, POLICE.id))
    nf = route.record_police_decision(
        sent,
        POLICE_CLERK,
        MON + timedelta(days=1),
        filed=False,
        note="不予立案通知书",
        reasons="证据不足",
        handover_clock=clocks.crime,
        reconsideration_clock=clocks.crime,
    )
    assert nf.status is Status.CRIME_PENDING
    assert _open(nf, "crime_reconsideration_request").responsible_agency_id == MARKET.id
    back = route.accept_not_filed(
        nf, MARKET_CLERK, MON + timedelta(days=2), note="依法处罚", report_clock=clocks.crime
    )
    assert back.status is Status.ACCEPTED and back.receiver_id == MARKET.id
    assert back.previous_receivers == (POLICE.id,)
    assert _open(back, "report").responsible_agency_id == MARKET.id


def test_R_REF_14_withdrawing_a_crime_referral_cancels_its_clocks(clocks: ReferralClocks) -> None:
    r = _draft(POLICE)._moved("submit", MARKET_CLERK, MON, Status.PENDING_APPROVAL)
    r = route.follow_direct_transfer(r, clocks.crime) or r
    r = r.withdraw(MARKET_LEADER, MON, "撤回")
    assert r.clock("crime_head_decision").state == "cancelled"


def test_R_REF_14_procuratorate_acts_on_nothing(clocks: ReferralClocks) -> None:
    """The procuratorate reads; every act of the route refuses it (changes nothing)."""
    nf = _not_filed(clocks)
    with pytest.raises(Forbidden):
        route.request_reconsideration(nf, OBSERVER, MON, reason="x", answer_clock=clocks.crime)
    with pytest.raises(Forbidden):
        route.accept_not_filed(nf, OBSERVER, MON, note="x", report_clock=clocks.crime)
    with pytest.raises(Forbidden):
        route.request_supervision(
            nf,
            OBSERVER,
            MON,
            procuratorate=PROCURATORATE,
            procuratorate_id="x",
            reason="x",
            outcome_clock=clocks.crime,
        )


def test_R_REF_14_the_head_may_approve_a_report_and_transfer_in_one_act(
    clocks: ReferralClocks,
) -> None:
    r = _reported(clocks)
    kw = dict(police=POLICE, police_id=POLICE.id, reason="", police_clock=clocks.crime)
    with pytest.raises(Forbidden):
        route.transfer_to_police(r, TOWN_CLERK, MON, **kw)
    r = route.transfer_to_police(r, TOWN_LEADER, MON + timedelta(hours=1), **kw)
    assert r.crime is not None and r.crime.stage is CrimeStage.TRANSFERRED
    assert r.crime.head_decided_by == TOWN_LEADER.person_id
    assert r.clock("crime_head_decision").state == "met"
    assert r.crime.reason == "涉嫌生产、销售伪劣产品罪"


def test_R_REF_10_after_a_final_not_filed_new_evidence_can_be_reported_again(
    clocks: ReferralClocks,
) -> None:
    r = route.accept_not_filed(
        _not_filed(clocks),
        TOWN_CLERK,
        MON + timedelta(days=2),
        note="继续调查",
        report_clock=clocks.crime,
    )
    with pytest.raises(InvalidState):
        route.report_suspected_crime(
            _reported(clocks),
            TOWN_CLERK,
            MON,
            police=POLICE,
            police_id=POLICE.id,
            reason="x",
            head_clock=clocks.crime,
        )
    again = route.report_suspected_crime(
        r,
        TOWN_CLERK,
        MON + timedelta(days=30),
        police=POLICE,
        police_id=POLICE.id,
        reason="发现新证据",
        head_clock=clocks.crime,
    )
    assert again.crime is not None and again.crime.stage is CrimeStage.REPORTED
    heads = [d for d in again.deadlines if d.kind == "crime_head_decision"]
    assert [d.state for d in heads] == ["met", "open"] and heads[1].key.endswith("#2")


THREE_DAY_STAGES = [
    (CrimeStage.REPORTED, "第五条"),
    (CrimeStage.TRANSFERRED, "第八条"),
    (CrimeStage.NOT_FILED, "第九条"),
    (CrimeStage.RECONSIDERATION, "第九条"),
    (CrimeStage.UPHELD, "第九条"),
    (CrimeStage.FILED, "第十二条"),
]


@pytest.mark.parametrize(("stage", "article"), THREE_DAY_STAGES)
def test_R_REF_14_each_3_day_clock_ends_on_the_third_day_or_rolls_over_a_holiday(
    clocks: ReferralClocks, stage: CrimeStage, article: str
) -> None:
    """Every Decree 310 "3日" limit: calendar days (日) from the day after the start, the last
    day rolled over past a holiday (DOMAIN §0); just inside it is met, just outside missed."""
    plain = clocks.crime(stage, datetime(2026, 9, 14, 16, 30, tzinfo=SH), "x")
    end = datetime(2026, 9, 18, 0, 0, tzinfo=SH)  # the end of Thu 17 Sep
    assert end - timedelta(minutes=1) < plain.due <= end
    assert article in plain.rule and "小时" not in plain.rule  # escalated in working days
    assert plain.responsible_agency_id == "x" and plain.kind.startswith("crime_")
    # The third day is Thu 1 Oct (National Day): the clock runs to the end of Thu 8 Oct.
    holiday = clocks.crime(stage, MON, "x")
    end = datetime(2026, 10, 9, 0, 0, tzinfo=SH)
    assert end - timedelta(minutes=1) < holiday.due <= end
    r = replace(_draft(TOWN), deadlines=(holiday,))
    assert not r.is_overdue(holiday.due) and r.is_overdue(holiday.due + timedelta(seconds=1))


# -- issue 14: the procuratorate's supervision has an owner and a running clock -----------


def test_R_REF_14_supervision_outcome_clock_is_a_policy_default_in_every_district() -> None:
    """No law gives the procuratorate's supervision (立案监督) a limit: every district's
    policy carries the project default, labelled as such (not a seed fact)."""
    for district in ("fuyuan", "shangri-la", "hualong", "chongqing", "huancui"):
        c = policy_of(load_policy(district)).crime_transfer
        assert c.supervision_outcome_days == 30
        assert c.supervision_outcome_basis_zh.startswith("项目默认")


def test_R_REF_14_supervision_outcome_clock_30_days_owned_by_the_agency_just_inside_outside(
    clocks: ReferralClocks,
) -> None:
    """Asked on Mon 12 Oct 2026 10:00: 30 days (日) end on Wed 11 Nov, a working day, at
    24:00; the transferring agency owns it (it alone can end the supervision in the system:
    accept 不立案, or record the filing the police make on the procuratorate's notice)."""
    at = datetime(2026, 10, 12, 10, 0, tzinfo=SH)
    r = _supervised(clocks, at)
    assert r.status is Status.CRIME_PENDING
    outcome = _open(r, "crime_supervision_outcome")
    assert outcome.responsible_agency_id == TOWN.id
    assert "项目默认" in outcome.rule and "30日" in outcome.rule
    end = datetime(2026, 11, 12, 0, 0, tzinfo=SH)
    assert end - timedelta(minutes=1) < outcome.due <= end
    assert not r.is_overdue(datetime(2026, 11, 11, 23, 59, tzinfo=SH))
    assert r.is_overdue(end + timedelta(seconds=1))


def test_R_REF_14_supervision_outcome_clock_ending_in_a_holiday_rolls_over(
    clocks: ReferralClocks,
) -> None:
    """Asked on Wed 2 Sep 2026: 30 days end on Fri 2 Oct (National Day) and roll over to the
    end of Thu 8 Oct, the next working day (DOMAIN §0)."""
    r = _supervised(clocks, datetime(2026, 9, 2, 10, 0, tzinfo=SH))
    outcome = _open(r, "crime_supervision_outcome")
    assert outcome.due.astimezone(SH) > datetime(2026, 10, 8, 23, 59, tzinfo=SH)
    assert outcome.due.astimezone(SH) <= datetime(2026, 10, 9, 0, 0, tzinfo=SH)


def test_R_REF_14_police_not_filed_again_keeps_the_supervision_clock_running(
    clocks: ReferralClocks,
) -> None:
    """The police record 不立案 again during the supervision: the case still waits on the
    outcome, so its clock keeps running (not met, not restarted); accepting 不立案 ends it."""
    r = _supervised(clocks)
    due = _open(r, "crime_supervision_outcome").due
    r = _not_filed(clocks, MON + timedelta(days=5), r)
    assert r.crime is not None and r.crime.stage is CrimeStage.SUPERVISION
    assert _open(r, "crime_supervision_outcome").due == due
    r = route.accept_not_filed(
        r, TOWN_CLERK, MON + timedelta(days=7), note="依法处罚", report_clock=clocks.crime
    )
    assert r.clock("crime_supervision_outcome").state == "met"
    assert not [d for d in r.open_clocks() if d.kind.startswith("crime_")]


def test_R_REF_07_R_REF_14_stall_check_sees_a_supervision_without_its_clock(
    clocks: ReferralClocks,
) -> None:
    """The stall check reports the procuratorate-supervision state when its clock is
    missing (as every referral before issue 14's fix), and not when it runs."""
    from referral.domain.stalls import stall_of

    r = _supervised(clocks)
    assert stall_of(r) is None
    bare = replace(r, deadlines=tuple(d for d in r.deadlines if d.state != "open"))
    found = stall_of(bare)
    assert found is not None and found.status == "crime_pending"
    assert "no running clock" in found.reason
