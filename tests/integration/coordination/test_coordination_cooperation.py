"""Assistance (R-AST-01, R-AST-02), technical support (R-TEC-01, R-TEC-02) and information
queries (R-INF-01) through the handlers on both store adapters: state and events land together
in the outbox with their ``deadlines`` blocks; bad input changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from coordination.adapters.cooperation import (
    AnswerAccessLog,
    AssistanceRepository,
    InformationQueryRepository,
    TechnicalSupportRepository,
)
from coordination.application.assistance import (
    AssistanceHandlers,
    PhoneCallInput,
    RecordAssistanceMediation,
    ReferAssistanceToMediation,
    ReplyToAssistance,
    ReportAssistanceResult,
    RequestAssistance,
    SendAssistanceLetter,
)
from coordination.application.information import (
    AnswerInformation,
    AskInformation,
    DeclineInformationQuery,
    InformationQueryHandlers,
    ReadInformationAnswer,
)
from coordination.application.technical import (
    AnswerTechnicalSupport,
    DispatchTechnicalStaff,
    ExtendTechnicalSupport,
    RequestTechnicalSupport,
    TechnicalSupportHandlers,
)
from kernel.calendar import SHANGHAI
from kernel.contracts.deadlines import deadlines_of
from kernel.errors import DomainError, Forbidden, InvalidState, ValidationFailed
from kernel.store import DocumentStore
from kernel.wiring import calendar_for
from liandong.policy import load_policy
from tests.fixtures.coordination import (
    NOW,
    StoredDocs,
    caller,
    ensure_indexes,
    fuyuan,
    seeded_agencies,
    unchanged,
)

MARKET = caller("p-m", "fy-market", ("clerk",))
HOUSING = caller("p-h", "fy-housing", ("leader",))
TOWNSHIP = caller("p-t", "fy-hancong", ("clerk",))
COORD = caller("p-c", "fy-coord", ("coordinator",))
SUPERVISOR = caller("p-s", "fy-justice", ("supervisor",))


@dataclass
class World(StoredDocs):
    assistance: AssistanceHandlers
    technical: TechnicalSupportHandlers
    information: InformationQueryHandlers
    now: list[datetime]


@pytest.fixture
async def world(store: DocumentStore) -> World:
    f = await fuyuan(store)
    common, kw = f.common, {"clock": f.clock}
    w = World(
        store,
        AssistanceHandlers(AssistanceRepository(store), *common, **kw),
        TechnicalSupportHandlers(TechnicalSupportRepository(store), *common, **kw),
        InformationQueryHandlers(
            InformationQueryRepository(store), AnswerAccessLog(store), *common, **kw
        ),
        f.now,
    )
    await ensure_indexes(
        w.assistance.requests, w.technical.requests, w.information.queries, w.information.access_log
    )
    return w


async def _unchanged(w: World, collection: str, doc_id: str, call: Any) -> DomainError:
    """``call`` fails with a DomainError and leaves the document exactly as it was."""
    return await unchanged(lambda: w.raw(collection, doc_id), call)


async def test_R_AST_01_request_letter_reply_letter_and_results_both_ways(world: World) -> None:
    w = world
    r = await w.assistance.request(
        RequestAssistance(
            "fy-market",
            "fy-housing",
            ("协助核查违法建设现场",),
            letter_number="抚市监协〔2026〕1号",
        ),
        MARKET,
    )
    (requested,) = await w.outbox("assistance_requests", r.id)
    assert requested["type"] == "assistance.requested.v1"
    (clock,) = deadlines_of(requested["data"])
    assert clock.kind == "assistance.reply" and clock.responsible_agency_id == "fy-housing"
    assert clock.state == "open" and "工作日" in (clock.explanation_zh or "")
    assert (
        requested["data"]["actor_id"] == "p-m" and requested["data"]["state_after"] == "requested"
    )

    w.now[0] = NOW + timedelta(hours=3)
    helped = await w.assistance.reply(
        ReplyToAssistance(r.id, True, "抚住建复〔2026〕1号", agreed_start_on=date(2026, 3, 4)),
        HOUSING,
    )
    assert helped.agreed_start_on == date(2026, 3, 4)
    replied = (await w.outbox("assistance_requests", r.id))[-1]
    assert replied["type"] == "assistance.replied.v1"
    assert replied["data"]["state_before"] == "requested"
    assert replied["data"]["state_after"] == "accepted"
    assert deadlines_of(replied["data"])[0].state == "met"

    await w.assistance.report_result(ReportAssistanceResult(r.id, "已派员协助现场核查"), HOUSING)
    done = await w.assistance.report_result(ReportAssistanceResult(r.id, "已立案查处"), MARKET)
    assert done.status.value == "closed"
    assert (await w.types("assistance_requests", r.id))[-2:] == [
        "assistance.result_reported.v1",
        "assistance.result_reported.v1",
    ]
    reloaded = await w.assistance.requests.get(r.id)
    assert reloaded is not None and reloaded.status.value == "closed"
    assert len(reloaded.history) == 4


async def test_R_AST_01_emergency_by_phone_first_letter_within_the_default_limit(
    world: World,
) -> None:
    w = world
    r = await w.assistance.request(
        RequestAssistance(
            "fy-market",
            "fy-housing",
            ("紧急查封危险建筑",),
            urgent=True,
            phone_call=PhoneCallInput("张三（市场监管局）", "李四（住建局值班室）"),
        ),
        MARKET,
    )
    (requested,) = await w.outbox("assistance_requests", r.id)
    clocks = {d.kind: d for d in deadlines_of(requested["data"])}
    # Urgent: helped at once, i.e. within the policy's "immediately" hours (DOMAIN §0), so
    # the request is not late the moment it is made.
    assert clocks["assistance.reply"].due == NOW + timedelta(hours=2)
    assert clocks["assistance.written_letter"].responsible_agency_id == "fy-market"
    assert clocks["assistance.written_letter"].due > NOW
    assert requested["data"]["phone_call"]["caller"] == "张三（市场监管局）"
    # Urgent: help at once — a later agreed date is refused and nothing changes.
    err = await _unchanged(
        w,
        "assistance_requests",
        r.id,
        w.assistance.reply(
            ReplyToAssistance(r.id, True, "复函1号", agreed_start_on=date(2026, 3, 10)), HOUSING
        ),
    )
    assert isinstance(err, ValidationFailed) and err.field == "agreedStartOn"
    await w.assistance.reply(ReplyToAssistance(r.id, True, "复函1号"), HOUSING)
    sent = await w.assistance.send_letter(SendAssistanceLetter(r.id, "抚市监协〔2026〕2号"), MARKET)
    assert sent.letter_number == "抚市监协〔2026〕2号"
    last = (await w.outbox("assistance_requests", r.id))[-1]
    assert last["type"] == "assistance.letter_sent.v1"
    assert deadlines_of(last["data"])[0].state == "met"


async def test_R_AST_01_reply_and_letter_limits_come_from_the_district_policy(
    store: DocumentStore,
) -> None:
    """The district's ``assistance`` section sets both clocks (here 3 and 1 working days)."""
    policy = load_policy("fuyuan")
    own = policy.model_copy(
        update={
            "assistance": policy.assistance.model_copy(
                update={"reply_limit_working_days": 3, "letter_after_phone_working_days": 1}
            )
        }
    )
    agencies = await seeded_agencies(store)
    h = AssistanceHandlers(
        AssistanceRepository(store), agencies, own, calendar_for(own), "fuyuan", clock=lambda: NOW
    )
    by_letter = await h.request(
        RequestAssistance("fy-market", "fy-housing", ("协助核查",), letter_number="协1号"), MARKET
    )
    by_phone = await h.request(
        RequestAssistance(
            "fy-market",
            "fy-housing",
            ("紧急查封危险建筑",),
            urgent=True,
            phone_call=PhoneCallInput("张三（市场监管局）", "李四（住建局值班室）"),
        ),
        MARKET,
    )
    reply = next(c for c in by_letter.clocks if c.kind == "assistance.reply")
    letter = next(c for c in by_phone.clocks if c.kind == "assistance.written_letter")
    # From Monday 2 March 2026: 3 working days → Thursday 5 March; 1 → Tuesday 3 March.
    assert reply.due.astimezone(SHANGHAI).date() == date(2026, 3, 5)
    assert "3个工作日" in reply.rule
    assert letter.due.astimezone(SHANGHAI).date() == date(2026, 3, 3)
    assert "1个工作日" in letter.rule


