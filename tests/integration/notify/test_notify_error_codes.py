"""Precise refusal codes reach the client through notify's graph (issue 18), R-SUP-03
(ratings between townships and departments): who may not rate whom (FORBIDDEN family),
a score out of range and an unknown ratee (VALIDATION_FAILED family), each with its Chinese
wording, the deprecated ``code`` string unchanged."""

from __future__ import annotations

from typing import Any

from tests.integration.notify.test_authz_notify import (
    MARKET_LEADER,
    TOWN_LEADER,
    Graph,
    Who,
    graph,  # noqa: F401
)

ERROR = "__typename ... on UserError { code errorCode family message field }"
RATE_DEPT = (
    "mutation($input: RateDepartmentInput!) { m: rateDepartment(input: $input) { " + ERROR + " } }"
)


async def refused(g: Graph, who: Who, **input: Any) -> dict[str, Any]:
    answer: dict[str, Any] = (await g.data(who, RATE_DEPT, input=input))["m"]
    assert answer["__typename"] == "UserError", answer
    return answer


async def test_R_SUP_03_rating_refusals_carry_their_precise_codes(
    graph: Graph,  # noqa: F811
) -> None:
    g = graph
    # A department's leader may rate, but not a department: townships rate departments.
    kind = await refused(g, MARKET_LEADER, departmentId="fy-market", score=4, comment="")
    assert (kind["code"], kind["errorCode"], kind["family"]) == (
        "FORBIDDEN",
        "AGENCY_KIND_NOT_ALLOWED",
        "FORBIDDEN",
    )
    assert kind["message"].startswith("本类机关不能办理此事项")
    score = await refused(g, TOWN_LEADER, departmentId="fy-market", score=9, comment="")
    assert (score["code"], score["errorCode"], score["family"]) == (
        "VALIDATION_FAILED",
        "OUT_OF_RANGE",
        "VALIDATION_FAILED",
    )
    assert score["message"].startswith("数值超出允许范围")
    nowhere = await refused(g, TOWN_LEADER, departmentId="fy-nowhere", score=4, comment="")
    assert nowhere["errorCode"] == "AGENCY_NOT_REGISTERED", nowhere
    # Nothing was rated by any of them: the real rating still goes through once.
    ok = (
        await g.data(
            TOWN_LEADER,
            RATE_DEPT.replace(ERROR, ERROR + " ... on AgencyRating { score }"),
            input={"departmentId": "fy-market", "score": 4, "comment": "指导到位"},
        )
    )["m"]
    assert ok["score"] == 4, ok
