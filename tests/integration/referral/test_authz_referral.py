"""The authorization matrix (docs/authorization.md, ``kernel.authz``) enforced by the referral
subgraph, through its real GraphQL schema and file routes (the service app on the embedded
store): per operation, per field (material contents), per relation and role; the
procuratorate reads crime transfers and changes nothing; refusals change nothing."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from kernel.settings import Settings
from kernel.wiring import build_deps
from liandong.authorization import operations, rules_for
from liandong.cli import mint_token
from referral.bootstrap import ReferralService, bootstrap
from referral.domain.model import AgencyRef

from .test_referral_service import FOUND, MATTER, START, Clock, seed_directory

DISTRICT = "fuyuan"


@dataclass(frozen=True)
class Who:
    agency: str
    roles: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"{self.agency}:{'+'.join(self.roles)}"


MARKET_CLERK = Who("fy-market", ("clerk",))
MARKET_LEADER = Who("fy-market", ("leader",))
MARKET_REVIEWER = Who("fy-market", ("legal_reviewer",))
TOWN_CLERK = Who("fy-hancong", ("clerk",))
TOWN_LEADER = Who("fy-hancong", ("leader",))
OUTSIDER = Who("fy-nongqiao", ("clerk",))
OUTSIDE_LEADER = Who("fy-nongqiao", ("leader",))
POLICE = Who("fy-police", ("clerk",))
GOV = Who("fy-gov", ("government",))
COORD = Who("fy-gov", ("coordinator",))
JUSTICE = Who("fy-justice", ("supervisor",))
PROCURATORATE = Who("fy-procuratorate", ("judicial_observer",))
BUREAU = Who("fy-market", ("bureau_system",))


class Graph:
    """The referral service app with a GraphQL client that mints a token per caller."""

    def __init__(self, service: ReferralService, settings: Settings) -> None:
        self.service = service
        self.settings = settings
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=service.create_app(manage_lifecycle=False)),
            base_url="http://referral",
        )

    def headers(self, who: Who) -> dict[str, str]:
        token = mint_token(self.settings, who.agency, list(who.roles), person=who.label)
        return {"Authorization": f"Bearer {token}"}

    async def run(self, who: Who, query: str) -> dict[str, Any]:
        return await self.run_vars(who, query)

    async def run_vars(self, who: Who, query: str, **variables: Any) -> dict[str, Any]:
        got = await self.http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers=self.headers(who),
        )
        body: dict[str, Any] = got.json()
        return body

    async def mutate(self, who: Who, call: str) -> dict[str, Any]:
        body = await self.run(who, f"mutation {{ m: {call} {{ {selection(call)} }} }}")
        assert "errors" not in body, body
        result: dict[str, Any] = body["data"]["m"]
        return result

    async def ok(self, who: Who, call: str) -> dict[str, Any]:
        result = await self.mutate(who, call)
        assert result["__typename"] != "UserError", (who.label, call, result)
        return result

    async def referral(self, who: Who, rid: str) -> dict[str, Any] | None:
        body = await self.run(
            who,
            f'{{ referral(id: "{rid}") {{ id route transferLetterUrl '
            "materials { kind hasContent downloadUrl } } }",
        )
        assert "errors" not in body, body
        found: dict[str, Any] | None = body["data"]["referral"]
        return found

    async def version(self, rid: str) -> int:
        model = await self.service.referrals.get(rid)
        assert model is not None
        return model.version


# The success type of each mutation's result union (the rest return ReferralResult).
SUCCESS = {
    "registerComplaint": "Complaint { id status }",
    "answerComplaint": "Complaint { id status }",
    "openCaseFromComplaint": "Complaint { id status }",
    "requestComplaintHandover": "Complaint { id status }",
    "answerComplaintHandover": "Complaint { id status }",
    "tellComplainantResult": "Complaint { id status }",
    "setElectronicTransferConsent": "ElectronicConsent { consented }",
    "transferReferralsAtDelegation": "DelegationTransferReport { moved }",
}


def selection(call: str) -> str:
    success = SUCCESS.get(call.split("(", 1)[0], "Referral { id status }")
    return f"__typename ... on {success} ... on UserError {{ code field message }}"


def draft_input(receiver: str = "fy-hancong", sender: str = "fy-market") -> str:
    return (
        f'{{senderId: "{sender}", receiverId: "{receiver}", matterCode: "{MATTER}", '
        'title: "无证经营", facts: "检查发现当事人未取得营业执照从事食品经营活动。", '
        f'party: "某某食杂店", place: "寒葱沟镇中心街12号", foundAt: "{FOUND.isoformat()}"}}'
    )


SOURCE = (
    '{kind: "source", name: "现场检查记录.jpg", mediaType: "image/jpeg", size: 1200, '
    f'sha256: "{"a" * 64}"}}'
)


@pytest.fixture
async def graph(tmp_path: Path, unique_name: str) -> AsyncIterator[Graph]:
    settings = Settings(
        data_dir=tmp_path, instance=unique_name, store="embedded", bus="memory", district=DISTRICT
    )
    # The clock pinned to the Monday after the case was found (FOUND), as in the handler
    # tests: every date these tests send is relative to it, never to today's date.
    deps = await build_deps(settings, "referral")
    service = bootstrap(dataclasses.replace(deps, clock=Clock(START)))
    await service.runtime.start()
    agencies = service.handlers.ports.agencies
    # The same agencies and catalogue as the handler-level tests (the matter is delegated to
    # 寒葱沟镇), and the procuratorate.
    await seed_directory(agencies, service.handlers.ports.catalogue)
    await agencies.put(AgencyRef("fy-procuratorate", "抚远市人民检察院", "procuratorate", False), 1)
    g = Graph(service, settings)
    yield g
    await g.http.aclose()
    await service.runtime.stop()


async def drafted(g: Graph, receiver: str = "fy-hancong") -> str:
    r = await g.ok(MARKET_CLERK, f"draftReferral(input: {draft_input(receiver)})")
    rid = str(r["id"])
    await g.ok(MARKET_CLERK, f'generateTransferLetter(id: "{rid}")')
    # R-REF-02: a source material is a file, uploaded on the service's own route.
    up = await g.http.post(
        f"/referrals/{rid}/materials",
        headers=g.headers(MARKET_CLERK),
        files={"file": ("现场检查记录.jpg", b"\xff\xd8\xff\xe0 photo", "image/jpeg")},
        data={"kind": "source"},
    )
    assert up.status_code == 201, up.text
    return rid


async def sent(g: Graph, receiver: str = "fy-hancong") -> str:
    rid = await drafted(g, receiver)
    await g.ok(MARKET_CLERK, f'submitReferral(id: "{rid}")')
    await g.ok(MARKET_LEADER, f'approveReferral(id: "{rid}")')
    await g.ok(MARKET_CLERK, f'sendReferral(id: "{rid}")')
    return rid


async def refused(g: Graph, who: Who, call: str, rid: str | None = None) -> None:
    """The call answers FORBIDDEN and, when ``rid`` is given, leaves the referral as it was."""
    before = await g.version(rid) if rid else None
    result = await g.mutate(who, call)
    assert result["__typename"] == "UserError", (who.label, call, result)
    assert result["code"] == "FORBIDDEN", (who.label, call, result)
    if rid:
        assert await g.version(rid) == before, f"{call} by {who.label} changed the referral"


# -- reads and per-field visibility ---------------------------------------------------------

READERS = [
    (MARKET_CLERK, True, True, "sender staff"),
    (MARKET_REVIEWER, True, True, "sender's legal reviewer reads"),
    (TOWN_CLERK, True, True, "receiver staff"),
    (GOV, True, True, "government supervises"),
    (JUSTICE, True, True, "justice bureau supervises"),
    (COORD, True, False, "coordinator reads the record, not the material contents"),
    (OUTSIDER, False, False, "an uninvolved agency sees nothing"),
    (PROCURATORATE, False, False, "procuratorate: not a crime transfer"),
    (BUREAU, False, False, "a bureau system reads no cases"),
]


@pytest.mark.parametrize(("who", "sees", "contents", "why"), READERS, ids=[r[3] for r in READERS])
async def test_referral_read_and_material_content_follow_the_matrix(
    graph: Graph, who: Who, sees: bool, contents: bool, why: str
) -> None:
    """Rules ``referral`` and ``Referral.materialContent``: who reads the record, and who gets
    the download URLs and the letter (null for the others, and 403 on the file routes)."""
    rid = await sent(graph)
    found = await graph.referral(who, rid)
    assert (found is not None) == sees, why
    if found is not None:
        letter = found["transferLetterUrl"]
        assert (letter is not None) == contents, (why, found)
        stored = [m for m in found["materials"] if m["hasContent"]]
        assert stored and all((m["downloadUrl"] is not None) == contents for m in stored), found
    got = await graph.http.get(f"/referrals/{rid}/letter.pdf", headers=graph.headers(who))
    assert got.status_code == (200 if contents else 403), (why, got.text)
    if not contents:
        assert got.json()["error"]["code"] == "FORBIDDEN"


async def test_procuratorate_reads_crime_transfers_without_material_contents(graph: Graph) -> None:
    """两法衔接: the judicial observer sees suspected-crime transfers (and only those, also in
    the list), not the material contents, and every mutation refuses it."""
    crime = await drafted(graph, receiver="fy-police")
    ordinary = await drafted(graph)
    found = await graph.referral(PROCURATORATE, crime)
    assert found is not None and found["route"] == "crime"
    assert found["transferLetterUrl"] is None
    assert all(m["downloadUrl"] is None for m in found["materials"])
    assert await graph.referral(PROCURATORATE, ordinary) is None
    listed = await graph.run(PROCURATORATE, "{ referrals { edges { node { id route } } } }")
    assert [e["node"]["id"] for e in listed["data"]["referrals"]["edges"]] == [crime]
    assert (await graph.referral(POLICE, crime)) is not None  # the receiver of a crime case


# Every referral mutation with arguments that are valid apart from who calls.
def mutation_calls(rid: str) -> dict[str, str]:
    return {
        "draftReferral": f"draftReferral(input: {draft_input()})",
        "addReferralMaterial": f'addReferralMaterial(id: "{rid}", input: {SOURCE})',
        "generateTransferLetter": f'generateTransferLetter(id: "{rid}")',
        "removeReferralMaterial": f'removeReferralMaterial(id: "{rid}", materialId: "m")',
        "extendReferralSendDeadline": f'extendReferralSendDeadline(id: "{rid}", workingDays: 2, '
        'reason: "现场复杂", notifyReceiver: true)',
        "submitReferral": f'submitReferral(id: "{rid}")',
        "completeReferralDraft": f'completeReferralDraft(id: "{rid}", matterCode: "{MATTER}")',
        "approveReferral": f'approveReferral(id: "{rid}")',
        "sendReferral": f'sendReferral(id: "{rid}")',
        "withdrawReferral": f'withdrawReferral(id: "{rid}", reason: "误送")',
        "acceptReferral": f'acceptReferral(id: "{rid}", statement: "受理")',
        "declineReferral": f'declineReferral(id: "{rid}", reasons: "非本机关职责", '
        'catalogueBasis: "事项清单", interimHandlerId: "fy-market")',
        "forwardReferral": f'forwardReferral(id: "{rid}", toAgencyId: "fy-market", '
        'reasons: "不属本机关")',
        "answerSupervision": f'answerSupervision(id: "{rid}", answer: "已答复")',
        "recordReferralPenalty": f'recordReferralPenalty(id: "{rid}", decisionNumber: "抚罚1号")',
        "markReferralHandled": f'markReferralHandled(id: "{rid}", summary: "已处理")',
        "reportReferralResult": f'reportReferralResult(id: "{rid}", result: "罚款")',
        "closeReferral": f'closeReferral(id: "{rid}")',
        "superviseReferral": f'superviseReferral(id: "{rid}", note: "三日内受理")',
        "consentToUpwardReferral": f'consentToUpwardReferral(id: "{rid}", note: "同意")',
        "recordReferralJusticeFiling": f'recordReferralJusticeFiling(id: "{rid}", '
        'filingNumber: "备1号")',
        "transferReferralToPolice": f'transferReferralToPolice(id: "{rid}", '
        'policeId: "fy-police", reason: "涉嫌犯罪")',
        "recordPoliceDecision": f'recordPoliceDecision(id: "{rid}", filed: true, note: "立案")',
        "reportSuspectedCrime": f'reportSuspectedCrime(id: "{rid}", policeId: "fy-police", '
        'reason: "涉嫌犯罪")',
        "decideCrimeTransfer": f'decideCrimeTransfer(id: "{rid}", approve: true)',
        "requestCrimeReconsideration": f'requestCrimeReconsideration(id: "{rid}", '
        'reason: "应立案")',
        "answerCrimeReconsideration": f'answerCrimeReconsideration(id: "{rid}", filed: true, '
        'note: "立案")',
        "requestProcuratorateSupervision": f'requestProcuratorateSupervision(id: "{rid}", '
        'procuratorateId: "fy-procuratorate", reason: "应立案")',
        "reopenCaseAfterNotFiled": f'reopenCaseAfterNotFiled(id: "{rid}", note: "依法处罚")',
        "recordCrimeMaterialsHandover": f'recordCrimeMaterialsHandover(id: "{rid}", note: "清单")',
        "recordCrimeFinePaid": f'recordCrimeFinePaid(id: "{rid}", decisionNumber: "抚罚1号", '
        'amountYuan: 100, paidAt: "2026-01-05T10:00:00+08:00")',
        "setElectronicTransferConsent": 'setElectronicTransferConsent(senderId: "fy-market", '
        "consented: true)",
        "transferReferralsAtDelegation": "transferReferralsAtDelegation(departmentId: "
        f'"fy-market", matterCode: "{MATTER}", townshipId: "fy-hancong", basis: "赋权决定")',
        "registerComplaint": 'registerComplaint(input: {complainantName: "张三", '
        'complainantContact: "13800000000", content: "噪音扰民"})',
        "answerComplaint": 'answerComplaint(id: "c", answer: "无违法")',
        "openCaseFromComplaint": 'openCaseFromComplaint(id: "c", caseNumber: "案1")',
        "referComplaint": f'referComplaint(id: "c", input: {draft_input()})',
        "requestComplaintHandover": 'requestComplaintHandover(id: "c", toAgencyId: '
        '"fy-market", mode: "guide", reason: "非本机关职能")',
        "answerComplaintHandover": 'answerComplaintHandover(id: "c", consent: true)',
        "tellComplainantResult": 'tellComplainantResult(id: "c", result: "已处理")',
    }


def test_every_referral_mutation_of_the_matrix_has_a_call_here() -> None:
    mutations = [
        op.split(".", 1)[1]
        for op in operations("referral")
        if op.split(".", 1)[1]
        not in ("referral", "complaint", "Referral.materialContent", "referralStalls")
    ]
    assert sorted(mutation_calls("x")) == sorted(mutations)


async def test_procuratorate_changes_nothing(graph: Graph) -> None:
    """The judicial observer holds no mutation rule: each referral mutation answers FORBIDDEN
    and leaves the crime transfer it can read as it was."""
    crime = await drafted(graph, receiver="fy-police")
    complaint = await graph.ok(
        TOWN_CLERK,
        'registerComplaint(input: {complainantName: "张三", complainantContact: "138", '
        'content: "噪音扰民"})',
    )
    failures = []
    for op, call in mutation_calls(crime).items():
        call = call.replace('id: "c"', f'id: "{complaint["id"]}"')
        before = await graph.version(crime)
        result = await graph.mutate(PROCURATORATE, call)
        if result.get("code") != "FORBIDDEN" or await graph.version(crime) != before:
            failures.append((op, result))
    assert not failures, failures
    assert not any(
        "judicial_observer" in r.roles
        for op in operations("referral")
        if op.split(".", 1)[1] not in ("referral", "complaint", "Referral.materialContent")
        for r in rules_for(op)
    )


# -- role and relation rules of the mutations --------------------------------------------


async def test_sender_side_rules(graph: Graph) -> None:
    """draft / submit: acting staff of the sender only (not its legal reviewer, not another
    agency, not a bureau system); approve: the sender's leader only (R-REF-03)."""
    await refused(graph, OUTSIDER, f"draftReferral(input: {draft_input()})")
    await refused(graph, BUREAU, f"draftReferral(input: {draft_input()})")
    await refused(graph, GOV, f"draftReferral(input: {draft_input()})")
    rid = await drafted(graph)
    await refused(graph, TOWN_CLERK, f'addReferralMaterial(id: "{rid}", input: {SOURCE})', rid)
    await refused(graph, MARKET_REVIEWER, f'submitReferral(id: "{rid}")', rid)
    await graph.ok(MARKET_CLERK, f'submitReferral(id: "{rid}")')
    await refused(graph, MARKET_CLERK, f'approveReferral(id: "{rid}")', rid)
    await refused(graph, TOWN_LEADER, f'approveReferral(id: "{rid}")', rid)
    await refused(graph, GOV, f'approveReferral(id: "{rid}")', rid)
    await graph.ok(MARKET_LEADER, f'approveReferral(id: "{rid}")')
    await refused(graph, TOWN_CLERK, f'sendReferral(id: "{rid}")', rid)
    await graph.ok(MARKET_CLERK, f'sendReferral(id: "{rid}")')