async def test_R_AST_02_refusal_needs_grounds_is_published_mediated_and_listed(
    world: World,
) -> None:
    w = world
    r = await w.assistance.request(
        RequestAssistance("fy-market", "fy-housing", ("协助调取规划资料",), letter_number="1号"),
        MARKET,
    )
    err = await _unchanged(
        w,
        "assistance_requests",
        r.id,
        w.assistance.reply(ReplyToAssistance(r.id, False, "复函2号"), HOUSING),
    )
    assert err.field == "refusalGrounds"
    err = await _unchanged(
        w,
        "assistance_requests",
        r.id,
        w.assistance.reply(
            ReplyToAssistance(r.id, False, "复函2号", refusal_grounds="不属于本机关职责"), HOUSING
        ),
    )
    assert err.field == "legalProvision"
    await w.assistance.reply(
        ReplyToAssistance(
            r.id,
            False,
            "复函2号",
            refusal_grounds="资料已移交档案馆",
            legal_provision="《档案法》第十五条",
        ),
        HOUSING,
    )
    events = await w.outbox("assistance_requests", r.id)
    refused = events[-1]
    assert [e["type"] for e in events[-2:]] == ["assistance.replied.v1", "assistance.refused.v1"]
    assert refused["data"]["requester_id"] == "fy-market"
    assert refused["data"]["helper_id"] == "fy-housing"
    assert refused["data"]["grounds"] == "资料已移交档案馆"

    err = await _unchanged(
        w,
        "assistance_requests",
        r.id,
        w.assistance.refer_to_mediation(
            ReferAssistanceToMediation(r.id, "属法定协助义务"), HOUSING
        ),
    )
    assert isinstance(err, Forbidden)
    m = await w.assistance.refer_to_mediation(
        ReferAssistanceToMediation(r.id, "属法定协助义务"), MARKET
    )
    assert m.mediation is not None and m.mediation.mediator_agency_id == "fy-coord"
    decided = await w.assistance.record_mediation(
        RecordAssistanceMediation(r.id, "assist", "调处意见〔2026〕1号"), COORD
    )
    assert decided.status.value == "accepted"
    assert (await w.types("assistance_requests", r.id))[-1] == "assistance.mediated.v1"

    listed = await w.assistance.requests.refusals(helper_id="fy-housing", after=None, limit=10)
    assert [x.id for x in listed] == [r.id]  # still listed after mediation (FY (五)4)
    assert await w.assistance.requests.refusals(helper_id="fy-market", after=None, limit=10) == []


