"""The authorization matrix (docs/authorization.md, ``kernel.authz``) enforced by the
coordination subgraph, through its real GraphQL schema (the service app on the embedded
store): per operation, the allowed role with the right relation passes; the wrong role, or the
right role without the relation, gets FORBIDDEN and nothing changes; single reads answer null
to whoever may not see the resource, and lists leave it out."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from coordination.bootstrap import bootstrap
from kernel.settings import Settings
from kernel.wiring import build_deps
from liandong.authorization import operations, rules_for
from tests.fixtures.graph import Graph, Who, err

MARKET_CLERK = Who("fy-market", ("clerk",))
MARKET_LEADER = Who("fy-market", ("leader",))
MARKET_REVIEWER = Who("fy-market", ("legal_reviewer",))
NATRES_CLERK = Who("fy-natres", ("clerk",))
NATRES_LEADER = Who("fy-natres", ("leader",))
HOUSING_CLERK = Who("fy-housing", ("clerk",))
HOUSING_LEADER = Who("fy-housing", ("leader",))
TOWN_CLERK = Who("fy-hancong", ("clerk",))
TOWN_REVIEWER = Who("fy-hancong", ("legal_reviewer",))
OTHER_TOWN_CLERK = Who("fy-nongqiao", ("clerk",))
GOV = Who("fy-gov", ("government",))
COORD = Who("fy-coord", ("coordinator",))
JUSTICE = Who("fy-justice", ("supervisor",))
PROCURATORATE = Who("fy-procuratorate", ("judicial_observer",))
MARKET_SYSTEM = Who("fy-market", ("bureau_system",))


@pytest.fixture
async def graph(tmp_path: Path, unique_name: str) -> AsyncIterator[Graph]:
    settings = Settings(data_dir=tmp_path, instance=unique_name, store="embedded", bus="memory")
    service = bootstrap(await build_deps(settings, "coordination"), seed_demo=True)
    await service.runtime.start()
    transport = httpx.ASGITransport(app=service.create_app(manage_lifecycle=False))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
            yield Graph(client, settings, service)
    finally:
        await service.runtime.stop()


def ids(connection: dict[str, Any]) -> list[str]:
    return [e["node"]["id"] for e in connection["edges"]]


# -- agencies and the catalogue (roles; the owning department) --------------------------------

REGISTER = (
    "mutation($input: RegisterAgencyInput!) { m: registerAgency(input: $input) { "
    + err("... on Agency { id }")
    + " } }"
)
AGENCY = "query($id: ID!) { agency(id: $id) { id name } }"
WITHDRAW = (
    'mutation($code: String!) { m: withdrawCatalogueEntry(code: $code, reason: "调整") { '
    + err("... on CatalogueEntry { code withdrawn latestVersion }")
    + " } }"
)
ENTRY = "query($code: String!) { catalogueEntry(code: $code) { code withdrawn latestVersion } }"
DESIGNATE = (
    "mutation($input: DesignateResponsibleAgencyInput!) { m: designateResponsibleAgency("
    "input: $input) { " + err("... on CatalogueEntry { code latestVersion }") + " } }"
)


async def test_registerAgency_is_for_the_government_and_the_coordination_body_only(
    graph: Graph,
) -> None:
    g = graph
    agency = {
        "id": "fy-forestry",
        "name": "抚远市林业局",
        "kind": "DEPARTMENT",
        "liaisons": [{"name": "林业联络员", "phone": "0454-5420888"}],
    }

    async def probe() -> Any:
        return (await g.data(COORD, AGENCY, id="fy-forestry"))["agency"]

    for who in (MARKET_LEADER, JUSTICE, PROCURATORATE, MARKET_SYSTEM):
        await g.refused(who, REGISTER, probe, input=agency)
    assert await probe() is None
    await g.ok(COORD, REGISTER, input=agency)
    assert (await probe())["name"] == "抚远市林业局"


async def test_R_CAT_01_only_the_owning_department_leader_or_reviewer_withdraws_an_entry(
    graph: Graph,
) -> None:
    g = graph
    code = "FY-SCJG-001"  # owned by fy-market (seeded catalogue)

    async def probe() -> Any:
        return (await g.data(COORD, ENTRY, code=code))["catalogueEntry"]

    assert (await probe())["withdrawn"] is False
    # The owner's clerk (wrong role), another department's leader (no relation), the justice
    # bureau's supervisor and the procuratorate (oversight without a rule) are refused.
    for who in (MARKET_CLERK, NATRES_LEADER, JUSTICE, PROCURATORATE):
        await g.refused(who, WITHDRAW, probe, code=code)
    done = await g.ok(MARKET_REVIEWER, WITHDRAW, code=code)
    assert done["withdrawn"] is True


async def test_R_CAT_04_only_government_or_coordinator_designates_an_owner(graph: Graph) -> None:
    g = graph
    designation = {
        "matterCode": "FY-NEW-001",
        "matterName": "新型业态监管",
        "responsibleAgencyId": "fy-market",
        "basis": "抚政办〔2026〕1号",
    }

    async def probe() -> Any:
        return (await g.data(COORD, ENTRY, code="FY-NEW-001"))["catalogueEntry"]

    for who in (MARKET_LEADER, JUSTICE, PROCURATORATE):
        await g.refused(who, DESIGNATE, probe, input=designation)
    assert await probe() is None
    await g.ok(GOV, DESIGNATE, input=designation)
    assert (await probe())["code"] == "FY-NEW-001"


# -- disputes ----------------------------------------------------------------------------------

DISPUTE_FIELDS = "id status currentStep { number } partyIds"
OPEN = (
    "mutation($input: OpenDisputeInput!) { m: openDispute(input: $input) { "
    + err(f"... on Dispute {{ {DISPUTE_FIELDS} }}")
    + " } }"
)
ESCALATE = (
    "mutation($id: ID!) { m: escalateDispute(id: $id) { "
    + err(f"... on Dispute {{ {DISPUTE_FIELDS} }}")
    + " } }"
)
RULE = (
    "mutation($input: RuleDisputeInput!) { m: ruleDispute(input: $input) { "
    + err(f"... on Dispute {{ {DISPUTE_FIELDS} }}")
    + " } }"
)
DISPUTE = f"query($id: ID!) {{ dispute(id: $id) {{ {DISPUTE_FIELDS} }} }}"
DISPUTES = "query($of: ID) { disputes(agencyId: $of) { edges { node { id } } } }"
DISPUTE_ENTITY = (
    'query($id: ID!) { _entities(representations: [{__typename: "Dispute", id: $id}]) '
    "{ ... on Dispute { id } } }"
)
TRANSFER = (
    "mutation($input: RequestCaseTransferInput!) { m: requestCaseTransfer(input: $input) { "
    + err(f"... on Dispute {{ {DISPUTE_FIELDS} }}")
    + " } }"
)


def dispute_input() -> dict[str, Any]:
    return {
        "matterCode": "FY-SCJG-001",
        "townshipId": "fy-hancong",
        "partyIds": ["fy-market", "fy-natres"],
        "reasons": "双方均认为不属于本机关管辖",
        "interimHandlerId": "fy-market",
    }


async def test_R_DSP_01_R_DSP_02_parties_open_and_escalate_others_are_refused(
    graph: Graph,
) -> None:
    g = graph

    async def all_disputes() -> Any:
        return ids((await g.data(COORD, DISPUTES))["disputes"])

    # Opening: a party's acting staff, or the government / coordinator; not a third agency,
    # not a party's legal reviewer, not the justice bureau or the procuratorate.
    for who in (HOUSING_CLERK, MARKET_REVIEWER, JUSTICE, PROCURATORATE, MARKET_SYSTEM):
        await g.refused(who, OPEN, all_disputes, input=dispute_input())
    opened = await g.ok(MARKET_CLERK, OPEN, input=dispute_input())
    dispute_id = opened["id"]

    async def probe() -> Any:
        return (await g.data(COORD, DISPUTE, id=dispute_id))["dispute"]

    for who in (HOUSING_LEADER, MARKET_REVIEWER, JUSTICE, PROCURATORATE):
        await g.refused(who, ESCALATE, probe, id=dispute_id)
    moved = await g.ok(NATRES_CLERK, ESCALATE, id=dispute_id)
    assert moved["currentStep"]["number"] == 2

    # Ruling: refused to a third agency and to the supervisor role, whatever the outcome.
    ruling = {
        "disputeId": dispute_id,
        "outcomeKind": "DECISION",
        "basis": "抚政决〔2026〕2号",
        "responsibleAgencyId": "fy-market",
    }
    for who in (HOUSING_LEADER, JUSTICE, PROCURATORATE):
        await g.refused(who, RULE, probe, input=ruling)
    ruled = await g.ok(GOV, RULE, input=ruling)
    assert ruled["status"] == "RULED"


async def test_dispute_reads_parties_and_supervising_roles_only(graph: Graph) -> None:
    g = graph
    dispute_id = (await g.ok(MARKET_CLERK, OPEN, input=dispute_input()))["id"]
    for who in (MARKET_REVIEWER, NATRES_CLERK, TOWN_CLERK, GOV, COORD, JUSTICE):
        assert (await g.data(who, DISPUTE, id=dispute_id))["dispute"]["id"] == dispute_id, who
        assert dispute_id in ids((await g.data(who, DISPUTES))["disputes"]), who
    # A third agency, the procuratorate (no read rule here) and a bureau system see nothing,
    # whatever filter they pass.
    for who in (HOUSING_CLERK, OTHER_TOWN_CLERK, PROCURATORATE, MARKET_SYSTEM):
        assert (await g.data(who, DISPUTE, id=dispute_id))["dispute"] is None, who
        for of in (None, "fy-market"):
            assert dispute_id not in ids((await g.data(who, DISPUTES, of=of))["disputes"]), who
    # The federation entry point (the gateway resolves Dispute references through it, e.g.
    # from another subgraph's link) applies the same read rule (issue 16, finding 3).
    for who, sees in ((NATRES_CLERK, True), (JUSTICE, True), (HOUSING_CLERK, False)):
        found = (await g.data(who, DISPUTE_ENTITY, id=dispute_id))["_entities"]
        assert (found == [{"id": dispute_id}]) == sees and (found == [None]) != sees, (who, found)


async def test_R_DSP_04_the_township_asks_and_the_government_decides(graph: Graph) -> None:
    g = graph

    async def all_disputes() -> Any:
        return ids((await g.data(COORD, DISPUTES))["disputes"])

    ask = {
        "matterCode": "FY-SCJG-001",
        "townshipId": "fy-hancong",
        "reason": "MAJOR",
        "explanation": "案情重大",
    }
    # Another township, the township's legal reviewer, a coordinator (the government decides
    # by itself, nobody else) are refused.
    for who in (OTHER_TOWN_CLERK, TOWN_REVIEWER, COORD, PROCURATORATE):
        await g.refused(who, TRANSFER, all_disputes, input=ask)
    asked = await g.ok(TOWN_CLERK, TRANSFER, input=ask)
    assert asked["status"] == "OPEN"
    decided = await g.ok(GOV, TRANSFER, input={**ask, "decisionBasis": "抚政决〔2026〕3号"})
    assert decided["status"] == "RULED"


# -- assistance, technical support, information --------------------------------------------------

AST_FIELDS = "id status"
REQUEST_AST = (
    "mutation($input: RequestAssistanceInput!) { m: requestAssistance(input: $input) { "
    + err(f"... on AssistanceRequest {{ {AST_FIELDS} }}")
    + " } }"
)
REPLY = (
    "mutation($input: ReplyToAssistanceInput!) { m: replyToAssistance(input: $input) { "
    + err(f"... on AssistanceRequest {{ {AST_FIELDS} }}")
    + " } }"
)
AST_READ = f"query($id: ID!) {{ assistanceRequest(id: $id) {{ {AST_FIELDS} }} }}"
AST_LIST = "{ assistanceRequests { edges { node { id } } } }"


async def test_R_AST_01_R_AST_02_requester_asks_helper_replies_others_refused(
    graph: Graph,
) -> None:
    g = graph
    request = {
        "requesterId": "fy-hancong",
        "helperId": "fy-market",
        "matters": ["协助调取营业执照登记信息"],
        "letterNumber": "寒政函〔2026〕1号",
    }

    async def all_requests() -> Any:
        return ids((await g.data(COORD, AST_LIST))["assistanceRequests"])

    # In another agency's name, by a legal reviewer, by the supervising roles: refused.
    for who in (OTHER_TOWN_CLERK, TOWN_REVIEWER, COORD, GOV, PROCURATORATE, MARKET_SYSTEM):
        await g.refused(who, REQUEST_AST, all_requests, input=request)
    request_id = (await g.ok(TOWN_CLERK, REQUEST_AST, input=request))["id"]

    async def probe() -> Any:
        return (await g.data(COORD, AST_READ, id=request_id))["assistanceRequest"]

    reply = {
        "requestId": request_id,
        "willHelp": True,
        "replyLetterNumber": "市监复〔2026〕1号",
        "agreedStartOn": (datetime.now(UTC) + timedelta(days=3)).date().isoformat(),
    }
    for who in (TOWN_CLERK, NATRES_CLERK, MARKET_REVIEWER, COORD, PROCURATORATE):
        await g.refused(who, REPLY, probe, input=reply)
    await g.ok(MARKET_CLERK, REPLY, input=reply)
    assert (await probe())["status"] == "ACCEPTED"
    # Reads: the parties and the supervising roles; not the procuratorate, not a third agency.
    for who in (TOWN_REVIEWER, MARKET_LEADER, COORD, GOV, JUSTICE):
        assert (await g.data(who, AST_READ, id=request_id))["assistanceRequest"], who
    for who in (NATRES_CLERK, PROCURATORATE, MARKET_SYSTEM):
        assert (await g.data(who, AST_READ, id=request_id))["assistanceRequest"] is None, who


TEC_FIELDS = "id status extensions { reason }"
REQUEST_TEC = (
    "mutation($input: RequestTechnicalSupportInput!) { m: requestTechnicalSupport("
    "input: $input) { " + err(f"... on TechnicalSupportRequest {{ {TEC_FIELDS} }}") + " } }"
)
EXTEND = (
    "mutation($id: ID!) { m: extendTechnicalSupport(requestId: $id, workingDays: 5,"
    ' reason: "需送检") { ' + err(f"... on TechnicalSupportRequest {{ {TEC_FIELDS} }}") + " } }"
)
TEC_READ = f"query($id: ID!) {{ technicalSupportRequest(id: $id) {{ {TEC_FIELDS} }} }}"


async def technical_request(
    g: Graph, document_number: str
) -> tuple[str, Callable[[], Awaitable[Any]]]:
    """A township's identification request to fy-natres, and a probe of its state."""
    request = {
        "townshipId": "fy-hancong",
        "departmentId": "fy-natres",
        "kind": "IDENTIFICATION",
        "question": "该地块是否为基本农田？",
        "documentNumber": document_number,
    }
    request_id = (await g.ok(TOWN_CLERK, REQUEST_TEC, input=request))["id"]

    async def probe() -> Any:
        return (await g.data(JUSTICE, TEC_READ, id=request_id))["technicalSupportRequest"]

    return request_id, probe