async def test_receiver_side_and_supervision_rules(graph: Graph) -> None:
    """accept: the receiver's acting staff; decline: the receiver's leader (R-REF-07);
    督办: government or coordinator, not the justice bureau nor the parties (R-REF-13)."""
    rid = await sent(graph)
    note = f'superviseReferral(id: "{rid}", note: "三日内受理")'
    await refused(graph, MARKET_LEADER, note, rid)
    await refused(graph, JUSTICE, note, rid)
    await refused(graph, TOWN_LEADER, note, rid)
    await graph.ok(COORD, note)
    decline = (
        f'declineReferral(id: "{rid}", reasons: "非本机关职责", catalogueBasis: "事项清单", '
        'interimHandlerId: "fy-market")'
    )
    await refused(graph, TOWN_CLERK, decline, rid)
    await refused(graph, MARKET_LEADER, decline, rid)
    await refused(graph, MARKET_CLERK, f'acceptReferral(id: "{rid}", statement: "受理")', rid)
    await refused(graph, OUTSIDE_LEADER, f'acceptReferral(id: "{rid}", statement: "受理")', rid)
    await graph.ok(TOWN_CLERK, f'acceptReferral(id: "{rid}", statement: "受理")')
    police = f'transferReferralToPolice(id: "{rid}", policeId: "fy-police", reason: "涉嫌犯罪")'
    await refused(graph, TOWN_CLERK, police, rid)
    await graph.ok(TOWN_LEADER, police)
    decision = f'recordPoliceDecision(id: "{rid}", filed: true, note: "立案")'
    await refused(graph, OUTSIDER, decision, rid)
    await refused(graph, MARKET_CLERK, decision, rid)
    await graph.ok(POLICE, decision)