async def test_R_TEC_01_R_TEC_02_request_dispatch_extend_then_answer_with_conclusion(
    world: World,
) -> None:
    w = world
    bad = RequestTechnicalSupport(
        "fy-market", "fy-housing", "identification", "q", "寒协〔2026〕1号"
    )
    with pytest.raises(ValidationFailed) as not_township:
        await w.technical.request(bad, MARKET)
    assert not_township.value.field == "townshipId"
    r = await w.technical.request(
        RequestTechnicalSupport(
            "fy-hancong",
            "fy-housing",
            "identification",
            "该建筑是否属于违法建设",
            "寒协〔2026〕1号",
            evidence_at_risk=True,
        ),
        TOWNSHIP,
    )
    (requested,) = await w.outbox("technical_support_requests", r.id)
    clocks = {d.kind: d for d in deadlines_of(requested["data"])}
    assert set(clocks) == {"technical_support.reply", "technical_support.on_site"}
    # On site "immediately": within the policy's hours (DOMAIN §0), not late when asked.
    assert clocks["technical_support.on_site"].due == NOW + timedelta(hours=2)
    # 3 working days from Monday 2 March 2026: Thursday 5 March, end of day (Asia/Shanghai).
    assert clocks["technical_support.reply"].due.date() == date(2026, 3, 5)

    await w.technical.dispatch_on_site(DispatchTechnicalStaff(r.id, ("王工",)), HOUSING)
    # Beyond the district's maximum? Fuyuan sets none, so only "before the limit" binds.
    w.now[0] = NOW + timedelta(days=1)
    extended = await w.technical.extend(
        ExtendTechnicalSupport(r.id, 8, "需委托检测机构鉴定"), HOUSING
    )
    assert extended.reply_working_days == 8
    ext = (await w.outbox("technical_support_requests", r.id))[-1]
    assert ext["type"] == "technical_support.extended.v1"
    (moved,) = deadlines_of(ext["data"])
    assert (
        moved.key == clocks["technical_support.reply"].key
        and moved.due > clocks["technical_support.reply"].due
    )

    w.now[0] = NOW + timedelta(days=30)
    err = await _unchanged(
        w,
        "technical_support_requests",
        r.id,
        w.technical.extend(ExtendTechnicalSupport(r.id, 12, "仍需时间"), HOUSING),
    )
    assert isinstance(err, InvalidState) and err.field == "workingDays"
    w.now[0] = NOW + timedelta(days=2)
    err = await _unchanged(
        w,
        "technical_support_requests",
        r.id,
        w.technical.answer(
            AnswerTechnicalSupport(r.id, "", "抚住建函〔2026〕3号", "现场有一处两层砖混建筑"),
            HOUSING,
        ),
    )
    assert err.field == "answer.conclusion"
    done = await w.technical.answer(
        AnswerTechnicalSupport(r.id, "属于违法建设", "抚住建函〔2026〕3号", "两层砖混建筑"), HOUSING
    )
    assert done.answer is not None and done.answer.conclusion == "属于违法建设"
    answered = (await w.outbox("technical_support_requests", r.id))[-1]
    assert answered["data"]["conclusion"] == "属于违法建设"
    assert answered["data"]["state_after"] == "answered"


