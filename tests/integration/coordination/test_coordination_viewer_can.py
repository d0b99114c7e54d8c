"""``viewerCan`` / ``availableActions`` on the coordination objects (issue 18): each mutation
runs as a dry run through its own handler (the matrix, the domain's state rules), so what is
offered is exactly what the mutation would do now, and asking writes nothing. For each kind:
a party that may act, a party that may not, another agency, and a wrong state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kernel.calendar import SHANGHAI
from tests.integration.coordination.test_authz_coordination import (
    COORD,
    GOV,
    HOUSING_CLERK,
    JUSTICE,
    MARKET_CLERK,
    NATRES_CLERK,
    NATRES_LEADER,
    OPEN,
    RULE,
    SCHEDULE,
    TOWN_CLERK,
    Graph,
    Who,
    dispute_input,
    err,
    graph,  # noqa: F401
    meeting_input,
)
from tests.integration.coordination.test_coordination_cooperation_access import TEC_INPUT

CAN = "status availableActions viewerCan { action allowed refusal { errorCode family } }"


async def can(g: Graph, who: Who, field: str, object_id: str) -> dict[str, Any] | None:
    """The object's status, offered actions and each action's refusal code (None: allowed);
    None when the caller cannot read the object at all."""
    body = await g.run(who, f"query($id: ID!) {{ x: {field}(id: $id) {{ {CAN} }} }}", id=object_id)
    found = (body.get("data") or {}).get("x")
    if found is None:
        return None
    assert "errors" not in body, body
    for row in found["viewerCan"]:
        assert row["allowed"] is (row["refusal"] is None), row
    return {
        "status": found["status"],
        "actions": found["availableActions"],
        "refusals": {
            v["action"]: v["refusal"]["errorCode"] if v["refusal"] else None
            for v in found["viewerCan"]
        },
    }


def request(name: str, typename: str) -> str:
    """The mutation ``name`` taking ``input: <Name>Input!``, aliased ``m``."""
    return (
        f"mutation($input: {name[0].upper()}{name[1:]}Input!) {{ m: {name}(input: $input) {{ "
        + err(f"... on {typename} {{ id status }}")
        + " } }"
    )


def assert_only_refused(view: dict[str, Any] | None, code: str = "FORBIDDEN") -> None:
    assert view is not None and view["actions"] == [], view
    assert set(view["refusals"].values()) == {code}, view


async def test_R_AST_01_R_AST_02_assistance_actions_are_the_mutations_dry_runs(
    graph: Graph,  # noqa: F811
) -> None:
    """The helper may reply and nothing else; the requester may not reply (FORBIDDEN) and its
    own acts wait for the reply (state); the justice bureau reads but acts on nothing; a third
    agency does not see the request. Asking writes nothing; once replied, a second reply is
    ALREADY_DONE and both sides may report results."""
    g = graph
    ast = await g.ok(
        MARKET_CLERK,
        request("requestAssistance", "AssistanceRequest"),
        input={
            "requesterId": "fy-market",
            "helperId": "fy-housing",
            "matters": ["协助核查违法建设现场"],
            "letterNumber": "抚市监协〔2026〕9号",
        },
    )
    helper = await can(g, HOUSING_CLERK, "assistanceRequest", ast["id"])
    assert helper is not None and helper["actions"] == ["replyToAssistance"], helper
    requester = await can(g, MARKET_CLERK, "assistanceRequest", ast["id"])
    assert requester == {
        "status": "REQUESTED",
        "actions": [],
        "refusals": {
            "sendAssistanceLetter": "ALREADY_DONE",  # the letter went with the request
            "replyToAssistance": "FORBIDDEN",
            "referAssistanceToMediation": "WRONG_STATUS",  # nothing refused yet
            "recordAssistanceMediation": "FORBIDDEN",
            "reportAssistanceResult": "WRONG_STATUS",
        },
    }
    assert_only_refused(await can(g, JUSTICE, "assistanceRequest", ast["id"]))
    assert await can(g, NATRES_CLERK, "assistanceRequest", ast["id"]) is None
    # The dry runs wrote nothing: the real reply still finds the request unanswered.
    replied = await g.ok(
        HOUSING_CLERK,
        "mutation($input: ReplyToAssistanceInput!) { m: replyToAssistance(input: $input) { "
        + err("... on AssistanceRequest { id status }")
        + " } }",
        input={
            "requestId": ast["id"],
            "willHelp": True,
            "replyLetterNumber": "抚住建复〔2026〕3号",
            # Today where the service counts days (its calendar's zone, China).
            "agreedStartOn": datetime.now(SHANGHAI).date().isoformat(),
        },
    )
    assert replied["status"] == "ACCEPTED"
    after = await can(g, HOUSING_CLERK, "assistanceRequest", ast["id"])
    assert after is not None and after["refusals"]["replyToAssistance"] == "ALREADY_DONE"
    assert after["actions"] == ["reportAssistanceResult"], after
    requester = await can(g, MARKET_CLERK, "assistanceRequest", ast["id"])
    assert requester is not None and requester["actions"] == ["reportAssistanceResult"]


@dataclass(frozen=True)
class Duty:
    """A request answered by the addressed agency: how it is made, who holds it, what the
    holder may do, and how it is answered."""

    field: str  # the single read, e.g. technicalSupportRequest
    typename: str
    make: str  # the mutation that makes it (by the township)
    make_input: dict[str, Any]
    holder: Who
    holder_actions: list[str]
    answer: str  # the mutation that answers it (by the holder)
    answer_input: dict[str, Any]  # without the id, which goes under ``id_field``
    id_field: str


DUTIES = [
    Duty(
        "technicalSupportRequest",
        "TechnicalSupportRequest",
        "requestTechnicalSupport",
        TEC_INPUT,
        HOUSING_CLERK,
        ["dispatchTechnicalStaff", "answerTechnicalSupport"],
        "answerTechnicalSupport",
        {"answer": {"conclusion": "属于违法建设"}, "documentNumber": "抚住建认〔2026〕1号"},
        "requestId",
    ),
    Duty(
        "informationQuery",
        "InformationQuery",
        "askInformation",
        {
            "requesterId": "fy-hancong",
            "holderId": "fy-market",
            "subject": "某商户营业执照登记信息",
            "purpose": "核实无照经营",
        },
        MARKET_CLERK,
        ["answerInformationQuery", "declineInformationQuery"],
        "answerInformationQuery",
        {"content": "该商户未办理营业执照", "classification": "INTERNAL"},
        "queryId",
    ),
]


@pytest.mark.parametrize("duty", DUTIES, ids=lambda d: d.field)
async def test_R_TEC_01_R_TEC_02_R_INF_01_the_holder_answers_nobody_else(
    graph: Graph,  # noqa: F811
    duty: Duty,
) -> None:
    """Technical support (R-TEC-01/02) and information queries (R-INF-01): the holder may act
    (send staff / answer, or answer / decline); the asking township may do none of it; the
    justice bureau acts on nothing; a third agency does not see the request; once answered,
    nothing is offered and the refusal is the state's, not the matrix's."""
    g = graph
    made = await g.ok(TOWN_CLERK, request(duty.make, duty.typename), input=duty.make_input)
    holder = await can(g, duty.holder, duty.field, made["id"])
    assert holder is not None and holder["actions"] == duty.holder_actions, holder
    assert_only_refused(await can(g, TOWN_CLERK, duty.field, made["id"]))
    assert_only_refused(await can(g, JUSTICE, duty.field, made["id"]))
    assert await can(g, NATRES_CLERK, duty.field, made["id"]) is None
    answered = await g.ok(
        duty.holder,
        request(duty.answer, duty.typename),
        input={duty.id_field: made["id"], **duty.answer_input},
    )
    assert answered["status"] == "ANSWERED"
    done = await can(g, duty.holder, duty.field, made["id"])
    assert done is not None and done["actions"] == [], done
    assert "FORBIDDEN" not in done["refusals"].values() and None not in done["refusals"].values()


async def test_R_MTG_01_meeting_actions_follow_the_convener_the_invitees_and_the_date(
    graph: Graph,  # noqa: F811
) -> None:
    """An invited agency may answer the invitation, not draft minutes (FORBIDDEN); the
    convener may not draft minutes before the meeting (state); the justice bureau acts on
    nothing; an agency not invited does not see the meeting."""
    g = graph
    starts = (datetime.now(UTC) + timedelta(days=40)).replace(microsecond=0)
    mtg = await g.ok(COORD, SCHEDULE, input=meeting_input(starts))
    invited = await can(g, MARKET_CLERK, "meeting", mtg["id"])
    assert invited is not None and invited["actions"] == ["rsvpMeeting"], invited
    assert invited["refusals"]["draftMeetingMinutes"] == "FORBIDDEN"
    assert invited["refusals"]["issueMeetingMinutes"] == "FORBIDDEN"
    convener = await can(g, COORD, "meeting", mtg["id"])
    assert convener is not None and convener["actions"] == [], convener
    assert convener["refusals"]["draftMeetingMinutes"] == "NOT_YET"  # not held yet
    assert_only_refused(await can(g, JUSTICE, "meeting", mtg["id"]))
    assert await can(g, HOUSING_CLERK, "meeting", mtg["id"]) is None


async def test_R_DSP_02_R_DSP_03_dispute_actions_follow_the_parties_and_the_ruling(
    graph: Graph,  # noqa: F811
) -> None:
    """A party may escalate and propose an agreement, not rule (FORBIDDEN); its clerk may not
    confirm (leaders only) and its leader has nothing to confirm yet (state); the government
    may escalate and rule; the justice bureau acts on nothing; a third agency does not see
    it. Ruled, nothing is offered to a party any more."""
    g = graph
    dsp = await g.ok(MARKET_CLERK, OPEN, input=dispute_input())
    party = await can(g, NATRES_CLERK, "dispute", dsp["id"])
    assert party is not None
    assert party["actions"] == ["escalateDispute", "proposeDisputeAgreement"], party
    assert party["refusals"]["ruleDispute"] == "NOT_THE_DECIDING_BODY"
    assert party["refusals"]["confirmDisputeAgreement"] == "FORBIDDEN"
    leader = await can(g, NATRES_LEADER, "dispute", dsp["id"])
    assert leader is not None and leader["refusals"]["confirmDisputeAgreement"] == "NOT_YET"
    gov = await can(g, GOV, "dispute", dsp["id"])
    assert gov is not None and gov["actions"] == ["escalateDispute", "ruleDispute"], gov
    assert_only_refused(await can(g, JUSTICE, "dispute", dsp["id"]))
    assert await can(g, HOUSING_CLERK, "dispute", dsp["id"]) is None
    # The dry runs wrote nothing (still at step 1); a real ruling ends the offers.
    assert party["status"] == "OPEN"
    ruled = await g.ok(
        GOV,
        RULE,
        input={
            "disputeId": dsp["id"],
            "outcomeKind": "DECISION",
            "basis": "抚政决〔2026〕2号",
            "responsibleAgencyId": "fy-market",
        },
    )
    assert ruled["status"] == "RULED" and ruled["currentStep"]["number"] == 1
    after = await can(g, NATRES_CLERK, "dispute", dsp["id"])
    assert after is not None and after["actions"] == [], after
    assert after["refusals"]["escalateDispute"] == "WRONG_STATUS"
