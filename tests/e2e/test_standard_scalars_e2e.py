"""Issue 18, codegen without custom scalars, end to end through the real gateway and the
production topology (three service processes over RabbitMQ and MongoDB): a joint task given
its deadline as a String day (R-JNT-04) reads back as that day in ``deadlineDate`` (and the
deprecated ``deadline``), reaches the township clerk's work queue as the guide's ClerkQueue
screen asks for it, the process record (R-SUP-01, notify) answers the operation's events as
JSON text equal to the deprecated JSON payload, and ``jurisdiction(onDate:)`` (R-CAT-02)
answers as ``jurisdiction(on:)``."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.e2e.scenario import Gateway, answer_of, data_of, eventually
from tests.e2e.stalls import assert_no_stalls
from tests.e2e.test_coordination_joint_e2e import (
    COMMENT,
    INITIATE,
    PLAN,
    START,
    SUBMIT,
)
from tests.integration.suite.test_graph_guide import guide_queries

CHINA = ZoneInfo("Asia/Shanghai")
ASSIGN = """
mutation($input: AssignJointTaskInput!) { assignJointTask(input: $input) {
  __typename
  ... on JointOperation { id tasks { id agencyId deadline deadlineDate } }
  ... on UserError { code errorCode message field }
} }"""
RECORD = """
query($subject: String!) { processRecord(filter: { subject: $subject }, first: 200) {
  edges { node { type payload payloadJson stateBefore stateBeforeJson stateAfter stateAfterJson } }
} }"""
JURISDICTION = """
query($on: Date, $onDate: String) {
  jurisdiction(matterCode: "FY-SCJG-001", townshipId: "fy-hancong", on: $on, onDate: $onDate) {
    __typename ... on Jurisdiction { on onDate agencyId reason explanation entryVersion }
    ... on UserError { errorCode field }
  }
}"""


async def test_R_JNT_04_R_SUP_01_R_CAT_02_string_days_and_json_text_through_the_gateway(
    shared_production_gateway: Gateway,
) -> None:
    gw = shared_production_gateway
    gov = gw.mint("fy-gov", ["government"])
    market = gw.mint("fy-market", ["leader"])
    town_leader = gw.mint("fy-hancong", ["leader"])
    town_clerk = gw.mint("fy-hancong", ["clerk"])
    justice = gw.mint("fy-justice", ["supervisor"])

    initiated = {
        "title": "集贸市场无照经营联合整治",
        "basis": "PROMINENT_VIOLATIONS",
        "basisReference": "抚政办〔2026〕18号",
        "leadId": "fy-market",
        "cooperatingIds": ["fy-hancong"],
    }
    op = (await answer_of(gw, gov, INITIATE, "initiateJointOperation", input=initiated))["id"]
    plan = {**PLAN, "steps": "摸排、检查、处置、总结"}
    liaison = {"name": "王总联", "phone": "0454-1234567"}
    submit = {"operationId": op, "plan": plan, "generalLiaison": liaison}
    assert (await answer_of(gw, market, SUBMIT, "submitJointPlan", input=submit))["status"] == (
        "COMMENTING"
    )
    daily = {"name": "李联络", "phone": "13800000003"}
    await answer_of(gw, town_leader, COMMENT, "commentOnJointPlan", id=op, c="同意", l=daily)
    started = await answer_of(gw, market, START, "startJointOperation", id=op)
    assert started["status"] == "IN_PROGRESS", started

    # R-JNT-04: the deadline as a String day; a malformed one is refused, naming the field.
    day = (gw.now().astimezone(CHINA).date() + timedelta(days=10)).isoformat()
    task = {"operationId": op, "agencyId": "fy-hancong", "description": "排查无照经营户"}
    bad = await answer_of(
        gw, market, ASSIGN, "assignJointTask", input={**task, "deadlineDate": day[:8] + "32"}
    )
    assert (bad["__typename"], bad["errorCode"], bad["field"]) == (
        "UserError",
        "INVALID_DATE",
        "deadlineDate",
    ), bad
    assigned = await answer_of(
        gw, market, ASSIGN, "assignJointTask", input={**task, "deadlineDate": day}
    )
    [t] = assigned["tasks"]
    assert (t["deadlineDate"], t["deadline"]) == (day, day), t

    # The clerk's queue (the guide's ClerkQueue, as written): the task with its String day.
    async def queued() -> dict[str, Any] | None:
        after: str | None = None
        while True:
            variables = {"first": 200, "after": after}
            agency = data_of(await gw.query(town_clerk, guide_queries()["ClerkQueue"], variables))
            queue = agency["viewer"]["agency"]["workQueue"]
            for edge in queue["edges"]:
                subject = edge["node"]["subject"] or {}
                if subject.get("__typename") == "JointTask" and subject.get("id") == t["id"]:
                    return dict(subject)
            if not queue["pageInfo"]["hasNextPage"]:
                return None
            after = queue["pageInfo"]["endCursor"]

    subject = await eventually(queued, what="the joint task in the township clerk's queue")
    assert subject["deadlineDate"] == day, subject

    # R-SUP-01: the operation's events in the record, as JSON text equal to the JSON payload.
    async def recorded() -> list[dict[str, Any]] | None:
        edges = data_of(await gw.query(justice, RECORD, {"subject": op}))["processRecord"]["edges"]
        nodes = [e["node"] for e in edges]
        return nodes if any(n["type"] == "joint.task_assigned.v1" for n in nodes) else None

    entries = await eventually(recorded, what="the joint operation's events in the record")
    for entry in entries:
        assert json.loads(entry["payloadJson"]) == entry["payload"], entry
        for state in ("stateBefore", "stateAfter"):
            text = entry[f"{state}Json"]
            assert (None if text is None else json.loads(text)) == entry[state], entry

    # R-CAT-02: who handles the demo matter on that day, asked by a String day or a Date.
    by_string = await answer_of(gw, town_clerk, JURISDICTION, "jurisdiction", onDate=day)
    by_date = await answer_of(gw, town_clerk, JURISDICTION, "jurisdiction", on=day)
    assert by_string["__typename"] == "Jurisdiction" and by_string == by_date, by_string
    assert by_string["onDate"] == by_string["on"] == day

    await assert_no_stalls(gw)