async def test_R_TEC_01_only_the_departments_leader_extends_the_limit(graph: Graph) -> None:
    g = graph
    request_id, probe = await technical_request(g, "寒政协〔2026〕2号")

    # The department's clerk (wrong role), the township's leader side, another department's
    # leader (no relation) and the supervising roles are refused.
    for who in (NATRES_CLERK, TOWN_CLERK, MARKET_LEADER, COORD, GOV):
        await g.refused(who, EXTEND, probe, id=request_id)
    extended = await g.ok(NATRES_LEADER, EXTEND, id=request_id)
    assert [e["reason"] for e in extended["extensions"]] == ["需送检"]


INF_FIELDS = "id status"
ASK = (
    "mutation($input: AskInformationInput!) { m: askInformation(input: $input) { "
    + err(f"... on InformationQuery {{ {INF_FIELDS} }}")
    + " } }"
)
ANSWER = (
    "mutation($input: AnswerInformationQueryInput!) { m: answerInformationQuery(input: $input)"
    " { " + err(f"... on InformationQuery {{ {INF_FIELDS} }}") + " } }"
)
READ_ANSWER = (
    "mutation($id: ID!) { m: readInformationAnswer(queryId: $id) { "
    + err("... on InformationAnswer { content }")
    + " } }"
)
ACCESS_LOG = "query($id: ID!) { informationAnswerAccessLog(queryId: $id) { readerAgencyId } }"


