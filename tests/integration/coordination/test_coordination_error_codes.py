"""Precise refusal codes reach the client (issue 18): a refused mutation answers a
``UserError`` whose ``errorCode`` says why (from ``kernel.errors.CODES``), whose ``family`` is
one of the five broad codes, whose ``message`` is the code's Chinese wording, and whose
deprecated ``code`` string keeps the value it had. Through the coordination graph: R-AST-01
(assistance), R-MTG-01 (meetings), R-AG-02 (agencies); the FORBIDDEN family through notify's
(tests/integration/notify/test_notify_error_codes.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.integration.coordination.test_authz_coordination import (
    COORD,
    MARKET_CLERK,
    SCHEDULE,
    Graph,
    Who,
    graph,  # noqa: F401
    meeting_input,
)

ERROR = "__typename ... on UserError { code errorCode family message field }"
ASSIST = (
    "mutation($input: RequestAssistanceInput!) { m: requestAssistance(input: $input) { "
    + ERROR
    + " } }"
)


async def refused(g: Graph, who: Who, query: str, **variables: Any) -> dict[str, Any]:
    answer: dict[str, Any] = (await g.data(who, query, **variables))["m"]
    assert answer["__typename"] == "UserError", answer
    return answer


def assistance(helper: str) -> dict[str, Any]:
    return {
        "requesterId": "fy-market",
        "helperId": helper,
        "matters": ["协助核查违法建设现场"],
        "letterNumber": "抚市监协〔2026〕9号",
    }


async def test_R_AST_01_R_AG_02_validation_codes_say_which_input_is_wrong(
    graph: Graph,  # noqa: F811
) -> None:
    g = graph
    itself = await refused(g, MARKET_CLERK, ASSIST, input=assistance("fy-market"))
    assert itself == {
        "__typename": "UserError",
        "code": "VALIDATION_FAILED",  # unchanged (deprecated)
        "errorCode": "SELF_ADDRESSED",
        "family": "VALIDATION_FAILED",
        "message": "不能向本机关自身发起（an agency cannot ask itself for assistance）",
        "field": "helperId",
    }
    nowhere = await refused(g, MARKET_CLERK, ASSIST, input=assistance("fy-nowhere"))
    assert (nowhere["errorCode"], nowhere["family"], nowhere["field"]) == (
        "AGENCY_NOT_REGISTERED",
        "VALIDATION_FAILED",
        "helperId",
    )
    assert nowhere["message"].startswith("所指机关未在本区登记")


async def test_R_MTG_01_a_state_code_says_which_step_is_missing(
    graph: Graph,  # noqa: F811
) -> None:
    g = graph
    starts = (datetime.now(UTC) + timedelta(days=40)).replace(microsecond=0)
    meeting = (await g.data(COORD, SCHEDULE, input=meeting_input(starts)))["m"]
    # The convener issues minutes nobody drafted: an earlier step is missing.
    issue = (
        'mutation($id: ID!) { m: issueMeetingMinutes(meetingId: $id, number: "抚协纪〔2026〕1号")'
        " { " + ERROR + " } }"
    )
    early = await refused(g, COORD, issue, id=meeting["id"])
    assert (early["code"], early["errorCode"], early["family"]) == (
        "INVALID_STATE",
        "NOT_YET",
        "INVALID_STATE",
    )
    assert early["message"].startswith("前一步骤尚未完成")