async def test_agency_wide_decisions_need_a_leader(graph: Graph) -> None:
    """R-REF-12 consent and R-REF-11 delegation: a leader of the agency concerned, or (for
    delegation) the government or coordinating body."""
    consent = 'setElectronicTransferConsent(senderId: "fy-market", consented: true)'
    await refused(graph, TOWN_CLERK, consent)
    await refused(graph, GOV, consent)
    assert (await graph.ok(TOWN_LEADER, consent))["consented"] is True
    move = (
        f'transferReferralsAtDelegation(departmentId: "fy-market", matterCode: "{MATTER}", '
        'townshipId: "fy-hancong", basis: "赋权决定")'
    )
    await refused(graph, MARKET_CLERK, move)
    await refused(graph, OUTSIDE_LEADER, move)
    await refused(graph, JUSTICE, move)
    await graph.ok(MARKET_LEADER, move)
    await graph.ok(GOV, move)


async def test_complaints_are_read_by_the_owner_and_supervisors_only(graph: Graph) -> None:
    """Complainant data: the owning agency, parties to a hand-over, and the supervising roles
    (not the procuratorate, not a bureau system, not an uninvolved agency)."""
    c = await graph.ok(
        TOWN_CLERK,
        'registerComplaint(input: {complainantName: "张三", complainantContact: "138", '
        'content: "噪音扰民"})',
    )
    query = f'{{ complaint(id: "{c["id"]}") {{ id complainantContact }} }}'
    for who, sees in (
        (TOWN_CLERK, True),
        (GOV, True),
        (JUSTICE, True),
        (OUTSIDER, False),
        (PROCURATORATE, False),
        (BUREAU, False),
    ):
        body = await graph.run(who, query)
        assert (body["data"]["complaint"] is not None) == sees, (who.label, body)
    await refused(graph, OUTSIDER, f'answerComplaint(id: "{c["id"]}", answer: "无违法")')
    listed = await graph.run(BUREAU, "{ complaints { edges { node { id } } } }")
    assert listed["errors"][0]["extensions"]["code"] == "FORBIDDEN"