async def test_R_INF_01_answer_reads_and_the_access_log_follow_the_matrix(graph: Graph) -> None:
    g = graph
    ask = {
        "requesterId": "fy-hancong",
        "holderId": "fy-market",
        "subject": "某商户登记信息",
        "purpose": "核实经营主体",
    }
    query_id = (await g.ok(TOWN_CLERK, ASK, input=ask))["id"]
    answer = {"queryId": query_id, "content": "登记信息……", "classification": "INTERNAL"}

    async def log() -> Any:
        return (await g.data(MARKET_CLERK, ACCESS_LOG, id=query_id))["informationAnswerAccessLog"]

    for who in (TOWN_CLERK, MARKET_REVIEWER, NATRES_CLERK, COORD):
        await g.refused(who, ANSWER, log, input=answer)
    await g.ok(MARKET_CLERK, ANSWER, input=answer)
    # Reading is logged; a third agency, the procuratorate and a bureau system are refused
    # before anything is logged.
    for who in (NATRES_CLERK, PROCURATORATE, MARKET_SYSTEM):
        await g.refused(who, READ_ANSWER, log, id=query_id)
    assert (await g.ok(TOWN_CLERK, READ_ANSWER, id=query_id))["content"] == "登记信息……"
    assert [e["readerAgencyId"] for e in await log()] == ["fy-hancong"]
    # The access log: the holder and the justice bureau; not the requester, not the
    # coordinator.
    assert (await g.data(JUSTICE, ACCESS_LOG, id=query_id))["informationAnswerAccessLog"]
    for who in (TOWN_CLERK, COORD):
        body = await g.run(who, ACCESS_LOG, id=query_id)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body


