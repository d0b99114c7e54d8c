"""Cross-subgraph agency links are nullable (issue 18): ``Referral.sender/receiver`` are
resolved by the coordination subgraph, and an agency coordination does not know nulls only
that field, never the whole ``referrals`` list. Through the real gateway: the referral still
lists with ``receiver: null``, ``receiverId`` present and the sender resolved, and the
problem is reported in ``errors`` (R-REF-03: the sent referral stays readable)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e.conftest import serving_embedded_suite
from tests.e2e.scenario import Gateway, run_slice
from tests.e2e.stalls import assert_no_stalls

LIST = """{ referrals(first: 20) { totalCount edges { node {
  id senderId receiverId sender { id name } receiver { id name } } } } }"""


async def test_R_REF_03_an_agency_unknown_to_coordination_nulls_only_its_link(
    tmp_path: Path, unique_name: str
) -> None:
    async with serving_embedded_suite(tmp_path, unique_name) as served:
        gw = Gateway(served.gateway_url, served.token, files=f"{served.base_url}/referral")
        referral = await run_slice(gw)  # fy-market → fy-hancong, sent
        # Coordination forgets the receiving township (its directory lost the entry; the
        # referral service still has its copy).
        agencies = served.built.services["coordination"].agencies
        assert await agencies._coll.delete_one({"_id": "fy-hancong"}) == 1
        market = gw.mint("fy-market", ["clerk"])
        body: dict[str, Any] = await gw.query(market, LIST)
        listed = body["data"]["referrals"]
        assert listed is not None, body  # the list is not blanked
        [node] = [e["node"] for e in listed["edges"] if e["node"]["id"] == referral["id"]]
        assert node["receiver"] is None and node["receiverId"] == "fy-hancong", node
        assert node["senderId"] == "fy-market"
        assert node["sender"] == {"id": "fy-market", "name": "抚远市市场监督管理局"}
        assert listed["totalCount"] >= 1
        # The missing agency is reported, at the field, with a stable code.
        errors = body.get("errors") or []
        assert errors and all(e["extensions"]["code"] == "NOT_FOUND" for e in errors), errors
        assert all("receiver" in e.get("path", []) for e in errors), errors

        # The scenario left no case without an owner and a running clock (issue 14).
        await assert_no_stalls(gw)


CRIME_LIST = """{ referrals(first: 20) { edges { node {
  id crime { stage policeId police { id name } } } } } }"""


async def test_R_REF_14_a_police_agency_unknown_to_coordination_nulls_only_its_link(
    tmp_path: Path, unique_name: str
) -> None:
    """``ReferralCrimeTransfer.police`` is nullable like the other agency links, with
    ``policeId`` beside it: the receiving township reports the suspected crime to the police
    (R-REF-14); coordination then forgets the police agency; the township's list still
    answers, with ``police: null``, ``policeId`` present and a NOT_FOUND error at ``police``."""
    async with serving_embedded_suite(tmp_path, unique_name) as served:
        gw = Gateway(served.gateway_url, served.token, files=f"{served.base_url}/referral")
        referral = await run_slice(gw)  # fy-market → fy-hancong, sent
        town = gw.mint("fy-hancong", ["clerk"])
        rid = referral["id"]
        for call in (
            f'acceptReferral(id: "{rid}", statement: "受理")',
            f'reportSuspectedCrime(id: "{rid}", policeId: "fy-police", '
            'reason: "涉嫌生产、销售伪劣产品罪")',
        ):
            body = await gw.query(
                town,
                f"mutation {{ m: {call} {{ __typename ... on UserError {{ code message }} }} }}",
            )
            assert body["data"]["m"]["__typename"] == "Referral", body
        agencies = served.built.services["coordination"].agencies
        assert await agencies._coll.delete_one({"_id": "fy-police"}) == 1

        body = await gw.query(town, CRIME_LIST)
        listed = body["data"]["referrals"]
        assert listed is not None, body  # the list is not blanked
        [node] = [e["node"] for e in listed["edges"] if e["node"]["id"] == rid]
        assert node["crime"]["stage"] == "reported", node
        assert node["crime"]["police"] is None and node["crime"]["policeId"] == "fy-police", node
        errors = body.get("errors") or []
        assert errors and all(e["extensions"]["code"] == "NOT_FOUND" for e in errors), errors
        assert all("police" in e.get("path", []) for e in errors), errors

        await assert_no_stalls(gw)