REFERRAL_COMPLAINT = '{ referral(id: "%s") { id complaint { id complainantContact } } }'


async def test_complaint_behind_a_referral_is_read_by_its_readers_and_the_handling_receiver(
    graph: Graph,
) -> None:
    """R-CMP-04 and the matrix rule ``referral.complaint``: the complainant's data reaches the
    complaint's readers and the agency that handles the referral made from it (it tells the
    complainant the result); the police of a crime transfer and the procuratorate read the
    case, never the complainant (issue 16, finding 3)."""
    for receiver, readers, not_readers in (
        ("fy-hancong", (MARKET_CLERK, TOWN_CLERK, GOV), ()),
        ("fy-police", (MARKET_CLERK, JUSTICE), (POLICE, PROCURATORATE)),
    ):
        c = await graph.ok(
            MARKET_CLERK,
            'registerComplaint(input: {complainantName: "张三", complainantContact: '
            '"13800000000", content: "无照经营"})',
        )
        refer = f'referComplaint(id: "{c["id"]}", input: {draft_input(receiver)})'
        rid = (await graph.ok(MARKET_CLERK, refer))["id"]
        for who in readers:
            body = await graph.run(who, REFERRAL_COMPLAINT % rid)
            seen = body["data"]["referral"]["complaint"]
            assert seen is not None and seen["complainantContact"] == "13800000000", (who, body)
        for who in not_readers:
            body = await graph.run(who, REFERRAL_COMPLAINT % rid)
            assert body["data"]["referral"] is not None, (who.label, body)  # reads the case
            assert body["data"]["referral"]["complaint"] is None, (who.label, body)