# -- meetings ------------------------------------------------------------------------------------

MTG_FIELDS = "id status rsvps { agencyId attending }"
SCHEDULE = (
    "mutation($input: ScheduleMeetingInput!) { m: scheduleMeeting(input: $input) { "
    + err(f"... on Meeting {{ {MTG_FIELDS} }}")
    + " } }"
)
RSVP = (
    'mutation($id: ID!) { m: rsvpMeeting(meetingId: $id, attending: true, delegate: "张三") { '
    + err(f"... on Meeting {{ {MTG_FIELDS} }}")
    + " } }"
)
MEETING = f"query($id: ID!) {{ meeting(id: $id) {{ {MTG_FIELDS} }} }}"


def meeting_input(starts: datetime) -> dict[str, Any]:
    """A special meeting fy-coord convenes with the market and natural-resources bureaus."""
    return {
        "kind": "SPECIAL",
        "title": "市场与自然资源执法协调会",
        "convenerId": "fy-coord",
        "startsAt": starts.isoformat(),
        "place": "市政府三楼会议室",
        "attendeeIds": ["fy-market", "fy-natres"],
        "agenda": ["违法占地案件分工"],
    }


MEETINGS = "query($of: ID) { meetings(agencyId: $of) { edges { node { id } } } }"


async def test_R_MTG_01_convener_schedules_invitees_answer_reads_for_parties(
    graph: Graph,
) -> None:
    g = graph
    meeting = meeting_input((datetime.now(UTC) + timedelta(days=40)).replace(microsecond=0))

    async def coord_meetings() -> Any:
        return ids((await g.data(COORD, MEETINGS))["meetings"])

    # In another agency's name (market convening as fy-coord), a supervisor role without a
    # convening rule, the procuratorate: refused.
    for who in (MARKET_CLERK, JUSTICE, GOV, PROCURATORATE):
        await g.refused(who, SCHEDULE, coord_meetings, input=meeting)
    meeting_id = (await g.ok(COORD, SCHEDULE, input=meeting))["id"]

    async def probe() -> Any:
        return (await g.data(COORD, MEETING, id=meeting_id))["meeting"]

    for who in (HOUSING_CLERK, MARKET_REVIEWER, PROCURATORATE):
        await g.refused(who, RSVP, probe, id=meeting_id)
    answered = await g.ok(MARKET_CLERK, RSVP, id=meeting_id)
    assert [(r["agencyId"], r["attending"]) for r in answered["rsvps"]] == [("fy-market", True)]
    for who in (NATRES_CLERK, MARKET_REVIEWER, GOV, JUSTICE):
        assert (await g.data(who, MEETING, id=meeting_id))["meeting"]["id"] == meeting_id
    for who in (HOUSING_CLERK, PROCURATORATE):
        body = await g.run(who, MEETING, id=meeting_id)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body


