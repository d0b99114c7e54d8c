"""The referral workflow through the real gateway: send → accept → result in both topologies,
bad input refused with a typed error that changes nothing, and decline → dispute ruling →
reassigned across the referral and coordination subgraphs."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from tests.e2e.scenario import ACK, Gateway, draft_input, eventually, inbox_item
from tests.e2e.scenario import answer_of as _mutate
from tests.e2e.stalls import assert_no_stalls

MATTER = "FY-SCJG-001"  # 无照经营, delegated to 寒葱沟镇 in the demo catalogue

RESULT = """
    __typename
    ... on Referral {
      id status
      deadlines { kind state due overdue remainingWorkingDays explanation }
      acceptDeadline { due state }
      materials { id kind sha256 }
      competence { reason resolvedAgency { id } }
    }
    ... on UserError { code message field }
"""


def _mutation(signature: str, call: str) -> str:
    """``mutation(<signature>) { <call> { <RESULT> } }``."""
    return "mutation(" + signature + ") { " + call + " { " + RESULT + " } }"


DRAFT = _mutation("$input: DraftReferralInput!", "draftReferral(input: $input)")
MATERIAL = _mutation(
    "$id: ID!, $input: MaterialInput!", "addReferralMaterial(id: $id, input: $input)"
)

REMOVE = _mutation("$id: ID!, $m: ID!", "removeReferralMaterial(id: $id, materialId: $m)")


def step(name: str) -> str:
    return _mutation("$id: ID!", name + "(id: $id)")


ACCEPT = _mutation("$id: ID!, $s: String!", "acceptReferral(id: $id, statement: $s)")
HANDLED = _mutation("$id: ID!, $s: String!", "markReferralHandled(id: $id, summary: $s)")
REPORT = _mutation("$id: ID!, $s: String!", "reportReferralResult(id: $id, result: $s)")
EXTEND = _mutation(
    "$id: ID!",
    'extendReferralSendDeadline(id: $id, workingDays: 11, reason: "需补充调查", '
    "notifyReceiver: true)",
)
DECLINE = _mutation(
    "$id: ID!",
    'declineReferral(id: $id, reasons: "该案违法行为发生地不在本镇", '
    'catalogueBasis: "事项清单 FY-SCJG-001 下放乡镇不含违法行为发生地", '
    'interimHandlerId: "fy-hancong")',
)
READ = """
query($id: ID!) {
  referral(id: $id) {
    id status result acceptanceStatement
    sender { id name } receiver { id name }
    history { action agencyId before after }
    deadlines { kind state due }
  }
}"""


def _input(gw: Gateway, title: str, **over: Any) -> dict[str, Any]:
    return draft_input("fy-market", "fy-hancong", title, now=gw.now, matterCode=MATTER, **over)


def _material(kind: str, name: str, media: str) -> dict[str, Any]:
    return {
        "kind": kind,
        "name": name,
        "mediaType": media,
        "size": 4096,
        "sha256": hashlib.sha256(name.encode()).hexdigest(),
    }


async def _status(gw: Gateway, token: str, rid: str) -> str:
    body = await gw.query(token, READ, {"id": rid})
    return str(body["data"]["referral"]["status"])


async def _sent_referral(gw: Gateway, title: str) -> str:
    """Draft (after the read models are fed), complete, approve and send; returns the id.
    On the way, bad input is refused with a typed error and changes nothing."""
    clerk = gw.mint("fy-market", ["clerk"])
    leader = gw.mint("fy-market", ["leader"])

    async def catalogue_ready() -> Any:
        # The draft succeeds without a stated reason only once referral knows the agencies
        # and the catalogue entry (both fed by coordination's events).
        r = await _mutate(gw, clerk, DRAFT, "draftReferral", input=_input(gw, title))
        return r if r["__typename"] == "Referral" else None

    created = await eventually(catalogue_ready, what="agency and catalogue read models")
    rid = created["id"]
    assert created["competence"] == {"reason": "delegated", "resolvedAgency": {"id": "fy-hancong"}}

    # R-AG-02: an internal unit never sends.
    brigade = gw.mint("fy-market-brigade", ["clerk"])
    bad = await _mutate(
        gw, brigade, DRAFT, "draftReferral", input=_input(gw, "x", senderId="fy-market-brigade")
    )
    assert (bad["__typename"], bad["code"], bad["field"]) == (
        "UserError",
        "VALIDATION_FAILED",
        "senderId",
    )
    # R-REF-02: no submission without the transfer letter and a source material.
    bad = await _mutate(gw, clerk, step("submitReferral"), "submitReferral", id=rid)
    assert (bad["code"], bad["field"]) == ("VALIDATION_FAILED", "materials"), bad
    assert await _status(gw, clerk, rid) == "DRAFT"
    # R-REF-04: extension past the maximum.
    bad = await _mutate(gw, clerk, EXTEND, "extendReferralSendDeadline", id=rid)
    assert (bad["code"], bad["field"]) == ("VALIDATION_FAILED", "workingDays"), bad

    # R-REF-02 (issue 15 item 6): a letter declared by a hash alone, with no file, is a
    # phantom: refused with a stable code, nothing changed.
    phantom = _material("transfer_letter", "移送函.pdf", "application/pdf")
    done = await _mutate(gw, clerk, MATERIAL, "addReferralMaterial", id=rid, input=phantom)
    assert done["__typename"] == "Referral", done
    await gw.upload(clerk, rid)  # the source material, as a file
    bad = await _mutate(gw, clerk, step("submitReferral"), "submitReferral", id=rid)
    assert (bad["code"], bad["field"]) == ("MATERIAL_CONTENT_MISSING", "materials"), bad
    assert await _status(gw, clerk, rid) == "DRAFT"
    letter_record = next(m for m in done["materials"] if m["kind"] == "transfer_letter")
    removed = await _mutate(
        gw, clerk, REMOVE, "removeReferralMaterial", id=rid, m=letter_record["id"]
    )
    assert removed["__typename"] == "Referral", removed
    letter = await _mutate(
        gw, clerk, step("generateTransferLetter"), "generateTransferLetter", id=rid
    )
    assert letter["__typename"] == "Referral", letter
    # R-REF-03: sending unapproved.
    bad = await _mutate(gw, clerk, step("sendReferral"), "sendReferral", id=rid)
    assert (bad["code"], bad["field"]) == ("INVALID_STATE", "status"), bad
    for token, step_name, status in (
        (clerk, "submitReferral", "PENDING_APPROVAL"),
        (leader, "approveReferral", "APPROVED"),
        (clerk, "sendReferral", "SENT"),
    ):
        r = await _mutate(gw, token, step(step_name), step_name, id=rid)
        assert r["status"] == status, r
    assert {(d["kind"], d["state"]) for d in r["deadlines"]} == {
        ("send", "met"),
        ("accept", "open"),
    }
    assert r["acceptDeadline"]["state"] == "open"
    return rid


BY_DUE = """
query {
  referrals(sort: OPEN_DUE, first: 200) {
    edges { cursor node { id deadlines { state due } } }
  }
}"""


async def _listed_by_due(gw: Gateway, token: str) -> list[str]:
    """The ids in the OPEN_DUE order, checked to be ordered by their earliest open clock."""
    edges = (await gw.query(token, BY_DUE))["data"]["referrals"]["edges"]
    dues = [min(d["due"] for d in e["node"]["deadlines"] if d["state"] == "open") for e in edges]
    assert dues == sorted(dues), dues
    return [e["node"]["id"] for e in edges]


async def run_main_path(gw: Gateway) -> dict[str, Any]:
    """R-REF-06, R-REF-08: send → accept → handled → result → closed."""
    rid = await _sent_referral(gw, "无照经营（主流程）")
    clerk = gw.mint("fy-market", ["clerk"])
    town = gw.mint("fy-hancong", ["clerk"])
    # R-REF-13: a running clock puts it on the list sorted by due time.
    assert rid in await _listed_by_due(gw, town)
    # Wrong state: the sender cannot close before a result.
    bad = await _mutate(gw, clerk, step("closeReferral"), "closeReferral", id=rid)
    assert (bad["code"], bad["field"]) == ("INVALID_STATE", "status"), bad
    r = await _mutate(gw, town, ACCEPT, "acceptReferral", id=rid, s="经审查属本镇管辖，决定受理。")
    assert r["status"] == "ACCEPTED", r
    report = [d for d in r["deadlines"] if d["kind"] == "report"]
    assert report and report[0]["state"] == "open" and report[0]["overdue"] is False
    r = await _mutate(gw, town, HANDLED, "markReferralHandled", id=rid, s="已立案查处")
    assert r["status"] == "HANDLED", r
    r = await _mutate(gw, town, REPORT, "reportReferralResult", id=rid, s="已责令改正并处警告。")
    assert r["status"] == "RESULT_REPORTED", r
    r = await _mutate(gw, clerk, step("closeReferral"), "closeReferral", id=rid)
    assert r["status"] == "CLOSED", r
    body = await gw.query(clerk, READ, {"id": rid})
    referral: dict[str, Any] = body["data"]["referral"]
    assert referral["receiver"] == {"id": "fy-hancong", "name": "寒葱沟镇人民政府"}
    assert referral["result"] == "已责令改正并处警告。"
    assert rid not in await _listed_by_due(gw, clerk)  # closed: no clock runs
    assert [h["action"] for h in referral["history"]][-4:] == [
        "accept",
        "handle",
        "report_result",
        "close",
    ]
    # Another agency's staff do not see it.
    other = gw.mint("fy-wusu", ["clerk"])
    assert (await gw.query(other, READ, {"id": rid}))["data"]["referral"] is None
    await assert_no_stalls(gw)
    return referral


async def test_referral_main_path_embedded(embedded_gateway: Gateway) -> None:
    """R-REF-02, R-REF-03, R-REF-04, R-REF-06, R-REF-08, R-AG-02 through the gateway."""
    referral = await run_main_path(embedded_gateway)
    assert referral["status"] == "CLOSED"


async def test_referral_main_path_production(shared_production_gateway: Gateway) -> None:
    """The main path with separate processes over RabbitMQ and MongoDB."""
    referral = await run_main_path(shared_production_gateway)
    assert referral["status"] == "CLOSED"


DISPUTES = """
query { disputes(agencyId: "fy-hancong") { edges { node { id referralId status } } } }
"""
RULE = """
mutation($input: RuleDisputeInput!) {
  ruleDispute(input: $input) { __typename ... on UserError { code message field } }
}"""


DISPUTE_STEP = """
query($id: ID!) { dispute(id: $id) { currentStep { number due decidedBy { id } } } }"""
INBOX = """
query { myInbox(first: 100) { edges { node { id kind title subjectId dueAt readAt } } } }"""


async def _notice(gw: Gateway, token: str, kind: str, subject: str) -> dict[str, Any] | None:
    """The caller's agency's inbox item of ``kind`` about ``subject``, once it is there."""
    return await inbox_item(gw, token, INBOX, kind, subject)


REFERRAL_DISPUTES = "query($id: ID!) { referral(id: $id) { id disputes { id status } } }"


async def run_decline_path(gw: Gateway) -> None:
    """R-REF-07: decline → coordination opens a dispute → its ruling reassigns the referral
    (new accept clock); the receiver could not pass it on meanwhile."""
    rid = await _sent_referral(gw, "无照经营（争议）")
    town_leader = gw.mint("fy-hancong", ["leader"])
    town = gw.mint("fy-hancong", ["clerk"])
    r = await _mutate(gw, town_leader, DECLINE, "declineReferral", id=rid)
    assert r["status"] == "DECLINED", r
    # 不得再行移送: the receiver cannot forward it to a third agency.
    bad = await _mutate(
        gw,
        town,
        DRAFT,
        "draftReferral",
        input=_input(
            gw,
            "转送",
            senderId="fy-hancong",
            receiverId="fy-nongqiao",
            forwardedFrom=rid,
            competenceReason="转交",
        ),
    )
    assert (bad["code"], bad["field"]) == ("FORBIDDEN", "forwardedFrom"), bad

    async def dispute_opened() -> str | None:
        body = await gw.query(town, DISPUTES)
        for edge in (body.get("data") or {}).get("disputes", {}).get("edges", []):
            if edge["node"]["referralId"] == rid:
                return str(edge["node"]["id"])
        return None

    dispute_id = await eventually(dispute_opened, what="dispute opened from referral.declined")
    # Issue 18: the referral links to its dispute (coordination resolves Referral.disputes,
    # read-checked: an agency that is no party sees none).
    linked = await gw.query(town, REFERRAL_DISPUTES, {"id": rid})
    assert [d["id"] for d in linked["data"]["referral"]["disputes"]] == [dispute_id], linked
    outsider = gw.mint("fy-housing", ["clerk"])
    hidden = await gw.query(outsider, REFERRAL_DISPUTES, {"id": rid})
    assert (hidden["data"]["referral"] or {"disputes": []})["disputes"] == [], hidden
    gov = gw.mint("fy-gov", ["government"])
    # R-REF-07, FY (四)1: the decline goes straight to the government's decision (报请市人民政府
    # 决定), not up the negotiation ladder.
    body = await gw.query(gov, DISPUTE_STEP, {"id": dispute_id})
    step = body["data"]["dispute"]["currentStep"]
    assert step["number"] == 4 and step["decidedBy"]["id"] == "fy-gov", body
    # R-NTF-04: the government has the dispute in its inbox with the step's clock, and signs
    # for it; the sender has the decline in its own.
    ruling_notice = await eventually(
        lambda: _notice(gw, gov, "dispute.opened", dispute_id), what="the government's notice"
    )
    assert datetime.fromisoformat(ruling_notice["dueAt"]) == datetime.fromisoformat(step["due"])
    signed = await _mutate(gw, gov, ACK, "acknowledgeInboxItem", id=ruling_notice["id"])
    assert signed["readAt"] is not None, signed
    market = gw.mint("fy-market", ["clerk"])
    declined = await eventually(
        lambda: _notice(gw, market, "referral.declined", rid), what="the sender's notice"
    )
    assert "不予接收" in declined["title"], declined
    body = await gw.query(
        gov,
        RULE,
        {
            "input": {
                "disputeId": dispute_id,
                "outcomeKind": "DECISION",
                "basis": "抚政决〔2026〕5号",
                "responsibleAgencyId": "fy-nongqiao",
            }
        },
    )
    assert body["data"]["ruleDispute"]["__typename"] == "Dispute", body

    async def reassigned() -> dict[str, Any] | None:
        body = await gw.query(gov, READ, {"id": rid})
        ref = body["data"]["referral"]
        return dict(ref) if ref and ref["receiver"]["id"] == "fy-nongqiao" else None

    ref = await eventually(reassigned, what="referral reassigned by the ruling")
    assert ref["status"] == "SENT"
    accepts = [d for d in ref["deadlines"] if d["kind"] == "accept"]
    assert [d["state"] for d in accepts] == ["met", "open"]
    await assert_no_stalls(gw)


COMPLAINT = """
mutation($input: RegisterComplaintInput!) {
  registerComplaint(input: $input) {
    __typename ... on Complaint { id status } ... on UserError { code message field }
  }
}"""
REFER = (
    "mutation($id: ID!, $input: DraftReferralInput!) { referComplaint(id: $id, input: $input) "
    "{ " + RESULT + " } }"
)
READ_COMPLAINT = """
query($id: ID!) {
  complaint(id: $id) {
    id status result
    firstAgency { id } owner { id name }
    notices { kind text toAgency { id } }
    referral { id status receiver { id } }
  }
}"""
LIST = """
query($f: ReferralFilterInput, $after: String) {
  referrals(filter: $f, first: 1, after: $after, descending: true) {
    edges { cursor node { id status complaint { id } } }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def run_complaint_path(gw: Gateway) -> None:
    """R-CMP-01, R-CMP-03, R-CMP-04, R-REF-08: a complaint received by the market bureau
    becomes a referral to the township; its result reaches the complainant and the bureau."""
    # The main path first feeds the read models and leaves one closed referral behind.
    await _sent_referral(gw, "无照经营（先行）")
    clerk = gw.mint("fy-market", ["clerk"])
    leader = gw.mint("fy-market", ["leader"])
    town = gw.mint("fy-hancong", ["clerk"])
    body = await gw.query(
        clerk,
        COMPLAINT,
        {
            "input": {
                "complainantName": "张某",
                "complainantContact": "13800000000",
                "content": "寒葱沟镇中心街某店无照经营",
                "matterCode": MATTER,
            }
        },
    )
    complaint = body["data"]["registerComplaint"]
    assert complaint["status"] == "REGISTERED", body
    cid = complaint["id"]
    r = await _mutate(gw, clerk, REFER, "referComplaint", id=cid, input=_input(gw, "举报转办"))
    assert r["__typename"] == "Referral", r
    rid = r["id"]
    await _mutate(gw, clerk, step("generateTransferLetter"), "generateTransferLetter", id=rid)
    await gw.upload(
        clerk, rid, name="举报材料.pdf", content=b"%PDF-1.4 complaint", media_type="application/pdf"
    )
    for token, name in (
        (clerk, "submitReferral"),
        (leader, "approveReferral"),
        (clerk, "sendReferral"),
    ):
        assert (await _mutate(gw, token, step(name), name, id=rid))["__typename"] == "Referral"
    await _mutate(gw, town, ACCEPT, "acceptReferral", id=rid, s="受理")
    await _mutate(gw, town, HANDLED, "markReferralHandled", id=rid, s="已查处")
    await _mutate(gw, town, REPORT, "reportReferralResult", id=rid, s="已责令停止经营并罚款。")
    body = await gw.query(clerk, READ_COMPLAINT, {"id": cid})
    c = body["data"]["complaint"]
    assert c["status"] == "RESULT_TOLD" and c["firstAgency"] == {"id": "fy-market"}, c
    assert c["referral"] == {
        "id": rid,
        "status": "RESULT_REPORTED",
        "receiver": {"id": "fy-hancong"},
    }
    kinds = [(n["kind"], (n["toAgency"] or {}).get("id")) for n in c["notices"]]
    assert kinds == [("referred", None), ("result", None), ("result_to_agency", "fy-market")]

    # The receiver's list: filtered, newest first, one per page with cursors.
    f = {"receiverId": "fy-hancong", "senderId": "fy-market"}
    page = (await gw.query(town, LIST, {"f": f}))["data"]["referrals"]
    assert page["edges"][0]["node"]["id"] == rid and page["pageInfo"]["hasNextPage"] is True
    assert page["edges"][0]["node"]["complaint"] == {"id": cid}
    nxt = await gw.query(town, LIST, {"f": f, "after": page["pageInfo"]["endCursor"]})
    second = nxt["data"]["referrals"]["edges"]
    assert len(second) == 1 and second[0]["node"]["id"] != rid
    only = (await gw.query(town, LIST, {"f": {**f, "status": "RESULT_REPORTED"}}))["data"]
    assert [e["node"]["id"] for e in only["referrals"]["edges"]] == [rid]
    await assert_no_stalls(gw)


TO_POLICE = _mutation(
    "$id: ID!",
    'transferReferralToPolice(id: $id, policeId: "fy-police", reason: "涉案金额较大，涉嫌犯罪")',
)
POLICE_DECISION = _mutation(
    "$id: ID!, $filed: Boolean!",
    'recordPoliceDecision(id: $id, filed: $filed, note: "抚公不立字〔2026〕3号", '
    'reasons: "犯罪事实显著轻微，不需要追究刑事责任")',
)
REOPEN = _mutation("$id: ID!", 'reopenCaseAfterNotFiled(id: $id, note: "依法作出行政处罚")')
CRIME = """
query($id: ID!) {
  referral(id: $id) { id status crime { police { id } decision } deadlines { kind state } }
}"""


async def run_crime_path(gw: Gateway) -> None:
    """R-REF-10: accepted → transferred to public security → 不立案 → the administrative case
    reopens with a new report clock; the procuratorate reads it but changes nothing."""
    rid = await _sent_referral(gw, "无照经营（涉嫌犯罪）")
    town = gw.mint("fy-hancong", ["clerk"])
    town_leader = gw.mint("fy-hancong", ["leader"])
    police = gw.mint("fy-police", ["clerk"])
    observer = gw.mint("fy-procuratorate", ["judicial_observer"])
    await _mutate(gw, town, ACCEPT, "acceptReferral", id=rid, s="受理")
    bad = await _mutate(gw, town, TO_POLICE, "transferReferralToPolice", id=rid)
    assert bad["code"] == "FORBIDDEN", bad  # a leader decides the transfer
    r = await _mutate(gw, town_leader, TO_POLICE, "transferReferralToPolice", id=rid)
    assert r["status"] == "CRIME_PENDING", r
    seen = (await gw.query(observer, CRIME, {"id": rid}))["data"]["referral"]
    assert seen["crime"] == {"police": {"id": "fy-police"}, "decision": ""}
    bad = await _mutate(gw, observer, POLICE_DECISION, "recordPoliceDecision", id=rid, filed=False)
    assert bad["__typename"] == "UserError" and bad["code"] == "FORBIDDEN", bad
    r = await _mutate(gw, police, POLICE_DECISION, "recordPoliceDecision", id=rid, filed=False)
    assert r["status"] == "CRIME_PENDING", r  # R-REF-14: the reconsideration window runs
    r = await _mutate(gw, town, REOPEN, "reopenCaseAfterNotFiled", id=rid)
    assert r["status"] == "ACCEPTED", r
    reports = [d["state"] for d in r["deadlines"] if d["kind"] == "report"]
    assert reports.count("open") == 1, r["deadlines"]
    await assert_no_stalls(gw)


async def test_referral_decline_dispute_ruling_reassigns_embedded(
    embedded_gateway: Gateway,
) -> None:
    """R-REF-07 in the embedded topology."""
    await run_decline_path(embedded_gateway)


async def test_referral_decline_dispute_ruling_reassigns_production(
    production_gateway: Gateway,
) -> None:
    """R-REF-07 across separate processes over RabbitMQ and MongoDB."""
    await run_decline_path(production_gateway)


async def test_complaint_to_referral_to_result_embedded(embedded_gateway: Gateway) -> None:
    """R-CMP-01, R-CMP-03, R-CMP-04 in the embedded topology."""
    await run_complaint_path(embedded_gateway)


async def test_complaint_to_referral_to_result_production(
    production_gateway: Gateway,
) -> None:
    """R-CMP-01, R-CMP-03, R-CMP-04 across separate processes."""
    await run_complaint_path(production_gateway)


async def test_crime_transfer_not_filed_reopens_embedded(embedded_gateway: Gateway) -> None:
    """R-REF-10 in the embedded topology."""
    await run_crime_path(embedded_gateway)


async def test_crime_transfer_not_filed_reopens_production(
    shared_production_gateway: Gateway,
) -> None:
    """R-REF-10 across separate processes over RabbitMQ and MongoDB."""
    await run_crime_path(shared_production_gateway)
