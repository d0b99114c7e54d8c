"""R-REF-07 / CQ 四(二) in the production topology (Chongqing): a case sent to an agency
without jurisdiction (the old "CQ misaddressed case" stall: it could neither decline nor pass
it on) is forwarded at once to the competent agency; the first receiver stays responsible
(首接负责) on a clock of its own until the competent one accepts; the competent one gets an
inbox notice with a receipt and its accept clock, and may itself neither refuse nor forward.
The stall check is empty throughout."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from tests.e2e.scenario import Gateway, draft_input, eventually
from tests.e2e.stalls import assert_no_stalls
from tests.e2e.test_referral_e2e import (
    ACCEPT,
    DECLINE,
    DRAFT,
    MATERIAL,
    READ,
    _material,
    _mutate,
    _notice,
    step,
)

FORWARD = """
mutation($id: ID!, $to: ID!, $reasons: String!) {
  forwardReferral(id: $id, toAgencyId: $to, reasons: $reasons) {
    __typename
    ... on Referral { id status receiver { id } deadlines { kind state due } }
    ... on UserError { code message field }
  }
}"""
ACK = """
mutation($id: ID!) {
  acknowledgeInboxItem(id: $id) {
    __typename ... on InboxItem { id readAt } ... on UserError { code message field }
  }
}"""
JUSTICE = "cq-justice"


async def _misaddressed(gw: Gateway) -> str:
    """市质监局 sends a 无照经营 case (the 工商局's, per the catalogue) to 市卫生局."""
    clerk = gw.mint("cq-quality", ["clerk"])
    leader = gw.mint("cq-quality", ["leader"])
    draft = draft_input(
        "cq-quality",
        "cq-health",
        "无照经营（误送）",
        now=gw.now,
        matterCode="CQ-GS-001",
        place="渝中区解放碑某商铺",
        competenceReason="现场检查时认为属公共场所卫生事项",
    )

    async def drafted() -> Any:
        r = await _mutate(gw, clerk, DRAFT, "draftReferral", input=draft)
        return r if r["__typename"] == "Referral" else None

    rid = str((await eventually(drafted, what="chongqing read models"))["id"])
    for kind, name, media in (
        ("transfer_letter", "移送案件函.pdf", "application/pdf"),
        ("source", "现场检查笔录.jpg", "image/jpeg"),
    ):
        done = await _mutate(
            gw, clerk, MATERIAL, "addReferralMaterial", id=rid, input=_material(kind, name, media)
        )
        assert done["__typename"] == "Referral", done
    for token, name in ((clerk, "submitReferral"), (leader, "approveReferral")):
        assert (await _mutate(gw, token, step(name), name, id=rid))["__typename"] == "Referral"
    sent = await _mutate(gw, clerk, step("sendReferral"), "sendReferral", id=rid)
    assert sent["status"] == "SENT", sent
    return rid


@pytest.mark.parametrize("production_district", ["chongqing"])
async def test_R_REF_07_CQ_misaddressed_case_is_forwarded_and_first_receiver_stays_responsible_production(  # noqa: E501
    production_gateway: Gateway,
) -> None:
    gw = production_gateway
    rid = await _misaddressed(gw)
    health = gw.mint("cq-health", ["leader"])
    aic = gw.mint("cq-aic", ["leader"])
    aic_clerk = gw.mint("cq-aic", ["clerk"])

    # CQ: the receiver may not refuse (不得拒绝接受): decline is closed to it.
    bad = await _mutate(gw, health, DECLINE, "declineReferral", id=rid)
    assert (bad["__typename"], bad["code"]) == ("UserError", "FORBIDDEN"), bad
    # Forwarded only to the agency the catalogue names competent.
    bad = await _mutate(
        gw, health, FORWARD, "forwardReferral", id=rid, to="cq-quality", reasons="不属本局"
    )
    assert (bad["code"], bad["field"]) == ("VALIDATION_FAILED", "toAgencyId"), bad
    bad = await _mutate(gw, health, FORWARD, "forwardReferral", id=rid, to="cq-aic", reasons=" ")
    assert (bad["code"], bad["field"]) == ("VALIDATION_FAILED", "reasons"), bad

    r = await _mutate(
        gw,
        health,
        FORWARD,
        "forwardReferral",
        id=rid,
        to="cq-aic",
        reasons="无照经营属工商部门管辖（事项清单 CQ-GS-001）",
    )
    assert r["status"] == "SENT" and r["receiver"] == {"id": "cq-aic"}, r
    clocks = [(d["kind"], d["state"]) for d in r["deadlines"]]
    assert clocks == [
        ("send", "met"),
        ("accept", "met"),  # 市卫生局 acted at once: it forwarded
        ("accept", "open"),  # 市工商局 states acceptance in writing
        ("first_receiver", "open"),  # 首接负责: 市卫生局 answers for it until then
    ], clocks
    accept_due = r["deadlines"][2]["due"]
    assert r["deadlines"][3]["due"] == accept_due

    # The competent agency's inbox: the notice, its due time, and the receipt.
    notice = await eventually(
        lambda: _notice(gw, aic_clerk, "referral.forwarded", rid), what="the forward notice"
    )
    assert "重庆市卫生局" in notice["title"], notice
    assert datetime.fromisoformat(notice["dueAt"]) == datetime.fromisoformat(accept_due), notice
    ack = (await gw.query(aic_clerk, ACK, {"id": notice["id"]}))["data"]["acknowledgeInboxItem"]
    assert ack["__typename"] == "InboxItem" and ack["readAt"], ack
    await assert_no_stalls(gw, JUSTICE)

    # The competent agency may neither refuse nor pass it on: refused, nothing changes.
    bad = await _mutate(
        gw, aic, FORWARD, "forwardReferral", id=rid, to="cq-health", reasons="不属本局"
    )
    assert (bad["code"], bad["field"]) == ("FORBIDDEN", "id"), bad
    read = (await gw.query(aic_clerk, READ, {"id": rid}))["data"]["referral"]
    assert read["receiver"]["id"] == "cq-aic" and read["status"] == "SENT", read
    assert [d["state"] for d in read["deadlines"]] == ["met", "met", "open", "open"], read

    # Its acceptance ends the first receiver's responsibility.
    done = await _mutate(gw, aic_clerk, ACCEPT, "acceptReferral", id=rid, s="已受理，立案查处")
    assert done["status"] == "ACCEPTED", done
    states = {(d["kind"], d["state"]) for d in done["deadlines"]}
    assert ("first_receiver", "met") in states and ("first_receiver", "open") not in states
    await assert_no_stalls(gw, JUSTICE)
