"""Through the real gateway, in both topologies (the embedded suite in this process, and the
production one: separate service processes over RabbitMQ and MongoDB): joint plan →
comments → start → tasks → one report and one written inability (rejected and reported to the
government) → an inspection that triggers the inspect-once warning (R-JNT-01…05). Bad input
(a missing plan section, a start before the comments, a report without a task, an inability
without reasons) gets a UserError and changes nothing."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.e2e.scenario import Gateway
from tests.e2e.scenario import data_of as _data
from tests.e2e.stalls import assert_no_stalls

CHINA = ZoneInfo("Asia/Shanghai")

OP = """
    __typename
    ... on JointOperation {
      id status basis initiatedBy initiatorAgencyId awaitingCommentsFrom
      plan { version field } liaisons { agencyId role name phone }
      tasks {
        id agencyId status late report
        inability { reasons accepted decisionReason reportedToGovernmentId }
        reportDeadline { kind state due explanation }
      }
    }
    ... on UserError { code message field }
"""
INITIATE = (
    "mutation($input: InitiateJointOperationInput!) { initiateJointOperation(input: $input) {"
    + OP
    + "} }"
)
SUBMIT = "mutation($input: SubmitJointPlanInput!) { submitJointPlan(input: $input) {" + OP + "} }"
COMMENT = (
    "mutation($id: ID!, $c: String!, $l: JointLiaisonInput!) {"
    " commentOnJointPlan(operationId: $id, comment: $c, dailyLiaison: $l) {" + OP + "} }"
)
START = "mutation($id: ID!) { startJointOperation(operationId: $id) {" + OP + "} }"
ASSIGN = "mutation($input: AssignJointTaskInput!) { assignJointTask(input: $input) {" + OP + "} }"
REPORT = (
    "mutation($id: ID!, $t: ID!, $s: String!) {"
    " reportJointTask(operationId: $id, taskId: $t, summary: $s) {" + OP + "} }"
)
INABILITY = (
    "mutation($id: ID!, $t: ID!, $r: String!) {"
    " stateJointTaskInability(operationId: $id, taskId: $t, reasons: $r) {" + OP + "} }"
)
DECIDE = (
    "mutation($id: ID!, $t: ID!) { decideJointTaskInability(operationId: $id, taskId: $t,"
    ' accept: false, reason: "可借用设备，理由不成立", reportToGovernment: true) {' + OP + "} }"
)
INSPECT = """
mutation($input: RecordJointInspectionInput!) { recordJointInspection(input: $input) {
  __typename
  ... on JointInspection { id agencyId targetKey warning { previousAgencyId windowDays message } }
  ... on UserError { code message field }
} }"""
READ = """
query($id: ID!, $agency: ID!) {
  jointOperation(id: $id) { status lead { id } inspections { id warning { previousAgencyId } } }
  jointOperations(agencyId: $agency, status: IN_PROGRESS) { edges { node { id } } }
  jointTasks(agencyId: $agency) { id operationId status }
}"""

PLAN = {  # every section but "steps"
    "legalBasis": "《中华人民共和国城乡规划法》第六十五条",
    "goal": "清理农村违法建设",
    "scope": "寒葱沟镇",
    "field": "违法建设",
    "divisionOfDuties": "市场监管局牵头，住建局、自然资源局配合",
    "jointMethod": "联合检查、信息共享",
    "safeguards": "车辆、执法记录仪",
}


async def test_R_JNT_01_to_05_joint_operation_through_the_gateway_embedded(
    embedded_gateway: Gateway,
) -> None:
    await run_joint_path(embedded_gateway)


async def test_R_JNT_01_to_05_joint_operation_through_the_gateway_production(
    shared_production_gateway: Gateway,
) -> None:
    """The same path across separate processes over RabbitMQ and MongoDB."""
    await run_joint_path(shared_production_gateway)


async def run_joint_path(gw: Gateway) -> None:
    gov = gw.mint("fy-gov", ["government"])
    market = gw.mint("fy-market", ["leader"])
    housing = gw.mint("fy-housing", ["clerk"])
    natres = gw.mint("fy-natres", ["clerk"])

    async def op_call(token: str, query: str, variables: dict[str, Any], name: str) -> Any:
        return _data(await gw.query(token, query, variables))[name]

    # R-JNT-01: the government initiates for a field with prominent violations.
    op = await op_call(
        gov,
        INITIATE,
        {
            "input": {
                "title": "农村违法建设联合整治",
                "basis": "PROMINENT_VIOLATIONS",
                "basisReference": "抚政办〔2026〕3号",
                "leadId": "fy-market",
                "cooperatingIds": ["fy-housing", "fy-natres"],
            }
        },
        "initiateJointOperation",
    )
    assert op["__typename"] == "JointOperation", op
    assert (op["status"], op["initiatorAgencyId"]) == ("PLANNING", "fy-gov")
    op_id = op["id"]
    liaison = {"name": "王总联", "phone": "0454-1234567"}

    # R-JNT-02: a missing section is named; nothing changes.
    plan = dict(PLAN)  # without "steps"
    missing = await op_call(
        market,
        SUBMIT,
        {"input": {"operationId": op_id, "plan": plan, "generalLiaison": liaison}},
        "submitJointPlan",
    )
    assert missing["__typename"] == "UserError", missing
    assert (missing["code"], missing["field"]) == ("VALIDATION_FAILED", "plan.steps")
    plan["steps"] = "摸排、检查、处置、总结"
    submitted = await op_call(
        market,
        SUBMIT,
        {"input": {"operationId": op_id, "plan": plan, "generalLiaison": liaison}},
        "submitJointPlan",
    )
    assert submitted["status"] == "COMMENTING" and submitted["plan"]["version"] == 1
    assert set(submitted["awaitingCommentsFrom"]) == {"fy-housing", "fy-natres"}

    commented = await op_call(
        housing,
        COMMENT,
        {"id": op_id, "c": "同意", "l": {"name": "李住建", "phone": "13800000001"}},
        "commentOnJointPlan",
    )
    assert commented["awaitingCommentsFrom"] == ["fy-natres"]
    early = await op_call(market, START, {"id": op_id}, "startJointOperation")
    assert early["__typename"] == "UserError" and early["field"] == "comments", early
    await op_call(
        natres,
        COMMENT,
        {"id": op_id, "c": "无意见", "l": {"name": "赵自然", "phone": "13800000002"}},
        "commentOnJointPlan",
    )
    started = await op_call(market, START, {"id": op_id}, "startJointOperation")
    assert started["status"] == "IN_PROGRESS", started
    assert {(x["agencyId"], x["role"]) for x in started["liaisons"]} == {  # R-JNT-03
        ("fy-market", "general"),
        ("fy-housing", "daily"),
        ("fy-natres", "daily"),
    }

    # R-JNT-04: tasks, one report, one written inability rejected and reported.
    deadline = (gw.now().astimezone(CHINA).date() + timedelta(days=10)).isoformat()
    for agency in ("fy-housing", "fy-natres"):
        assigned = await op_call(
            market,
            ASSIGN,
            {
                "input": {
                    "operationId": op_id,
                    "agencyId": agency,
                    "description": "检查辖区违法建设",
                    "deadline": deadline,
                }
            },
            "assignJointTask",
        )
    tasks = {t["agencyId"]: t for t in assigned["tasks"]}
    h_task, n_task = tasks["fy-housing"]["id"], tasks["fy-natres"]["id"]
    assert tasks["fy-natres"]["reportDeadline"]["kind"] == "joint.task_report"
    assert "工作日" in tasks["fy-natres"]["reportDeadline"]["explanation"]

    no_task = await op_call(
        housing, REPORT, {"id": op_id, "t": "nope", "s": "x"}, "reportJointTask"
    )
    assert (no_task["__typename"], no_task["code"], no_task["field"]) == (
        "UserError",
        "NOT_FOUND",
        "taskId",
    )
    reported = await op_call(
        housing, REPORT, {"id": op_id, "t": h_task, "s": "已核查3处"}, "reportJointTask"
    )
    assert {t["id"]: t["status"] for t in reported["tasks"]}[h_task] == "REPORTED"
    no_reasons = await op_call(
        natres, INABILITY, {"id": op_id, "t": n_task, "r": " "}, "stateJointTaskInability"
    )
    assert no_reasons["__typename"] == "UserError" and no_reasons["field"] == "reasons"
    stated = await op_call(
        natres, INABILITY, {"id": op_id, "t": n_task, "r": "无测绘设备"}, "stateJointTaskInability"
    )
    assert {t["id"]: t["status"] for t in stated["tasks"]}[n_task] == "INABILITY_STATED"
    decided = await op_call(market, DECIDE, {"id": op_id, "t": n_task}, "decideJointTaskInability")
    rejected = {t["id"]: t for t in decided["tasks"]}[n_task]
    assert rejected["status"] == "INABILITY_REJECTED", decided
    assert rejected["inability"]["accepted"] is False
    assert rejected["inability"]["reportedToGovernmentId"] == "fy-gov"

    # R-JNT-05: the same target inspected by two agencies → the inspect-once warning.
    licence = "9123" + uuid.uuid4().hex[:14].upper()
    first = await op_call(
        housing,
        INSPECT,
        {
            "input": {
                "operationId": op_id,
                "taskId": h_task,
                "target": {"licenceNumber": licence},
                "findings": "发现违法建设1处",
            }
        },
        "recordJointInspection",
    )
    assert first["__typename"] == "JointInspection" and first["warning"] is None, first
    second = await op_call(
        natres,
        INSPECT,
        {
            "input": {
                "operationId": op_id,
                "taskId": n_task,
                "target": {"licenceNumber": licence.lower()},
                "findings": "复核占地",
            }
        },
        "recordJointInspection",
    )
    assert second["warning"]["previousAgencyId"] == "fy-housing", second
    assert "综合查一次" in second["warning"]["message"]

    read = _data(await gw.query(market, READ, {"id": op_id, "agency": "fy-natres"}))
    assert read["jointOperation"]["lead"]["id"] == "fy-market"
    assert [i["warning"] for i in read["jointOperation"]["inspections"]] == [
        None,
        {"previousAgencyId": "fy-housing"},
    ]
    assert op_id in [e["node"]["id"] for e in read["jointOperations"]["edges"]]
    assert {"id": n_task, "operationId": op_id, "status": "INABILITY_REJECTED"} in read[
        "jointTasks"
    ]
    await assert_no_stalls(gw)
