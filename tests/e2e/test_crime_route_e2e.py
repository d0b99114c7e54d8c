"""The crime route of State Council Decree 310 (R-REF-10, R-REF-14) end to end, through the
real gateway in the production topology (separate processes over RabbitMQ and MongoDB, one
movable clock): a crime transfer drafted straight to the police (any agency may) → the
head's decision and the 24-hour transfer on their clocks → the police's 3-day clock
escalated when missed → 不立案 with reasons → reconsideration → 不立案 upheld → the
procuratorate asked to supervise, with each inbox item and its due time; the procuratorate
reads the crime case and the crime entries of the process record, and changes nothing."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kernel.clock import write_offset
from kernel.settings import Settings
from kernel.wiring import calendar_for, load_district_policy
from tests.e2e.scenario import ACK, Gateway, draft_input, eventually
from tests.e2e.scenario import answer_of as _do
from tests.e2e.stalls import assert_no_stalls

pytestmark = pytest.mark.timeout(900)

RESULT = """
    __typename
    ... on Referral {
      id status route
      receiver { id }
      deadlines { kind state due rule }
      acceptDeadline { due }
      crime {
        stage decision decisionNote decisionReasons transferredAt
        police { id } agency { id } procuratorate { id }
        reconsiderationDecision supervisionReason
      }
    }
    ... on UserError { code message field }
