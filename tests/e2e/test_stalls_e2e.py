"""The old stalls of issue 14, provoked in the production topology and shown mended: the stall
check (referralStalls + coordinationStalls through the gateway, and ``liandong audit stalls``
on the stores) is empty after each.

* R-REF-07: a decline naming a *third* agency as interim handler used to leave the referral
  DECLINED with no dispute, no clock and no owner; in FY the decline goes straight to the
  city government's decision (报请市人民政府决定), whose step clock now owns the case.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from kernel.settings import Settings
from tests.e2e.scenario import Gateway, eventually
from tests.e2e.stalls import STALLS, assert_no_stalls
from tests.e2e.test_new_rules_e2e import ACK, _notice
from tests.e2e.test_referral_e2e import _mutate, _sent_referral

ROOT = Path(__file__).resolve().parents[2]

DECLINE_THIRD = """
mutation($id: ID!) {
  declineReferral(id: $id, reasons: "违法行为发生地属农桥镇",
                  catalogueBasis: "事项清单 FY-SCJG-001", interimHandlerId: "fy-nongqiao") {
    __typename ... on Referral { id status } ... on UserError { code message field }
  }
}"""
DISPUTES = """
query { disputes(agencyId: "fy-hancong") {
  edges { node { id referralId status interimHandler { id }
                 currentStep { number name decidedById due } } } } }
"""


def audit_stalls(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "liandong.cli", "audit", "stalls"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_R_REF_07_third_agency_interim_handler_and_FY_decline_leave_no_stall_production(
    shared_production_gateway: Gateway, shared_production_env: tuple[dict[str, str], Settings]
) -> None:
    """R-REF-07 (revised) / R-DSP-01 / FY (四)1: the decline names 农桥镇 (a third agency) as
    interim handler; coordination opens the dispute at the government's decision step, the
    referral records the dispute as its owner, and nothing is stalled."""
    gw = shared_production_gateway
    env, _ = shared_production_env
    rid = await _sent_referral(gw, "无照经营（第三方临时处置）")
    town_leader = gw.mint("fy-hancong", ["leader"])
    r = await _mutate(gw, town_leader, DECLINE_THIRD, "declineReferral", id=rid)
    assert r["status"] == "DECLINED", r
    gov = gw.mint("fy-gov", ["government"])

    async def dispute() -> dict[str, Any] | None:
        body = await gw.query(gov, DISPUTES)
        for e in (body.get("data") or {}).get("disputes", {}).get("edges", []):
            if e["node"]["referralId"] == rid:
                return dict(e["node"])
        return None

    d = await eventually(dispute, what="the dispute opened for the decline")
    assert d["status"] == "OPEN" and d["interimHandler"] == {"id": "fy-nongqiao"}, d
    assert d["currentStep"]["name"] == "government_decision", d  # FY: 报请市人民政府决定
    # R-NTF-04: the government, which decides this step, has it in its inbox with the
    # step's due time; its receipt is recorded.
    assert d["currentStep"]["decidedById"] == "fy-gov", d
    notice = await _notice(gw, gov, "dispute.opened", d["id"])
    assert notice["dueAt"] is not None, notice
    assert datetime.fromisoformat(notice["dueAt"]) == datetime.fromisoformat(
        d["currentStep"]["due"]
    ), (notice, d)
    signed = await _mutate(gw, gov, ACK, "acknowledgeInboxItem", id=notice["id"])
    assert signed["readAt"], signed
    # The interim handler, which must act meanwhile, is told too (R-REF-07).
    interim = await _notice(gw, gw.mint("fy-nongqiao", ["clerk"]), "dispute.opened", d["id"])
    assert interim["readAt"] is None, interim
    await assert_no_stalls(gw)
    # Only the supervising bodies run the check.
    clerk = await gw.query(gw.mint("fy-hancong", ["clerk"]), STALLS)
    assert clerk["errors"][0]["extensions"]["code"] == "FORBIDDEN", clerk
    # The operator's command reads the same from the stores.
    done = await asyncio.to_thread(audit_stalls, env)
    assert done.returncode == 0 and done.stdout.startswith("OK: no stalled case"), done
