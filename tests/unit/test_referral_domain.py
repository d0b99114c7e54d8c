"""Referral aggregate rules that the thin slice already enforces (pure domain, no I/O)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kernel.errors import Forbidden, InvalidState, ValidationFailed
from kernel.policy import load_policy
from kernel.wiring import calendar_for
from referral.application.clocks import ReferralClocks
from referral.domain.complaint import ComplaintStatus, HandoverMode, register_complaint
from referral.domain.errors import MaterialContentMissing
from referral.domain.model import (
    Actor,
    AgencyRef,
    Competence,
    DeadlineInfo,
    Material,
    MaterialKind,
    Referral,
    Status,
    check_competence,
    draft_referral,
)

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
MARKET = AgencyRef("fy-market", "抚远市市场监督管理局", "department", False)
BRIGADE = AgencyRef("fy-market-brigade", "抚远市市场监督管理局执法大队", "department", True)
TOWN = AgencyRef("fy-hancong", "寒葱沟镇人民政府", "township", False)
CENTER = AgencyRef("fy-hancong-center", "寒葱沟镇综合行政执法中心", "township", True)
CLERK = Actor("p1", "李春梅", "fy-market", ("clerk",))
LEADER = Actor("p2", "局长", "fy-market", ("leader",))


def draft(
    sender: AgencyRef | None = MARKET, receiver: AgencyRef | None = TOWN, actor: Actor = CLERK
):
    return draft_referral(
        referral_id="r1",
        sender=sender,
        receiver=receiver,
        sender_id=sender.id if sender else "nobody",
        receiver_id=receiver.id if receiver else "nobody",
        matter_code="330217001",
        title="无证经营",
        facts="未取得营业执照从事经营",
        party="某店",
        place="中心街12号",
        found_at=NOW - timedelta(days=1),
        urgent=False,
        actor=actor,
        at=NOW,
    )


def test_R_AG_01_a_patrol_only_management_centre_sends_but_never_receives() -> None:
    """HC #13: a management centre that only patrols (里口山管理服务中心) passes what it finds
    to the competent agency; a referral can never be addressed to it."""
    centre = AgencyRef("hc-likoushan", "里口山管理服务中心", "management_centre", False)
    with pytest.raises(ValidationFailed) as err:
        draft(receiver=centre)
    assert err.value.field == "receiverId" and "only patrols" in err.value.message
    sent_by_centre = draft(sender=centre, actor=Actor("p9", "巡查员", centre.id, ("clerk",)))
    assert sent_by_centre.sender_id == centre.id and sent_by_centre.receiver_id == TOWN.id


def test_R_AG_02_internal_unit_cannot_send() -> None:
    with pytest.raises(ValidationFailed) as err:
        draft(sender=BRIGADE, actor=Actor("p", "x", BRIGADE.id, ("clerk",)))
    assert err.value.field == "senderId" and "internal unit" in err.value.message


def test_R_AG_02_internal_unit_cannot_receive() -> None:
    with pytest.raises(ValidationFailed) as err:
        draft(receiver=CENTER)
    assert err.value.field == "receiverId"


def test_R_REF_01_referral_goes_to_another_registered_agency() -> None:
    """R-REF-01: a referral goes from one registered agency to another."""
    with pytest.raises(ValidationFailed) as err:
        draft(receiver=None)
    assert err.value.field == "receiverId" and "not registered" in err.value.message
    with pytest.raises(ValidationFailed):
        draft(receiver=MARKET)
    ok = draft()
    assert ok.status is Status.DRAFT and ok.history[0].after is Status.DRAFT


def test_R_REF_03_leader_of_sender_approves_before_sending() -> None:
    r = complete(draft())
    with pytest.raises(InvalidState):
        r.send(CLERK, NOW, None)
    r = r.submit_for_approval(CLERK, NOW)
    # Who approves (a leader of the sender, R-REF-03) is the authorization matrix's rule:
    # tests/unit/test_authz_matrix.py and tests/integration/referral/test_authz_referral.py.
    with pytest.raises(InvalidState):
        r.submit_for_approval(CLERK, NOW)
    r = r.approve(LEADER, NOW)
    deadline = DeadlineInfo("accept", NOW + timedelta(days=7), {})
    sent = r.send(CLERK, NOW, deadline)
    assert sent.status is Status.SENT and sent.accept_deadline is not None
    assert sent.accept_deadline.due == deadline.due and sent.accept_deadline.state == "open"
    actions = [t.action for t in sent.history if not t.action.endswith("material")]
    assert actions == ["draft", "submit", "approve", "send"]
    assert [(t.before, t.after) for t in sent.history][3:] == [
        (Status.DRAFT, Status.PENDING_APPROVAL),
        (Status.PENDING_APPROVAL, Status.APPROVED),
        (Status.APPROVED, Status.SENT),
    ]


def material(kind: MaterialKind, name: str = "x.pdf", stored: bool = True) -> Material:
    return Material(
        f"m-{kind.value}-{name}",
        kind,
        name,
        "application/pdf",
        100,
        "a" * 64,
        "p1",
        NOW,
        f"file-{kind.value}-{name}" if stored else None,
    )


def complete(r: Referral) -> Referral:
    r = r.add_material(material(MaterialKind.TRANSFER_LETTER, "移送函.pdf"), CLERK)
    return r.add_material(material(MaterialKind.SOURCE, "现场检查记录.pdf"), CLERK)


def sent() -> Referral:
    r = complete(draft()).submit_for_approval(CLERK, NOW).approve(LEADER, NOW)
    return r.send(CLERK, NOW, DeadlineInfo("accept", NOW + timedelta(days=7), {}))


TOWN_LEADER = Actor("p4", "镇长", TOWN.id, ("leader",))


def test_R_REF_02_letter_and_source_required_before_submission() -> None:
    r = draft()
    with pytest.raises(ValidationFailed) as err:
        r.submit_for_approval(CLERK, NOW)
    assert err.value.field == "materials"
    r = r.add_material(material(MaterialKind.TRANSFER_LETTER), CLERK)
    r = r.add_material(material(MaterialKind.EVIDENCE, "y.pdf"), CLERK)
    with pytest.raises(ValidationFailed):
        r.submit_for_approval(CLERK, NOW)  # evidence is not a source material
    assert complete(draft()).submit_for_approval(CLERK, NOW).status is Status.PENDING_APPROVAL


def test_R_REF_02_a_letter_recorded_without_its_file_stops_the_send() -> None:
    """Issue 15 item 6 (phantom letters): a declared hash with no stored content does not
    make a letter; refused with the stable code MATERIAL_CONTENT_MISSING, at submission
    and at sending."""
    phantom = draft().add_material(
        material(MaterialKind.TRANSFER_LETTER, "移送函.pdf", stored=False), CLERK
    )
    phantom = phantom.add_material(material(MaterialKind.SOURCE, "现场检查记录.pdf"), CLERK)
    with pytest.raises(MaterialContentMissing) as err:
        phantom.submit_for_approval(CLERK, NOW)
    assert (err.value.code, err.value.field) == ("MATERIAL_CONTENT_MISSING", "materials")
    assert "移送函.pdf" in err.value.message
    approved = complete(draft()).submit_for_approval(CLERK, NOW).approve(LEADER, NOW)
    recorded_only = replace(
        approved,
        materials=(
            *approved.materials,
            material(MaterialKind.EVIDENCE, "照片.pdf", stored=False),
        ),
    )
    with pytest.raises(MaterialContentMissing):
        recorded_only.send(CLERK, NOW, None)


def test_R_REF_07_decline_cites_catalogue_and_names_interim_handler() -> None:
    r = sent()
    with pytest.raises(ValidationFailed) as err:
        r.decline(
            TOWN_LEADER,
            NOW,
            may_refuse=True,
            reasons="非本镇职责",
            catalogue_basis=" ",
            interim_handler=TOWN,
            interim_handler_id=TOWN.id,
        )
    assert err.value.field == "catalogueBasis"
    with pytest.raises(ValidationFailed) as err:
        r.decline(
            TOWN_LEADER,
            NOW,
            may_refuse=True,
            reasons="非本镇职责",
            catalogue_basis="清单第12项",
            interim_handler=CENTER,
            interim_handler_id=CENTER.id,
        )
    assert err.value.field == "interimHandlerId"
    d = r.decline(
        TOWN_LEADER,
        NOW,
        may_refuse=True,
        reasons="非本镇职责",
        catalogue_basis="清单第12项",
        interim_handler=TOWN,
        interim_handler_id=TOWN.id,
    )
    assert d.status is Status.DECLINED and d.decline_info is not None
    assert d.accept_deadline is not None and d.accept_deadline.state == "met"


def test_R_REF_07_receiver_cannot_forward_a_received_referral() -> None:
    origin = sent()
    with pytest.raises(Forbidden) as err:
        draft_referral(
            referral_id="r2",
            sender=TOWN,
            receiver=AgencyRef("fy-wusu", "乌苏镇人民政府", "township", False),
            sender_id=TOWN.id,
            receiver_id="fy-wusu",
            matter_code="330217001",
            title="转送",
            facts="同上",
            party="",
            place="",
            found_at=NOW - timedelta(days=1),
            urgent=False,
            actor=Actor("p5", "x", TOWN.id, ("clerk",)),
            at=NOW,
            origin=origin,
        )
    assert "不得再行移送" in err.value.message


def test_R_CAT_02_check_competence_needs_a_reason_for_another_receiver() -> None:
    c = Competence("fy-market", "not_delegated", "未下放", False, NOW)
    with pytest.raises(ValidationFailed) as err:
        check_competence(c, TOWN.id, "")
    assert err.value.field == "receiverId"
    assert check_competence(c, TOWN.id, "跨区").override_reason == "跨区"
    assert check_competence(c, "fy-market", "").override_reason == ""
    unknown = Competence(None, "unknown_matter", "事项不在清单内", False, NOW)
    with pytest.raises(ValidationFailed) as err:
        check_competence(unknown, TOWN.id, "")
    assert err.value.field == "competenceReason"


def test_R_CMP_02_owner_keeps_complaint_until_the_other_side_consents() -> None:
    c = register_complaint(
        complaint_id="c1",
        agency=MARKET,
        actor=CLERK,
        at=NOW,
        complainant_name="张某",
        complainant_contact="138",
        content="反映占地",
        matter_code="",
        place="",
        township_id=None,
    )
    natres = AgencyRef("fy-natres", "抚远市自然资源局", "department", False)
    c = c.request_handover(CLERK, NOW, natres, natres.id, HandoverMode.MATERIAL, "非本局职责")
    assert c.owner_agency_id == MARKET.id
    refused = c.answer_handover(Actor("p9", "x", natres.id, ("clerk",)), NOW, False, "", "不同意")
    assert refused.status is ComplaintStatus.REGISTERED and refused.owner_agency_id == MARKET.id
    assert refused.notices == ()


def _clocks(district: str) -> ReferralClocks:
    policy = load_policy(district)
    return ReferralClocks(policy, calendar_for(policy))


CHINA = ZoneInfo("Asia/Shanghai")


def test_R_REF_04_chongqing_urgent_referral_is_not_late_when_made() -> None:
    """DOMAIN §0: CQ sends urgent cases "immediately": due 2 clock hours after discovery
    (the policy's limit), not at the moment of discovery."""
    found = datetime(2026, 2, 13, 18, 0, tzinfo=CHINA)
    send = _clocks("chongqing").send(found, urgent=True)
    assert send.due == found + timedelta(hours=2)
    assert found < send.due
    assert "立即移送" in send.rule and "2小时内" in send.rule


def test_R_REF_04_urgent_24_hours_run_across_the_weekend_and_the_spring_festival() -> None:
    """DOMAIN §0: "24 hours" is clock time, holidays and weekends included."""
    fy = _clocks("fuyuan")
    friday = datetime(2026, 2, 13, 18, 0, tzinfo=CHINA)
    assert fy.send(friday, urgent=True).due == datetime(2026, 2, 14, 18, 0, tzinfo=CHINA)
    in_holiday = datetime(2026, 2, 17, 10, 0, tzinfo=CHINA)  # 正月初一
    assert fy.send(in_holiday, urgent=True).due == datetime(2026, 2, 18, 10, 0, tzinfo=CHINA)
    # Not urgent: 5 working days, after the holiday week (the Saturday 14th is a working day).
    assert fy.send(friday, urgent=False).due.date() == datetime(2026, 2, 27).date()


def test_R_REF_08_result_report_is_90_days_rolled_over_past_a_holiday() -> None:
    """R-REF-08 / DOMAIN §0: the result report is due within the policy's days (90, the
    Administrative Penalty Law art. 60, named in the policy), counted in days (日) and
    rolled over when the last day is a holiday — not 2,160 clock hours."""
    fy = _clocks("fuyuan")
    accepted = datetime(2026, 7, 3, 10, 0, tzinfo=CHINA)  # 90 days later: 1 October
    report = fy.report(accepted, "fy-hancong")
    assert report.due == datetime(2026, 10, 8, 23, 59, 59, tzinfo=CHINA)
    assert report.rule == "自受理之日起90日内通报处理结果（行政处罚法第六十条；项目默认）"
    assert report.responsible_agency_id == "fy-hancong"
    assert "顺延至10月8日" in fy.explain(report)
    # 90 days from Monday 2 March end on Sunday 31 May: rolled over to Monday 1 June.
    weekend = fy.report(datetime(2026, 3, 2, 10, 0, tzinfo=CHINA), "fy-hancong")
    assert weekend.due == datetime(2026, 6, 1, 23, 59, 59, tzinfo=CHINA)
