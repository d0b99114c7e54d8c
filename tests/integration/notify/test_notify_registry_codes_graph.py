"""Issue 18: TOO_LONG, a code session 8 showed only through the registry test, reaching a
client through notify's graph (R-SUP-03: a township rates a department with a comment of at
most ``COMMENT_LIMIT`` characters): one character over is refused with the code and its
Chinese wording; exactly the limit is accepted."""

from __future__ import annotations

from kernel.errors import CODES
from notify.domain.supervision import COMMENT_LIMIT
from tests.integration.notify.test_authz_notify import TOWN_LEADER, Graph, graph  # noqa: F401
from tests.integration.notify.test_notify_error_codes import ERROR, RATE_DEPT

RATE = RATE_DEPT.replace(ERROR, ERROR + " ... on AgencyRating { score comment }")


async def test_R_SUP_03_a_rating_comment_of_the_limit_is_kept_one_more_is_refused(
    graph: Graph,  # noqa: F811
) -> None:
    g = graph
    rating = {"departmentId": "fy-market", "score": 4}
    over = (
        await g.data(TOWN_LEADER, RATE, input={**rating, "comment": "好" * (COMMENT_LIMIT + 1)})
    )["m"]
    assert over["__typename"] == "UserError", over
    assert (over["errorCode"], over["family"], over["code"]) == (
        "TOO_LONG",
        "VALIDATION_FAILED",
        "VALIDATION_FAILED",
    )
    assert over["message"].startswith(CODES["TOO_LONG"].zh) and over["field"] == "input.comment"
    at = (await g.data(TOWN_LEADER, RATE, input={**rating, "comment": "好" * COMMENT_LIMIT}))["m"]
    assert at["__typename"] == "AgencyRating" and len(at["comment"]) == COMMENT_LIMIT, at
