"""Precise refusal codes of the coordination workflows reach the client (issue 18): through the
coordination graph, a refused step answers the ``UserError`` whose ``errorCode`` says why and
whose ``message`` is that code's Chinese wording, and the same step just inside the rule is
accepted. One test per family of workflow codes: dispatch (R-GRD-01), disputes (R-DSP-01,
R-DSP-02), joint operations (R-JNT-01, R-JNT-02)."""

from __future__ import annotations

from typing import Any

from kernel.errors import CODES
from tests.fixtures.coordination import RESIDENT_UNIT, RESIDENT_UNIT_INPUT
from tests.integration.coordination.test_authz_coordination import (
    GOV,
    MARKET_CLERK,
    MARKET_LEADER,
    NATRES_LEADER,
    TOWN_CLERK,
    Graph,
    Who,
    dispute_input,
    graph,  # noqa: F401
)

ERROR = "... on UserError { code errorCode family message field }"
GRID = Who("fy-hancong", ("grid_member",))
UNIT = RESIDENT_UNIT
UNIT_CLERK = Who(UNIT, ("clerk",))
TOWN_LEADER = Who("fy-hancong", ("leader",))


async def answer(g: Graph, who: Who, query: str, **variables: Any) -> dict[str, Any]:
    got: dict[str, Any] = (await g.data(who, query, **variables))["m"]
    return got


def assert_refused(got: dict[str, Any], code: str, field: str | None = None) -> None:
    """The refusal carries the precise code, its family and its Chinese wording."""
    assert got["__typename"] == "UserError", got
    known = CODES[code]
    assert (got["errorCode"], got["family"], got["code"]) == (code, known.family, known.family)
    assert got["message"].startswith(known.zh), got
    if field is not None:
        assert got["field"] == field, got


def assert_accepted(got: dict[str, Any], typename: str) -> None:
    assert got["__typename"] == typename, got


# -- dispatch (R-GRD-01) ------------------------------------------------------------------------

REGISTER_UNIT = (
    "mutation($input: RegisterAgencyInput!) { m: registerAgency(input: $input) { "
    "__typename ... on Agency { id } " + ERROR + " } }"
)
REPORT = (
    "mutation($input: ReportProblemInput!) { m: reportProblem(input: $input) { "
    "__typename ... on Dispatch { id } " + ERROR + " } }"
)
DISPATCH = (
    "mutation($id: ID!, $team: ID!) { m: dispatchProblem(dispatchId: $id, teamId: $team) { "
    "__typename ... on Dispatch { id state } " + ERROR + " } }"
)
RETURN = (
    'mutation($id: ID!) { m: returnDispatch(dispatchId: $id, reason: "不属市场监管职责") { '
    "__typename ... on Dispatch { id state } " + ERROR + " } }"
)
ACCEPT = (
    "mutation($id: ID!) { m: acceptDispatch(dispatchId: $id) { "
    "__typename ... on Dispatch { id state } " + ERROR + " } }"
)


async def test_R_GRD_01_dispatch_codes_name_the_team_rule_that_refused(
    graph: Graph,  # noqa: F811
) -> None:
    """TEAM_NOT_UNDER_COMMAND (a department is no team of the township's), TEAM_RETURNED_IT
    (the team that returned it is not sent it again; the township's own centre is),
    DISPATCHED_TO_ANOTHER_TEAM (a former team no longer acts on it; the current team does)."""
    g = graph
    unit = RESIDENT_UNIT_INPUT
    assert_accepted(await answer(g, GOV, REGISTER_UNIT, input=unit), "Agency")
    report = {
        "platformId": "fy-hancong",
        "source": "GRID_MEMBER",
        "what": "占道经营",
        "place": "寒葱沟镇中心街8号",
        "area": "中心街第3网格",
        "foundAt": "2026-01-05T08:00:00+08:00",
    }
    reported = await answer(g, GRID, REPORT, input=report)
    assert_accepted(reported, "Dispatch")
    d = reported["id"]

    outside = await answer(g, TOWN_CLERK, DISPATCH, id=d, team="fy-market")
    assert_refused(outside, "TEAM_NOT_UNDER_COMMAND", "teamId")
    assert_accepted(await answer(g, TOWN_CLERK, DISPATCH, id=d, team=UNIT), "Dispatch")
    assert_accepted(await answer(g, UNIT_CLERK, RETURN, id=d), "Dispatch")

    again = await answer(g, TOWN_CLERK, DISPATCH, id=d, team=UNIT)
    assert_refused(again, "TEAM_RETURNED_IT", "teamId")
    own = await answer(g, TOWN_CLERK, DISPATCH, id=d, team="fy-hancong")
    assert_accepted(own, "Dispatch")

    former = await answer(g, UNIT_CLERK, ACCEPT, id=d)
    assert_refused(former, "DISPATCHED_TO_ANOTHER_TEAM")
    accepted = await answer(g, TOWN_CLERK, ACCEPT, id=d)
    assert_accepted(accepted, "Dispatch")
    assert accepted["state"] == "ACCEPTED"


