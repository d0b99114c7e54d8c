"""On-site dispatch (R-REF-15), correction opinions (R-NTF-05), written participation notices
(R-NTF-06) and the joint ruling with clue transfer (R-SUP-04) through the handlers on both
store adapters: each clock from the district policy, its boundaries (just inside / just
outside), who may act and who is refused, the events that notify turns into inbox notices,
and bad input changing nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from coordination.adapters.duties import (
    CorrectionRepository,
    JointRulingRepository,
    OnSiteRepository,
    ParticipationRepository,
)
from coordination.adapters.joint import JointInspectionLog, JointOperationRepository
from coordination.adapters.repository import (
    CatalogueRepository,
    DisputeRepository,
)
from coordination.application.calendar import CoordinationCalendar
from coordination.application.catalogue import CatalogueHandlers
from coordination.application.disputes import DisputeHandlers, OpenDispute, RuleDispute
from coordination.application.duties import (
    ConfirmParticipation,
    CorrectionHandlers,
    DispatchOnSiteStaff,
    ExplainOnSite,
    IssueCorrectionOpinion,
    JointRulingHandlers,
    NotifyOnSite,
    NotifyParticipation,
    OnSiteHandlers,
    ParticipationHandlers,
    PhoneNoticeInput,
    RecordOnSiteArrival,
    RecordOnSiteHandling,
    ReportOnSiteToGovernment,
    RespondToCorrectionOpinion,
    RuleJointRuling,
    SendParticipationWrittenNotice,
    StartJointRuling,
    TransferClues,
)
from coordination.application.joint import (
    AssignJointTask,
    CommentOnJointPlan,
    DecideJointTaskInability,
    InitiateJointOperation,
    JointHandlers,
    LiaisonInput,
    StartJointOperation,
    StateJointTaskInability,
    SubmitJointPlan,
)
from coordination.contracts.consumed import ReferralSent
from coordination.domain import joint as jnt
from kernel.auth import Principal
from kernel.calendar import SHANGHAI, parse_schedule
from kernel.caller import Caller
from kernel.envelope import new_envelope
from kernel.errors import DomainError, Forbidden, InvalidState, NotFound, ValidationFailed
from kernel.store import DocumentStore
from kernel.wiring import calendar_for
from liandong.policy import load_policy
from tests.fixtures.coordination import StoredDocs, ensure_indexes, seeded_agencies, unchanged
from tests.fixtures.joint import PLAN
from tests.fixtures.schedules import hypothetical_schedule


def _caller(person_id: str, agency_id: str, *roles: str) -> Caller:
    return Caller(Principal(person_id, person_id, agency_id, "fuyuan", roles))


NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Asia/Shanghai
SECOND = timedelta(seconds=1)
TOWNSHIP = _caller("p-t", "fy-hancong", "clerk")
TOWNSHIP_LEADER = _caller("p-tl", "fy-hancong", "leader")
OTHER_TOWNSHIP = _caller("p-n", "fy-nongqiao", "clerk")
MARKET = _caller("p-m", "fy-market", "clerk")
MARKET_LEADER = _caller("p-ml", "fy-market", "leader")
MARKET_REVIEWER = _caller("p-mr", "fy-market", "legal_reviewer")
COORD = _caller("p-c", "fy-coord", "coordinator")
GOV = _caller("p-g", "fy-gov", "government")
OBSERVER = _caller("p-o", "fy-procuratorate", "judicial_observer")


@dataclass
class World:
    store: DocumentStore
    on_site: OnSiteHandlers
    corrections: CorrectionHandlers
    participation: ParticipationHandlers
    rulings: JointRulingHandlers
    disputes: DisputeHandlers
    joint: JointHandlers
    now: list[datetime]

    def at(self, when: datetime) -> None:
        self.now[0] = when

    async def raw(self, collection: str, doc_id: str) -> dict[str, Any]:
        return await StoredDocs(self.store).raw(collection, doc_id)

    async def events(self, collection: str, doc_id: str) -> list[dict[str, Any]]:
        return await StoredDocs(self.store).outbox(collection, doc_id)


async def _world(store: DocumentStore, district: str) -> World:
    """The fuyuan demo agencies under ``district``'s policy (the HL flag is the policy's)."""
    policy = load_policy(district)
    agencies = await seeded_agencies(store)
    now = [NOW]
    common: tuple[Any, ...] = (agencies, policy, calendar_for(policy), "fuyuan")
    kw: dict[str, Any] = {"clock": lambda: now[0]}
    catalogue = CatalogueHandlers(CatalogueRepository(store), agencies, policy, "fuyuan", **kw)
    disputes = DisputeHandlers(DisputeRepository(store), agencies, catalogue, *common[1:], **kw)
    operations = JointOperationRepository(store)
    w = World(
        store,
        OnSiteHandlers(OnSiteRepository(store), *common, **kw),
        CorrectionHandlers(CorrectionRepository(store), *common, **kw),
        ParticipationHandlers(ParticipationRepository(store), *common, **kw),
        JointRulingHandlers(
            JointRulingRepository(store), disputes.disputes, operations, *common, **kw
        ),
        disputes,
        JointHandlers(operations, JointInspectionLog(store), *common, **kw),
        now,
    )
    await ensure_indexes(
        w.on_site.requests,
        w.corrections.opinions,
        w.participation.notices,
        w.rulings.rulings,
        disputes.disputes,
        catalogue.catalogue,
        operations,
    )
    return w


@pytest.fixture
async def world(store: DocumentStore) -> World:
    return await _world(store, "fuyuan")


@pytest.fixture
async def hualong(store: DocumentStore) -> World:
    return await _world(store, "hualong")


async def _unchanged(w: World, collection: str, doc_id: str, call: Any) -> DomainError:
    """``call`` fails with a DomainError and leaves the document exactly as it was."""
    return await unchanged(lambda: w.raw(collection, doc_id), call)


# ------------------------------------------------------------------ R-REF-15 on-site dispatch

HAZARD = NotifyOnSite(
    "fy-hancong",
    "fy-market",
    "hazard",
    "农贸市场液化气罐违规存放，存在爆炸隐患",
    "寒葱沟镇农贸市场",
)


async def test_R_REF_15_the_receiver_is_due_on_site_within_the_policys_immediately_hours(
    world: World,
) -> None:
    r = await world.on_site.notify(HAZARD, TOWNSHIP)
    [clock] = r.clocks
    # "Immediately" (DOMAIN §0): fuyuan's immediately.limit_hours is 2, never 0.
    assert (clock.kind, clock.responsible_agency_id) == ("on_site.dispatch", "fy-market")
    assert clock.due == NOW + timedelta(hours=2) and clock.state == "open"
    [event] = await world.events("on_site_requests", r.id)
    assert event["type"] == "on_site.requested.v1"
    data = event["data"]
    assert data["receiver_id"] == "fy-market" and data["urgent"] is True
    assert data["deadlines"][0]["kind"] == "on_site.dispatch"
    assert "立即" in data["deadlines"][0]["rule"] and "2小时" in data["deadlines"][0]["rule"]


async def test_R_REF_15_staff_sent_at_the_limit_are_in_time_a_second_later_late(
    world: World,
) -> None:
    inside = await world.on_site.notify(HAZARD, TOWNSHIP)
    outside = await world.on_site.notify(HAZARD, TOWNSHIP)
    due = inside.dispatch_clock.due
    world.at(due)
    sent = await world.on_site.dispatch(DispatchOnSiteStaff(inside.id, ("张伟", "刘洋")), MARKET)
    assert sent.status.value == "dispatched" and not sent.late
    assert sent.dispatch_clock.state == "met"
    world.at(due + SECOND)
    late = await world.on_site.dispatch(DispatchOnSiteStaff(outside.id, ("张伟",)), MARKET)
    assert late.late
    events = await world.events("on_site_requests", outside.id)
    assert events[-1]["type"] == "on_site.dispatched.v1" and events[-1]["data"]["late"] is True
    # Arrival, then how it was handled (R-REF-15: the receiver records both).
    arrived = await world.on_site.arrive(RecordOnSiteArrival(inside.id), MARKET)
    assert arrived.arrived_at == due + SECOND
    done = await world.on_site.handle(
        RecordOnSiteHandling(inside.id, "已责令立即清理，现场查扣气罐6个"), MARKET
    )
    assert done.status.value == "handled" and done.handling.startswith("已责令")
    types = [e["type"] for e in await world.events("on_site_requests", inside.id)]
    assert types[-2:] == ["on_site.arrived.v1", "on_site.handled.v1"]


async def test_R_REF_15_who_may_notify_send_staff_and_explain(world: World) -> None:
    # Only the notifier's acting staff notify in its name; the observer never acts.
    for refused in (MARKET, OBSERVER, GOV):
        with pytest.raises(Forbidden):
            await world.on_site.notify(HAZARD, refused)
    r = await world.on_site.notify(HAZARD, TOWNSHIP)
    # Only the receiver sends its staff; the notifier cannot record them for it.
    err = await _unchanged(
        world,
        "on_site_requests",
        r.id,
        world.on_site.dispatch(DispatchOnSiteStaff(r.id, ("张伟",)), TOWNSHIP),
    )
    assert isinstance(err, Forbidden)
    # 说明理由 is the receiver's leader's (or liaison's), not a clerk's.
    await _unchanged(
        world,
        "on_site_requests",
        r.id,
        world.on_site.explain(ExplainOnSite(r.id, "非本局职责"), MARKET),
    )
    explained = await world.on_site.explain(
        ExplainOnSite(r.id, "液化气安全属应急管理部门职责"), MARKET_LEADER
    )
    assert explained.status.value == "explained" and explained.dispatch_clock.state == "met"
    # Bad input: an unknown situation, the receiver not registered, no staff named.
    with pytest.raises(ValidationFailed) as bad:
        await world.on_site.notify(
            NotifyOnSite("fy-hancong", "fy-market", "fire", "火情", "某地"), TOWNSHIP
        )
    assert bad.value.field == "situation"
    with pytest.raises(ValidationFailed) as bad:
        await world.on_site.notify(
            NotifyOnSite("fy-hancong", "fy-nowhere", "hazard", "隐患", "某地"), TOWNSHIP
        )
    assert bad.value.field == "receiverId"
    # The police and the justice bureau send no enforcement staff on site here.
    for receiver in ("fy-police", "fy-justice"):
        with pytest.raises(ValidationFailed) as bad:
            await world.on_site.notify(
                NotifyOnSite("fy-hancong", receiver, "hazard", "隐患", "某地"), TOWNSHIP
            )
        assert bad.value.field == "receiverId" and "expected" in str(bad.value)
    other = await world.on_site.notify(HAZARD, TOWNSHIP)
    err = await _unchanged(
        world,
        "on_site_requests",
        other.id,
        world.on_site.dispatch(DispatchOnSiteStaff(other.id, (" ",)), MARKET),
    )
    assert err.field == "staff"


async def test_R_REF_15_hualong_reports_to_the_government_only_after_the_limit_lapsed_unmet(
    hualong: World,
) -> None:
    w = hualong
    r = await w.on_site.notify(HAZARD, TOWNSHIP)
    due = r.dispatch_clock.due
    report = ReportOnSiteToGovernment(r.id, "请区政府督促处理")
    # Just inside the limit: nothing to report yet.
    w.at(due)
    err = await _unchanged(
        w, "on_site_requests", r.id, w.on_site.report_to_government(report, TOWNSHIP)
    )
    assert isinstance(err, InvalidState) and "lapsed" in str(err)
    # Just outside: the notifier reports; the receiver and the government cannot.
    w.at(due + SECOND)
    for refused in (MARKET_LEADER, GOV, OBSERVER):
        err = await _unchanged(
            w, "on_site_requests", r.id, w.on_site.report_to_government(report, refused)
        )
        assert isinstance(err, Forbidden)
    reported = await w.on_site.report_to_government(report, TOWNSHIP)
    assert reported.report is not None and reported.report.government_id == "fy-gov"
    event = (await w.events("on_site_requests", r.id))[-1]
    assert event["type"] == "on_site.reported_to_government.v1"
    assert (
        event["data"]["government_id"] == "fy-gov" and event["data"]["receiver_id"] == "fy-market"
    )
    # Once is enough; and the government now reads the request it was told of.
    await _unchanged(w, "on_site_requests", r.id, w.on_site.report_to_government(report, TOWNSHIP))
    assert await w.on_site.visible(r.id, _caller("p-g2", "fy-gov", "clerk")) is not None


async def test_R_REF_15_no_report_when_the_receiver_explained_in_time_or_outside_hualong(
    hualong: World, world: World
) -> None:
    r = await hualong.on_site.notify(HAZARD, TOWNSHIP)
    due = r.dispatch_clock.due
    hualong.at(due)
    await hualong.on_site.explain(ExplainOnSite(r.id, "属应急管理部门职责"), MARKET_LEADER)
    hualong.at(due + timedelta(hours=5))
    err = await _unchanged(
        hualong,
        "on_site_requests",
        r.id,
        hualong.on_site.report_to_government(ReportOnSiteToGovernment(r.id, "报告"), TOWNSHIP),
    )
    assert "within the limit" in str(err)
    # Fuyuan's policy has no such report (HL 四(四) only): refused even after the limit.
    f = await world.on_site.notify(HAZARD, TOWNSHIP)
    world.at(f.dispatch_clock.due + timedelta(hours=1))
    err = await _unchanged(
        world,
        "on_site_requests",
        f.id,
        world.on_site.report_to_government(ReportOnSiteToGovernment(f.id, "报告"), TOWNSHIP),
    )
    assert err.field == "onSite.reportUnhandledToGovernment"


def _sent(referral_id: str, receiver: str, *, urgent: bool = True) -> Any:
    return new_envelope(
        ReferralSent(
            referral_id=referral_id,
            sender_id="fy-market",
            receiver_id=receiver,
            title="无照经营（紧急）",
            urgent=urgent,
            sent_at=NOW - timedelta(minutes=30),
            actor_id="p-m",
            actor_agency_id="fy-market",
        ),
        district="fuyuan",
        service="referral",
        subject=referral_id,
    )


async def test_R_REF_15_an_urgent_referral_puts_its_receiver_on_the_immediate_clock(
    world: World,
) -> None:
    """SL 三(四): 情况紧急的应立即派员到达现场 — the sending opens the on-site request,
    due from the sending; a redelivery and a request by hand for it open nothing new."""
    envelope = _sent("ref-9", "fy-hancong")
    await world.on_site.when_urgent_referral_sent_request_on_site(envelope)
    await world.on_site.when_urgent_referral_sent_request_on_site(envelope)  # redelivered
    r = await world.on_site.requests.get("os-ref-ref-9")
    assert r is not None and r.referral_id == "ref-9"
    assert (r.notifier_id, r.receiver_id) == ("fy-market", "fy-hancong")
    assert r.dispatch_clock.due == NOW - timedelta(minutes=30) + timedelta(hours=2)
    events = await world.events("on_site_requests", r.id)
    assert [e["type"] for e in events] == ["on_site.requested.v1"]
    with pytest.raises(InvalidState) as err:
        await world.on_site.notify(
            NotifyOnSite("fy-market", "fy-hancong", "urgent_case", "x", "y", "ref-9"), MARKET
        )
    assert err.value.field == "referralId"
    # Not urgent, or to the police (Decree 310's clocks): no on-site request.
    await world.on_site.when_urgent_referral_sent_request_on_site(
        _sent("ref-10", "fy-hancong", urgent=False)
    )
    await world.on_site.when_urgent_referral_sent_request_on_site(_sent("ref-11", "fy-police"))
    assert await world.on_site.requests.get("os-ref-ref-10") is None
    assert await world.on_site.requests.get("os-ref-ref-11") is None


# ------------------------------------------------------------ R-NTF-05 correction opinions

OPINION = IssueCorrectionOpinion(
    department_id="fy-market",
    township_id="fy-hancong",
    finding="unlawful",
    case_reference="寒葱沟镇行政处罚决定书 寒罚〔2026〕3号",
    problems="适用《食品安全法》条款错误，罚款超出法定幅度",
    opinion="撤销原处罚决定，依法重新作出",
    document_number="抚市监纠〔2026〕1号",
)


async def test_R_NTF_05_the_township_gets_the_opinion_with_a_clock_and_the_justice_bureau_a_copy(
    world: World,
) -> None:
    o = await world.corrections.issue(OPINION, MARKET_LEADER)
    assert o.justice_bureau_id == "fy-justice" and o.response_working_days == 5
    [clock] = o.clocks
    assert (clock.kind, clock.responsible_agency_id) == ("correction.response", "fy-hancong")
    # 5 working days from Monday 2 March 2026: Monday 9 March, end of day (Asia/Shanghai).
    assert clock.due == datetime(2026, 3, 9, 23, 59, 59, tzinfo=SHANGHAI)
    [event] = await world.events("correction_opinions", o.id)
    assert event["type"] == "correction.issued.v1"
    assert (event["data"]["township_id"], event["data"]["justice_bureau_id"]) == (
        "fy-hancong",
        "fy-justice",
    )
    # The legal reviewer may give it too; a clerk may not, nor the township, nor the observer.
    assert (await world.corrections.issue(OPINION, MARKET_REVIEWER)).status.value == "issued"
    for refused in (MARKET, TOWNSHIP_LEADER, OBSERVER, GOV):
        with pytest.raises(Forbidden):
            await world.corrections.issue(OPINION, refused)
    # Addressed to a township only; an unknown finding is named.
    with pytest.raises(ValidationFailed) as bad:
        await world.corrections.issue(
            IssueCorrectionOpinion(**{**OPINION.__dict__, "township_id": "fy-housing"}),
            MARKET_LEADER,
        )
    assert bad.value.field == "townshipId"
    with pytest.raises(ValidationFailed) as bad:
        await world.corrections.issue(
            IssueCorrectionOpinion(**{**OPINION.__dict__, "finding": "bad"}), MARKET_LEADER
        )
    assert bad.value.field == "finding"


async def test_R_NTF_05_a_reply_at_the_limit_is_in_time_a_second_later_late(world: World) -> None:
    inside = await world.corrections.issue(OPINION, MARKET_LEADER)
    outside = await world.corrections.issue(OPINION, MARKET_LEADER)
    due = inside.response_clock.due
    reply = "已撤销原处罚决定并重新作出 寒罚〔2026〕5号"
    # Only the township addressed replies.
    for refused in (OTHER_TOWNSHIP, MARKET_LEADER):
        err = await _unchanged(
            world,
            "correction_opinions",
            inside.id,
            world.corrections.respond(
                RespondToCorrectionOpinion(inside.id, reply, "寒复1号"), refused
            ),
        )
        assert isinstance(err, Forbidden)
    err = await _unchanged(
        world,
        "correction_opinions",
        inside.id,
        world.corrections.respond(RespondToCorrectionOpinion(inside.id, " ", "寒复1号"), TOWNSHIP),
    )
    assert err.field == "corrected"
    world.at(due)
    ok = await world.corrections.respond(
        RespondToCorrectionOpinion(inside.id, reply, "寒复1号"), TOWNSHIP
    )
    assert ok.response is not None and not ok.response.late
    assert ok.response_clock.state == "met"
    world.at(due + SECOND)
    late = await world.corrections.respond(
        RespondToCorrectionOpinion(outside.id, reply, "寒复2号"), TOWNSHIP
    )
    assert late.response is not None and late.response.late
    event = (await world.events("correction_opinions", outside.id))[-1]
    assert event["type"] == "correction.responded.v1" and event["data"]["late"] is True


# ------------------------------------------------------- R-NTF-06 participation notices


def _participation(**kw: Any) -> NotifyParticipation:
    base: dict[str, Any] = dict(
        department_id="fy-market",
        township_id="fy-hancong",
        purpose="inspection",
        subject="春节前食品安全专项监督检查",
        place="寒葱沟镇各超市",
        starts_at=NOW + timedelta(days=3),
        document_number="抚市监通〔2026〕2号",
    )
    return NotifyParticipation(**{**base, **kw})


async def test_R_NTF_06_a_written_notice_gives_the_township_a_clock_to_the_time_set(
    world: World,
) -> None:
    n = await world.participation.notify(_participation(), MARKET)
    [attend] = n.clocks
    assert (attend.kind, attend.responsible_agency_id) == ("participation.attend", "fy-hancong")
    assert attend.due == NOW + timedelta(days=3)
    [event] = await world.events("participation_notices", n.id)
    assert event["type"] == "participation.notified.v1"
    assert event["data"]["form_zh"] == "书面通知（抚市监通〔2026〕2号）"
    assert event["data"]["purpose_zh"] == "专项监督检查" and event["data"]["urgent"] is False
    confirmed = await world.participation.confirm(
        ConfirmParticipation(n.id, ("郑晓东", "孙丽")), TOWNSHIP
    )
    assert confirmed.status.value == "confirmed" and confirmed.clocks[0].state == "met"
    # Roles: a township cannot notify in a department's name; the department cannot confirm.
    with pytest.raises(Forbidden):
        await world.participation.notify(_participation(), TOWNSHIP)
    again = await world.participation.notify(_participation(), MARKET)
    err = await _unchanged(
        world,
        "participation_notices",
        again.id,
        world.participation.confirm(ConfirmParticipation(again.id, ("李春梅",)), MARKET),
    )
    assert isinstance(err, Forbidden)


async def test_R_NTF_06_no_notice_without_writing_unless_a_phone_call_came_first(
    world: World,
) -> None:
    for bad, field in (
        (_participation(document_number=None), "documentNumber"),
        (_participation(starts_at=NOW), "startsAt"),
        (
            _participation(phone_call=PhoneNoticeInput("李春梅", "郑晓东")),
            "phoneCall",
        ),
        (_participation(purpose="meeting"), "purpose"),
    ):
        with pytest.raises(ValidationFailed) as err:
            await world.participation.notify(bad, MARKET)
        assert err.value.field == field, bad
    assert await world.participation.notices.list(agency_id=None, after=None, limit=5) == []


async def test_R_NTF_06_after_a_phone_call_the_writing_is_due_within_the_policys_limit(
    world: World,
) -> None:
    phoned = _participation(
        document_number=None,
        phone_call=PhoneNoticeInput("李春梅", "郑晓东"),
        starts_at=NOW + timedelta(hours=3),
    )
    inside = await world.participation.notify(phoned, MARKET)
    outside = await world.participation.notify(phoned, MARKET)
    assert inside.status.value == "phoned"
    clocks = {c.kind: c for c in inside.clocks}
    written = clocks["participation.written_notice"]
    assert written.responsible_agency_id == "fy-market"
    # fuyuan: 2 working days after the call (Monday 2 March) — Wednesday 4 March, end of day.
    assert written.due == datetime(2026, 3, 4, 23, 59, 59, tzinfo=SHANGHAI)
    assert clocks["participation.attend"].due == NOW + timedelta(hours=3)
    [event] = await world.events("participation_notices", inside.id)
    assert event["data"]["urgent"] is True and event["data"]["form_zh"].startswith("电话通知")
    # The township cannot send the department's writing.
    with pytest.raises(Forbidden):
        await world.participation.send_written(
            SendParticipationWrittenNotice(inside.id, "抚市监通〔2026〕3号"), TOWNSHIP
        )
    world.at(written.due)
    ok = await world.participation.send_written(
        SendParticipationWrittenNotice(inside.id, "抚市监通〔2026〕3号"), MARKET
    )
    assert ok.status.value == "notified" and not ok.written_late
    world.at(written.due + SECOND)
    late = await world.participation.send_written(
        SendParticipationWrittenNotice(outside.id, "抚市监通〔2026〕4号"), MARKET
    )
    assert late.written_late
    event = (await world.events("participation_notices", outside.id))[-1]
    assert event["type"] == "participation.written_notice_sent.v1" and event["data"]["late"]
    await _unchanged(
        world,
        "participation_notices",
        outside.id,
        world.participation.send_written(
            SendParticipationWrittenNotice(outside.id, "抚市监通〔2026〕5号"), MARKET
        ),
    )


# ------------------------------------------------------- R-SUP-04 joint ruling, clues


async def _ruled_dispute(w: World) -> str:
    """A dispute the government decided: fy-market is responsible."""
    d = await w.disputes.open(
        OpenDispute(
            matter_code="FY-SCJG-001",
            township_id="fy-hancong",
            party_ids=("fy-hancong", "fy-market"),
            reasons="双方均认为不属于本机关管辖",
            interim_handler_id="fy-hancong",
        ),
        TOWNSHIP,
    )
    await w.disputes.rule(
        RuleDispute(d.id, "decision", "抚政决〔2026〕1号", "fy-market"),
        GOV,
    )
    return d.id


def _start(dispute_id: str, **kw: Any) -> StartJointRuling:
    base: dict[str, Any] = dict(
        platform_id="fy-coord",
        responsible_agency_id="fy-market",
        source="dispute_ruling",
        source_id=dispute_id,
        failure="裁定由市场监管局负责后逾期拒不接收、不作处理",
        participant_ids=("fy-justice",),
    )
    return StartJointRuling(**{**base, **kw})


async def test_R_SUP_04_only_the_platform_starts_a_joint_ruling_on_the_unit_that_failed(
    world: World,
) -> None:
    dispute_id = await _ruled_dispute(world)
    # Not the platform: a department's leader naming itself, the government, the justice
    # bureau's supervisor, the observer; the coordination body's coordinator may.
    for refused, platform in (
        (MARKET_LEADER, "fy-market"),
        (GOV, "fy-gov"),
        (_caller("p-s", "fy-justice", "supervisor"), "fy-justice"),
        (OBSERVER, "fy-coord"),
    ):
        with pytest.raises(DomainError) as err:
            await world.rulings.start(_start(dispute_id, platform_id=platform), refused)
        assert isinstance(err.value, Forbidden | ValidationFailed), refused
    leader_of_market = _caller("p-x", "fy-market", "leader")
    with pytest.raises(ValidationFailed) as bad:
        await world.rulings.start(_start(dispute_id, platform_id="fy-market"), leader_of_market)
    assert bad.value.field == "platformId"  # a department is no platform
    # The ruling made fy-market responsible: another agency did not fail it.
    with pytest.raises(ValidationFailed) as bad:
        await world.rulings.start(_start(dispute_id, responsible_agency_id="fy-hancong"), COORD)
    assert bad.value.field == "responsibleAgencyId"
    with pytest.raises(NotFound):
        await world.rulings.start(_start("dsp-none"), COORD)
    with pytest.raises(NotFound):
        await world.rulings.start(_start("jo-none", source="joint_task", task_id="t-1"), COORD)
    r = await world.rulings.start(_start(dispute_id), COORD)
    assert r.status.value == "started" and r.participant_ids == ("fy-justice",)
    [clock] = r.clocks
    assert (clock.kind, clock.responsible_agency_id) == ("joint_ruling.decide", "fy-coord")
    # 10 working days (project default) from Monday 2 March 2026: Monday 16 March.
    assert clock.due == datetime(2026, 3, 16, 23, 59, 59, tzinfo=SHANGHAI)
    [event] = await world.events("joint_rulings", r.id)
    assert event["type"] == "joint_ruling.started.v1"
    assert event["data"]["responsible_agency_id"] == "fy-market"


async def test_R_SUP_04_clues_go_to_the_discipline_commission_and_organisation_department_only(
    world: World,
) -> None:
    r = await world.rulings.start(_start(await _ruled_dispute(world)), COORD)
    clues = "市场监管局拒不落实管辖争议裁定，案件积压30日"
    for wrong in ("fy-justice", "fy-gov", "fy-police"):
        err = await _unchanged(
            world,
            "joint_rulings",
            r.id,
            world.rulings.transfer_clues(TransferClues(r.id, wrong, clues), COORD),
        )
        assert err.field == "recipientId"
    for refused in (MARKET_LEADER, GOV):
        err = await _unchanged(
            world,
            "joint_rulings",
            r.id,
            world.rulings.transfer_clues(TransferClues(r.id, "fy-discipline", clues), refused),
        )
        assert isinstance(err, Forbidden)
    once = await world.rulings.transfer_clues(TransferClues(r.id, "fy-discipline", clues), COORD)
    twice = await world.rulings.transfer_clues(TransferClues(r.id, "fy-org", clues), COORD)
    assert [t.recipient_id for t in twice.transfers] == ["fy-discipline", "fy-org"]
    assert once.version < twice.version
    await _unchanged(
        world,
        "joint_rulings",
        r.id,
        world.rulings.transfer_clues(TransferClues(r.id, "fy-org", clues), COORD),
    )
    events = await world.events("joint_rulings", r.id)
    assert [e["data"].get("recipient_id") for e in events[-2:]] == ["fy-discipline", "fy-org"]
    # The recipients now read the ruling they were given clues of.
    assert await world.rulings.visible(r.id, _caller("p-d", "fy-discipline", "clerk")) is not None
    ruled = await world.rulings.rule(
        RuleJointRuling(r.id, "由市场监管局立即接收并办理", "抚执法平台裁〔2026〕1号"), COORD
    )
    assert ruled.status.value == "ruled" and ruled.clocks[0].state == "met"
    with pytest.raises(Forbidden):
        await world.rulings.rule(RuleJointRuling(r.id, "再裁", "x"), MARKET_LEADER)


async def test_R_SUP_04_a_joint_task_refused_or_left_unreported_past_its_clock(
    world: World,
) -> None:
    w = world
    lead = _caller("p-ml", "fy-market", "leader")
    housing = _caller("p-h", "fy-housing", "clerk")
    natres = _caller("p-n", "fy-natres", "clerk")
    op = await w.joint.initiate(
        InitiateJointOperation(
            title="农村违法建设联合整治",
            basis="prominent_violations",
            basis_reference="抚政办〔2026〕3号",
            lead_id="fy-market",
            cooperating_ids=("fy-housing", "fy-natres"),
        ),
        GOV,
    )
    await w.joint.submit_plan(
        SubmitJointPlan(op.id, PLAN, LiaisonInput("王总联", "0454-1234567")), lead
    )
    await w.joint.comment(
        CommentOnJointPlan(op.id, "同意", LiaisonInput("李住建", "13800000001")), housing
    )
    await w.joint.comment(
        CommentOnJointPlan(op.id, "同意", LiaisonInput("赵自然", "13800000002")), natres
    )
    await w.joint.start(StartJointOperation(op.id), lead)
    await w.joint.assign_task(
        AssignJointTask(op.id, "fy-housing", "核查违法建设", date(2026, 3, 6)), lead
    )
    op = await w.joint.assign_task(
        AssignJointTask(op.id, "fy-natres", "核查占地", date(2026, 3, 6)), lead
    )
    unreported, refused = op.tasks

    def start(task: jnt.JointTask, agency: str) -> StartJointRuling:
        return _start(op.id, source="joint_task", task_id=task.id, responsible_agency_id=agency)

    # The task's agency, not another one.
    with pytest.raises(ValidationFailed) as bad:
        await w.rulings.start(start(refused, "fy-housing"), COORD)
    assert bad.value.field == "responsibleAgencyId"
    # Assigned, report clock still running: not yet a failure (just inside the clock).
    w.at(unreported.report_clock.due)
    with pytest.raises(InvalidState) as state:
        await w.rulings.start(start(unreported, "fy-housing"), COORD)
    assert state.value.field == "taskId"
    # A second past the report clock with no report: the platform may start.
    w.at(unreported.report_clock.due + SECOND)
    overdue = await w.rulings.start(start(unreported, "fy-housing"), COORD)
    assert overdue.source.value == "joint_task" and overdue.task_id == unreported.id
    # A written inability the lead rejected (R-JNT-04): refused, so a failure at once.
    w.at(NOW)
    await w.joint.state_inability(StateJointTaskInability(op.id, refused.id, "无测绘设备"), natres)
    with pytest.raises(InvalidState):  # still undecided: not a refusal yet
        await w.rulings.start(start(refused, "fy-natres"), COORD)
    await w.joint.decide_inability(
        DecideJointTaskInability(
            op.id, refused.id, accept=False, reason="可借用设备", report_to_government=False
        ),
        lead,
    )
    ruling = await w.rulings.start(start(refused, "fy-natres"), COORD)
    assert ruling.responsible_agency_id == "fy-natres"


async def test_R_NTF_05_issue_20_a_correction_reply_clock_moves_with_the_official_schedule(
    world: World,
) -> None:
    """The duties' clocks follow a loaded official schedule like every other clock: issued on
    a Thursday of the first year the ``holidays`` package only forecasts, 5 working days are
    Fri, Mon, Tue, Wed, Thu by the forecast and Fri, Sat (a worked Saturday in the notice),
    Mon, Tue, Wed by it."""
    h = hypothetical_schedule()
    thursday = h.worked_saturday - timedelta(days=2)
    world.at(datetime.combine(thursday, time(9), SHANGHAI).astimezone(UTC))
    o = await world.corrections.issue(OPINION, MARKET_LEADER)
    [clock] = o.clocks
    assert clock.due.astimezone(SHANGHAI).date() == thursday + timedelta(days=7)
    calendar = world.corrections.calendar
    rechecks = CoordinationCalendar(
        calendar,
        "fuyuan",
        lambda: world.now[0],
        {"CorrectionOpinion": world.corrections.opinions},
        world.disputes.disputes,
        JointOperationRepository(world.store),
    )
    calendar.schedules.install(parse_schedule(h.data))
    assert await rechecks.recheck_requests(h.year) == 1
    moved = await world.corrections.opinions.get(o.id)
    assert moved is not None
    assert moved.clocks[0].due.astimezone(SHANGHAI).date() == thursday + timedelta(days=6)
    assert moved.history[-1].action == "revise_clocks"
    [event] = [
        e
        for e in await world.events("correction_opinions", o.id)
        if e["type"] == "deadline.moved.v1"
    ]
    assert event["data"]["subject_type"] == "CorrectionOpinion"
    assert event["data"]["responsible_agency_id"] == "fy-hancong"
    # Again: nothing changes.
    assert await rechecks.recheck_requests(h.year) == 0
