"""``viewerCan`` / ``availableActions`` on the coordination objects (issue 18): each mutation
runs as a dry run through its own handler (the matrix, the domain's state rules), so what is
offered is exactly what the mutation would do now, and asking writes nothing. For each kind:
a party that may act, a party that may not, another agency, and a wrong state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

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
)

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
            "agreedStartOn": datetime.now(UTC).date().isoformat(),
        },
    )
    assert replied["status"] == "ACCEPTED"
    after = await can(g, HOUSING_CLERK, "assistanceRequest", ast["id"])
    assert after is not None and after["refusals"]["replyToAssistance"] == "ALREADY_DONE"
    assert after["actions"] == ["reportAssistanceResult"], after
    requester = await can(g, MARKET_CLERK, "assistanceRequest", ast["id"])
    assert requester is not None and requester["actions"] == ["reportAssistanceResult"]


async def test_R_TEC_01_R_TEC_02_technical_support_actions_are_the_department_s(
    graph: Graph,  # noqa: F811
) -> None:
    """The department may send staff and answer; the asking township may do neither; the
    justice bureau acts on nothing; a third agency does not see it; answered, it is done."""
    g = graph
    tec = await g.ok(
        TOWN_CLERK,
        request("requestTechnicalSupport", "TechnicalSupportRequest"),
        input={
            "townshipId": "fy-hancong",
            "departmentId": "fy-housing",
            "kind": "IDENTIFICATION",
            "question": "该建筑是否属于违法建设",
            "documentNumber": "寒协〔2026〕9号",
        },
    )
    department = await can(g, HOUSING_CLERK, "technicalSupportRequest", tec["id"])
    assert department is not None
    assert department["actions"] == ["dispatchTechnicalStaff", "answerTechnicalSupport"]
    assert_only_refused(await can(g, TOWN_CLERK, "technicalSupportRequest", tec["id"]))
    assert_only_refused(await can(g, JUSTICE, "technicalSupportRequest", tec["id"]))
    assert await can(g, NATRES_CLERK, "technicalSupportRequest", tec["id"]) is None
    answered = await g.ok(
        HOUSING_CLERK,
        "mutation($input: AnswerTechnicalSupportInput!) { m: answerTechnicalSupport("
        "input: $input) { " + err("... on TechnicalSupportRequest { id status }") + " } }",
        input={
            "requestId": tec["id"],
            "answer": {"conclusion": "属于违法建设"},
            "documentNumber": "抚住建认〔2026〕1号",
        },
    )
    assert answered["status"] == "ANSWERED"
    done = await can(g, HOUSING_CLERK, "technicalSupportRequest", tec["id"])
    assert done is not None and done["actions"] == [], done
    assert done["refusals"]["answerTechnicalSupport"] not in (None, "FORBIDDEN")


async def test_R_INF_01_information_actions_are_the_holder_s(graph: Graph) -> None:  # noqa: F811
    """The holder may answer or decline; the asking township may not; the justice bureau acts
    on nothing; a third agency does not see it; answered, neither is offered again."""
    g = graph
    inf = await g.ok(
        TOWN_CLERK,
        request("askInformation", "InformationQuery"),
        input={
            "requesterId": "fy-hancong",
            "holderId": "fy-market",
            "subject": "某商户营业执照登记信息",
            "purpose": "核实无照经营",
        },
    )
    holder = await can(g, MARKET_CLERK, "informationQuery", inf["id"])
    assert holder is not None
    assert holder["actions"] == ["answerInformationQuery", "declineInformationQuery"]
    assert_only_refused(await can(g, TOWN_CLERK, "informationQuery", inf["id"]))
    assert_only_refused(await can(g, JUSTICE, "informationQuery", inf["id"]))
    assert await can(g, NATRES_CLERK, "informationQuery", inf["id"]) is None
    answered = await g.ok(
        MARKET_CLERK,
        "mutation($input: AnswerInformationQueryInput!) { m: answerInformationQuery(input: $input) "
        "{ " + err("... on InformationQuery { id status }") + " } }",
        input={
            "queryId": inf["id"],
            "content": "该商户未办理营业执照",
            "classification": "INTERNAL",
        },
    )
    assert answered["status"] == "ANSWERED"
    done = await can(g, MARKET_CLERK, "informationQuery", inf["id"])
    assert done is not None and done["actions"] == [], done
    assert "FORBIDDEN" not in done["refusals"].values()


async def test_R_MTG_01_meeting_actions_follow_the_convener_the_invitees_and_the_date(
    graph: Graph,  # noqa: F811
) -> None:
    """An invited agency may answer the invitation, not draft minutes (FORBIDDEN); the
    convener may not draft minutes before the meeting (state); the justice bureau acts on
    nothing; an agency not invited does not see the meeting."""
    g = graph
    starts = (datetime.now(UTC) + timedelta(days=40)).replace(microsecond=0)
    mtg = await g.ok(
        COORD,
        SCHEDULE,
        input={
            "kind": "SPECIAL",
            "title": "市场与自然资源执法协调会",
            "convenerId": "fy-coord",
            "startsAt": starts.isoformat(),
            "place": "市政府三楼会议室",
            "attendeeIds": ["fy-market", "fy-natres"],
            "agenda": ["违法占地案件分工"],
        },
    )
    invited = await can(g, MARKET_CLERK, "meeting", mtg["id"])
    assert invited is not None and invited["actions"] == ["rsvpMeeting"], invited
    assert invited["refusals"]["draftMeetingMinutes"] == "FORBIDDEN"
    assert invited["refusals"]["issueMeetingMinutes"] == "FORBIDDEN"
    convener = await can(g, COORD, "meeting", mtg["id"])
    assert convener is not None and convener["actions"] == [], convener
    assert convener["refusals"]["draftMeetingMinutes"] == "INVALID_STATE"  # not held yet
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
    assert party["refusals"]["ruleDispute"] == "FORBIDDEN"
    assert party["refusals"]["confirmDisputeAgreement"] == "FORBIDDEN"
    leader = await can(g, NATRES_LEADER, "dispute", dsp["id"])
    assert leader is not None and leader["refusals"]["confirmDisputeAgreement"] == "INVALID_STATE"
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
