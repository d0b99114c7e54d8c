"""Who reads assistance, technical-support and information requests, through the coordination
service's graph on both store adapters: the parties (requester and requested agency, and for
a refusal in mediation the mediating legal office) and the supervising roles. Anyone else gets
null for a single read (as if it did not exist, like referrals) and never sees it in a list,
whatever filter it passes (R-AST-01, R-AST-02, R-TEC-01, R-INF-01)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from coordination.bootstrap import bootstrap
from kernel.settings import Settings
from kernel.wiring import build_deps
from liandong.cli import mint_token
from tests.fixtures.settings import mongo_settings
from tests.infra import Server

AST = """
  __typename
  ... on AssistanceRequest { id status mediation { mediatorId } }
  ... on UserError { code message field }
"""
TEC = "__typename ... on TechnicalSupportRequest { id } ... on UserError { code field }"
INF = "__typename ... on InformationQuery { id } ... on UserError { code field }"

REQUEST_AST = (
    "mutation($input: RequestAssistanceInput!) { requestAssistance(input: $input) {" + AST + "} }"
)
REFUSE = (
    "mutation($input: ReplyToAssistanceInput!) { replyToAssistance(input: $input) {" + AST + "} }"
)
MEDIATE = (
    "mutation($id: ID!) { referAssistanceToMediation(requestId: $id,"
    ' disagreement: "拒绝理由不成立") {' + AST + "} }"
)
REQUEST_TEC = (
    "mutation($input: RequestTechnicalSupportInput!) { requestTechnicalSupport(input: $input) {"
    + TEC
    + "} }"
)
# A township asks the housing bureau to identify an illegal building (R-TEC-01).
TEC_INPUT = {
    "townshipId": "fy-hancong",
    "departmentId": "fy-housing",
    "kind": "IDENTIFICATION",
    "question": "该建筑是否属于违法建设",
    "documentNumber": "寒协〔2026〕9号",
}
ASK = "mutation($input: AskInformationInput!) { askInformation(input: $input) {" + INF + "} }"
READ = """
query($a: ID!, $t: ID!, $q: ID!, $of: ID) {
  assistanceRequest(id: $a) { id }
  technicalSupportRequest(id: $t) { id }
  informationQuery(id: $q) { id }
  assistanceRequests(agencyId: $of) { edges { node { id } } }
  assistanceRefusals { edges { node { id } } }
  technicalSupportRequests(agencyId: $of) { edges { node { id } } }
  informationQueries(agencyId: $of) { edges { node { id } } }
}"""


@dataclass
class Graph:
    client: httpx.AsyncClient
    settings: Settings

    async def call(self, agency: str, role: str, query: str, **variables: Any) -> dict[str, Any]:
        token = mint_token(self.settings, agency, [role])
        response = await self.client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        )
        body: dict[str, Any] = response.json()
        assert "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data


@pytest.fixture
async def graph(
    store_kind: str, request: pytest.FixtureRequest, tmp_path: Path, unique_name: str
) -> AsyncIterator[Graph]:
    if store_kind == "embedded":
        settings = Settings(data_dir=tmp_path, instance=unique_name, store="embedded", bus="memory")
    else:
        server: Server = request.getfixturevalue("mongo_server")
        settings = mongo_settings(tmp_path, unique_name, server)
    service = bootstrap(await build_deps(settings, "coordination"), seed_demo=True)
    await service.runtime.start()
    app = service.create_app(manage_lifecycle=False)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
            yield Graph(client, settings)
    finally:
        await service.runtime.stop()
        if store_kind == "mongo":
            from pymongo import AsyncMongoClient

            mongo: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(settings.mongo_url)
            await mongo.drop_database(settings.database_name("coordination"))
            await mongo.close()


def _ids(connection: dict[str, Any]) -> list[str]:
    return [e["node"]["id"] for e in connection["edges"]]


async def test_R_AST_02_R_TEC_01_R_INF_01_only_parties_and_supervisors_read_requests(
    graph: Graph,
) -> None:
    g = graph
    ast = (
        await g.call(
            "fy-market",
            "clerk",
            REQUEST_AST,
            input={
                "requesterId": "fy-market",
                "helperId": "fy-housing",
                "matters": ["协助核查违法建设现场"],
                "letterNumber": "抚市监协〔2026〕9号",
            },
        )
    )["requestAssistance"]
    assert ast["__typename"] == "AssistanceRequest", ast
    tec = (
        await g.call(
            "fy-hancong",
            "clerk",
            REQUEST_TEC,
            input=TEC_INPUT,
        )
    )["requestTechnicalSupport"]
    assert tec["__typename"] == "TechnicalSupportRequest", tec
    inf = (
        await g.call(
            "fy-hancong",
            "clerk",
            ASK,
            input={
                "requesterId": "fy-hancong",
                "holderId": "fy-market",
                "subject": "某商户营业执照登记信息",
                "purpose": "核实无照经营",
            },
        )
    )["askInformation"]
    assert inf["__typename"] == "InformationQuery", inf
    ids = {"a": ast["id"], "t": tec["id"], "q": inf["id"]}

    async def read(agency: str, role: str, filter_by: str | None = None) -> dict[str, Any]:
        return await g.call(agency, role, READ, **ids, of=filter_by)

    # The parties read what they are party to, and list it.
    market = await read("fy-market", "clerk")
    assert market["assistanceRequest"] == {"id": ast["id"]}
    assert market["informationQuery"] == {"id": inf["id"]}
    assert market["technicalSupportRequest"] is None  # not its request
    assert _ids(market["assistanceRequests"]) == [ast["id"]]
    assert _ids(market["informationQueries"]) == [inf["id"]]
    assert _ids(market["technicalSupportRequests"]) == []
    housing = await read("fy-housing", "leader")
    assert housing["assistanceRequest"] and housing["technicalSupportRequest"]
    assert housing["informationQuery"] is None
    assert _ids(housing["technicalSupportRequests"]) == [tec["id"]]

    # A non-party: null for each single read, nothing in any list, whatever it filters by.
    for filter_by in (None, "fy-market", "fy-housing", "fy-hancong"):
        outsider = await read("fy-wusu", "clerk", filter_by)
        assert outsider["assistanceRequest"] is None
        assert outsider["technicalSupportRequest"] is None
        assert outsider["informationQuery"] is None
        for connection in (
            "assistanceRequests",
            "assistanceRefusals",
            "technicalSupportRequests",
            "informationQueries",
        ):
            assert _ids(outsider[connection]) == [], (filter_by, connection)
    observer = await read("fy-procuratorate", "judicial_observer")
    assert observer["assistanceRequest"] is None and observer["informationQuery"] is None
    assert _ids(observer["assistanceRequests"]) == []
    # An unknown id reads the same as someone else's.
    unknown = await g.call("fy-wusu", "clerk", READ, a="nope", t="nope", q="nope", of=None)
    assert unknown["assistanceRequest"] is None and unknown["informationQuery"] is None

    # The supervising roles read everything, as does the government; a judicial observer
    # is no party and reads nothing here.
    for agency, role in (
        ("fy-justice", "supervisor"),
        ("fy-coord", "coordinator"),
        ("fy-gov", "government"),
    ):
        overseer = await read(agency, role)
        assert overseer["assistanceRequest"] and overseer["technicalSupportRequest"]
        assert overseer["informationQuery"]
        assert _ids(overseer["assistanceRequests"]) == [ast["id"]]
        assert _ids(overseer["informationQueries"]) == [inf["id"]]

    # A refusal sent to mediation: the legal office becomes a party then, not before.
    refused = (
        await g.call(
            "fy-housing",
            "leader",
            REFUSE,
            input={
                "requestId": ast["id"],
                "willHelp": False,
                "replyLetterNumber": "抚住建复〔2026〕9号",
                "refusalGrounds": "超出本机关法定职责",
                "legalProvision": "《中华人民共和国城乡规划法》第六十四条",
            },
        )
    )["replyToAssistance"]
    assert refused["status"] == "REFUSED", refused
    mediated = (await g.call("fy-market", "clerk", MEDIATE, id=ast["id"]))[
        "referAssistanceToMediation"
    ]
    assert mediated["status"] == "IN_MEDIATION", mediated
    office = mediated["mediation"]["mediatorId"]
    assert office not in {"fy-market", "fy-housing"}
    seen = await read(office, "clerk")
    assert seen["assistanceRequest"] == {"id": ast["id"]}
    assert _ids(seen["assistanceRequests"]) == [ast["id"]]
    assert _ids(seen["assistanceRefusals"]) == [ast["id"]]
    assert seen["technicalSupportRequest"] is None and seen["informationQuery"] is None
    outsider = await read("fy-wusu", "clerk", "fy-housing")
    assert outsider["assistanceRequest"] is None and _ids(outsider["assistanceRefusals"]) == []
    helper = await read("fy-housing", "clerk")
    assert _ids(helper["assistanceRefusals"]) == [ast["id"]]
