"""Through the real gateway, in both topologies (embedded, and production: separate service
processes over RabbitMQ and MongoDB): assistance request → reply letter (R-AST-01,
a refusal without grounds refused, R-AST-02); technical request → extension → conclusion
(R-TEC-01, R-TEC-02: an answer without a conclusion refused); information query → answer →
access logged (R-INF-01: a fee refused)."""

from __future__ import annotations

from tests.e2e.scenario import Gateway
from tests.e2e.scenario import data_of as _data
from tests.e2e.stalls import assert_no_stalls

AST = """
    __typename
    ... on AssistanceRequest {
      id status urgent agreedStartOn replyLetterNumber helper { id name }
      refusal { grounds } deadlines { kind state due explanation }
    }
    ... on UserError { code message field }
"""
REQUEST_AST = (
    "mutation($input: RequestAssistanceInput!) { requestAssistance(input: $input) {" + AST + "} }"
)
REPLY_AST = (
    "mutation($input: ReplyToAssistanceInput!) { replyToAssistance(input: $input) {" + AST + "} }"
)
TEC = """
    __typename
    ... on TechnicalSupportRequest {
      id status replyWorkingDays extensions { totalWorkingDays newDue }
      answer { conclusion currentStateDescription } deadlines { kind state due }
    }
    ... on UserError { code message field }
"""
REQUEST_TEC = (
    "mutation($input: RequestTechnicalSupportInput!) { requestTechnicalSupport(input: $input) {"
    + TEC
    + "} }"
)
EXTEND_TEC = (
    "mutation($id: ID!, $days: Int!) { extendTechnicalSupport(requestId: $id, workingDays: $days,"
    ' reason: "需委托检测机构鉴定") {' + TEC + "} }"
)
ANSWER_TEC = (
    "mutation($input: AnswerTechnicalSupportInput!) { answerTechnicalSupport(input: $input) {"
    + TEC
    + "} }"
)
INF = """
    __typename
    ... on InformationQuery { id status classification deadlines { kind state } }
    ... on UserError { code message field }
"""
ASK = "mutation($input: AskInformationInput!) { askInformation(input: $input) {" + INF + "} }"
ANSWER_INF = (
    "mutation($input: AnswerInformationQueryInput!) { answerInformationQuery(input: $input) {"
    + INF
    + "} }"
)
READ = """
mutation($id: ID!) { readInformationAnswer(queryId: $id) {
  __typename
  ... on InformationAnswer { content classification }
  ... on UserError { code message field }
} }"""
LOG = """
query($id: ID!) { informationAnswerAccessLog(queryId: $id) { readerId readerAgency { id } at } }
"""
PARTIES_ONLY = """
query($a: ID!, $t: ID!, $q: ID!) {
  assistanceRequest(id: $a) { id }
  technicalSupportRequest(id: $t) { id }
  informationQuery(id: $q) { id }
  assistanceRequests { edges { node { id } } }
}"""
REFUSALS = """
query { assistanceRefusals(helperId: "fy-housing") { edges { node { id } } } }
"""


async def test_R_AST_01_R_TEC_01_R_TEC_02_R_INF_01_cooperation_through_the_gateway_embedded(
    embedded_gateway: Gateway,
) -> None:
    await run_cooperation_path(embedded_gateway)


async def test_R_AST_01_R_TEC_01_R_TEC_02_R_INF_01_cooperation_through_the_gateway_production(
    shared_production_gateway: Gateway,
) -> None:
    """The same paths across separate processes over RabbitMQ and MongoDB."""
    await run_cooperation_path(shared_production_gateway)