async def test_R_TEC_01_extension_past_the_districts_maximum_is_refused(
    store: DocumentStore,
) -> None:
    # Shangri-La's policy is used for its own rules; give it a maximum to check the cap.
    policy = load_policy("fuyuan")
    capped = policy.model_copy(
        update={
            "technical_support": policy.technical_support.model_copy(
                update={"extension_max_working_days": 6}
            )
        }
    )
    agencies = await seeded_agencies(store)
    h = TechnicalSupportHandlers(
        TechnicalSupportRepository(store),
        agencies,
        capped,
        calendar_for(capped),
        "fuyuan",
        clock=lambda: NOW,
    )
    r = await h.request(
        RequestTechnicalSupport("fy-hancong", "fy-housing", "appraisal", "q", "寒协2号"), TOWNSHIP
    )
    with pytest.raises(ValidationFailed) as exc:
        await h.extend(ExtendTechnicalSupport(r.id, 7, "复杂"), HOUSING)
    assert exc.value.field == "workingDays" and "at most 6" in exc.value.message
    again = await h.requests.get(r.id)
    assert again is not None and again.version == 1 and again.reply_working_days == 3
    assert (
        await h.extend(ExtendTechnicalSupport(r.id, 6, "复杂"), HOUSING)
    ).reply_working_days == 6