"""


def _m(signature: str, call: str) -> str:
    return "mutation(" + signature + ") { " + call + " { " + RESULT + " } }"


DRAFT = _m("$input: DraftReferralInput!", "draftReferral(input: $input)")
STEP = "mutation($id: ID!) { %s(id: $id) { " + RESULT + " } }"
DECIDE = _m(
    "$id: ID!, $filed: Boolean!, $reasons: String!",
    'recordPoliceDecision(id: $id, filed: $filed, note: "抚公（刑）不立字〔2026〕3号", '
    "reasons: $reasons)",
)
RECONSIDER = _m(
    "$id: ID!",
    'requestCrimeReconsideration(id: $id, reason: "涉案金额已达立案追诉标准")',
)
ANSWER = _m(
    "$id: ID!",
    'answerCrimeReconsideration(id: $id, filed: false, note: "抚公复字〔2026〕1号", '
    'reasons: "维持不予立案决定")',
)
SUPERVISE = _m(
    "$id: ID!, $p: ID!",
    'requestProcuratorateSupervision(id: $id, procuratorateId: $p, reason: "应当立案而不立案")',
)
READ = "query($id: ID!) { referral(id: $id) { ... on Referral { id status crime { stage } } } }"
NOTICES = """
query($id: ID!) {
  referral(id: $id) { id notices { kind agencyId audience dueAt title } }
}"""
MY_INBOX = """
query { myInbox(first: 50) { edges { node { id kind subjectId title body dueAt } } } }"""
WORK_QUEUE = """
query { agency(id: "fy-market") { workQueue(first: 50, filter: {subjectTypes: ["Referral"]}) {
  edges { node { kind subjectId due state } } } } }"""
RECORD = """
query($f: ProcessRecordFilter) {
  processRecord(filter: $f, first: 100) { edges { node { type subject } } }
}"""


def _clock(r: dict[str, Any], kind: str) -> dict[str, Any]:
    [c] = [d for d in r["deadlines"] if d["kind"] == kind]
    return c


def _due(c: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(c["due"])


async def _notice(
    gw: Gateway, token: str, rid: str, kind: str, agency: str, audience: str = "agency"
) -> dict[str, Any]:
    async def present() -> dict[str, Any] | None:
        body = await gw.query(token, NOTICES, {"id": rid})
        ref = (body.get("data") or {}).get("referral") or {}
        found = [
            n
            for n in ref.get("notices") or []
            if (n["kind"], n["agencyId"], n["audience"]) == (kind, agency, audience)
        ]
        return found[0] if found else None

    found: dict[str, Any] = await eventually(present, within=90, what=f"{kind} to {agency}")
    return found


async def test_R_REF_14_crime_transfer_drafted_to_police_not_filed_reconsidered_supervised_production(  # noqa: E501
    production_gateway: Gateway, production_env: tuple[dict[str, str], Settings]
) -> None:
    gw = production_gateway
    _, settings = production_env
    assert settings.test_clock_file is not None
    calendar = calendar_for(load_district_policy(settings))
    clerk = gw.mint("fy-market", ["clerk"])
    leader = gw.mint("fy-market", ["leader"])
    police = gw.mint("fy-police", ["clerk"])
    observer = gw.mint("fy-procuratorate", ["judicial_observer"])
    justice = gw.mint("fy-justice", ["supervisor"])

    def move_to(instant: datetime) -> None:
        write_offset(settings.test_clock_file, instant - datetime.now(UTC))

    # -- the market bureau drafts the case straight to the police (route crime) -----------
    async def drafted() -> Any:
        r = await _do(
            gw,
            clerk,
            DRAFT,
            "draftReferral",
            input=draft_input("fy-market", "fy-police", "生产销售伪劣产品（涉嫌犯罪）", now=gw.now),
        )
        return r if r["__typename"] == "Referral" else None

    r = await eventually(drafted, within=60, what="referral's read models")
    rid = r["id"]
    assert r["route"] == "crime" and r["crime"] is None
    # R-REF-02: the letter generated by the service, a source material uploaded as a file.
    m = await _do(gw, clerk, STEP % "generateTransferLetter", "generateTransferLetter", id=rid)
    assert m["__typename"] == "Referral", m
    await gw.upload(clerk, rid)

    # Submit = the written report to the head: 3 days (第五条), the market bureau's clock.
    r = await _do(gw, clerk, STEP % "submitReferral", "submitReferral", id=rid)
    assert r["status"] == "PENDING_APPROVAL" and r["crime"]["stage"] == "reported", r
    head = _clock(r, "crime_head_decision")
    assert head["state"] == "open" and "第五条" in head["rule"]
    # A clerk is not the head.
    bad = await _do(gw, clerk, STEP % "approveReferral", "approveReferral", id=rid)
    assert (bad["__typename"], bad["code"]) == ("UserError", "FORBIDDEN"), bad
    # Approve = the head's decision: the 24-hour transfer clock starts (clock hours).
    r = await _do(gw, leader, STEP % "approveReferral", "approveReferral", id=rid)
    assert r["crime"]["stage"] == "approved", r
    assert _clock(r, "crime_head_decision")["state"] == "met"
    transfer = _clock(r, "crime_transfer")
    assert transfer["state"] == "open" and "24小时" in transfer["rule"]
    approved_at = _due(transfer) - timedelta(hours=24)
    assert abs(approved_at - gw.now()) < timedelta(minutes=5)
    # Send = the transfer: the police's 3-day decision clock; no acceptance clock.
    r = await _do(gw, clerk, STEP % "sendReferral", "sendReferral", id=rid)
    assert r["status"] == "SENT" and r["crime"]["stage"] == "transferred", r
    assert r["acceptDeadline"] is None and _clock(r, "crime_transfer")["state"] == "met"
    decide = _clock(r, "crime_police_decision")
    assert decide["state"] == "open" and "第八条" in decide["rule"]
    decide_due = _due(decide)

    # The police's inbox: the transfer, due by their decision clock.
    n = await _notice(gw, justice, rid, "referral.crime_transfer", "fy-police")
    assert datetime.fromisoformat(n["dueAt"]) == decide_due, n

    # -- the procuratorate reads the crime case and changes nothing -------------------------
    seen = (await gw.query(observer, READ, {"id": rid}))["data"]["referral"]
    assert seen["crime"]["stage"] == "transferred", seen
    for query, name, variables in (
        (DECIDE, "recordPoliceDecision", {"filed": True, "reasons": ""}),
        (RECONSIDER, "requestCrimeReconsideration", {}),
        (SUPERVISE, "requestProcuratorateSupervision", {"p": "fy-procuratorate"}),
    ):
        bad = await _do(gw, observer, query, name, id=rid, **variables)
        assert (bad["__typename"], bad["code"]) == ("UserError", "FORBIDDEN"), (name, bad)

    # -- the police let their clock run out: missed, and their leader is told (R-SUP-02) -----
    move_to(calendar.add_working_days(decide_due, 1).due + timedelta(minutes=1))
    await _notice(gw, justice, rid, "deadline.escalated", "fy-police", "leader")

    # -- 不立案, in writing with reasons (第八条) ---------------------------------------------
    bad = await _do(gw, police, DECIDE, "recordPoliceDecision", id=rid, filed=False, reasons="")
    assert (bad["code"], bad["field"]) == ("VALIDATION_FAILED", "reasons"), bad
    r = await _do(
        gw, police, DECIDE, "recordPoliceDecision", id=rid, filed=False, reasons="犯罪事实显著轻微"
    )
    assert r["status"] == "CRIME_PENDING" and r["crime"]["stage"] == "not_filed", r
    assert r["crime"]["decisionReasons"] == "犯罪事实显著轻微"
    assert _clock(r, "crime_police_decision")["state"] == "met"
    window = _clock(r, "crime_reconsideration_request")
    n = await _notice(gw, justice, rid, "referral.police_decision", "fy-market")
    assert datetime.fromisoformat(n["dueAt"]) == _due(window), n

    # -- reconsideration: asked within 3 days, answered within 3 days (第九条) ---------------
    r = await _do(gw, clerk, RECONSIDER, "requestCrimeReconsideration", id=rid)
    assert r["crime"]["stage"] == "reconsideration", r
    answer = _clock(r, "crime_reconsideration_answer")
    n = await _notice(gw, justice, rid, "referral.crime_reconsideration", "fy-police")
    assert datetime.fromisoformat(n["dueAt"]) == _due(answer), n
    r = await _do(gw, police, ANSWER, "answerCrimeReconsideration", id=rid)
    assert r["crime"]["stage"] == "upheld" and r["crime"]["reconsiderationDecision"] == "not_filed"
    supervision_window = _clock(r, "crime_supervision_request")
    assert supervision_window["state"] == "open"

    # -- the procuratorate is asked to supervise (立案监督) ----------------------------------
    bad = await _do(gw, clerk, SUPERVISE, "requestProcuratorateSupervision", id=rid, p="fy-police")
    assert (bad["code"], bad["field"]) == ("VALIDATION_FAILED", "procuratorateId"), bad
    r = await _do(
        gw, clerk, SUPERVISE, "requestProcuratorateSupervision", id=rid, p="fy-procuratorate"
    )
    assert r["crime"]["stage"] == "supervision", r
    assert r["crime"]["procuratorate"] == {"id": "fy-procuratorate"}
    assert _clock(r, "crime_supervision_request")["state"] == "met"
    # Issue 14: the case waits with an owner and a running clock — the market bureau's
    # outcome clock (a policy default: no law limits the procuratorate's supervision).
    assert [
        d["kind"] for d in r["deadlines"] if d["kind"].startswith("crime_") and d["state"] == "open"
    ] == ["crime_supervision_outcome"]
    outcome = _clock(r, "crime_supervision_outcome")
    assert "项目默认" in outcome["rule"], outcome

    # notify watches it like every other clock: it is in the market bureau's work queue.
    async def in_work_queue() -> dict[str, Any] | None:
        body = await gw.query(leader, WORK_QUEUE)
        edges = ((body.get("data") or {}).get("agency") or {}).get("workQueue") or {}
        found = [
            e["node"]
            for e in edges.get("edges") or []
            if e["node"]["subjectId"] == rid
            and e["node"]["kind"] == "referral.crime_supervision_outcome"
        ]
        return found[0] if found else None

    queued = await eventually(in_work_queue, within=90, what="the outcome clock in the queue")
    assert datetime.fromisoformat(queued["due"]) == _due(outcome), queued

    # In the procuratorate's own inbox (R-NTF-04), which its observer reads.
    async def in_procuratorate_inbox() -> list[dict[str, Any]]:
        body = await gw.query(observer, MY_INBOX)
        edges = ((body.get("data") or {}).get("myInbox") or {}).get("edges") or []
        return [
            e["node"]
            for e in edges
            if e["node"]["subjectId"] == rid and e["node"]["kind"].startswith("referral.")
        ]

    # (Unread-notice escalations may be there too: the test's clock moved days ahead.)
    items = await eventually(in_procuratorate_inbox, what="the supervision request's notice")
    assert [i["kind"] for i in items] == ["referral.crime_supervision"], items
    assert "应当立案而不立案" in items[0]["body"] and "抚公复字〔2026〕1号" in items[0]["body"]
    # Its receipt (签收, R-NTF-04): the procuratorate's observer signs for it.
    signed = await gw.query(observer, ACK, {"id": items[0]["id"]})
    ack = signed["data"]["acknowledgeInboxItem"]
    assert ack["__typename"] == "InboxItem" and ack["readAt"], signed
    # The police are told the procuratorate was asked (information, no receipt).
    await _notice(gw, justice, rid, "referral.crime_supervision_copy", "fy-police")

    # Every notice about the case, once each.
    body = await gw.query(justice, NOTICES, {"id": rid})
    counts = Counter((n["kind"], n["agencyId"]) for n in body["data"]["referral"]["notices"])
    for key in (
        ("referral.crime_transfer", "fy-police"),
        ("referral.crime_reconsideration", "fy-police"),
        ("referral.crime_supervision", "fy-procuratorate"),
    ):
        assert counts[key] == 1, (key, counts)
    # One notice of the transfer to the police, not the generic 收到移送案件 besides.
    assert counts[("referral.received", "fy-police")] == 0, counts
    # The decision and the reconsideration decision, each in writing to the market bureau.
    assert counts[("referral.police_decision", "fy-market")] == 2, counts

    # -- issue 16 finding 3: the procuratorate reads the crime entries of the record only ---
    async def recorded() -> list[str]:
        body = await gw.query(observer, RECORD, {"f": {"subject": rid}})
        edges = ((body.get("data") or {}).get("processRecord") or {}).get("edges") or []
        types = [e["node"]["type"] for e in edges]
        return types if "referral.crime_supervision_requested.v1" in types else []

    types = await eventually(recorded, what="the crime entries in the record")
    assert "referral.crime_transferred.v1" in types and "referral.police_decided.v1" in types
    assert all(t.startswith("referral.crime_") or t == "referral.police_decided.v1" for t in types)
    assert "referral.sent.v1" not in types and "referral.drafted.v1" not in types
    body = await gw.query(observer, RECORD, {"f": {"types": ["referral.sent.v1"]}})
    assert body["data"]["processRecord"]["edges"] == [], body
    everything = await gw.query(justice, RECORD, {"f": {"subject": rid}})
    all_types = [e["node"]["type"] for e in everything["data"]["processRecord"]["edges"]]
    assert "referral.sent.v1" in all_types  # the government's supervisor reads every entry
    # The stall check (issue 14) is empty: the supervision's outcome clock runs (R-REF-07:
    # no path leaves a case with no open clock and no owner).
    await assert_no_stalls(gw)
