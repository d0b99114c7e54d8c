"""Issue 4's dispute path with the escalation on a step's timeout going through the bus, in
the production topology (separate processes over RabbitMQ and MongoDB, behind the real
gateway, on one movable clock):

decline (R-REF-07) → coordination opens a dispute at the ladder's first step (R-DSP-01,
R-DSP-02) → the clock passes that step's limit → notify's deadline watch publishes
``deadline.missed.v1`` (R-SUP-02) → coordination escalates to the next step
(``escalated_deadline_missed``), visible through the gateway → the ruling (R-DSP-03) →
the referral is reassigned to the agency the ruling names, with a new accept clock.

FY's own route sends a decline straight to the government (R-REF-07), so the deployment
here runs FY's policy with ``decline_route: ladder``, as a district whose declines go up the
ladder would.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import kernel
from kernel.settings import Settings
from tests.e2e.scenario import Gateway, eventually
from tests.e2e.stalls import assert_no_stalls
from tests.e2e.test_new_rules_e2e import ACK, _notice
from tests.e2e.test_notify_deadline_production_e2e import Topology, topology
from tests.e2e.test_referral_e2e import DECLINE, READ, _mutate, _sent_referral

__all__ = ["topology"]  # the production fixture with the shared clock

pytestmark = pytest.mark.timeout(900)


@pytest.fixture
def production_env(
    production_env: tuple[dict[str, str], Settings], tmp_path: Path
) -> Iterator[tuple[dict[str, str], Settings]]:
    """FY's policy with the ladder route for declines (the escalation path under test)."""
    env, settings = production_env
    text = (Path(kernel.__file__).parent / "policies" / "fuyuan.yaml").read_text(encoding="utf-8")
    assert "  decline_route: government " in text
    policy = tmp_path / "fuyuan-ladder.yaml"
    policy.write_text(
        text.replace("  decline_route: government ", "  decline_route: ladder "), encoding="utf-8"
    )
    yield (
        {**env, "LIANDONG_POLICY_FILE": str(policy)},
        settings.model_copy(update={"policy_file": policy}),
    )


DISPUTES = """
query { disputes(agencyId: "fy-hancong") { edges { node { id referralId status } } } }
"""

DISPUTE = """
query($id: ID!) {
  dispute(id: $id) {
    id status
    interimHandler { id }
    currentStep { number nameZh due overdue decidedBy { id } }
    steps { number due endedAt endedBy overdue }
    history { action actorId after }
  }
}"""

RULE = """
mutation($input: RuleDisputeInput!) {
  ruleDispute(input: $input) {
    __typename
    ... on Dispute { id status outcome { kind responsibleAgency { id } } }
    ... on UserError { code message field }
  }
}"""

RECORD = """
query($f: ProcessRecordFilter) {
  processRecord(filter: $f, first: 100) { edges { node { id type subject } } }
}"""


async def _dispute(gw: Gateway, token: str, dispute_id: str) -> dict[str, Any] | None:
    body = await gw.query(token, DISPUTE, {"id": dispute_id})
    if body.get("errors"):
        return None
    dispute = (body.get("data") or {}).get("dispute")
    return dict(dispute) if dispute else None