async def test_R_INF_01_query_answered_free_classified_and_every_reading_logged(
    world: World,
) -> None:
    w = world
    q = await w.information.ask(
        AskInformation("fy-hancong", "fy-market", "某商户营业执照登记信息", "核实无照经营"),
        TOWNSHIP,
    )
    (asked,) = await w.outbox("information_queries", q.id)
    (clock,) = deadlines_of(asked["data"])
    assert clock.kind == "information_query.answer" and clock.due.date() == date(2026, 3, 9)
    urgent = await w.information.ask(
        AskInformation("fy-hancong", "fy-market", "s", "p", urgent=True), TOWNSHIP
    )
    (u,) = deadlines_of((await w.outbox("information_queries", urgent.id))[0]["data"])
    # Fuyuan: urgent queries are answered immediately, i.e. within the policy's hours
    # (DOMAIN §0): not late the moment they are asked.
    assert u.due == NOW + timedelta(hours=2) and u.due > NOW
    assert "立即" in u.rule and "2小时内" in u.rule

    err = await _unchanged(
        w,
        "information_queries",
        q.id,
        w.information.answer(
            AnswerInformation(q.id, "登记信息", "confidential", fee_yuan=Decimal("50")), MARKET
        ),
    )
    assert err.field == "feeYuan"
    await w.information.answer(AnswerInformation(q.id, "登记信息……", "confidential"), MARKET)
    answered = (await w.outbox("information_queries", q.id))[-1]
    assert answered["data"]["classification"] == "confidential"
    assert "content" not in answered["data"]  # confidential content stays off the bus

    with pytest.raises(Forbidden):
        await w.information.read_answer(ReadInformationAnswer(q.id), HOUSING)  # not a party
    w.now[0] = NOW + timedelta(hours=1)
    read = await w.information.read_answer(ReadInformationAnswer(q.id), TOWNSHIP)
    assert read.content == "登记信息……"
    log = await w.information.access_log_of(q.id, SUPERVISOR)
    assert [(a.reader_id, a.reader_agency_id, a.at) for a in log] == [
        ("p-t", "fy-hancong", NOW + timedelta(hours=1))
    ]
    assert await w.information.access_log_of(q.id, MARKET) == log
    with pytest.raises(Forbidden):
        await w.information.access_log_of(q.id, TOWNSHIP)
    (entry,) = await w.store.collection("information_answer_access").find({"query_id": q.id})
    assert entry["outbox"][0]["type"] == "information_query.answer_accessed.v1"

    declined = await w.information.ask(
        AskInformation("fy-hancong", "fy-market", "s", "p"), TOWNSHIP
    )
    err = await _unchanged(
        w,
        "information_queries",
        declined.id,
        w.information.decline(DeclineInformationQuery(declined.id, "secrecy", "涉密", ""), MARKET),
    )
    assert err.field == "legalProvision"


async def test_R_AST_02_a_request_in_mediation_runs_the_legal_offices_clock_10_working_days(
    world: World,
) -> None:
    """Issue 14: a refusal sent to mediation is the legal office's (调处), on a clock of 10
    working days, a project default in the policy (CQ 三(三) gives none). Referred on Mon 2
    Mar 09:00, it ends at the end of Mon 16 Mar (just inside: 23:59 that day; just outside:
    00:00 Tue 17 Mar); the stall check is empty while it runs; the outcome meets it."""
    from coordination.application.stalls import StallCheck

    w = world
    r = await w.assistance.request(
        RequestAssistance("fy-market", "fy-housing", ("调取档案",), letter_number="抚市监协3号"),
        MARKET,
    )
    await w.assistance.reply(
        ReplyToAssistance(
            r.id, False, "复函3号", refusal_grounds="档案已移交", legal_provision="《档案法》"
        ),
        HOUSING,
    )
    m = await w.assistance.refer_to_mediation(
        ReferAssistanceToMediation(r.id, "属法定协助义务"), MARKET
    )
    [clock] = [c for c in m.clocks if c.state == "open"]
    assert clock.kind == "assistance.mediation" and clock.responsible_agency_id == "fy-coord"
    end = datetime(2026, 3, 17, 0, 0, tzinfo=SHANGHAI)
    assert end - timedelta(minutes=1) < clock.due <= end
    assert "项目默认" in clock.rule
    asked = (await w.outbox("assistance_requests", r.id))[-1]
    assert asked["type"] == "assistance.mediation_requested.v1"
    [block] = deadlines_of(asked["data"])
    assert (block.kind, block.state, block.responsible_agency_id) == (
        "assistance.mediation",
        "open",
        "fy-coord",
    )
    assert [s for s in await StallCheck.over(w.store).stalls(None) if s.subject_id == r.id] == []

    w.now[0] = end - timedelta(minutes=1)  # the outcome just inside the limit
    await w.assistance.record_mediation(
        RecordAssistanceMediation(r.id, "refusal_upheld", "调处意见〔2026〕2号"), COORD
    )
    mediated = (await w.outbox("assistance_requests", r.id))[-1]
    [block] = deadlines_of(mediated["data"])
    assert (block.kind, block.state) == ("assistance.mediation", "met")