# -- joint enforcement ---------------------------------------------------------------------------

JNT_FIELDS = "id status leadId"
INITIATE = (
    "mutation($input: InitiateJointOperationInput!) { m: initiateJointOperation(input: $input)"
    " { " + err(f"... on JointOperation {{ {JNT_FIELDS} }}") + " } }"
)
START = (
    "mutation($id: ID!) { m: startJointOperation(operationId: $id) { "
    + err(f"... on JointOperation {{ {JNT_FIELDS} }}")
    + " } }"
)
JOINT = f"query($id: ID!) {{ jointOperation(id: $id) {{ {JNT_FIELDS} }} }}"
JOINTS = "query($of: ID) { jointOperations(agencyId: $of) { edges { node { id } } } }"


async def test_R_JNT_01_initiators_and_the_lead_act_others_read_nothing(graph: Graph) -> None:
    g = graph
    operation = {
        "title": "违法占地联合整治",
        "basis": "HIGHER_AUTHORITY",
        "basisReference": "黑自然资发〔2026〕5号",
        "leadId": "fy-natres",
        "cooperatingIds": ["fy-market", "fy-hancong"],
    }

    async def all_operations() -> Any:
        return ids((await g.data(GOV, JOINTS))["jointOperations"])

    for who in (NATRES_CLERK, JUSTICE, PROCURATORATE, MARKET_SYSTEM):
        await g.refused(who, INITIATE, all_operations, input=operation)
    op_id = (await g.ok(NATRES_LEADER, INITIATE, input=operation))["id"]

    async def probe() -> Any:
        return (await g.data(GOV, JOINT, id=op_id))["jointOperation"]

    # Starting is the lead's leader's: not its clerk, not a cooperating agency's leader, not
    # the government (it oversees, it does not lead).
    for who in (NATRES_CLERK, MARKET_LEADER, GOV):
        await g.refused(who, START, probe, id=op_id)
    for who in (NATRES_CLERK, MARKET_REVIEWER, TOWN_CLERK, GOV, COORD, JUSTICE):
        assert (await g.data(who, JOINT, id=op_id))["jointOperation"]["id"] == op_id, who
        assert op_id in ids((await g.data(who, JOINTS))["jointOperations"]), who
    for who in (HOUSING_CLERK, PROCURATORATE, MARKET_SYSTEM):
        assert (await g.data(who, JOINT, id=op_id))["jointOperation"] is None, who
        for of in (None, "fy-natres"):
            assert op_id not in ids((await g.data(who, JOINTS, of=of))["jointOperations"]), who


