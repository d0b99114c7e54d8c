"""Issue 16, finding 1 (HIGH), end to end through the real gateway in the production topology
(separate service processes over RabbitMQ and MongoDB): one clerk cannot settle a jurisdiction
dispute alone (R-DSP-03).

Before the fix a party's clerk recorded ``ruleDispute(outcomeKind: AGREEMENT, signatories:
[both parties])`` or MINUTES at the negotiation step with no meeting, and the dispute was RULED:
a catalogue routing rule, the waiting referral moved. Now an agreement binds only when each
party's leader confirmed it (``proposeDisputeAgreement`` / ``confirmDisputeAgreement``), and
minutes only come from a meeting whose minutes every attendee agreed and that were issued
(R-MTG-01)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.e2e.scenario import Gateway, eventually
from tests.e2e.stalls import assert_no_stalls

FIELDS = """
    __typename
    ... on Dispute {
      id status
      agreement { revision awaitingConfirmationOf confirmations { agencyId } }
      outcome { kind basis signatories responsibleAgencyId ruleId }
    }
    ... on UserError { code message field }
"""
OPEN = "mutation($input: OpenDisputeInput!) { r: openDispute(input: $input) {" + FIELDS + "} }"
RULE = "mutation($input: RuleDisputeInput!) { r: ruleDispute(input: $input) {" + FIELDS + "} }"
PROPOSE = (
    "mutation($input: ProposeDisputeAgreementInput!) { r: proposeDisputeAgreement(input: $input)"
    " {" + FIELDS + "} }"
)
CONFIRM = (
    "mutation($id: ID!, $revision: Int!) { r: confirmDisputeAgreement(disputeId: $id,"
    " revision: $revision) {" + FIELDS + "} }"
)
READ = "query($id: ID!) { dispute(id: $id) { id status outcome { kind } } }"

MEETING = """
    __typename
    ... on Meeting { id status }
    ... on UserError { code message field }
