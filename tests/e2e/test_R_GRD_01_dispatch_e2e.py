"""R-GRD-01 grid dispatch through the real gateway in the production topology (separate service
processes over RabbitMQ and the MongoDB wire-protocol server), in Fuyuan's demo district with a
resident unit (派驻机构) registered under 寒葱沟镇's command:

* a grid member uploads a photo on the coordination service's photo route (the kernel's
  streaming upload the referral materials use) and reports a problem with it → the platform
  dispatches it to the resident unit → the unit's inbox has the 派单 notice, it signs →
  accepts → arrives → uploads a photo of the result → handles, each step on time, and the
  platform's inbox has the result; the unit reads the report's photo back by its id;
* a second one is returned with a reason and dispatched again, to the township's own centre;
* a third becomes a referral to the market bureau: the referral service drafts it in the
  township's name (its list of drafts, its inbox), fetching the report's photos from
  coordination under its own service identity as the referral's source materials (the same
  SHA-256 as uploaded), and the dispatch and the referral name each other; the clerk
  completes the draft, generates the letter, the leader approves and it is sent with them;
* bad input (a grid member dispatching, a team accepting another team's dispatch, a step out
  of order, a photo over the policy's limit, an unknown photo id, another team uploading)
  gets a stable code and changes nothing;
* the stall check is empty afterwards.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import httpx

from tests.e2e.scenario import STEP as REFERRAL_STEP
from tests.e2e.scenario import Gateway, eventually, subscription_events
from tests.e2e.stalls import assert_no_stalls
from tests.e2e.test_new_rules_e2e import _mutate, _notice, _sign
from tests.fixtures.coordination import RESIDENT_UNIT, RESIDENT_UNIT_INPUT

ERROR = "... on UserError { code message field }"
FIELDS = (
    "id state teamId overdue result referralReceiverId referralId "
    "report { reporterId photoIds area } "
    "assignments { round teamId acceptedLate arrivedLate handledLate returnReason } "
    "deadlines { kind responsibleAgencyId due state }"
)
REGISTER = (
    "mutation($input: RegisterAgencyInput!) { registerAgency(input: $input) { __typename "
    "... on Agency { id kind commandedById guidedById } " + ERROR + " } }"
)
REPORT = (
    "mutation($input: ReportProblemInput!) { reportProblem(input: $input) { __typename "
    "... on Dispatch { " + FIELDS + " } " + ERROR + " } }"
)
DISPATCH = (
    "mutation($id: ID!, $team: ID!) { dispatchProblem(dispatchId: $id, teamId: $team) { "
    "__typename ... on Dispatch { " + FIELDS + " } " + ERROR + " } }"
)
STEP = "mutation($id: ID!) { %s(dispatchId: $id) { __typename ... on Dispatch { " + FIELDS
STEP += " } " + ERROR + " } }"
HANDLE = (
    'mutation($id: ID!, $photos: [ID!]) { handleDispatch(dispatchId: $id, result: "已劝离摊贩，'
    '通道畅通", photoIds: $photos) { __typename ... on Dispatch { '
    + FIELDS
    + " } "
    + ERROR
    + " } }"
)
RETURN = (
    'mutation($id: ID!) { returnDispatch(dispatchId: $id, reason: "不属市场监管职责") { '
    "__typename ... on Dispatch { " + FIELDS + " } " + ERROR + " } }"
)
REFER = (
    "mutation($id: ID!, $to: ID!) { referDispatch(dispatchId: $id, receiverId: $to, "
    'reason: "无照经营属市场监管部门职责") { __typename ... on Dispatch { '
    + FIELDS
    + " } "
    + ERROR
    + " } }"
)
ONE = "query($id: ID!) { dispatch(id: $id) { " + FIELDS + " } }"
LIST = (
    "query($state: DispatchState, $team: ID, $area: String, $overdue: Boolean) { "
    "dispatches(state: $state, teamId: $team, area: $area, overdue: $overdue, first: 50) "
    "{ edges { node { id state } } } }"
)
TOWN_DRAFTS = (
    'query { referrals(filter: { senderId: "fy-hancong", status: DRAFT }, first: 50) '
    "{ edges { node { id status sender { id } receiver { id } title place matterCode "
    "dispatchId dispatchPhotoIds materials { kind sha256 size mediaType } } } } }"
)
SENT = "query($id: ID!) { referral(id: $id) { status materials { kind sha256 size } } }"
COMPLETE = (
    'mutation($id: ID!) { completeReferralDraft(id: $id, matterCode: "FY-SCJG-001", '
    'party: "某某食杂店", competenceReason: "经营者拒不配合，需部门立案查处") { __typename '
    "... on Referral { id status matterCode party dispatchId } " + ERROR + " } }"
)
LIVE = 'subscription { dispatchChanged(platformId: "fy-hancong") { id state teamId } }'

UNIT = RESIDENT_UNIT
PHOTO = b"\xff\xd8\xff\xe0" + b"JFIF photo of the scene " * 400


async def register_unit(gw: Gateway, government: str) -> None:
    """The resident unit (派驻机构), commanded by the township, guided by the market bureau
    (once coordination has seeded both)."""

    async def registered() -> dict[str, Any] | None:
        body = await gw.query(government, REGISTER, {"input": RESIDENT_UNIT_INPUT})
        got = (body.get("data") or {}).get("registerAgency") or {}
        return got if got.get("__typename") == "Agency" else None

    agency = await eventually(registered, what="the seeded township and bureau")
    assert agency["kind"] == "RESIDENT_UNIT" and agency["commandedById"] == "fy-hancong"


def report_input(gw: Gateway, what: str, area: str, *photos: str) -> dict[str, Any]:
    """reportProblem's variables: a grid member's report to 寒葱沟镇's platform."""
    return {
        "input": {
            "platformId": "fy-hancong",
            "source": "GRID_MEMBER",
            "what": what,
            "place": "寒葱沟镇中心街8号",
            "area": area,
            "foundAt": gw.now().isoformat(),
            "latitude": 48.36,
            "longitude": 134.29,
            "photoIds": list(photos),
        }
    }


