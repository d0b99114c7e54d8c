"""Through the real gateway, in both topologies (embedded, and production: separate service
processes over RabbitMQ and MongoDB): a catalogue entry is created → the jurisdiction
query answers with its reason → a dispute is opened → escalated → ruled → the entry gains the
routing rule and the jurisdiction query now answers by the rule (R-CAT-01…04, R-DSP-01…03)."""

from __future__ import annotations

from tests.e2e.scenario import Gateway
from tests.e2e.scenario import data_of as _data
from tests.e2e.stalls import assert_no_stalls

DEFINE = """
mutation($input: DefineCatalogueEntryInput!) {
  defineCatalogueEntry(input: $input) {
    __typename
    ... on CatalogueEntry { code version delegations { township { id name } mode modeZh } }
    ... on UserError { code message field }
  }
}"""

JURISDICTION = """
query($code: String!, $township: ID!, $major: Boolean! = false) {
  jurisdiction(matterCode: $code, townshipId: $township, majorPenalty: $major) {
    __typename
    ... on Jurisdiction { agency { id name kind } reason explanation ruleId entryVersion }
    ... on UserError { code message field }
  }
}"""

DISPUTE_FIELDS = """
    __typename
    ... on Dispute {
      id status interimHandler { id }
      currentStep { number nameZh due explanation decidedBy { id name } }
      outcome { kind ruleId responsibleAgency { id } }
    }
    ... on UserError { code message field }
"""

OPEN = "mutation($input: OpenDisputeInput!) { openDispute(input: $input) {" + DISPUTE_FIELDS + "} }"
ESCALATE = "mutation($id: ID!) { escalateDispute(id: $id) {" + DISPUTE_FIELDS + "} }"
RULE = "mutation($input: RuleDisputeInput!) { ruleDispute(input: $input) {" + DISPUTE_FIELDS + "} }"

ENTRY = """
query($code: String!) {
  catalogueEntry(code: $code) {
    version
    routingRules { ruleId basis responsibleAgency { id } township { id } }
    history { version change summaryZh }
  }
  catalogueEntries(first: 50) { edges { node { code } } }
}"""


async def test_R_CAT_01_R_DSP_03_entry_dispute_ruling_changes_the_jurisdiction_answer_embedded(
    embedded_gateway: Gateway,
) -> None:
    await run_catalogue_dispute_path(embedded_gateway)


async def test_R_CAT_01_R_DSP_03_entry_dispute_ruling_changes_the_jurisdiction_answer_production(
    shared_production_gateway: Gateway,
) -> None:
    """The same path across separate processes over RabbitMQ and MongoDB."""
    await run_catalogue_dispute_path(shared_production_gateway)


async def run_catalogue_dispute_path(gw: Gateway) -> None:
    housing = gw.mint("fy-housing", ["leader"])
    township = gw.mint("fy-hancong", ["clerk", "leader"])
    coordinator = gw.mint("fy-coord", ["coordinator"])

    entry = {
        "code": "FY-ZJ-901",
        "name": "对擅自占用城镇道路堆放物料的行政处罚",
        "originalDepartmentId": "fy-housing",
        "legalBasis": "《城市道路管理条例》第二十七条",
        "penaltyBasis": "《城市道路管理条例》第四十二条",
        "delegations": [
            {"townshipId": "fy-hancong", "mode": "DECISION", "effectiveFrom": "2021-01-01"}
        ],
    }
    # Bad input from one who may define entries (the coordinator): a UserError with its
    # field, and nothing written. The housing bureau naming another owner is refused before
    # its input is looked at (issue 16: authorization first).
    wrong_owner = {"input": {**entry, "originalDepartmentId": "fy-hancong-center"}}
    bad = _data(await gw.query(coordinator, DEFINE, wrong_owner))["defineCatalogueEntry"]
    assert bad["__typename"] == "UserError" and bad["field"] == "originalDepartmentId", bad
    refused = _data(await gw.query(housing, DEFINE, wrong_owner))["defineCatalogueEntry"]
    assert refused["code"] == "FORBIDDEN", refused

    created = _data(await gw.query(housing, DEFINE, {"input": entry}))["defineCatalogueEntry"]
    assert created["__typename"] == "CatalogueEntry" and created["version"] == 1, created
    assert created["delegations"][0]["township"]["name"] == "寒葱沟镇人民政府"

    answer = _data(
        await gw.query(township, JURISDICTION, {"code": "FY-ZJ-901", "township": "fy-hancong"})
    )["jurisdiction"]
    assert answer["agency"]["id"] == "fy-hancong" and answer["reason"] == "DELEGATED", answer
    major = _data(
        await gw.query(
            township,
            JURISDICTION,
            {"code": "FY-ZJ-901", "township": "fy-hancong", "major": True},
        )
    )["jurisdiction"]
    assert major["agency"]["id"] == "fy-housing" and major["reason"] == "MAJOR_PENALTY"

    opened = _data(
        await gw.query(
            township,
            OPEN,
            {
                "input": {
                    "matterCode": "FY-ZJ-901",
                    "townshipId": "fy-hancong",
                    "partyIds": ["fy-hancong", "fy-housing"],
                    "reasons": "占道堆放物料涉及施工许可，双方对管辖有争议",
                    "interimHandlerId": "fy-hancong",
                }
            },
        )
    )["openDispute"]
    assert opened["__typename"] == "Dispute" and opened["status"] == "OPEN", opened
    assert opened["currentStep"]["number"] == 1 and "工作日" in opened["currentStep"]["explanation"]
    assert opened["interimHandler"]["id"] == "fy-hancong"

    up = _data(await gw.query(housing, ESCALATE, {"id": opened["id"]}))["escalateDispute"]
    assert up["currentStep"]["number"] == 2, up
    assert up["currentStep"]["decidedBy"]["id"] == "fy-coord"

    ruled = _data(
        await gw.query(
            coordinator,
            RULE,
            {
                "input": {
                    "disputeId": opened["id"],
                    "outcomeKind": "DECISION",
                    "basis": "执法协调小组协调决定〔2026〕1号",
                    "responsibleAgencyId": "fy-housing",
                }
            },
        )
    )["ruleDispute"]
    assert ruled["status"] == "RULED" and ruled["outcome"]["kind"] == "DECISION", ruled
    rule_id = ruled["outcome"]["ruleId"]

    data = _data(await gw.query(township, ENTRY, {"code": "FY-ZJ-901"}))
    assert data["catalogueEntry"]["version"] == 2
    (rule,) = data["catalogueEntry"]["routingRules"]
    assert rule["ruleId"] == rule_id and rule["responsibleAgency"]["id"] == "fy-housing"
    assert [h["change"] for h in data["catalogueEntry"]["history"]] == [
        "created",
        "routing_rule_added",
    ]
    # The embedded suite seeded the Fuyuan demo catalogue at start.
    codes = {e["node"]["code"] for e in data["catalogueEntries"]["edges"]}
    assert {"FY-SCJG-001", "FY-ZRZY-001", "FY-ZJ-003", "FY-ZJ-901"} <= codes

    after = _data(
        await gw.query(township, JURISDICTION, {"code": "FY-ZJ-901", "township": "fy-hancong"})
    )["jurisdiction"]
    assert after["agency"]["id"] == "fy-housing" and after["reason"] == "ROUTING_RULE", after
    assert after["ruleId"] == rule_id and "协调决定" in after["explanation"]
    await assert_no_stalls(gw)  # issue 14: the ruled dispute is finished, nothing stalls
