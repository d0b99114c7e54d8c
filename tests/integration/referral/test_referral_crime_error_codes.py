"""Precise refusal codes of the crime route reach the client (issue 18, R-REF-14, State
Council Decree 310): through the referral graph, a refused step answers the ``UserError``
whose ``errorCode`` says why, with that code's Chinese wording, and the same step just inside
the rule is accepted."""

from __future__ import annotations

from typing import Any

from kernel.errors import CODES
from referral.domain.model import AgencyRef
from tests.integration.referral.test_authz_referral import (
    TOWN_CLERK,
    TOWN_LEADER,
    Graph,
    Who,
    graph,  # noqa: F401
    sent,
)

ERROR = "... on UserError { code errorCode family message field }"
FOREST_POLICE = "fy-police-forest"


async def call(g: Graph, who: Who, field: str) -> dict[str, Any]:
    body = await g.run(
        who, f"mutation {{ m: {field} {{ __typename ... on Referral {{ id status }} {ERROR} }} }}"
    )
    assert "errors" not in body, body
    got: dict[str, Any] = body["data"]["m"]
    return got


def assert_refused(got: dict[str, Any], code: str, field: str) -> None:
    assert got["__typename"] == "UserError", got
    known = CODES[code]
    assert (got["errorCode"], got["family"], got["code"]) == (code, known.family, known.family)
    assert got["message"].startswith(known.zh) and got["field"] == field, got


async def test_R_REF_14_the_transfer_goes_to_the_police_agency_the_head_approved(
    graph: Graph,  # noqa: F811
) -> None:
    """WRONG_AGENCY_KIND (a procuratorate is no police agency; the police is), and
    NOT_THE_APPROVED_POLICE (the transfer goes to the police agency the head approved, not
    another registered police agency)."""
    g = graph
    await g.service.handlers.ports.agencies.put(
        AgencyRef(FOREST_POLICE, "抚远市公安局森林分局", "public_security", False), 1
    )
    rid = await sent(g)
    assert (await call(g, TOWN_CLERK, f'acceptReferral(id: "{rid}", statement: "受理")'))[
        "status"
    ] == "ACCEPTED"

    report = f'reportSuspectedCrime(id: "{rid}", reason: "涉嫌生产、销售伪劣产品罪", policeId: '
    not_police = await call(g, TOWN_CLERK, report + '"fy-procuratorate")')
    assert_refused(not_police, "WRONG_AGENCY_KIND", "policeId")
    assert (await call(g, TOWN_CLERK, report + '"fy-police")'))["__typename"] == "Referral"
    approved = await call(g, TOWN_LEADER, f'decideCrimeTransfer(id: "{rid}", approve: true)')
    assert approved["__typename"] == "Referral", approved

    transfer = f'transferReferralToPolice(id: "{rid}", reason: "涉嫌犯罪", policeId: '
    other = await call(g, TOWN_CLERK, transfer + f'"{FOREST_POLICE}")')
    assert_refused(other, "NOT_THE_APPROVED_POLICE", "policeId")
    assert "fy-police" in other["message"]
    done = await call(g, TOWN_CLERK, transfer + '"fy-police")')
    assert done["__typename"] == "Referral", done
