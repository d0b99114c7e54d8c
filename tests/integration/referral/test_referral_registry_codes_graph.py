"""Issue 18: codes of the registry that session 8 showed only through the registry test, now
shown reaching a client through the referral graph: each refusal just outside its rule
answers the precise ``errorCode`` with its Chinese wording; the same step just inside is
accepted. IN_THE_FUTURE (R-REF-01: a case is not found after it is drafted),
NOT_A_PARTY and MAY_NOT_REFUSE (R-REF-07), WRONG_ROUTE (R-REF-04), UNKNOWN_VALUE (R-REF-02),
WRONG_JURISDICTION (R-CAT-01: the catalogue names the receiver, or the sender states why
not), ELECTRONIC_CONSENT_MISSING (R-REF-12: electronic sending needs the receiver's
consent). The clock is pinned to START (the fixture's)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from kernel.errors import CODES
from kernel.policy import load_policy
from referral.policy import policy_of
from tests.integration.referral.test_authz_referral import (
    DISTRICT,
    MARKET_CLERK,
    SOURCE,
    TOWN_CLERK,
    TOWN_LEADER,
    Graph,
    Who,
    draft_input,
    drafted,
    graph,  # noqa: F401
    sent,
)
from tests.integration.referral.test_referral_service import FOUND, START

ERROR = "... on UserError { code errorCode family message field }"


async def call(
    g: Graph, who: Who, field: str, success: str = "Referral { id status }"
) -> dict[str, Any]:
    body = await g.run(who, f"mutation {{ m: {field} {{ __typename ... on {success} {ERROR} }} }}")
    assert "errors" not in body, body
    got: dict[str, Any] = body["data"]["m"]
    return got


def assert_refused(got: dict[str, Any], code: str, field: str, zh: str | None = None) -> None:
    """The precise code, its family, and the Chinese: the site's own (``zh``) where it words
    the refusal itself, else the code's wording."""
    assert got["__typename"] == "UserError", got
    known = CODES[code]
    assert (got["errorCode"], got["family"], got["code"]) == (code, known.family, known.family)
    assert got["message"].startswith(zh or known.zh) and got["field"] == field, got


def draft(receiver: str = "fy-hancong", *, found: str = FOUND.isoformat(), extra: str = "") -> str:
    text = draft_input(receiver).replace(FOUND.isoformat(), found)
    return f"draftReferral(input: {text[:-1]}{extra}}})"


async def test_R_REF_01_a_case_is_found_no_later_than_now(graph: Graph) -> None:  # noqa: F811
    g = graph
    later = await call(g, MARKET_CLERK, draft(found=(START + timedelta(minutes=1)).isoformat()))
    assert_refused(later, "IN_THE_FUTURE", "foundAt", "发现时间晚于当前时间")
    now = await call(g, MARKET_CLERK, draft(found=START.isoformat()))
    assert now["__typename"] == "Referral", now


async def test_R_CAT_01_the_catalogue_names_the_receiver_or_the_sender_states_why(
    graph: Graph,  # noqa: F811
) -> None:
    g = graph
    elsewhere = await call(g, MARKET_CLERK, draft("fy-nongqiao"))
    assert_refused(elsewhere, "WRONG_JURISDICTION", "receiverId")
    assert "the catalogue names fy-market" in elsewhere["message"]
    stated = await call(
        g, MARKET_CLERK, draft("fy-nongqiao", extra=', competenceReason: "案发地在农桥镇辖区"')
    )
    assert stated["__typename"] == "Referral", stated


async def test_R_REF_12_electronic_sending_needs_the_receivers_consent(
    graph: Graph,  # noqa: F811
) -> None:
    g = graph
    rid = await drafted(g)
    await call(g, MARKET_CLERK, f'submitReferral(id: "{rid}")')
    leader = Who("fy-market", ("leader",))
    await call(g, leader, f'approveReferral(id: "{rid}")')
    send = f'sendReferral(id: "{rid}", electronic: true)'
    assert_refused(await call(g, MARKET_CLERK, send), "ELECTRONIC_CONSENT_MISSING", "electronic")
    consent = 'setElectronicTransferConsent(senderId: "fy-market", consented: true)'
    given = await call(g, TOWN_LEADER, consent, "ElectronicConsent { consented }")
    assert given["consented"] is True, given
    sent = await call(g, MARKET_CLERK, send)
    assert sent["__typename"] == "Referral" and sent["status"] == "SENT", sent


async def test_R_REF_07_a_received_referral_goes_on_only_to_the_police(
    graph: Graph,  # noqa: F811
) -> None:
    """NOT_A_PARTY (only the receiver of a referral drafts one from it), MAY_NOT_REFUSE (不得
    再行移送: the receiver passes it on to no third agency; the police, on the crime route,
    it may)."""
    g = graph
    rid = await sent(g)
    from_it = f', forwardedFrom: "{rid}", competenceReason: "经查属市场监管职责"'
    by_sender = await call(g, MARKET_CLERK, draft("fy-natres", extra=from_it))
    assert_refused(by_sender, "NOT_A_PARTY", "forwardedFrom")
    onward = f"draftReferral(input: {draft_input('fy-market', 'fy-hancong')[:-1]}{from_it}}})"
    assert_refused(await call(g, TOWN_CLERK, onward), "MAY_NOT_REFUSE", "forwardedFrom")
    police = f"draftReferral(input: {draft_input('fy-police', 'fy-hancong')[:-1]}{from_it}}})"
    to_police = await call(g, TOWN_CLERK, police)
    assert to_police["__typename"] == "Referral", to_police


async def test_R_REF_04_R_REF_02_an_urgent_clock_is_not_extended_and_a_material_kind_is_known(
    graph: Graph,  # noqa: F811
) -> None:
    """WRONG_ROUTE (an urgent referral runs on the 24 h clock and is not extended; an
    ordinary one is), UNKNOWN_VALUE (a material's kind is one of the known kinds)."""
    g = graph
    # Just over the district's send limit (counted from discovery): an extension.
    days = policy_of(load_policy(DISTRICT)).send.limit_working_days + 1
    extend = f'extendReferralSendDeadline(id: "%s", workingDays: {days}, reason: "现场复杂", '
    extend += "notifyReceiver: true)"
    urgent = await call(g, MARKET_CLERK, draft(extra=", urgent: true"))
    assert_refused(await call(g, MARKET_CLERK, extend % urgent["id"]), "WRONG_ROUTE", "workingDays")
    ordinary = await call(g, MARKET_CLERK, draft())
    extended = await call(g, MARKET_CLERK, extend % ordinary["id"])
    assert extended["__typename"] == "Referral", extended

    material = SOURCE.replace('kind: "source"', 'kind: "hearsay"')
    add = f'addReferralMaterial(id: "{ordinary["id"]}", input: %s)'
    assert_refused(await call(g, MARKET_CLERK, add % material), "UNKNOWN_VALUE", "kind")
    added = await call(g, MARKET_CLERK, add % SOURCE)
    assert added["__typename"] == "Referral", added