# -- disputes (R-DSP-01, R-DSP-02) -----------------------------------------------------------

DSP = "__typename ... on Dispute { id status } " + ERROR
OPEN = "mutation($input: OpenDisputeInput!) { m: openDispute(input: $input) { " + DSP + " } }"
RULE = "mutation($input: RuleDisputeInput!) { m: ruleDispute(input: $input) { " + DSP + " } }"


async def test_R_DSP_01_R_DSP_02_dispute_codes_name_the_party_and_step_rule_that_refused(
    graph: Graph,  # noqa: F811
) -> None:
    """TOO_FEW_PARTIES (one party is no dispute; two are), NOT_THE_DECIDING_BODY (a party
    does not rule; the government does)."""
    g = graph
    alone = await answer(
        g, MARKET_CLERK, OPEN, input={**dispute_input(), "partyIds": ["fy-market"]}
    )
    assert_refused(alone, "TOO_FEW_PARTIES", "partyIds")
    opened = await answer(g, MARKET_CLERK, OPEN, input=dispute_input())
    assert_accepted(opened, "Dispute")
    ruling = {
        "disputeId": opened["id"],
        "outcomeKind": "DECISION",
        "basis": "抚政决〔2026〕2号",
        "responsibleAgencyId": "fy-market",
    }
    by_party = await answer(g, MARKET_CLERK, RULE, input=ruling)
    assert_refused(by_party, "NOT_THE_DECIDING_BODY")
    ruled = await answer(g, GOV, RULE, input=ruling)
    assert_accepted(ruled, "Dispute")
    assert ruled["status"] == "RULED"


# -- joint operations (R-JNT-01, R-JNT-02) ---------------------------------------------------

JNT = "__typename ... on JointOperation { id status } " + ERROR
INITIATE = (
    "mutation($input: InitiateJointOperationInput!) { m: initiateJointOperation(input: $input)"
    " { " + JNT + " } }"
)
SUBMIT_PLAN = (
    "mutation($input: SubmitJointPlanInput!) { m: submitJointPlan(input: $input) { " + JNT + " } }"
)
COMMENT = (
    'mutation($id: ID!) { m: commentOnJointPlan(operationId: $id, comment: "同意方案", '
    'dailyLiaison: {name: "李联络", phone: "0454-5430100"}) { ' + JNT + " } }"
)
START = "mutation($id: ID!) { m: startJointOperation(operationId: $id) { " + JNT + " } }"


def operation(*cooperating: str) -> dict[str, Any]:
    """initiateJointOperation's input: 自然资源局 leads, on a higher authority's basis."""
    return {
        "title": "违法占地联合整治",
        "basis": "HIGHER_AUTHORITY",
        "basisReference": "黑自然资发〔2026〕5号",
        "leadId": "fy-natres",
        "cooperatingIds": list(cooperating),
    }


def plan(operation_id: str) -> dict[str, Any]:
    """submitJointPlan's input: every part of the plan (R-JNT-02) and the general liaison."""
    return {
        "operationId": operation_id,
        "plan": {
            "legalBasis": "《中华人民共和国土地管理法》",
            "goal": "整治违法占地",
            "scope": "寒葱沟镇",
            "field": "土地",
            "divisionOfDuties": "自然资源局牵头，各配合单位按职责分工",
            "steps": "摸排、核查、处置",
            "jointMethod": "联合检查",
            "safeguards": "车辆、执法记录仪",
        },
        "generalLiaison": {"name": "赵科长", "phone": "0454-5430101"},
    }


async def test_R_JNT_01_R_JNT_02_joint_codes_name_the_roles_and_the_missing_comment(
    graph: Graph,  # noqa: F811
) -> None:
    """LEAD_ALSO_COOPERATING (the lead is not among its cooperating agencies), COMMENTS_PENDING
    (the lead starts only once every cooperating agency commented: one short is refused, all
    commented starts)."""
    g = graph
    both = await answer(g, NATRES_LEADER, INITIATE, input=operation("fy-market", "fy-natres"))
    assert_refused(both, "LEAD_ALSO_COOPERATING", "cooperatingIds")
    initiated = await answer(g, NATRES_LEADER, INITIATE, input=operation("fy-market", "fy-hancong"))
    assert_accepted(initiated, "JointOperation")
    op = initiated["id"]
    submitted = await answer(g, NATRES_LEADER, SUBMIT_PLAN, input=plan(op))
    assert_accepted(submitted, "JointOperation")
    assert_accepted(await answer(g, MARKET_LEADER, COMMENT, id=op), "JointOperation")

    one_short = await answer(g, NATRES_LEADER, START, id=op)
    assert_refused(one_short, "COMMENTS_PENDING", "comments")
    assert "fy-hancong" in one_short["message"]
    assert_accepted(await answer(g, TOWN_LEADER, COMMENT, id=op), "JointOperation")
    started = await answer(g, NATRES_LEADER, START, id=op)
    assert_accepted(started, "JointOperation")
    assert started["status"] == "IN_PROGRESS"
