"""Issue 18: TOO_LONG and LIMIT_REACHED, codes session 8 showed only through the registry
test, reaching a client through notify's graph: a rating's comment (R-SUP-03) of at most
``COMMENT_LIMIT`` characters, an agency's webhooks up to the district's limit. One over is
refused with the code and its Chinese wording; exactly the limit is accepted."""

from __future__ import annotations

from kernel.errors import CODES
from notify.domain.supervision import COMMENT_LIMIT
from tests.integration.notify.test_authz_notify import (
    POLICE_SYSTEM,
    TOWN_LEADER,
    Graph,
    graph,  # noqa: F401
)
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


REGISTER = (
    "mutation($input: RegisterWebhookInput!) { m: registerWebhook(input: $input) { "
    + ERROR
    + " ... on WebhookRegistration { webhook { id } } } }"
)


async def test_issue_16_an_agency_registers_webhooks_up_to_the_limit(
    graph: Graph,  # noqa: F811
) -> None:
    """LIMIT_REACHED (issue 16, finding 6: each webhook is a stream of work): the agency's
    last allowed webhook is registered, one more is refused with the code and its wording."""
    g = graph
    limit = g.service.webhooks.limits.per_agency
    for i in range(limit):
        hook = {"url": f"http://127.0.0.1:9/hook{i}", "eventTypes": ["referral.sent.v1"]}
        got = (await g.data(POLICE_SYSTEM, REGISTER, input=hook))["m"]
        assert got["__typename"] == "WebhookRegistration", (i, got)
    hook = {"url": "http://127.0.0.1:9/one-more", "eventTypes": ["referral.sent.v1"]}
    over = (await g.data(POLICE_SYSTEM, REGISTER, input=hook))["m"]
    assert over["__typename"] == "UserError", over
    assert (over["errorCode"], over["family"], over["code"]) == (
        "LIMIT_REACHED",
        "INVALID_STATE",
        "INVALID_STATE",
    )
    assert over["message"].startswith(CODES["LIMIT_REACHED"].zh) and over["field"] == "url"
