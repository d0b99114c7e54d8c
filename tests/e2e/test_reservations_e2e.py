"""Huancui's reservations through the real gateway in the production topology (issue 15,
"Done when"): a case that may end in a major penalty goes to the department despite a routing
rule naming the township and a free-text reason (R-CAT-03, HC #13); an entrustment (委托)
routes nothing until the justice bureau has reviewed it and the government approved it
(R-CAT-05)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from kernel.settings import Settings
from tests.e2e.scenario import Gateway, draft_input, eventually
from tests.e2e.stalls import assert_no_stalls
from tests.fixtures.settings import drop_databases

DISTRICT = "huancui"
MATTER = "HC-SCJG-001"


@pytest.fixture
def production_env(
    production_env: tuple[dict[str, str], Settings],
) -> Iterator[tuple[dict[str, str], Settings]]:
    """The conftest's production environment, serving Huancui instead of Fuyuan (it has no
    demo agencies: the test registers them through the API)."""
    env, settings = production_env
    hc = settings.model_copy(update={"district": DISTRICT})
    yield {**env, "LIANDONG_DISTRICT": DISTRICT}, hc
    assert hc.mongo_url is not None and hc.amqp_url is not None
    asyncio.run(drop_databases(hc))


AGENCIES = [
    ("hc-gov", "威海市环翠区人民政府", "GOVERNMENT", "0631-5200001"),
    ("hc-platform", "环翠区综合执法平台办公室", "COORDINATION_BODY", "0631-5200002"),
    ("hc-justice", "环翠区司法局", "JUSTICE_BUREAU", "0631-5200003"),
    ("hc-market", "威海市环翠区市场监督管理局", "DEPARTMENT", "0631-5200004"),
    ("hc-zhangcun", "张村镇人民政府", "TOWNSHIP", "0631-5200005"),
    ("hc-wenquan", "温泉镇人民政府", "TOWNSHIP", "0631-5200006"),
]

REGISTER = """
mutation($input: RegisterAgencyInput!) {
  registerAgency(input: $input) { __typename ... on UserError { code message field } }
}"""
DEFINE = """
mutation($input: DefineCatalogueEntryInput!) {
  defineCatalogueEntry(input: $input) {
    __typename ... on UserError { code message field }
  }
}"""
DESIGNATE = """
mutation($input: DesignateResponsibleAgencyInput!) {
  designateResponsibleAgency(input: $input) {
    __typename
    ... on CatalogueEntry { routingRules { ruleId majorPenaltyException } }
    ... on UserError { code message field }
  }
}"""
WHO = """
query($t: ID!, $kinds: [String!], $fine: Int) {
  jurisdiction(matterCode: "HC-SCJG-001", townshipId: $t, penaltyKinds: $kinds, fineYuan: $fine) {
    __typename
    ... on Jurisdiction { agencyId reason majorPenalty }
    ... on UserError { code message field }
  }
}"""
REVIEW = """
mutation($t: ID!) {
  reviewEntrustment(matterCode: "HC-SCJG-001", townshipId: $t, opinion: "经审查，委托内容合法") {
    __typename ... on UserError { code message field }
  }
}"""
APPROVE = """
mutation($t: ID!) {
  approveEntrustment(matterCode: "HC-SCJG-001", townshipId: $t, basis: "威环政字〔2026〕8号") {
    __typename ... on UserError { code message field }
  }
}"""
DRAFT = """
mutation($input: DraftReferralInput!) {
  draftReferral(input: $input) {
    __typename
    ... on Referral { id status competence { reason resolvedAgency { id } overrideReason } }
    ... on UserError { code message field }
  }
}"""
STEP = """
mutation($id: ID!) {
  %s(id: $id) {
    __typename ... on Referral { status receiver { id } } ... on UserError { code message field }
  }
}"""


async def _data(gw: Gateway, token: str, query: str, **variables: Any) -> Any:
    body = await gw.query(token, query, variables)
    assert "errors" not in body, body
    (value,) = body["data"].values()
    return value


def _draft(gw: Gateway, sender: str, receiver: str, **over: Any) -> dict[str, Any]:
    return draft_input(
        sender,
        receiver,
        "无证经营（拟吊销许可证件）",
        now=gw.now,
        matterCode=MATTER,
        townshipId="hc-zhangcun",
        place="张村镇中心街12号",
        penaltyKinds=["吊销许可证件"],
        **over,
    )


async def test_R_CAT_03_hc_major_penalty_case_goes_to_the_department_despite_rule_and_reason(
    production_gateway: Gateway,
) -> None:
    gw = production_gateway
    gov = gw.mint("hc-gov", ["government"])
    for agency_id, name, kind, phone in AGENCIES:
        done = await _data(
            gw,
            gov,
            REGISTER,
            input={
                "id": agency_id,
                "name": name,
                "kind": kind,
                "liaisons": [{"name": "联络员", "phone": phone}],
            },
        )
        assert done["__typename"] == "Agency", done

    market_leader = gw.mint("hc-market", ["leader"])
    delegated_on = (gw.now() - timedelta(days=200)).date()  # past the 3-month transition
    done = await _data(
        gw,
        market_leader,
        DEFINE,
        input={
            "code": MATTER,
            "name": "对未取得营业执照从事经营活动的行政处罚",
            "originalDepartmentId": "hc-market",
            "legalBasis": "《无证无照经营查处办法》第二条",
            "penaltyBasis": "《无证无照经营查处办法》第十三条",
            "delegations": [
                {
                    "townshipId": "hc-zhangcun",
                    "mode": "DECISION",
                    "effectiveFrom": delegated_on.isoformat(),
                },
                {
                    "townshipId": "hc-wenquan",
                    "mode": "AGREEMENT",
                    "effectiveFrom": delegated_on.isoformat(),
                    "expiresOn": (delegated_on + timedelta(days=1000)).isoformat(),
                },
            ],
        },
    )
    assert done["__typename"] == "CatalogueEntry", done

    # A routing rule of the platform naming 张村镇 for the matter there (R-CAT-04).
    coordinator = gw.mint("hc-platform", ["coordinator"])
    rule_input = {
        "matterCode": MATTER,
        "responsibleAgencyId": "hc-zhangcun",
        "basis": "环翠区综合执法平台周例会纪要〔2026〕3号",
        "townshipId": "hc-zhangcun",
    }
    ruled = await _data(gw, coordinator, DESIGNATE, input=rule_input)
    assert ruled["routingRules"][-1]["majorPenaltyException"] is False, ruled
    # Only the government lifts the reservation; the platform cannot.
    refused = await _data(
        gw, coordinator, DESIGNATE, input={**rule_input, "majorPenaltyException": True}
    )
    assert (refused["__typename"], refused["field"]) == ("UserError", "majorPenaltyException")

    ordinary = await _data(gw, coordinator, WHO, t="hc-zhangcun")
    assert (ordinary["agencyId"], ordinary["reason"]) == ("hc-zhangcun", "ROUTING_RULE")
    for kinds, fine in ((["吊销许可证件"], None), (None, 50_000)):
        major = await _data(gw, coordinator, WHO, t="hc-zhangcun", kinds=kinds, fine=fine)
        assert (major["agencyId"], major["reason"]) == ("hc-market", "MAJOR_PENALTY"), major
    below = await _data(gw, coordinator, WHO, t="hc-zhangcun", fine=49_999)
    assert below["agencyId"] == "hc-zhangcun"

    # The department cannot hand the major case to the township, whatever it writes.
    market_clerk = gw.mint("hc-market", ["clerk"])

    async def refused_to_township() -> Any:
        r = await _data(
            gw,
            market_clerk,
            DRAFT,
            input=_draft(
                gw, "hc-market", "hc-zhangcun", competenceReason="张村镇熟悉情况，由其办理"
            ),
        )
        # Until referral's read models know the agencies and the entry, the error differs.
        return r if r.get("field") == "receiverId" and "R-CAT-04" in r["message"] else None

    bad = await eventually(refused_to_township, what="the reservation refusing the draft")
    assert bad["code"] == "VALIDATION_FAILED", bad

    # The township sends it to the department: no reason needed, the catalogue says so.
    town_clerk = gw.mint("hc-zhangcun", ["clerk"])
    town_leader = gw.mint("hc-zhangcun", ["leader"])
    created = await _data(
        gw,
        town_clerk,
        DRAFT,
        input=_draft(gw, "hc-zhangcun", "hc-market", competenceReason="当事人拟被吊销许可证件"),
    )
    assert created["__typename"] == "Referral", created
    assert created["competence"]["reason"] == "major_penalty"
    assert created["competence"]["resolvedAgency"] == {"id": "hc-market"}
    rid = created["id"]
    # R-REF-02: the letter generated by the service, a source material uploaded as a file.
    added = await _data(gw, town_clerk, STEP % "generateTransferLetter", id=rid)
    assert added["__typename"] == "Referral", added
    await gw.upload(town_clerk, rid)
    for token, name in (
        (town_clerk, "submitReferral"),
        (town_leader, "approveReferral"),
        (town_clerk, "sendReferral"),
    ):
        moved = await _data(gw, token, STEP % name, id=rid)
        assert moved["__typename"] == "Referral", (name, moved)
    assert moved["status"] == "SENT" and moved["receiver"] == {"id": "hc-market"}

    # R-CAT-05: the entrustment to 温泉镇 routes nothing until reviewed and approved.
    pending = await _data(gw, coordinator, WHO, t="hc-wenquan")
    assert (pending["agencyId"], pending["reason"]) == ("hc-market", "ENTRUSTMENT_PENDING")
    justice = gw.mint("hc-justice", ["supervisor"])
    early = await _data(gw, gov, APPROVE, t="hc-wenquan")
    assert (early["__typename"], early["code"]) == ("UserError", "INVALID_STATE"), early
    assert (await _data(gw, justice, REVIEW, t="hc-wenquan"))["__typename"] == "CatalogueEntry"
    wrong = await _data(gw, justice, APPROVE, t="hc-wenquan")
    assert wrong["__typename"] == "UserError", wrong
    assert (await _data(gw, gov, APPROVE, t="hc-wenquan"))["__typename"] == "CatalogueEntry"
    in_force = await _data(gw, coordinator, WHO, t="hc-wenquan")
    assert (in_force["agencyId"], in_force["reason"]) == ("hc-wenquan", "DELEGATED")
    await assert_no_stalls(gw)
