"""The new rules of issue 14 through the real gateway in the production topology (separate
service processes over RabbitMQ and the MongoDB wire-protocol server): for each, the
addressee finds the notice in its inbox with the clock it must meet, and signs for it
(签收, R-NTF-04).

* R-REF-15: an urgent referral puts its receiver (the township) on the immediate on-site
  clock (SL 三(四)); a township tells the market bureau of a hazard; the bureau's notice is
  urgent and due within the policy's "immediately" hours; it sends staff and the township is
  told. In Hualong (a second topology) the township reports the bureau that neither acted nor
  explained to the district government once the limit lapsed, and the government signs.
* R-NTF-05: the bureau's correction opinion reaches the township with its reply clock and the
  justice bureau as a copy; the township's reply reaches the bureau.
* R-NTF-06: an emergency phone notice reaches the township (due at the time set) while the
  bureau's writing clock runs; the writing follows and is met.
* R-SUP-04: the platform (coordination body) starts a joint ruling on the unit that did not
  carry out a ruled dispute and passes the clues to the discipline commission.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kernel.clock import write_offset
from kernel.settings import Settings
from liandong.testing.drafts import DRAFT, STEP, draft_input
from tests.e2e.conftest import running_production
from tests.e2e.scenario import ACK, Gateway, eventually, inbox_item
from tests.e2e.scenario import answer_of as _mutate
from tests.e2e.stalls import assert_no_stalls
from tests.fixtures.settings import drop_databases

INBOX = """
query { myInbox(first: 100) {
  edges { node { id kind title body subjectId dueAt urgent readAt audience } }
} }"""
DEADLINES = "deadlines { kind responsibleAgencyId due state }"
ERROR = "... on UserError { code message field }"
NOTIFY_ON_SITE = (
    "mutation($input: NotifyOnSiteInput!) { notifyOnSite(input: $input) { __typename "
    "... on OnSiteRequest { id status " + DEADLINES + " } " + ERROR + " } }"
)
DISPATCH = (
    'mutation($id: ID!) { dispatchOnSiteStaff(requestId: $id, staff: ["张伟", "刘洋"]) {'
    " __typename ... on OnSiteRequest { id status late " + DEADLINES + " } " + ERROR + " } }"
)
ARRIVE = (
    "mutation($id: ID!) { recordOnSiteArrival(requestId: $id) { __typename "
    "... on OnSiteRequest { status arrivedAt } " + ERROR + " } }"
)
HANDLE = (
    "mutation($id: ID!) { recordOnSiteHandling(requestId: $id, handling: "
    '"已责令立即清理，现场查扣气罐6个") { __typename ... on OnSiteRequest { status handling } '
    + ERROR
    + " } }"
)
REPORT = (
    'mutation($id: ID!) { reportOnSiteToGovernment(requestId: $id, text: "逾期未处理") {'
    " __typename ... on OnSiteRequest { id report { governmentId } } " + ERROR + " } }"
)
ISSUE = (
    "mutation($input: IssueCorrectionOpinionInput!) { issueCorrectionOpinion(input: $input) {"
    " __typename ... on CorrectionOpinion { id status justiceBureauId "
    + DEADLINES
    + " } "
    + ERROR
    + " } }"
)
RESPOND = (
    "mutation($id: ID!) { respondToCorrectionOpinion(opinionId: $id, corrected: "
    '"已撤销原处罚决定并重新作出", documentNumber: "寒复〔2026〕1号") { __typename '
    "... on CorrectionOpinion { status response { late } " + DEADLINES + " } " + ERROR + " } }"
)
NOTIFY_PARTICIPATION = (
    "mutation($input: NotifyParticipationInput!) { notifyParticipation(input: $input) {"
    " __typename ... on ParticipationNotice { id status " + DEADLINES + " } " + ERROR + " } }"
)
WRITTEN = (
    "mutation($id: ID!) { sendParticipationWrittenNotice(noticeId: $id, documentNumber: "
    '"抚市监通〔2026〕3号") { __typename ... on ParticipationNotice { status writtenLate '
    + DEADLINES
    + " } "
    + ERROR
    + " } }"
)
OPEN_DISPUTE = (
    "mutation($input: OpenDisputeInput!) { openDispute(input: $input) { __typename "
    "... on Dispute { id } " + ERROR + " } }"
)
RULE_DISPUTE = (
    "mutation($input: RuleDisputeInput!) { ruleDispute(input: $input) { __typename "
    "... on Dispute { id status } " + ERROR + " } }"
)
START_RULING = (
    "mutation($input: StartJointRulingInput!) { startJointRuling(input: $input) { __typename "
    "... on JointRuling { id status " + DEADLINES + " } " + ERROR + " } }"
)
RULE_RULING = (
    'mutation($id: ID!) { ruleJointRuling(rulingId: $id, decision: "由市场监管局立即办理", '
    'basis: "抚执法平台裁〔2026〕1号") { __typename ... on JointRuling { status '
    + DEADLINES
    + " } "
    + ERROR
    + " } }"
)
TRANSFER = (
    "mutation($id: ID!, $to: ID!) { transferClues(rulingId: $id, recipientId: $to, clues: "
    '"拒不落实管辖争议裁定") { __typename ... on JointRuling { transfers { recipientId } } '
    + ERROR
    + " } }"
)


ON_SITE = "query($id: ID!) { onSiteRequest(id: $id) { id referralId receiverId status " + (
    DEADLINES + " } }"
)


LISTS = """
query {
  onSiteRequests(first: 10) { edges { cursor node { id } } pageInfo { hasNextPage } }
  correctionOpinions(first: 10) { edges { node { id justiceBureauId } } }
  participationNotices(first: 10) { edges { node { id } } }
  jointRulings(first: 10) { edges { node { id } } }
}"""


async def _urgent_referral(gw: Gateway) -> str:
    """An urgent referral from the market bureau to 寒葱沟镇, drafted (once the read models
    are fed), completed, approved and sent; returns its id."""
    clerk = gw.mint("fy-market", ["clerk"])
    leader = gw.mint("fy-market", ["leader"])

    async def drafted() -> str | None:
        body = await gw.query(
            clerk,
            DRAFT,
            {
                "input": draft_input(
                    "fy-market", "fy-hancong", "无照经营（紧急）", now=gw.now, urgent=True
                )
            },
        )
        result = body["data"]["draftReferral"]
        return str(result["id"]) if result["__typename"] == "Referral" else None

    rid: str = await eventually(drafted, what="the referral read models")
    # R-REF-02: the letter generated by the service, a source material uploaded as a file.
    body = await gw.query(clerk, STEP % "generateTransferLetter", {"id": rid})
    assert body["data"]["generateTransferLetter"]["__typename"] == "Referral", body
    await gw.upload(clerk, rid)
    for token, step in (
        (clerk, "submitReferral"),
        (leader, "approveReferral"),
        (clerk, "sendReferral"),
    ):
        body = await gw.query(token, STEP % step, {"id": rid})
        assert body["data"][step]["__typename"] == "Referral", body
    return rid


async def _notice(gw: Gateway, token: str, kind: str, subject: str) -> dict[str, Any]:
    """The caller's agency's inbox item of ``kind`` about ``subject``, once notify filed it."""

    async def find() -> dict[str, Any] | None:
        return await inbox_item(gw, token, INBOX, kind, subject)

    found: dict[str, Any] = await eventually(find, what=f"{kind} in the inbox")
    return found


async def _sign(gw: Gateway, token: str, item: dict[str, Any]) -> None:
    """签收 (R-NTF-04): the receipt is recorded on the item."""
    signed = await _mutate(gw, token, ACK, "acknowledgeInboxItem", id=item["id"])
    assert signed["__typename"] == "InboxItem" and signed["readAt"], signed


def _clock(deadlines: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    return next(d for d in deadlines if d["kind"] == kind)


def _same(a: str, b: str) -> bool:
    """The same instant, to the store's millisecond (a mutation answers with the computed
    time; the inbox item carries the stored one)."""
    return abs(datetime.fromisoformat(a) - datetime.fromisoformat(b)) < timedelta(milliseconds=1)


async def test_R_REF_15_R_NTF_05_R_NTF_06_R_SUP_04_addressees_get_notices_with_clocks_production(
    production_gateway: Gateway,
) -> None:
    gw = production_gateway
    township = gw.mint("fy-hancong", ["clerk"])
    market = gw.mint("fy-market", ["clerk"])
    market_leader = gw.mint("fy-market", ["leader"])
    justice = gw.mint("fy-justice", ["supervisor"])
    coordinator = gw.mint("fy-coord", ["coordinator"])
    discipline = gw.mint("fy-discipline", ["clerk"])

    # -- R-REF-15 (SL 三(四)): an urgent referral puts its receiver on the immediate clock
    rid = await _urgent_referral(gw)
    town_item = await _notice(gw, township, "on_site.requested", f"os-ref-{rid}")
    assert town_item["urgent"] and "紧急移送案件：无照经营（紧急）" in town_item["body"], town_item
    body = await gw.query(township, ON_SITE, {"id": f"os-ref-{rid}"})
    linked = body["data"]["onSiteRequest"]
    assert linked["referralId"] == rid and linked["receiverId"] == "fy-hancong", body
    assert _same(town_item["dueAt"], _clock(linked["deadlines"], "on_site.dispatch")["due"])
    await _sign(gw, township, town_item)

    # -- R-REF-15: hazard → the bureau's urgent notice, due within the immediately hours
    req = await _mutate(
        gw,
        township,
        NOTIFY_ON_SITE,
        "notifyOnSite",
        input={
            "notifierId": "fy-hancong",
            "receiverId": "fy-market",
            "situation": "HAZARD",
            "description": "农贸市场液化气罐违规存放，存在爆炸隐患",
            "place": "寒葱沟镇农贸市场",
        },
    )
    assert req["__typename"] == "OnSiteRequest" and req["status"] == "NOTIFIED", req
    clock = _clock(req["deadlines"], "on_site.dispatch")
    assert clock["responsibleAgencyId"] == "fy-market" and clock["state"] == "open"
    # fuyuan's immediately.limit_hours: 2 clock hours from now (DOMAIN §0).
    due = datetime.fromisoformat(clock["due"])
    assert timedelta(hours=1, minutes=59) < due - gw.now() <= timedelta(hours=2), clock
    item = await _notice(gw, market, "on_site.requested", req["id"])
    assert item["urgent"] and item["title"].startswith("【紧急】立即派员现场处置通知"), item
    assert "寒葱沟镇人民政府通知" in item["body"] and _same(item["dueAt"], clock["due"])
    await _sign(gw, market, item)
    # Fuyuan has no report to the government (HL 四(四) only): a stable code, nothing changed.
    refused = await _mutate(gw, township, REPORT, "reportOnSiteToGovernment", id=req["id"])
    assert refused["code"] == "INVALID_STATE", refused
    sent = await _mutate(gw, market, DISPATCH, "dispatchOnSiteStaff", id=req["id"])
    assert sent["status"] == "DISPATCHED" and not sent["late"], sent
    assert _clock(sent["deadlines"], "on_site.dispatch")["state"] == "met"
    told = await _notice(gw, township, "on_site.dispatched", req["id"])
    assert "张伟" in told["body"], told
    # The receiver records the arrival and the handling; the township is told the result.
    early = await _mutate(gw, market, HANDLE, "recordOnSiteHandling", id=req["id"])
    assert early["code"] == "INVALID_STATE", early  # handling follows the arrival
    arrived = await _mutate(gw, market, ARRIVE, "recordOnSiteArrival", id=req["id"])
    assert arrived["status"] == "ARRIVED" and arrived["arrivedAt"], arrived
    handled = await _mutate(gw, market, HANDLE, "recordOnSiteHandling", id=req["id"])
    assert handled["status"] == "HANDLED", handled
    result = await _notice(gw, township, "on_site.handled", req["id"])
    assert "现场查扣气罐6个" in result["body"], result
    await _sign(gw, township, result)

    # -- R-NTF-05: correction opinion → the township (with its clock), the justice bureau copied
    opinion = await _mutate(
        gw,
        market_leader,
        ISSUE,
        "issueCorrectionOpinion",
        input={
            "departmentId": "fy-market",
            "townshipId": "fy-hancong",
            "finding": "UNLAWFUL",
            "caseReference": "寒罚〔2026〕3号",
            "problems": "罚款超出法定幅度",
            "opinion": "撤销原处罚决定，依法重新作出",
            "documentNumber": "抚市监纠〔2026〕1号",
        },
    )
    assert opinion["__typename"] == "CorrectionOpinion", opinion
    assert opinion["justiceBureauId"] == "fy-justice"
    reply_clock = _clock(opinion["deadlines"], "correction.response")
    assert reply_clock["responsibleAgencyId"] == "fy-hancong"
    item = await _notice(gw, township, "correction.opinion", opinion["id"])
    assert item["title"] == "纠正意见：寒罚〔2026〕3号" and _same(item["dueAt"], reply_clock["due"])
    assert "抚远市市场监督管理局提出纠正意见（抚市监纠〔2026〕1号）" in item["body"], item
    await _sign(gw, township, item)
    copy = await _notice(gw, justice, "correction.copy", opinion["id"])
    assert copy["dueAt"] is None and "寒葱沟镇人民政府" in copy["body"], copy
    await _sign(gw, justice, copy)
    # A clerk may not give an opinion (the matrix): a stable code.
    clerk_try = await _mutate(
        gw,
        market,
        ISSUE,
        "issueCorrectionOpinion",
        input={
            "departmentId": "fy-market",
            "townshipId": "fy-hancong",
            "finding": "ERROR",
            "caseReference": "x",
            "problems": "x",
            "opinion": "x",
            "documentNumber": "x",
        },
    )
    assert clerk_try["code"] == "FORBIDDEN", clerk_try
    replied = await _mutate(gw, township, RESPOND, "respondToCorrectionOpinion", id=opinion["id"])
    assert replied["status"] == "RESPONDED" and not replied["response"]["late"], replied
    back = await _notice(gw, market, "correction.responded", opinion["id"])
    assert "已撤销原处罚决定" in back["body"], back

    # -- R-NTF-06: phone first in an emergency; the writing's clock runs, then is met
    starts = (gw.now() + timedelta(hours=3)).isoformat()
    notice = await _mutate(
        gw,
        market,
        NOTIFY_PARTICIPATION,
        "notifyParticipation",
        input={
            "departmentId": "fy-market",
            "townshipId": "fy-hancong",
            "purpose": "INSPECTION",
            "subject": "食品安全专项监督检查",
            "place": "寒葱沟镇各超市",
            "startsAt": starts,
            "phoneCall": {"caller": "李春梅", "called": "郑晓东"},
        },
    )
    assert notice["__typename"] == "ParticipationNotice" and notice["status"] == "PHONED", notice
    attend = _clock(notice["deadlines"], "participation.attend")
    writing = _clock(notice["deadlines"], "participation.written_notice")
    assert attend["responsibleAgencyId"] == "fy-hancong" and _same(attend["due"], starts)
    assert writing["responsibleAgencyId"] == "fy-market" and writing["state"] == "open"
    item = await _notice(gw, township, "participation.notice", notice["id"])
    assert item["urgent"] and "电话通知（书面手续后补）" in item["body"], item
    assert "专项监督检查" in item["title"] and _same(item["dueAt"], attend["due"])
    await _sign(gw, township, item)
    written = await _mutate(gw, market, WRITTEN, "sendParticipationWrittenNotice", id=notice["id"])
    assert written["status"] == "NOTIFIED" and not written["writtenLate"], written
    assert _clock(written["deadlines"], "participation.written_notice")["state"] == "met"
    follow = await _notice(gw, township, "participation.written_notice", notice["id"])
    assert "抚市监通〔2026〕3号" in follow["body"], follow
    await _sign(gw, township, follow)

    # -- R-SUP-04: a ruled dispute not carried out → joint ruling, clues to 纪委监委
    dispute = await _mutate(
        gw,
        township,
        OPEN_DISPUTE,
        "openDispute",
        input={
            "matterCode": "FY-SCJG-001",
            "townshipId": "fy-hancong",
            "partyIds": ["fy-hancong", "fy-market"],
            "reasons": "双方均认为不属于本机关管辖",
            "interimHandlerId": "fy-hancong",
        },
    )
    assert dispute["__typename"] == "Dispute", dispute
    # The government decides it (an agreement would need each party's leader, issue 16).
    ruled = await _mutate(
        gw,
        gw.mint("fy-gov", ["government"]),
        RULE_DISPUTE,
        "ruleDispute",
        input={
            "disputeId": dispute["id"],
            "outcomeKind": "DECISION",
            "basis": "抚政决〔2026〕1号",
            "responsibleAgencyId": "fy-market",
        },
    )
    assert ruled["status"] == "RULED", ruled
    ruling_input = {
        "platformId": "fy-coord",
        "responsibleAgencyId": "fy-market",
        "source": "DISPUTE_RULING",
        "sourceId": dispute["id"],
        "failure": "裁定由市场监管局负责后逾期拒不办理",
    }
    # Only the platform starts it: the government is refused with a stable code.
    gov_try = await _mutate(
        gw,
        gw.mint("fy-gov", ["government"]),
        START_RULING,
        "startJointRuling",
        input={**ruling_input, "platformId": "fy-gov"},
    )
    assert gov_try["code"] == "FORBIDDEN", gov_try
    ruling = await _mutate(gw, coordinator, START_RULING, "startJointRuling", input=ruling_input)
    assert ruling["__typename"] == "JointRuling" and ruling["status"] == "STARTED", ruling
    decide = _clock(ruling["deadlines"], "joint_ruling.decide")
    assert decide["responsibleAgencyId"] == "fy-coord" and decide["state"] == "open"
    started = await _notice(gw, market_leader, "joint_ruling.started", ruling["id"])
    assert started["audience"] == "leader" and "联合裁定" in started["body"], started
    await _sign(gw, market_leader, started)
    moved = await _mutate(
        gw, coordinator, TRANSFER, "transferClues", id=ruling["id"], to="fy-discipline"
    )
    assert moved["transfers"] == [{"recipientId": "fy-discipline"}], moved
    wrong = await _mutate(gw, coordinator, TRANSFER, "transferClues", id=ruling["id"], to="fy-gov")
    assert (wrong["code"], wrong["field"]) == ("VALIDATION_FAILED", "recipientId"), wrong
    clues = await _notice(gw, discipline, "joint_ruling.clues", ruling["id"])
    assert clues["title"] == "问题线索移交：抚远市市场监督管理局", clues
    assert "拒不落实管辖争议裁定" in clues["body"]
    await _sign(gw, discipline, clues)
    # The lists: each party reads its own (the justice bureau the opinion it was copied on,
    # the discipline commission the ruling it was given clues of).
    lists = (await gw.query(justice, LISTS))["data"]
    assert opinion["id"] in [e["node"]["id"] for e in lists["correctionOpinions"]["edges"]]
    mine = (await gw.query(discipline, LISTS))["data"]
    assert [e["node"]["id"] for e in mine["jointRulings"]["edges"]] == [ruling["id"]], mine
    assert mine["onSiteRequests"]["edges"] == [] and mine["correctionOpinions"]["edges"] == []
    town_lists = (await gw.query(township, LISTS))["data"]
    assert len(town_lists["onSiteRequests"]["edges"]) == 2, town_lists
    assert town_lists["onSiteRequests"]["pageInfo"]["hasNextPage"] is False
    decided = await _mutate(gw, coordinator, RULE_RULING, "ruleJointRuling", id=ruling["id"])
    assert decided["status"] == "RULED", decided
    assert _clock(decided["deadlines"], "joint_ruling.decide")["state"] == "met"
    outcome = await _notice(gw, market_leader, "joint_ruling.ruled", ruling["id"])
    assert "由市场监管局立即办理" in outcome["body"], outcome
    await assert_no_stalls(gw)


# -- Hualong: the township reports the department that neither acted nor explained ---------


@pytest.fixture
def hualong_env(
    production_env: tuple[dict[str, str], Settings],
) -> Iterator[tuple[dict[str, str], Settings]]:
    """The production environment with the district set to Hualong (its demo agencies, its
    policy with on_site.report_unhandled_to_government); its databases dropped afterwards."""
    env, settings = production_env
    hualong = settings.model_copy(update={"district": "hualong"})
    yield {**env, "LIANDONG_DISTRICT": "hualong"}, hualong
    asyncio.run(drop_databases(hualong))


@pytest.fixture
async def hualong_gateway(
    tmp_path: Path, hualong_env: tuple[dict[str, str], Settings]
) -> AsyncIterator[tuple[Gateway, Path]]:
    async with running_production(tmp_path, hualong_env) as (gateway, _):
        clock_file = hualong_env[1].test_clock_file
        assert clock_file is not None
        yield gateway, clock_file


async def test_R_REF_15_hualong_the_government_gets_the_report_once_the_limit_lapsed_production(
    hualong_gateway: tuple[Gateway, Path],
) -> None:
    """HL 四(四): 对接到通知后不能说明理由又拒不处理的，乡镇街道应立即向华龙区人民政府报告."""
    gw, clock_file = hualong_gateway
    township = gw.mint("hl-yuecun", ["clerk"])
    market = gw.mint("hl-market", ["clerk"])
    government = gw.mint("hl-gov", ["government"])

    async def notified() -> dict[str, Any] | None:
        body = await gw.query(
            township,
            NOTIFY_ON_SITE,
            {
                "input": {
                    "notifierId": "hl-yuecun",
                    "receiverId": "hl-market",
                    "situation": "HAZARD",
                    "description": "集贸市场燃气管道泄漏",
                    "place": "岳村镇集贸市场",
                }
            },
        )
        result = body["data"]["notifyOnSite"]
        return dict(result) if result["__typename"] == "OnSiteRequest" else None

    req = await eventually(notified, what="the Hualong demo agencies registered")
    due = datetime.fromisoformat(_clock(req["deadlines"], "on_site.dispatch")["due"])
    item = await _notice(gw, market, "on_site.requested", req["id"])
    assert _same(item["dueAt"], due.isoformat())
    # Within the limit the report is refused with a stable code and changes nothing.
    early = await _mutate(gw, township, REPORT, "reportOnSiteToGovernment", id=req["id"])
    assert early["code"] == "INVALID_STATE", early
    # The department neither sends staff nor explains: move every process past the limit.
    write_offset(clock_file, due + timedelta(minutes=1) - datetime.now(UTC))
    reported = await _mutate(gw, township, REPORT, "reportOnSiteToGovernment", id=req["id"])
    assert reported["__typename"] == "OnSiteRequest", reported
    notice = await _notice(gw, government, "on_site.reported_to_government", req["id"])
    assert notice["audience"] == "leader", notice
    # 立即报告: urgent, for the government's head.
    assert notice["urgent"] and notice["title"] == "【紧急】接到通知后不说明理由又拒不处理的报告"
    assert (
        "华龙区岳村镇人民政府报告：华龙区市场监督管理局接到立即派员现场处置通知" in notice["body"]
    )
    await _sign(gw, government, notice)
    await assert_no_stalls(gw, "hl-justice")