async def test_R_DSP_02_step_timeout_escalates_through_the_bus_then_ruling_reassigns_production(
    topology: Topology,
) -> None:
    gw = topology.gw
    town = gw.mint("fy-hancong", ["clerk"])
    town_leader = gw.mint("fy-hancong", ["leader"])
    gov = gw.mint("fy-gov", ["government"])
    supervisor = gw.mint("fy-justice", ["supervisor"])

    rid = await _sent_referral(gw, "无照经营（争议超时升级）")
    declined = await _mutate(gw, town_leader, DECLINE, "declineReferral", id=rid)
    assert declined["status"] == "DECLINED", declined

    async def dispute_opened() -> str | None:
        body = await gw.query(town, DISPUTES)
        for edge in (body.get("data") or {}).get("disputes", {}).get("edges", []):
            if edge["node"]["referralId"] == rid:
                return str(edge["node"]["id"])
        return None

    dispute_id: str = await eventually(dispute_opened, what="dispute opened from the decline")
    opened = await _dispute(gw, town, dispute_id)
    assert opened is not None and opened["status"] == "OPEN", opened
    assert opened["interimHandler"]["id"] == "fy-hancong"  # R-DSP-01: not held up
    first = opened["currentStep"]
    assert first["number"] == 1 and first["overdue"] is False, first
    first_due = datetime.fromisoformat(first["due"])

    async def step_watched() -> bool:
        # notify records the dispute's event and watches its step clock in one handler.
        body = await gw.query(supervisor, RECORD, {"f": {"subject": dispute_id}})
        edges = (body.get("data") or {}).get("processRecord", {}).get("edges", [])
        return bool(edges)

    await eventually(step_watched, what="the dispute's event in notify's record")

    # Nobody acts: the first step's limit passes.
    topology.move_to(first_due + timedelta(minutes=5))

    async def escalated() -> dict[str, Any] | None:
        d = await _dispute(gw, town, dispute_id)
        return d if d and d["currentStep"]["number"] == 2 else None

    up = await eventually(escalated, within=120, what="escalation to the ladder's second step")
    assert up["status"] == "OPEN"
    assert up["currentStep"]["decidedBy"]["id"] == "fy-coord", up
    assert datetime.fromisoformat(up["currentStep"]["due"]) > first_due
    assert up["currentStep"]["overdue"] is False
    [step1] = [s for s in up["steps"] if s["number"] == 1]
    assert step1["endedBy"] == "escalated_deadline_missed", step1
    # The system escalated, not a party.
    assert up["history"][-1]["actorId"] == "system", up["history"]
    # R-NTF-04: the body the dispute went up to has it in its inbox, due with the step; its
    # receipt is recorded.
    coord = gw.mint("fy-coord", ["clerk"])
    notice = await _notice(gw, coord, "dispute.escalated", dispute_id)
    assert notice["dueAt"] is not None, notice
    assert datetime.fromisoformat(notice["dueAt"]) == datetime.fromisoformat(
        up["currentStep"]["due"]
    ), (notice, up["currentStep"])
    signed = await _mutate(gw, coord, ACK, "acknowledgeInboxItem", id=notice["id"])
    assert signed["readAt"], signed

    # It went through the bus: notify published deadline.missed.v1 for the dispute, once.
    body = await gw.query(supervisor, RECORD, {"f": {"subject": dispute_id}})
    types = [e["node"]["type"] for e in body["data"]["processRecord"]["edges"]]
    assert types.count("deadline.missed.v1") == 1, types

    # The ruling: the catalogue owner of the place is 农桥镇, the referral moves there.
    body = await gw.query(
        gov,
        RULE,
        {
            "input": {
                "disputeId": dispute_id,
                "outcomeKind": "DECISION",
                "basis": "抚政决〔2026〕9号",
                "responsibleAgencyId": "fy-nongqiao",
            }
        },
    )
    ruled = body["data"]["ruleDispute"]
    assert ruled["__typename"] == "Dispute" and ruled["status"] == "RULED", body
    assert ruled["outcome"]["responsibleAgency"]["id"] == "fy-nongqiao"

    async def reassigned() -> dict[str, Any] | None:
        body = await gw.query(gov, READ, {"id": rid})
        ref = (body.get("data") or {}).get("referral")
        return dict(ref) if ref and ref["receiver"]["id"] == "fy-nongqiao" else None

    ref = await eventually(reassigned, what="referral reassigned by the ruling")
    assert ref["status"] == "SENT"
    accepts = [d for d in ref["deadlines"] if d["kind"] == "accept"]
    assert [d["state"] for d in accepts] == ["met", "open"]
    # The new accept clock starts from the moved "now" (the ruling), not the real time.
    new_due = datetime.fromisoformat(accepts[-1]["due"])
    assert new_due > first_due, accepts
    # The agency the ruling names is told (R-DSP-03), as well as by the referral itself.
    ruled_notice = await _notice(gw, gw.mint("fy-nongqiao", ["clerk"]), "dispute.ruled", dispute_id)
    assert ruled_notice["readAt"] is None, ruled_notice
    await assert_no_stalls(gw)