async def run_cooperation_path(gw: Gateway) -> None:
    market = gw.mint("fy-market", ["clerk"])
    housing = gw.mint("fy-housing", ["leader"])
    township = gw.mint("fy-hancong", ["clerk"])
    supervisor = gw.mint("fy-justice", ["supervisor"])

    # -- assistance request → reply letter (R-AST-01); a refusal without grounds (R-AST-02)
    req = _data(
        await gw.query(
            market,
            REQUEST_AST,
            {
                "input": {
                    "requesterId": "fy-market",
                    "helperId": "fy-housing",
                    "matters": ["协助核查违法建设现场"],
                    "letterNumber": "抚市监协〔2026〕1号",
                }
            },
        )
    )["requestAssistance"]
    assert req["__typename"] == "AssistanceRequest" and req["status"] == "REQUESTED", req
    assert req["deadlines"][0]["kind"] == "assistance.reply"
    assert "工作日" in req["deadlines"][0]["explanation"]
    no_grounds = _data(
        await gw.query(
            housing,
            REPLY_AST,
            {"input": {"requestId": req["id"], "willHelp": False, "replyLetterNumber": "复2号"}},
        )
    )["replyToAssistance"]
    assert no_grounds["__typename"] == "UserError", no_grounds
    assert no_grounds["field"] == "refusalGrounds" and no_grounds["code"] == "VALIDATION_FAILED"
    assert _data(await gw.query(market, REFUSALS))["assistanceRefusals"]["edges"] == []
    replied = _data(
        await gw.query(
            housing,
            REPLY_AST,
            {
                "input": {
                    "requestId": req["id"],
                    "willHelp": True,
                    "replyLetterNumber": "抚住建复〔2026〕1号",
                    "agreedStartOn": "2099-01-05",
                }
            },
        )
    )["replyToAssistance"]
    assert replied["status"] == "ACCEPTED" and replied["agreedStartOn"] == "2099-01-05", replied
    assert replied["deadlines"][0]["state"] == "met"

    # -- technical request → extension → conclusion (R-TEC-01, R-TEC-02)
    tec = _data(
        await gw.query(
            township,
            REQUEST_TEC,
            {
                "input": {
                    "townshipId": "fy-hancong",
                    "departmentId": "fy-housing",
                    "kind": "IDENTIFICATION",
                    "question": "该建筑是否属于违法建设",
                    "documentNumber": "寒协〔2026〕1号",
                }
            },
        )
    )["requestTechnicalSupport"]
    assert tec["__typename"] == "TechnicalSupportRequest" and tec["replyWorkingDays"] == 3, tec
    ext = _data(await gw.query(housing, EXTEND_TEC, {"id": tec["id"], "days": 8}))[
        "extendTechnicalSupport"
    ]
    assert ext["replyWorkingDays"] == 8 and ext["extensions"][0]["totalWorkingDays"] == 8, ext
    only_state = _data(
        await gw.query(
            housing,
            ANSWER_TEC,
            {
                "input": {
                    "requestId": tec["id"],
                    "documentNumber": "抚住建函〔2026〕3号",
                    "answer": {"currentStateDescription": "现场有一处两层砖混建筑"},
                }
            },
        )
    )["answerTechnicalSupport"]
    assert only_state["__typename"] == "UserError", only_state
    assert only_state["field"] == "answer.conclusion"
    assert "not a conclusion" in only_state["message"]
    answered = _data(
        await gw.query(
            housing,
            ANSWER_TEC,
            {
                "input": {
                    "requestId": tec["id"],
                    "documentNumber": "抚住建函〔2026〕3号",
                    "answer": {
                        "conclusion": "属于未取得建设工程规划许可证的违法建设",
                        "currentStateDescription": "现场有一处两层砖混建筑",
                    },
                }
            },
        )
    )["answerTechnicalSupport"]
    assert answered["status"] == "ANSWERED", answered
    assert answered["answer"]["conclusion"].startswith("属于")

    # -- information query → answer → access logged (R-INF-01)
    q = _data(
        await gw.query(
            township,
            ASK,
            {
                "input": {
                    "requesterId": "fy-hancong",
                    "holderId": "fy-market",
                    "subject": "某商户营业执照登记信息",
                    "purpose": "核实无照经营",
                }
            },
        )
    )["askInformation"]
    assert q["__typename"] == "InformationQuery" and q["status"] == "ASKED", q
    fee = _data(
        await gw.query(
            market,
            ANSWER_INF,
            {
                "input": {
                    "queryId": q["id"],
                    "content": "登记信息",
                    "classification": "CONFIDENTIAL",
                    "feeYuan": "30",
                }
            },
        )
    )["answerInformationQuery"]
    assert fee["__typename"] == "UserError" and fee["field"] == "feeYuan", fee
    ok = _data(
        await gw.query(
            market,
            ANSWER_INF,
            {
                "input": {
                    "queryId": q["id"],
                    "content": "登记信息……",
                    "classification": "CONFIDENTIAL",
                }
            },
        )
    )["answerInformationQuery"]
    assert ok["status"] == "ANSWERED" and ok["classification"] == "CONFIDENTIAL", ok
    outsider = _data(await gw.query(housing, READ, {"id": q["id"]}))["readInformationAnswer"]
    assert outsider["__typename"] == "UserError" and outsider["code"] == "FORBIDDEN", outsider
    read = _data(await gw.query(township, READ, {"id": q["id"]}))["readInformationAnswer"]
    assert read["content"] == "登记信息……", read
    log = _data(await gw.query(supervisor, LOG, {"id": q["id"]}))["informationAnswerAccessLog"]
    assert [(e["readerId"], e["readerAgency"]["id"]) for e in log] == [
        (log[0]["readerId"], "fy-hancong")
    ], log

    # Only the parties and the supervising roles read the requests: another agency gets null
    # and an empty list through the gateway too.
    ids = {"a": req["id"], "t": tec["id"], "q": q["id"]}
    wusu = gw.mint("fy-wusu", ["clerk"])
    hidden = _data(await gw.query(wusu, PARTIES_ONLY, ids))
    assert hidden == {
        "assistanceRequest": None,
        "technicalSupportRequest": None,
        "informationQuery": None,
        "assistanceRequests": {"edges": []},
    }, hidden
    seen = _data(await gw.query(supervisor, PARTIES_ONLY, ids))
    assert seen["assistanceRequest"] == {"id": req["id"]} and seen["informationQuery"], seen
    await assert_no_stalls(gw)
