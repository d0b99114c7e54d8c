"""Issue 14, the two states that had no clock, through the real gateway in the production
topology (separate service processes over RabbitMQ and the MongoDB wire-protocol server):

* R-AST-02: a refused assistance request sent to the legal office for mediation (调处) — the
  office (the district's coordination body) finds the request in its inbox, due by its
  mediation clock (10 working days, a project default in the policy), signs for it (签收,
  R-NTF-04), and the clock is in its work queue (notify watches it, R-SUP-02); the stall
  check is empty while it waits; the outcome meets the clock.
* R-JNT-04: a written inability (书面说明) on a joint task — the lead finds it in its inbox, due
  by its decision clock (5 working days, a project default), signs for it, the clock is in
  its work queue; the stall check is empty; the decision meets the clock.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.e2e.scenario import Gateway, eventually
from tests.e2e.stalls import assert_no_stalls
from tests.e2e.test_coordination_joint_e2e import (
    ASSIGN,
    CHINA,
    COMMENT,
    INITIATE,
    PLAN,
    START,
    SUBMIT,
)
from tests.e2e.test_new_rules_e2e import _mutate, _notice, _same, _sign

CLOCK = "kind responsibleAgencyId due state rule"
ASSISTANCE = (
    "__typename ... on AssistanceRequest { id status mediation { mediatorId } "
    "deadlines { " + CLOCK + " } } ... on UserError { code message field }"
)
REQUEST = (
    "mutation($input: RequestAssistanceInput!) { requestAssistance(input: $input) { "
    + ASSISTANCE
    + " } }"
)
REPLY = (
    "mutation($input: ReplyToAssistanceInput!) { replyToAssistance(input: $input) { "
    + ASSISTANCE
    + " } }"
)
MEDIATE = (
    "mutation($id: ID!) { referAssistanceToMediation(requestId: $id, "
    'disagreement: "调取的档案属法定协助事项") { ' + ASSISTANCE + " } }"
)
OUTCOME = (
    "mutation($id: ID!) { recordAssistanceMediation(requestId: $id, outcome: ASSIST, "
    'basis: "抚协调〔2026〕2号") { ' + ASSISTANCE + " } }"
)
TASKS = (
    "__typename ... on JointOperation { id status tasks { id agencyId status "
    "reportDeadline { " + CLOCK + " } decisionDeadline { " + CLOCK + " } } } "
    "... on UserError { code message field }"
)
STATE = (
    "mutation($id: ID!, $t: ID!) { stateJointTaskInability(operationId: $id, taskId: $t, "
    'reasons: "无测绘设备，无法完成占地面积测量") { ' + TASKS + " } }"
)
DECIDE = (
    "mutation($id: ID!, $t: ID!) { decideJointTaskInability(operationId: $id, taskId: $t, "
    'accept: true, reason: "设备确无法借用", reportToGovernment: false) { ' + TASKS + " } }"
)
QUEUE = """
query($agency: ID!) { agency(id: $agency) { workQueue(first: 100) {
  edges { node { kind subjectId due state } } } } }"""


def _open(deadlines: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    [clock] = [d for d in deadlines if d["kind"] == kind and d["state"] == "open"]
    return clock


async def _queued(gw: Gateway, token: str, agency: str, kind: str, subject: str) -> dict[str, Any]:
    """The clock of ``kind`` on ``subject`` in ``agency``'s work queue (notify's watch)."""

    async def find() -> dict[str, Any] | None:
        body = await gw.query(token, QUEUE, {"agency": agency})
        queue = ((body.get("data") or {}).get("agency") or {}).get("workQueue") or {}
        for edge in queue.get("edges") or []:
            if (edge["node"]["kind"], edge["node"]["subjectId"]) == (kind, subject):
                return dict(edge["node"])
        return None

    found: dict[str, Any] = await eventually(find, within=90, what=f"{kind} in the queue")
    return found


async def _mediation_path(gw: Gateway) -> None:
    """R-AST-02: the legal office owns a disputed refusal, on its clock."""
    market = gw.mint("fy-market", ["clerk"])
    housing = gw.mint("fy-housing", ["leader"])
    coord = gw.mint("fy-coord", ["coordinator"])
    asked = await _mutate(
        gw,
        market,
        REQUEST,
        "requestAssistance",
        input={
            "requesterId": "fy-market",
            "helperId": "fy-housing",
            "matters": ["调取违法建设档案"],
            "letterNumber": "抚市监协〔2026〕9号",
        },
    )
    assert asked["__typename"] == "AssistanceRequest", asked
    rid = asked["id"]
    refused = await _mutate(
        gw,
        housing,
        REPLY,
        "replyToAssistance",
        input={
            "requestId": rid,
            "willHelp": False,
            "replyLetterNumber": "抚住建复〔2026〕4号",
            "refusalGrounds": "档案已移交市档案馆",
            "legalProvision": "《中华人民共和国档案法》第十五条",
        },
    )
    assert refused["status"] == "REFUSED", refused
    m = await _mutate(gw, market, MEDIATE, "referAssistanceToMediation", id=rid)
    assert m["status"] == "IN_MEDIATION" and m["mediation"]["mediatorId"] == "fy-coord", m
    clock = _open(m["deadlines"], "assistance.mediation")
    assert clock["responsibleAgencyId"] == "fy-coord" and "项目默认" in clock["rule"], clock

    # The addressee's inbox item, due by the clock; its receipt; the clock in its queue.
    item = await _notice(gw, coord, "assistance.mediation_requested", rid)
    assert _same(item["dueAt"], clock["due"]), (item, clock)
    await _sign(gw, coord, item)
    queued = await _queued(gw, coord, "fy-coord", "assistance.mediation", rid)
    assert _same(queued["due"], clock["due"]), queued
    await assert_no_stalls(gw)

    done = await _mutate(gw, coord, OUTCOME, "recordAssistanceMediation", id=rid)
    assert done["status"] == "ACCEPTED", done
    assert [d["state"] for d in done["deadlines"] if d["kind"] == "assistance.mediation"] == ["met"]


async def _inability_path(gw: Gateway) -> None:
    """R-JNT-04: the lead owns a written inability, on its decision clock."""
    gov = gw.mint("fy-gov", ["government"])
    market = gw.mint("fy-market", ["leader"])
    housing = gw.mint("fy-housing", ["clerk"])
    natres = gw.mint("fy-natres", ["clerk"])
    op = await _mutate(
        gw,
        gov,
        INITIATE,
        "initiateJointOperation",
        input={
            "title": "农村违法占地联合整治",
            "basis": "PROMINENT_VIOLATIONS",
            "basisReference": "抚政办〔2026〕5号",
            "leadId": "fy-market",
            "cooperatingIds": ["fy-housing", "fy-natres"],
        },
    )
    op_id = op["id"]
    plan = {**PLAN, "steps": "摸排、检查、处置、总结"}
    await _mutate(
        gw,
        market,
        SUBMIT,
        "submitJointPlan",
        input={
            "operationId": op_id,
            "plan": plan,
            "generalLiaison": {"name": "王总联", "phone": "0454-1234567"},
        },
    )
    for token, name in ((housing, "李住建"), (natres, "赵自然")):
        await _mutate(
            gw,
            token,
            COMMENT,
            "commentOnJointPlan",
            id=op_id,
            c="同意",
            l={"name": name, "phone": "13800000001"},
        )
    started = await _mutate(gw, market, START, "startJointOperation", id=op_id)
    assert started["status"] == "IN_PROGRESS", started
    deadline = (gw.now().astimezone(CHINA).date() + timedelta(days=10)).isoformat()
    assigned = await _mutate(
        gw,
        market,
        ASSIGN,
        "assignJointTask",
        input={
            "operationId": op_id,
            "agencyId": "fy-natres",
            "description": "测量违法占地面积",
            "deadline": deadline,
        },
    )
    [task] = assigned["tasks"]
    stated = await _mutate(gw, natres, STATE, "stateJointTaskInability", id=op_id, t=task["id"])
    [task] = stated["tasks"]
    assert task["status"] == "INABILITY_STATED", stated
    clock = task["decisionDeadline"]
    assert (clock["kind"], clock["state"], clock["responsibleAgencyId"]) == (
        "joint.inability_decision",
        "open",
        "fy-market",
    )
    assert "项目默认" in clock["rule"], clock

    item = await _notice(gw, market, "joint.inability_stated", op_id)
    assert _same(item["dueAt"], clock["due"]), (item, clock)
    await _sign(gw, market, item)
    queued = await _queued(gw, market, "fy-market", "joint.inability_decision", task["id"])
    assert _same(queued["due"], clock["due"]), queued
    await assert_no_stalls(gw)

    decided = await _mutate(gw, market, DECIDE, "decideJointTaskInability", id=op_id, t=task["id"])
    [task] = decided["tasks"]
    assert task["status"] == "INABILITY_ACCEPTED" and task["decisionDeadline"]["state"] == "met"


async def test_R_AST_02_R_JNT_04_R_NTF_04_mediation_and_inability_have_an_owner_and_a_clock_production(  # noqa: E501
    shared_production_gateway: Gateway,
) -> None:
    await _mediation_path(shared_production_gateway)
    await _inability_path(shared_production_gateway)
    await assert_no_stalls(shared_production_gateway)