async def test_R_GRD_01_report_dispatch_accept_arrive_handle_return_refer_production(
    production_gateway: Gateway,
) -> None:
    gw = production_gateway
    government = gw.mint("fy-gov", ["government"])
    # A grid member of the township's community grid (社区网格): not the platform's own staff,
    # so the platform is addressed (an agency is never notified of its own act).
    grid = gw.mint("fy-hancong-grid", ["grid_member"])
    platform = gw.mint("fy-hancong", ["clerk"])
    unit = gw.mint(UNIT, ["clerk"])

    await register_unit(gw, government)

    def report(what: str, area: str, *photos: str) -> dict[str, Any]:
        return report_input(gw, what, area, *photos)

    # Photos (R-GRD-01: photos as materials): the district policy's limit, just over refused
    # with a stable code; within it stored, its id named by the report.
    limit = 20 * 1024 * 1024  # fuyuan.yaml dispatch.photos.max_bytes (project default)
    over = await gw.upload_photo(grid, content=b"\xff\xd8" + b"p" * (limit - 1))
    assert over.status_code == 413, over.text
    assert (over.json()["error"]["code"], over.json()["error"]["field"]) == (
        "VALIDATION_FAILED",
        "file",
    )
    uploaded = await gw.upload_photo(grid, content=PHOTO)
    assert uploaded.status_code == 201, uploaded.text
    photo = uploaded.json()["id"]
    unknown = await _mutate(
        gw,
        grid,
        REPORT,
        "reportProblem",
        input={**report("x", "中心街第9网格", photo)["input"], "photoIds": ["no-such-photo"]},
    )
    assert (unknown["code"], unknown["field"]) == ("VALIDATION_FAILED", "photoIds.0"), unknown

    # 1. Reported by a grid member, dispatched, accepted, arrived, handled, each on time.
    first = await _mutate(
        gw, grid, REPORT, "reportProblem", **report("流动摊贩占道经营", "中心街第1网格", photo)
    )
    assert first["__typename"] == "Dispatch" and first["state"] == "REPORTED", first
    assert first["report"]["photoIds"] == [photo]
    reported = await _notice(gw, platform, "dispatch.reported", first["id"])
    await _sign(gw, platform, reported)

    # Bad input changes nothing: a grid member dispatching; a step out of order.
    refused = await _mutate(gw, grid, DISPATCH, "dispatchProblem", id=first["id"], team=UNIT)
    assert refused["__typename"] == "UserError" and refused["code"] == "FORBIDDEN", refused
    early = await _mutate(gw, unit, STEP % "acceptDispatch", "acceptDispatch", id=first["id"])
    assert early["__typename"] == "UserError", early
    assert early["code"] in {"FORBIDDEN", "INVALID_STATE"}, early
    wrong_team = await _mutate(
        gw, platform, DISPATCH, "dispatchProblem", id=first["id"], team="fy-market"
    )
    assert wrong_team["code"] == "VALIDATION_FAILED" and wrong_team["field"] == "teamId"
    still = (await gw.query(platform, ONE, {"id": first["id"]}))["data"]["dispatch"]
    assert still["state"] == "REPORTED" and still["assignments"] == []

    sent = await _mutate(gw, platform, DISPATCH, "dispatchProblem", id=first["id"], team=UNIT)
    assert sent["state"] == "DISPATCHED" and sent["teamId"] == UNIT, sent
    notice = await _notice(gw, unit, "dispatch.dispatched", first["id"])
    assert "流动摊贩占道经营" in notice["title"], notice
    await _sign(gw, unit, notice)
    # Another team (the township's own centre) cannot accept the unit's dispatch.
    other = await _mutate(gw, platform, STEP % "acceptDispatch", "acceptDispatch", id=first["id"])
    assert other["__typename"] == "UserError" and other["code"] == "FORBIDDEN", other
    skipped = await _mutate(gw, unit, STEP % "arriveDispatch", "arriveDispatch", id=first["id"])
    assert skipped["code"] == "INVALID_STATE", skipped

    for step in ("acceptDispatch", "arriveDispatch"):
        done = await _mutate(gw, unit, STEP % step, step, id=first["id"])
        assert done["__typename"] == "Dispatch", done
    # A role that may not add photos is refused before the body is read (every token minted
    # here is the same person "demo", so "another reporter" is covered by the integration
    # test test_R_GRD_01_dispatch_photos_routes.py, not here).
    stranger = gw.mint("fy-market", ["legal_reviewer"])
    refused_upload = await gw.upload_photo(stranger, first["id"], content=PHOTO)
    assert refused_upload.status_code == 403, refused_upload.text
    assert refused_upload.json()["error"]["code"] == "FORBIDDEN"
    after = await gw.upload_photo(unit, first["id"], content=PHOTO + b"after")
    assert after.status_code == 201, after.text
    # The team reads the report's photo back by its id.
    async with httpx.AsyncClient(base_url=gw.coordination, timeout=30) as http:
        got = await http.get(
            f"/dispatches/{first['id']}/photos/{photo}", headers={"Authorization": f"Bearer {unit}"}
        )
    assert got.status_code == 200 and got.content == PHOTO, got.text
    handled = await _mutate(
        gw, unit, HANDLE, "handleDispatch", id=first["id"], photos=[after.json()["id"]]
    )
    assert handled["state"] == "HANDLED", handled
    (a,) = handled["assignments"]
    assert not (a["acceptedLate"] or a["arrivedLate"] or a["handledLate"]), a
    assert {d["state"] for d in handled["deadlines"]} == {"met"}
    result = await _notice(gw, platform, "dispatch.handled", first["id"])
    assert "已劝离摊贩" in result["body"], result

    # 2. Returned with a reason, dispatched again to the township's own centre; the
    # platform's live view shows the dispatch's latest state as it changes.
    changes: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    live = asyncio.create_task(subscription_events(gw, platform, LIVE, {}, changes))
    await asyncio.sleep(2)  # the stream is open before the change
    second = await _mutate(
        gw, grid, REPORT, "reportProblem", **report("夜间施工噪声扰民", "中心街第2网格")
    )
    await _mutate(gw, platform, DISPATCH, "dispatchProblem", id=second["id"], team=UNIT)
    back = await _mutate(gw, unit, RETURN, "returnDispatch", id=second["id"])
    assert back["state"] == "RETURNED", back
    returned = await _notice(gw, platform, "dispatch.returned", second["id"])
    assert "不属市场监管职责" in returned["body"], returned
    again = await _mutate(
        gw, platform, DISPATCH, "dispatchProblem", id=second["id"], team="fy-hancong"
    )
    assert again["state"] == "DISPATCHED" and [x["round"] for x in again["assignments"]] == [1, 2]
    try:
        while True:
            message = await asyncio.wait_for(changes.get(), timeout=30)
            got = message["data"]["dispatchChanged"]
            if got["id"] == second["id"] and got["teamId"] == "fy-hancong":
                break
        assert got["state"] == "DISPATCHED", got
    finally:
        live.cancel()
        await asyncio.gather(live, return_exceptions=True)

    # 3. A third belongs to the market bureau: it becomes a referral.
    evidence = (await gw.upload_photo(grid, content=PHOTO + b"3")).json()["id"]
    third = await _mutate(
        gw, grid, REPORT, "reportProblem", **report("无照经营", "中心街第3网格", evidence)
    )
    referred = await _mutate(gw, platform, REFER, "referDispatch", id=third["id"], to="fy-market")
    assert referred["state"] == "REFERRED" and referred["referralReceiverId"] == "fy-market"
    # The photos go with it: the referral names them (dispatchPhotoIds) and holds copies as
    # its source materials, verified against coordination's digests.
    assert referred["report"]["photoIds"] == [evidence], referred

    # The referral service drafted it in the township's name, and coordination linked it.
    async def drafted() -> dict[str, Any] | None:
        body = await gw.query(platform, TOWN_DRAFTS)
        assert "errors" not in body, body
        for edge in body["data"]["referrals"]["edges"]:
            if edge["node"]["dispatchId"] == third["id"]:
                return dict(edge["node"])
        return None

    draft = await eventually(drafted, what="the referral drafted from the dispatch")
    assert draft["status"] == "DRAFT" and draft["receiver"]["id"] == "fy-market", draft
    assert draft["title"] == "无照经营" and draft["place"] == "寒葱沟镇中心街8号", draft
    assert draft["dispatchPhotoIds"] == [evidence] and draft["matterCode"] == "", draft
    photo_source = {
        "kind": "source",
        "sha256": hashlib.sha256(PHOTO + b"3").hexdigest(),
        "size": len(PHOTO + b"3"),
        "mediaType": "image/jpeg",
    }
    assert draft["materials"] == [photo_source], draft

    async def linked() -> dict[str, Any] | None:
        got = (await gw.query(platform, ONE, {"id": third["id"]}))["data"]["dispatch"]
        return got if got["referralId"] else None

    assert (await eventually(linked, what="the dispatch linked"))["referralId"] == draft["id"]
    to_complete = await _notice(gw, platform, "referral.drafted_from_dispatch", draft["id"])
    assert "无照经营" in to_complete["title"], to_complete
    await _sign(gw, platform, to_complete)
    # The township's clerk names what the dispatch did not know (the matter, the party).
    completed = await _mutate(gw, platform, COMPLETE, "completeReferralDraft", id=draft["id"])
    assert completed["__typename"] == "Referral", completed
    assert completed["matterCode"] == "FY-SCJG-001" and completed["party"] == "某某食杂店"
    assert completed["status"] == "DRAFT" and completed["dispatchId"] == third["id"]
    # R-REF-02: the letter is generated; the photos are the source material; it is sent.
    leader = gw.mint("fy-hancong", ["leader"])
    for token, step, status in (
        (platform, "generateTransferLetter", "DRAFT"),
        (platform, "submitReferral", "PENDING_APPROVAL"),
        (leader, "approveReferral", "APPROVED"),
        (platform, "sendReferral", "SENT"),
    ):
        body = await gw.query(token, REFERRAL_STEP % step, {"id": draft["id"]})
        got = body["data"][step]
        assert got == {"__typename": "Referral", "id": draft["id"], "status": status}, body
    sent = (await gw.query(platform, SENT, {"id": draft["id"]}))["data"]["referral"]
    assert sent["status"] == "SENT"
    photo_source.pop("mediaType")
    assert [m for m in sent["materials"] if m["kind"] == "source"] == [photo_source], sent

    # The platform's list by state, team and area.
    async def ids(token: str, **q: Any) -> set[str]:
        body = await gw.query(token, LIST, q)
        assert "errors" not in body, body
        return {e["node"]["id"] for e in body["data"]["dispatches"]["edges"]}

    assert await ids(platform) == {first["id"], second["id"], third["id"]}
    assert await ids(platform, state="HANDLED") == {first["id"]}
    assert await ids(platform, team="fy-hancong") == {second["id"]}
    assert await ids(platform, area="中心街第3网格") == {third["id"]}
    assert await ids(platform, overdue=True) == set()
    assert await ids(unit) == {first["id"], second["id"]}

    await assert_no_stalls(gw)
