"""Red team (issue 16): insiders with valid tokens try, through the real gateway, every
mutation of the composed schema against another agency's work, and the reads they should not
have; the test reports every attempt and its answer and asserts that none succeeded.

The insiders (docs/security.md, threat model):
- a clerk — and leader — of another agency (五林镇 fy-wusu: a township with no part in the
  victims' cases);
- a bureau's system (公安局 fy-police, role ``bureau_system``);
- the procuratorate (检察院 fy-procuratorate, role ``judicial_observer``: reads suspected-crime
  transfers, acts on nothing).

The victims are 市场监督管理局 (fy-market) and 寒葱沟镇 (fy-hancong): a referral sent between
them, a dispute between them and a meeting the market convened. Every mutation is walked from
the gateway's introspection (the composed supergraph, not a hand-kept list): its arguments are
filled with the victims' ids — agency fields name the market, id arguments name the victims'
referral, dispute or meeting — so each attempt acts in a victim's name or on a victim's case.
An answer is a success when the mutation returns its object (not a UserError, not null, no
error); a refusal is recorded with its code. Mutations an insider may do in its own right (a
bureau system registers its own webhook) are listed apart with the reason, never silently.
The authorization matrix (each service's ``application/matrix.py``, docs/authorization.md)
says who may do what; this test checks that the running system agrees for these insiders.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    build_client_schema,
    get_introspection_query,
    get_named_type,
)

from liandong.testing.drafts import draft_input
from tests.e2e.scenario import STEP, Gateway, eventually
from tests.e2e.stalls import assert_no_stalls

VICTIM = "fy-market"
VICTIM_TOWNSHIP = "fy-hancong"

INSIDERS: dict[str, tuple[str, list[str]]] = {
    "clerk of another agency": ("fy-wusu", ["clerk", "leader"]),
    "bureau system": ("fy-police", ["bureau_system"]),
    "procuratorate": ("fy-procuratorate", ["judicial_observer"]),
}

# What an insider may do in its own right, whatever the victims: (insider, mutation) → why.
OWN_RIGHT: dict[tuple[str, str], str] = {
    ("bureau system", "registerWebhook"): "a bureau system registers its own agency's webhook",
    ("clerk of another agency", "registerComplaint"): "first contact (首问责任制, R-CMP-01): "
    "any agency registers a complaint it receives, as its own",
    ("clerk of another agency", "setElectronicTransferConsent"): "the caller's agency's own "
    "consent to receive electronically from a sender",
    ("clerk of another agency", "reportProblem"): "any agency's staff reports a problem it "
    "found to the township's platform (R-GRD-01: patrols and other agencies report too)",
    ("clerk of another agency", "rateDepartment"): "a township's leader rates any department "
    "(反向考评, R-SUP-03), in its own name",
}

# Codes that mean "refused because of who you are or what you may see".
AUTHZ_CODES = {"FORBIDDEN", "NOT_FOUND", "UNAUTHENTICATED", "WRONG_DISTRICT"}

# Argument names holding an agency id; everything else called *Id names a case.
AGENCY_FIELDS = {
    "agencyId",
    "senderId",
    "receiverId",
    "townshipId",
    "convenerId",
    "departmentId",
    "helperId",
    "holderId",
    "requesterId",
    "ownerAgencyId",
    "policeId",
    "withAgencyId",
    "responsibleAgencyId",
    "interimHandlerId",
    "leadAgencyId",
    "mediatorAgencyId",
    "toAgencyId",
    "fromAgencyId",
    "targetAgencyId",
    "platformId",
    "teamId",
}


@dataclass
class Victims:
    referral: str
    dispute: str
    meeting: str

    def id_for(self, operation: str, argument: str) -> str:
        name = (argument + " " + operation).lower()
        if "referral" in name:
            return self.referral
        if "dispute" in name or "agreement" in name:
            return self.dispute
        if "meeting" in name or "minutes" in name:
            return self.meeting
        # An id of a kind the victims have none of: it must not be found for the insider.
        return "red-team-unknown-id"


@dataclass
class Report:
    rows: list[tuple[str, str, str]] = field(default_factory=list)  # insider, operation, answer

    def add(self, insider: str, operation: str, answer: str) -> None:
        self.rows.append((insider, operation, answer))

    def successes(self) -> list[tuple[str, str, str]]:
        return [r for r in self.rows if r[2].startswith("SUCCESS")]

    def summary(self) -> str:
        lines = []
        for insider in INSIDERS:
            mine = [r for r in self.rows if r[0] == insider]
            kinds = Counter(r[2].split(":")[0] for r in mine)
            lines.append(f"{insider}: {len(mine)} attempts, " + ", ".join(
                f"{k} {n}" for k, n in sorted(kinds.items())
            ))  # fmt: skip
        return "\n".join(lines)


# -- filling arguments from the schema ----------------------------------------------------


def _value(
    t: GraphQLInputType, name: str, operation: str, victims: Victims, gw: Gateway, depth: int = 0
) -> Any:
    if isinstance(t, GraphQLNonNull):
        return _value(t.of_type, name, operation, victims, gw, depth)
    if isinstance(t, GraphQLList):
        inner = _value(
            t.of_type, name[:-1] if name.endswith("s") else name, operation, victims, gw, depth
        )
        if name.endswith("Ids") and inner == VICTIM:
            return [VICTIM, VICTIM_TOWNSHIP]
        return [inner]
    if isinstance(t, GraphQLEnumType):
        return next(iter(t.values))
    if isinstance(t, GraphQLInputObjectType):
        out: dict[str, Any] = {}
        for fname, f in t.fields.items():
            wanted = (
                isinstance(f.type, GraphQLNonNull)
                or fname in AGENCY_FIELDS
                or (fname.endswith("Id") and depth < 2)
            )
            if wanted and depth < 4:
                out[fname] = _value(f.type, fname, operation, victims, gw, depth + 1)
        return out
    assert isinstance(t, GraphQLScalarType)
    if t.name == "ID" or name.endswith("Id") or name == "id":
        if name in AGENCY_FIELDS or name.endswith("AgencyId"):
            return VICTIM
        return victims.id_for(operation, name)
    if t.name == "Int":
        return 1
    if t.name == "Float":
        return 1.0
    if t.name == "Boolean":
        return True
    if t.name == "DateTime":
        return (gw.now() + timedelta(days=10)).isoformat()
    if t.name == "Date":
        return (gw.now() + timedelta(days=10)).date().isoformat()
    if t.name in ("JSON", "JSONObject"):
        return {}
    if name.endswith("Id"):
        return VICTIM if name in AGENCY_FIELDS else victims.id_for(operation, name)
    if name == "sha256":
        return "0" * 63 + "1"
    if name == "url":
        return "https://red-team.example/hook"
    return "红队测试"


def _type_ref(t: GraphQLInputType) -> str:
    if isinstance(t, GraphQLNonNull):
        return _type_ref(t.of_type) + "!"
    if isinstance(t, GraphQLList):
        return "[" + _type_ref(t.of_type) + "]"
    return t.name


def _selection(t: GraphQLOutputType) -> str:
    named = get_named_type(t)
    if isinstance(named, GraphQLUnionType):
        parts = ["__typename"]
        if any(m.name == "UserError" for m in named.types):
            parts.append("... on UserError { code field }")
        return " { " + " ".join(parts) + " }"
    if isinstance(named, GraphQLObjectType):
        return " { __typename }"
    return ""


def mutation_document(
    name: str, f: GraphQLField, victims: Victims, gw: Gateway
) -> tuple[str, dict[str, Any]]:
    variables = {a: _value(arg.type, a, name, victims, gw) for a, arg in f.args.items()}
    header = ", ".join(f"${a}: {_type_ref(arg.type)}" for a, arg in f.args.items())
    call = ", ".join(f"{a}: ${a}" for a in f.args)
    head = f"mutation RedTeam({header})" if header else "mutation RedTeam"
    body = f"{head} {{ m: {name}{f'({call})' if call else ''}{_selection(f.type)} }}"
    return body, variables


def classify(body: dict[str, Any]) -> str:
    errors = body.get("errors") or []
    data = (body.get("data") or {}).get("m")
    if errors:
        codes = sorted({str((e.get("extensions") or {}).get("code")) for e in errors})
        kind = "refused" if set(codes) & AUTHZ_CODES else "error"
        return f"{kind}: {','.join(codes)} {errors[0].get('message', '')[:80]}"
    if isinstance(data, dict) and data.get("__typename") == "UserError":
        code = data.get("code")
        kind = "refused" if code in AUTHZ_CODES else "rejected"
        return f"{kind}: {code} ({data.get('field')})"
    if data is None or data is False:
        return "refused: null"
    return f"SUCCESS: {json.dumps(data, ensure_ascii=False)[:120]}"


# -- the victims' cases -----------------------------------------------------------------------

DISPUTE = """mutation($input: OpenDisputeInput!) { r: openDispute(input: $input) {
  __typename ... on Dispute { id } ... on UserError { code message } } }"""
MEETING = """mutation($input: ScheduleMeetingInput!) { r: scheduleMeeting(input: $input) {
  __typename ... on Meeting { id } ... on UserError { code message } } }"""
DRAFT = """mutation($input: DraftReferralInput!) { r: draftReferral(input: $input) {
  __typename ... on Referral { id } ... on UserError { code message } } }"""


async def victims_cases(gw: Gateway) -> Victims:
    clerk = gw.mint(VICTIM, ["clerk"])
    leader = gw.mint(VICTIM, ["leader"])

    async def drafted() -> str | None:
        body = await gw.query(
            clerk,
            DRAFT,
            {"input": draft_input(VICTIM, VICTIM_TOWNSHIP, "红队受害案件", now=gw.now)},
        )
        r = body["data"]["r"]
        return r["id"] if r["__typename"] == "Referral" else None

    referral = await eventually(drafted, what="the agency register in referral")
    # R-REF-02: the letter generated by the service, a source material uploaded as a file.
    body = await gw.query(clerk, STEP % "generateTransferLetter", {"id": referral})
    assert body["data"]["generateTransferLetter"]["__typename"] == "Referral", body
    await gw.upload(clerk, referral)
    for token, step in ((clerk, "submitReferral"), (leader, "approveReferral"),
                        (clerk, "sendReferral")):  # fmt: skip
        body = await gw.query(token, STEP % step, {"id": referral})
        assert body["data"][step]["__typename"] == "Referral", body

    dispute = {
        "matterCode": "FY-SCJG-001",
        "townshipId": VICTIM_TOWNSHIP,
        "partyIds": [VICTIM, VICTIM_TOWNSHIP],
        "reasons": "红队：双方均认为不属于本机关管辖",
        "interimHandlerId": VICTIM_TOWNSHIP,
    }
    opened = (await gw.query(clerk, DISPUTE, {"input": dispute}))["data"]["r"]
    assert opened["__typename"] == "Dispute", opened
    notice = {
        "kind": "SPECIAL",
        "title": "红队受害会议",
        "convenerId": VICTIM,
        "startsAt": (gw.now() + timedelta(days=1)).isoformat(),
        "place": "市场监管局会议室",
        "attendeeIds": [VICTIM_TOWNSHIP],
        "agenda": ["管辖协商"],
        "urgent": True,
    }
    meeting = (await gw.query(clerk, MEETING, {"input": notice}))["data"]["r"]
    assert meeting["__typename"] == "Meeting", meeting
    return Victims(referral, opened["id"], meeting["id"])


# -- reads an insider should not have ---------------------------------------------------------

READS: dict[str, str] = {
    "referral": "query($id: ID!) { r: referral(id: $id) { id title facts } }",
    "referral complaint": "query($id: ID!) { r: referral(id: $id) { id complaint { id } } }",
    "dispute": "query($dispute: ID!) { r: dispute(id: $dispute) { id reasons } }",
    "meeting": "query($meeting: ID!) { r: meeting(id: $meeting) { id title } }",
    "victim's inbox": "query($agency: ID!) { r: agency(id: $agency) { inbox(first: 5) { edges {"
    " node { id title } } } } }",
    "victim's referrals": "query($agency: ID!) { r: referrals(first: 5, senderId: $agency) {"
    " edges { node { id } } } }",
    "victim's disputes": "query($agency: ID!) { r: disputes(agencyId: $agency) { edges {"
    " node { id } } } }",
    "victim's meetings": "query($agency: ID!) { r: meetings(agencyId: $agency) { edges {"
    " node { id } } } }",
    "victim's webhooks": "{ r: webhooks { id ownerAgencyId } }",
}


def read_answer(name: str, body: dict[str, Any], victims: Victims) -> str:
    text = json.dumps(body.get("data") or {}, ensure_ascii=False)
    leaked = [
        v for v in (victims.referral, victims.dispute, victims.meeting, "红队受害") if v in text
    ]
    if name == "victim's inbox" and '"node"' in text:
        leaked.append("inbox items")
    if name == "victim's webhooks" and VICTIM in text:
        leaked.append("webhooks")
    if leaked:
        return f"SUCCESS: read {', '.join(leaked)}"
    codes = sorted({str((e.get("extensions") or {}).get("code")) for e in body.get("errors") or []})
    return "refused: " + (",".join(codes) if codes else "nothing of the victims'")


# -- the test -----------------------------------------------------------------------------------


async def composed_schema(gw: Gateway) -> GraphQLSchema:
    token = gw.mint(VICTIM, ["clerk"])
    body = await gw.query(token, get_introspection_query())
    assert "errors" not in body, body
    return build_client_schema(body["data"])


async def test_issue_16_red_team_insiders_succeed_at_nothing(embedded_gateway: Gateway) -> None:
    await red_team(embedded_gateway)


async def test_issue_16_red_team_insiders_succeed_at_nothing_production(
    production_gateway: Gateway,
) -> None:
    """The same, across separate service processes over RabbitMQ and MongoDB."""
    await red_team(production_gateway)


async def red_team(gw: Gateway) -> None:
    victims = await victims_cases(gw)
    schema = await composed_schema(gw)
    assert schema.mutation_type is not None
    mutations = schema.mutation_type.fields
    report = Report()
    own_right: list[str] = []
    for insider, (agency, roles) in INSIDERS.items():
        token = gw.mint(agency, roles)
        for name, f in sorted(mutations.items()):
            if (insider, name) in OWN_RIGHT:
                own_right.append(f"{insider} / {name}: {OWN_RIGHT[(insider, name)]}")
                continue
            document, variables = mutation_document(name, f, victims, gw)
            answer = classify(await gw.query(token, document, variables))
            report.add(insider, name, answer)
        for read, query in READS.items():
            variables = {
                "id": victims.referral,
                "dispute": victims.dispute,
                "meeting": victims.meeting,
                "agency": VICTIM,
            }
            used = {k: v for k, v in variables.items() if f"${k}" in query}
            answer = read_answer(read, await gw.query(token, query, used), victims)
            report.add(insider, f"read {read}", answer)

    print("\nRed team (issue 16):\n" + report.summary())
    for row in report.rows:
        print(" | ".join(row))
    print("own right, not attempted:\n" + "\n".join(own_right))
    # Every mutation of the composed schema was tried by every insider.
    assert len(report.rows) == len(INSIDERS) * (len(mutations) + len(READS)) - len(own_right)
    # Requests the gateway could not even run would prove nothing: there are none.
    assert [r for r in report.rows if r[2].startswith("error")] == []
    assert report.successes() == []
    # The victims' cases kept their owners and running clocks through it all (issue 14).
    await assert_no_stalls(gw)