async def test_referrals_filter_several_statuses_counted_and_loose_arguments_not_with_filter(
    graph: Graph,
) -> None:
    """Issue 18: ``filter.statuses`` matches any of several statuses; ``totalCount`` counts
    every page; a deprecated loose argument given together with the filter's same field is
    refused (before, the filter silently won). Read scoping unchanged (R-REF-01)."""
    g = graph
    draft = await drafted(g)
    out = await sent(g)

    async def listed(args: str) -> dict[str, Any]:
        answer = await g.run(
            MARKET_CLERK,
            f"{{ referrals({args}) {{ totalCount edges {{ node {{ id status }} }} }} }}",
        )
        assert "errors" not in answer, answer
        found: dict[str, Any] = answer["data"]["referrals"]
        return found

    both = await listed("filter: { statuses: [DRAFT, SENT] }, first: 1")
    assert both["totalCount"] == 2 and len(both["edges"]) == 1
    only_sent = await listed("filter: { statuses: [SENT, ACCEPTED] }")
    assert [e["node"]["id"] for e in only_sent["edges"]] == [out]
    assert only_sent["totalCount"] == 1
    # The loose argument alone still works (deprecated), and means the same as the filter's.
    loose = await listed("status: DRAFT")
    assert [e["node"]["id"] for e in loose["edges"]] == [draft]
    refused_both = await g.run(
        MARKET_CLERK, "{ referrals(status: DRAFT, filter: { status: SENT }) { totalCount } }"
    )
    error = refused_both["errors"][0]
    assert error["extensions"]["code"] == "VALIDATION_FAILED", error
    assert error["extensions"]["field"] == "status" and "filter" in error["message"]
    # Another township is no party to either: it counts none of them.
    other = await g.run(
        OUTSIDER, "{ referrals(filter: { statuses: [DRAFT, SENT] }) { totalCount } }"
    )
    assert other["data"]["referrals"]["totalCount"] == 0