def test_every_coordination_operation_is_enforced() -> None:
    """Coordination decides through its own matrix, and each of its operations has a rule."""
    from coordination.application import access
    from coordination.application.matrix import MATRIX

    assert access.MATRIX is MATRIX
    for op in operations("coordination"):
        rules = rules_for(op)
        assert rules and all(r.service == "coordination" for r in rules), op


# -- issue 16: authorization before validation -------------------------------------------------


async def test_issue_16_outsiders_get_forbidden_even_with_invalid_input(graph: Graph) -> None:
    """Issue 16: every mutation authorizes before it validates its input, so an agency that
    may not act learns nothing from validation messages (which agencies exist, which limits
    apply). Each call below is invalid *and* by someone without the right: FORBIDDEN, and
    nothing changes. R-TEC-01 (extend), R-MTG-01 (schedule), R-INF-01 (ask)."""
    g = graph
    request_id, tec_probe = await technical_request(g, "寒政协〔2026〕3号")

    zero_days = (
        "mutation($id: ID!) { m: extendTechnicalSupport(requestId: $id, workingDays: 0,"
        ' reason: "需送检") { ' + err(f"... on TechnicalSupportRequest {{ {TEC_FIELDS} }}") + " } }"
    )
    for who in (MARKET_LEADER, TOWN_CLERK, PROCURATORATE):
        await g.refused(who, zero_days, tec_probe, id=request_id)

    async def coord_meetings() -> Any:
        return ids((await g.data(COORD, MEETINGS))["meetings"])

    naive = {
        "kind": "SPECIAL",
        "title": "协调会",
        "convenerId": "fy-coord",
        "startsAt": "2099-01-05T09:00:00",  # no offset: invalid
        "place": "市政府三楼会议室",
        "attendeeIds": ["fy-market"],
        "agenda": ["分工"],
    }
    for who in (MARKET_CLERK, PROCURATORATE):
        await g.refused(who, SCHEDULE, coord_meetings, input=naive)

    async def queries() -> Any:
        return (await g.data(COORD, "{ informationQueries { edges { node { id } } } }"))[
            "informationQueries"
        ]

    # Asking in another agency's name, naming an agency that does not exist.
    for requester, holder in (("fy-hancong", "fy-nowhere"), ("fy-nowhere", "fy-market")):
        ask = {"requesterId": requester, "holderId": holder, "subject": "某", "purpose": "核实"}
        await g.refused(OTHER_TOWN_CLERK, ASK, queries, input=ask)


async def test_issue_16_R_CAT_01_an_outsider_defining_an_invalid_entry_is_refused(
    graph: Graph,
) -> None:
    """Issue 16: ``defineCatalogueEntry`` validated the content (empty name, unknown agency)
    before authorizing, so another agency learned what was valid; now FORBIDDEN first."""
    g = graph
    define = (
        "mutation($input: DefineCatalogueEntryInput!) { m: defineCatalogueEntry(input: $input)"
        " { " + err("... on CatalogueEntry { code }") + " } }"
    )

    async def entry() -> Any:
        return (await g.data(COORD, ENTRY, code="FY-SCJG-001"))["catalogueEntry"]

    for owner in ("fy-market", "fy-nowhere"):
        bad = {"code": "FY-SCJG-001", "name": " ", "originalDepartmentId": owner, "legalBasis": ""}
        for who in (NATRES_LEADER, TOWN_CLERK, PROCURATORATE):
            await g.refused(who, define, entry, input=bad)
