"""R-REF-13 and R-REF-05 through the gateway in the production topology (issue 14, item 6):

* a 督办 reaches the receiver's leader as an inbox notice with its own clock (the policy's
  ``supervision_answer``, its source named in the clock's rule); the written answer stops the
  clock and tells the supervising agency;
* an ongoing violation tells the competent agency immediately (an urgent 【立即】 notice the
  moment the draft records the stop order) and makes the referral urgent (24 h send clock).

Each ends with an empty stall list."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.e2e.scenario import ACK, Gateway, draft_input, eventually, inbox_item
from tests.e2e.stalls import assert_no_stalls
from tests.e2e.test_notify_deadline_production_e2e import Topology, topology
from tests.e2e.test_referral_e2e import DRAFT, _mutate, _notice, _sent_referral

SUPERVISE = """
mutation($id: ID!, $note: String!) {
  superviseReferral(id: $id, note: $note) {
    __typename
    ... on Referral { id deadlines { kind state due } supervisions { due answer answeredAt } }
    ... on UserError { code message field }
  }
}"""
ANSWER = """
mutation($id: ID!, $answer: String!) {
  answerSupervision(id: $id, answer: $answer) {
    __typename
    ... on Referral { id deadlines { kind state due } supervisions { due answer answeredAt } }
    ... on UserError { code message field }
  }
}"""
ITEM = """
query { myInbox(first: 100) { edges { node { id kind title body subjectId dueAt urgent } } } }"""
__all__ = ["topology"]  # the production fixture with the shared clock

RULES = """
query($id: ID!) { referral(id: $id) { urgent deadlines { kind state due rule } } }"""


async def _item(gw: Gateway, token: str, kind: str, subject: str) -> dict[str, Any] | None:
    return await inbox_item(gw, token, ITEM, kind, subject)


async def test_R_REF_13_supervision_clock_and_R_REF_05_ongoing_violation_production(
    shared_production_gateway: Gateway,
) -> None:
    gw = shared_production_gateway
    gov = gw.mint("fy-gov", ["government"])
    town_leader = gw.mint("fy-hancong", ["leader"])
    town = gw.mint("fy-hancong", ["clerk"])

    # -- R-REF-13: 督办 with its own clock -------------------------------------------------
    rid = await _sent_referral(gw, "无照经营（督办）")
    bad = await _mutate(gw, town, ANSWER, "answerSupervision", id=rid, answer="无督办可答")
    assert (bad["code"], bad["field"]) == ("INVALID_STATE", "id"), bad
    bad = await _mutate(gw, gov, SUPERVISE, "superviseReferral", id=rid, note=" ")
    assert (bad["code"], bad["field"]) == ("VALIDATION_FAILED", "note"), bad
    r = await _mutate(
        gw, gov, SUPERVISE, "superviseReferral", id=rid, note="请尽快书面告知受理情况"
    )
    clock = next(d for d in r["deadlines"] if d["kind"] == "supervision")
    assert clock["state"] == "open" and r["supervisions"][-1]["due"] == clock["due"], r
    rule = (await gw.query(town, RULES, {"id": rid}))["data"]["referral"]["deadlines"]
    assert any(d["kind"] == "supervision" and "项目默认" in d["rule"] for d in rule), rule

    notice = await eventually(
        lambda: _notice(gw, town_leader, "referral.supervised", rid), what="the 督办 notice"
    )
    assert datetime.fromisoformat(notice["dueAt"]) == datetime.fromisoformat(clock["due"])
    ack = (await gw.query(town_leader, ACK, {"id": notice["id"]}))["data"]
    assert ack["acknowledgeInboxItem"]["readAt"], ack
    await assert_no_stalls(gw)

    done = await _mutate(gw, town, ANSWER, "answerSupervision", id=rid, answer="已核查，明日受理")
    assert [d["state"] for d in done["deadlines"] if d["kind"] == "supervision"] == ["met"]
    assert done["supervisions"][-1]["answer"] == "已核查，明日受理"
    answered = await eventually(
        lambda: _item(gw, gov, "referral.supervision_answered", rid), what="the answer"
    )
    assert "已核查" in answered["body"], answered
    await assert_no_stalls(gw)

    # -- R-REF-05: ongoing violation → told immediately, urgent referral ------------------
    clerk = gw.mint("fy-market", ["clerk"])
    now = gw.now()
    draft = draft_input(
        "fy-market",
        "fy-hancong",
        "无照经营（正在进行）",
        now=gw.now,
        ongoing=True,
        stopOrder="责令立即停止无照经营活动（抚市监责停〔2026〕7号）",
        stopOrderedAt=(now - timedelta(minutes=30)).isoformat(),
        immediateNotice="电话告知寒葱沟镇综合行政执法中心",
        notifiedAt=(now - timedelta(minutes=20)).isoformat(),
    )
    bad = await _mutate(
        gw, clerk, DRAFT, "draftReferral", input={**draft, "stopOrder": "", "title": "x"}
    )
    assert (bad["code"], bad["field"]) == ("VALIDATION_FAILED", "stopOrder"), bad
    created = await _mutate(gw, clerk, DRAFT, "draftReferral", input=draft)
    oid = created["id"]
    send = next(d for d in created["deadlines"] if d["kind"] == "send")
    assert datetime.fromisoformat(send["due"]) - datetime.fromisoformat(
        draft["foundAt"]
    ) == timedelta(hours=24), send  # FY (四)1: urgent → 24 hours
    told = await eventually(
        lambda: _item(gw, town, "referral.ongoing_violation", oid), what="the immediate notice"
    )
    assert told["urgent"] and "【立即】" in told["title"] and "责令立即停止" in told["body"], told
    ack = (await gw.query(town, ACK, {"id": told["id"]}))["data"]["acknowledgeInboxItem"]
    assert ack["readAt"], ack
    urgent = (await gw.query(clerk, RULES, {"id": oid}))["data"]["referral"]
    assert urgent["urgent"] is True, urgent
    await assert_no_stalls(gw)


async def test_R_REF_13_an_unanswered_supervision_is_escalated_like_other_clocks_production(
    topology: Topology,
) -> None:
    """R-REF-13 / R-SUP-02: the 督办's clock is watched like any other — past its due the
    receiver is told it is missed and its leader is escalated to (FY: 1 working day after),
    on the shared movable clock."""
    t = topology
    gw = t.gw
    gov = gw.mint("fy-gov", ["government"])
    town_leader = gw.mint("fy-hancong", ["leader"])
    rid = await _sent_referral(gw, "无照经营（督办超期）")
    r = await _mutate(gw, gov, SUPERVISE, "superviseReferral", id=rid, note="请立即办理")
    due = datetime.fromisoformat(
        next(d["due"] for d in r["deadlines"] if d["kind"] == "supervision")
    )
    t.move_to(t.calendar.add_working_days(due, 1).due + timedelta(minutes=5))

    async def escalated() -> dict[str, Any] | None:
        body = await gw.query(town_leader, ITEM)
        for e in body["data"]["myInbox"]["edges"]:
            n = e["node"]
            if (
                n["kind"] == "deadline.escalated"
                and n["subjectId"] == rid
                and "referral.supervision" in n["title"]
            ):
                return dict(n)
        return None

    item = await eventually(escalated, within=90, what="the 督办 escalation to the leader")
    ack = (await gw.query(town_leader, ACK, {"id": item["id"]}))["data"]["acknowledgeInboxItem"]
    assert ack["__typename"] == "InboxItem", ack