ERROR = "code errorCode family message detail field errors { code message detail field }"


async def test_refusals_carry_a_registry_code_chinese_message_and_every_problem(
    graph: Graph,
) -> None:
    """Issue 18: ``UserError.code`` is the registry's enum, finer than its family; the
    message is Chinese with the English kept in ``detail``; a draft with several problems
    reports them all (R-REF-01 drafting, R-AG-02). Nothing was written."""
    g = graph
    bad = (
        draft_input()
        .replace('title: "无证经营"', 'title: " "')
        .replace('facts: "检查发现当事人未取得营业执照从事食品经营活动。"', 'facts: ""')
    )
    answer = await g.run(
        MARKET_CLERK,
        f"mutation {{ draftReferral(input: {bad}) "
        f"{{ __typename ... on UserError {{ {ERROR} }} }} }}",
    )
    refused = answer["data"]["draftReferral"]
    assert refused["__typename"] == "UserError", answer
    assert refused["errorCode"] == "REQUIRED" and refused["family"] == "VALIDATION_FAILED"
    assert refused["code"] == "VALIDATION_FAILED"  # the deprecated string, as before
    assert refused["message"] == "标题不能为空" and refused["detail"] == "title must not be empty"
    assert [(p["code"], p["field"], p["message"]) for p in refused["errors"]] == [
        ("REQUIRED", "title", "标题不能为空"),
        ("REQUIRED", "facts", "案情不能为空"),
    ]
    listed = await g.run(MARKET_CLERK, "{ referrals { totalCount } }")
    assert listed["data"]["referrals"]["totalCount"] == 0  # nothing half-written

    # A step out of order: the status's finer code, its Chinese wording, the English detail.
    rid = await drafted(g)
    answer = await g.run(
        TOWN_CLERK,
        f'mutation {{ acceptReferral(id: "{rid}", statement: "受理") '
        f"{{ ... on UserError {{ {ERROR} }} }} }}",
    )
    assert answer.get("data"), answer
    wrong = answer["data"]["acceptReferral"]
    assert wrong["errorCode"] == "WRONG_STATUS" and wrong["family"] == "INVALID_STATE", wrong
    assert wrong["message"].startswith("当前环节不能办理此事项（cannot accept")
    assert wrong["detail"].startswith("cannot accept") and wrong["field"] == "status"
    assert len(wrong["errors"]) == 1