"""
SCHEDULE = "mutation($input: ScheduleMeetingInput!) { r: scheduleMeeting(input: $input) {" + (
    MEETING + "} }"
)
RSVP = (
    'mutation($id: ID!) { r: rsvpMeeting(meetingId: $id, attending: true, delegate: "王五") {'
    + MEETING
    + "} }"
)
DRAFT = (
    "mutation($input: DraftMeetingMinutesInput!) { r: draftMeetingMinutes(input: $input) {"
    + MEETING
    + "} }"
)
AGREE = (
    "mutation($id: ID!) { r: answerMeetingMinutes(meetingId: $id, revision: 1, agrees: true) {"
    + MEETING
    + "} }"
)
ISSUE = (
    'mutation($id: ID!) { r: issueMeetingMinutes(meetingId: $id, number: "寒纪〔2026〕1号") {'
    + MEETING
    + "} }"
)


async def _r(gw: Gateway, token: str, query: str, **variables: Any) -> Any:
    body = await gw.query(token, query, variables)
    assert "errors" not in body, body
    return body["data"]["r"]


async def _open(gw: Gateway, token: str) -> str:
    async def opened() -> Any:
        d = await _r(
            gw,
            token,
            OPEN,
            input={
                "matterCode": "FY-SCJG-001",
                "townshipId": "fy-hancong",
                "partyIds": ["fy-hancong", "fy-market"],
                "reasons": "双方均认为不属于本机关管辖",
                "interimHandlerId": "fy-hancong",
            },
        )
        return d if d["__typename"] == "Dispute" else None

    d = await eventually(opened, what="the agency register")
    return str(d["id"])


def _refused(result: dict[str, Any], code: str, field: str | None = None) -> None:
    assert result["__typename"] == "UserError" and result["code"] == code, result
    if field is not None:
        assert result["field"] == field, result


async def test_issue_16_one_clerk_cannot_settle_a_dispute_production(
    production_gateway: Gateway,
) -> None:
    gw = production_gateway
    clerk = gw.mint("fy-hancong", ["clerk"])
    township_leader = gw.mint("fy-hancong", ["leader"])
    market_leader = gw.mint("fy-market", ["leader"])
    natres_leader = gw.mint("fy-natres", ["leader"])
    dispute_id = await _open(gw, clerk)

    async def still_open() -> None:
        d = (await gw.query(township_leader, READ, {"id": dispute_id}))["data"]["dispute"]
        assert d["status"] == "OPEN" and d["outcome"] is None, d

    # The attacks of the finding: one clerk, an agreement or minutes typed alone.
    agreement = {
        "disputeId": dispute_id,
        "outcomeKind": "AGREEMENT",
        "basis": "协议〔2026〕1号",
        "responsibleAgencyId": "fy-market",
    }
    _refused(await _r(gw, clerk, RULE, input=agreement), "VALIDATION_FAILED", "outcomeKind")
    minutes = {**agreement, "outcomeKind": "MINUTES", "basis": "协商纪要〔2026〕1号"}
    _refused(await _r(gw, clerk, RULE, input=minutes), "VALIDATION_FAILED", "meetingId")
    await still_open()

    # The agreement: proposed by the clerk; the clerk, a third agency's leader cannot confirm.
    proposed = await _r(
        gw,
        clerk,
        PROPOSE,
        input={
            "disputeId": dispute_id,
            "basis": "协议〔2026〕1号",
            "responsibleAgencyId": "fy-market",
        },
    )
    assert proposed["agreement"]["awaitingConfirmationOf"] == ["fy-hancong", "fy-market"], proposed
    _refused(await _r(gw, clerk, CONFIRM, id=dispute_id, revision=1), "FORBIDDEN")
    _refused(await _r(gw, natres_leader, CONFIRM, id=dispute_id, revision=1), "FORBIDDEN")
    half = await _r(gw, market_leader, CONFIRM, id=dispute_id, revision=1)
    assert half["status"] == "OPEN" and half["agreement"]["awaitingConfirmationOf"] == [
        "fy-hancong"
    ], half
    _refused(await _r(gw, market_leader, CONFIRM, id=dispute_id, revision=1), "INVALID_STATE")
    await still_open()
    ruled = await _r(gw, township_leader, CONFIRM, id=dispute_id, revision=1)
    assert ruled["status"] == "RULED", ruled
    assert ruled["outcome"]["kind"] == "AGREEMENT"
    assert ruled["outcome"]["signatories"] == ["fy-hancong", "fy-market"]
    assert ruled["outcome"]["responsibleAgencyId"] == "fy-market"

    # Minutes (R-MTG-01): a second dispute, settled at the negotiation step by the minutes of
    # a meeting the market attended and agreed to; refused while the minutes are a draft.
    second = await _open(gw, clerk)
    starts = gw.now() + timedelta(seconds=5)
    meeting = await _r(
        gw,
        clerk,
        SCHEDULE,
        input={
            "kind": "SPECIAL",
            "title": "寒葱沟镇与市场监管局管辖协商会",
            "convenerId": "fy-hancong",
            "startsAt": starts.isoformat(),
            "place": "寒葱沟镇政府会议室",
            "attendeeIds": ["fy-market"],
            "agenda": ["协商管辖"],
            "urgent": True,
        },
    )
    assert meeting["__typename"] == "Meeting", meeting
    mid = meeting["id"]
    await _r(gw, market_leader, RSVP, id=mid)
    deadline = (gw.now() + timedelta(days=30)).date().isoformat()
    draft = {
        "meetingId": mid,
        "decisions": "由市场监督管理局负责查处",
        "tasks": [{"description": "依法立案", "ownerAgencyId": "fy-market", "deadline": deadline}],
    }

    async def drafted() -> Any:
        d = await _r(gw, clerk, DRAFT, input=draft)
        return d if d["__typename"] == "Meeting" else None

    await eventually(drafted, within=60, what="the meeting to start")
    by_minutes = {**minutes, "disputeId": second, "basis": "", "meetingId": mid}
    _refused(await _r(gw, clerk, RULE, input=by_minutes), "VALIDATION_FAILED", "meetingId")
    await _r(gw, market_leader, AGREE, id=mid)
    issued = await _r(gw, township_leader, ISSUE, id=mid)
    assert issued["status"] == "MINUTES_ISSUED", issued
    settled = await _r(gw, clerk, RULE, input=by_minutes)
    assert settled["status"] == "RULED" and settled["outcome"]["kind"] == "MINUTES", settled
    assert settled["outcome"]["signatories"] == ["fy-hancong", "fy-market"]
    assert "寒纪〔2026〕1号" in settled["outcome"]["basis"]
    await assert_no_stalls(gw)  # issue 14: both disputes ruled, the meeting's task timed