CAN = """query($id: ID!) { referral(id: $id) { status availableActions
  viewerCan { action allowed refusal { errorCode family field } } } }"""


async def test_R_REF_02_R_REF_03_viewer_can_is_what_the_mutations_answer_at_the_boundary(
    graph: Graph,
) -> None:
    """Issue 18: ``viewerCan`` / ``availableActions`` run each mutation as a dry run through
    its own handler: an action is offered exactly when the mutation would succeed, with the
    refusal it would answer otherwise; nothing is written. Boundaries: submit just refused
    without a source material (R-REF-02) and just allowed with one; approve refused to a
    clerk (matrix, R-REF-03) and allowed to the leader only once submitted (state)."""
    g = graph

    async def can(who: Who, rid: str) -> dict[str, Any]:
        answer = await g.run_vars(who, CAN, id=rid)
        assert "errors" not in answer, answer
        found: dict[str, Any] = answer["data"]["referral"]
        return found

    def refusal(view: dict[str, Any], action: str) -> dict[str, Any] | None:
        row = next(v for v in view["viewerCan"] if v["action"] == action)
        assert row["allowed"] is (row["refusal"] is None), row
        found: dict[str, Any] | None = row["refusal"]
        return found

    r = await g.ok(MARKET_CLERK, f"draftReferral(input: {draft_input()})")
    rid = str(r["id"])
    await g.ok(MARKET_CLERK, f'generateTransferLetter(id: "{rid}")')
    before = await can(MARKET_CLERK, rid)
    # Just refused: the letter but no source material; the mutation answers the same.
    assert refusal(before, "submitReferral") == {
        "errorCode": "REQUIRED",
        "family": "VALIDATION_FAILED",
        "field": "materials",
    }
    assert "submitReferral" not in before["availableActions"]
    submitted = await g.run(
        MARKET_CLERK,
        f'mutation {{ submitReferral(id: "{rid}") {{ ... on UserError {{ errorCode field }} }} }}',
    )
    assert submitted["data"]["submitReferral"] == {"errorCode": "REQUIRED", "field": "materials"}
    up = await g.http.post(
        f"/referrals/{rid}/materials",
        headers=g.headers(MARKET_CLERK),
        files={"file": ("现场检查记录.jpg", b"\xff\xd8\xff\xe0 photo", "image/jpeg")},
        data={"kind": "source"},
    )
    assert up.status_code == 201, up.text
    # Just allowed once the source is there; the receiver's acts are not the sender's.
    ready = await can(MARKET_CLERK, rid)
    assert ready["availableActions"] == ["submitReferral", "withdrawReferral"], ready
    assert refusal(ready, "approveReferral")["errorCode"] == "FORBIDDEN"  # a clerk (R-REF-03)
    assert refusal(ready, "acceptReferral")["errorCode"] == "FORBIDDEN"  # not the receiver
    leader = await can(MARKET_LEADER, rid)
    assert refusal(leader, "approveReferral") == {
        "errorCode": "WRONG_STATUS",
        "family": "INVALID_STATE",
        "field": "status",
    }
    # Asking changed nothing: still a draft, and the real submit still works.
    assert ready["status"] == "DRAFT"
    await g.ok(MARKET_CLERK, f'submitReferral(id: "{rid}")')
    leader = await can(MARKET_LEADER, rid)
    assert "approveReferral" in leader["availableActions"]
    assert refusal(leader, "submitReferral")["errorCode"] == "WRONG_STATUS"
    town = await can(TOWN_CLERK, rid)
    assert town["availableActions"] == [] and town["status"] == "PENDING_APPROVAL"


async def test_issue_16_an_outsider_with_invalid_penalty_kinds_is_refused_not_corrected(
    graph: Graph,
) -> None:
    """Issue 16: authorization comes before validation, so an agency that may not record the
    receiver's penalty (R-CAT-03) learns nothing from the validation message — it gets
    FORBIDDEN for a penalty kind the law does not know, and the referral stays as it was."""
    rid = await sent(graph)
    bad = f'recordReferralPenalty(id: "{rid}", decisionNumber: "抚罚1号", kinds: ["鞭刑"])'
    for who in (OUTSIDER, MARKET_CLERK, BUREAU, PROCURATORATE):
        await refused(graph, who, bad, rid)
