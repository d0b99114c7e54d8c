"""R-GRD-01 photos as materials: the coordination service's photo routes over the kernel's
streaming multipart form (the one the referral's material upload uses), the limits from the
district policy's ``dispatch.photos`` section, on both store adapters (the ``store`` fixture)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from coordination.adapters.dispatch import DispatchRepository
from coordination.adapters.repository import AgencyRepository
from coordination.application.dispatch import (
    DispatchHandlers,
    DispatchProblem,
    ReferDispatch,
    ReportProblem,
)
from coordination.application.handlers import CoordinationHandlers, RegisterAgency
from coordination.domain.model import Liaison
from coordination.entrypoints.http.photos import photo_path, photo_routes
from coordination.policy import policy_of
from kernel.auth import (
    Principal,
    TokenIssuer,
    TokenVerifier,
    ensure_dev_keys,
    service_principal,
)
from kernel.caller import Caller
from kernel.errors import ValidationFailed
from kernel.policy import parse_policy
from kernel.store import DocumentStore
from kernel.wiring import calendar_for

from .test_R_GRD_01_dispatch import AGENCIES, NOW

ISSUER, AUDIENCE = "liandong-test", "liandong"
LIMIT = 64 * 1024  # the policy's max_bytes for these tests: "over" without moving 20 MiB
_TEXT = (Path(__file__).parents[3] / "services/kernel/kernel/policies/huancui.yaml").read_text(
    encoding="utf-8"
)
POLICY = parse_policy(_TEXT.replace("max_bytes: 20971520", f"max_bytes: {LIMIT}"), "test.yaml")

GRID = Principal("p-grid", "p-grid", "hc-zhangcun", "huancui", ("grid_member",))
OTHER_GRID = Principal("p-grid2", "p-grid2", "hc-zhangcun", "huancui", ("grid_member",))
PLATFORM = Principal("p-plat", "p-plat", "hc-zhangcun", "huancui", ("clerk",))
MARKET_UNIT = Principal("p-mu", "p-mu", "hc-zhangcun-market", "huancui", ("clerk",))
SQUAD = Principal("p-sq", "p-sq", "hc-zhangcun-squad", "huancui", ("clerk",))
DEPARTMENT = Principal("p-dep", "p-dep", "hc-market", "huancui", ("clerk",))
REVIEWER = Principal("p-rev", "p-rev", "hc-zhangcun", "huancui", ("legal_reviewer",))


class Photos:
    def __init__(self, store: DocumentStore, h: DispatchHandlers, tmp_path: Path) -> None:
        self.store, self.h = store, h
        keys = ensure_dev_keys(tmp_path)
        self.issuer = TokenIssuer(
            keys.private_key_file.read_bytes(), kid=keys.kid, issuer=ISSUER, audience=AUDIENCE
        )
        verifier = TokenVerifier.from_file(keys.jwks_file, issuer=ISSUER, audience=AUDIENCE)
        app = FastAPI()
        app.include_router(photo_routes(h, verifier, "huancui"))
        self.app = app
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://coordination"
        )

    def auth(self, p: Principal) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.issuer.issue(p)}"}

    async def upload(
        self,
        who: Principal,
        dispatch_id: str | None = None,
        *,
        content: bytes = b"\xff\xd8\xff\xe0" + b"x" * 1000,
        media_type: str = "image/jpeg",
    ) -> httpx.Response:
        path = f"/dispatches/{dispatch_id}/photos" if dispatch_id else "/dispatch-photos"
        return await self.http.post(
            path, headers=self.auth(who), files={"file": ("现场.jpg", content, media_type)}
        )

    async def stored(self) -> int:
        return await self.store.collection("fs.files").count({})


async def _photos(store: DocumentStore, tmp_path: Path) -> Photos:
    agencies = AgencyRepository(store)
    register = CoordinationHandlers(agencies, "huancui")
    for cmd in AGENCIES:
        await register.register_agency_as_system(
            RegisterAgency(**{**cmd.__dict__, "liaisons": (Liaison("联络员", "0631-5200000"),)})
        )
    h = DispatchHandlers(
        DispatchRepository(store),
        agencies,
        POLICY,
        calendar_for(POLICY),
        "huancui",
        clock=lambda: NOW,
        files=store.files(),
    )
    await h.dispatches.ensure_indexes()
    await h.dispatches.aggregates.ensure_indexes()
    return Photos(store, h, tmp_path)


@pytest.fixture
async def photos(store: DocumentStore, tmp_path: Path) -> AsyncIterator[Photos]:
    p = await _photos(store, tmp_path)
    yield p
    await p.http.aclose()


def _report(photo_ids: tuple[str, ...]) -> ReportProblem:
    return ReportProblem(
        platform_id="hc-zhangcun",
        source="grid_member",
        what="流动摊贩占道经营",
        place="张村镇海港路12号",
        area="海港社区第3网格",
        found_at=NOW,
        photo_ids=photo_ids,
    )


def test_R_GRD_01_photo_limit_comes_from_the_policy() -> None:
    assert policy_of(POLICY).dispatch.photos.max_bytes == LIMIT


async def test_R_GRD_01_photo_within_the_limit_is_stored_and_served(
    photos: Photos,
) -> None:
    p = photos
    content = b"\xff\xd8" + b"p" * (LIMIT - 2)  # exactly the limit: just inside
    r = await p.upload(GRID, content=content)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    assert body["size"] == LIMIT and body["mediaType"] == "image/jpeg"
    d = await p.h.report(_report((body["id"],)), Caller(GRID))
    # The team's photo of the result goes to the dispatch's own route.
    await p.h.dispatch(DispatchProblem(d.id, "hc-zhangcun-market"), Caller(PLATFORM))
    r2 = await p.upload(MARKET_UNIT, d.id)
    assert r2.status_code == 201, r2.text
    got = await p.http.get(photo_path(d.id, body["id"]), headers=p.auth(MARKET_UNIT))
    assert got.status_code == 200 and got.content == content
    assert got.headers["content-type"] == "image/jpeg"
    # The reporter reads its own report's photo; a department unrelated to it may not.
    assert (await p.http.get(photo_path(d.id, body["id"]), headers=p.auth(GRID))).status_code == 200
    denied = await p.http.get(photo_path(d.id, body["id"]), headers=p.auth(DEPARTMENT))
    assert denied.status_code == 403


async def test_R_GRD_01_photo_just_over_the_limit_is_refused_and_nothing_stored(
    photos: Photos,
) -> None:
    p = photos
    r = await p.upload(GRID, content=b"\xff\xd8" + b"p" * (LIMIT - 1))  # limit + 1
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "VALIDATION_FAILED"
    assert r.json()["error"]["field"] == "file"
    assert await p.stored() == 0


async def test_R_GRD_01_photo_media_type_and_empty_refused(photos: Photos) -> None:
    r = await photos.upload(GRID, media_type="application/pdf")
    assert r.status_code == 415 and r.json()["error"]["field"] == "mediaType"
    r = await photos.upload(GRID, content=b"")
    assert r.status_code == 400 and r.json()["error"]["field"] == "file"
    assert await photos.stored() == 0


async def test_R_GRD_01_photo_wrong_role_or_agency_refused_before_the_body(
    photos: Photos,
) -> None:
    d = await photos.h.report(_report(()), Caller(GRID))
    await photos.h.dispatch(DispatchProblem(d.id, "hc-zhangcun-market"), Caller(PLATFORM))

    async def never_read() -> AsyncIterator[bytes]:
        raise AssertionError("the body was read before the caller was authorized")
        yield b""  # pragma: no cover

    for who in (SQUAD, DEPARTMENT, OTHER_GRID):
        r = await photos.http.post(
            f"/dispatches/{d.id}/photos",
            headers={
                **photos.auth(who),
                "content-type": "multipart/form-data; boundary=x",
            },
            content=never_read(),
        )
        assert r.status_code == 403, (who.person_id, r.text)
        assert r.json()["error"]["code"] == "FORBIDDEN"
    # A legal reviewer reports no problems: not even a report's photo.
    r = await photos.http.post(
        "/dispatch-photos",
        headers={**photos.auth(REVIEWER), "content-type": "multipart/form-data; boundary=x"},
        content=never_read(),
    )
    assert r.status_code == 403
    assert await photos.stored() == 0


async def test_R_GRD_01_unknown_photo_id_refused(photos: Photos) -> None:
    from kernel.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as e:
        await photos.h.report(_report(("no-such-photo",)), Caller(GRID))
    assert e.value.field == "photoIds.0"
    # Another grid member's upload is not this one's.
    r = await photos.upload(OTHER_GRID)
    with pytest.raises(ValidationFailed) as e:
        await photos.h.report(_report((r.json()["id"],)), Caller(GRID))
    assert e.value.field == "photoIds.0"
    assert await photos.store.collection("dispatches").count({}) == 0


# -- the referral service's identity (R-GRD-01: the photos become the referral's source) ----

SERVICE = service_principal("referral", "huancui")


async def _reported_with_photo(p: Photos) -> tuple[str, str, bytes]:
    content = b"\xff\xd8\xff\xe0" + b"s" * 2000
    r = await p.upload(GRID, content=content)
    assert r.status_code == 201, r.text
    d = await p.h.report(_report((r.json()["id"],)), Caller(GRID))
    return d.id, r.json()["id"], content


async def test_R_GRD_01_the_referral_service_fetches_a_photo_only_once_referred(
    photos: Photos,
) -> None:
    """Its identity holds no relation to a dispatch before it is referred (403), PARTY after
    (200, the report's photo only); everything else stays refused."""
    p = photos
    dispatch_id, photo_id, content = await _reported_with_photo(p)
    path = photo_path(dispatch_id, photo_id)
    before = await p.http.get(path, headers=p.auth(SERVICE))
    assert before.status_code == 403, before.text
    assert before.json()["error"]["code"] == "FORBIDDEN"
    await p.h.refer(ReferDispatch(dispatch_id, "hc-market", "无照经营属市场监管"), Caller(PLATFORM))
    after = await p.http.get(path, headers=p.auth(SERVICE))
    assert after.status_code == 200 and after.content == content
    # A result photo or any other file is not the report's: not found for the service.
    other = await p.upload(GRID, content=b"\xff\xd8other")
    got = await p.http.get(photo_path(dispatch_id, other.json()["id"]), headers=p.auth(SERVICE))
    assert got.status_code == 404
    # The identity uploads nothing, and reads nothing but this route.
    up = await p.upload(SERVICE, dispatch_id)
    assert up.status_code == 403
    assert await p.h.get(dispatch_id, Caller(SERVICE)) is None


async def test_R_GRD_01_another_agency_or_a_look_alike_token_is_refused(photos: Photos) -> None:
    """A user of another agency gets 403 on a referred dispatch's photo; so does a person's
    token that carries the service role beside others, or names an agency; a service token
    of another district is refused by the route's verifier."""
    p = photos
    dispatch_id, photo_id, _ = await _reported_with_photo(p)
    await p.h.refer(ReferDispatch(dispatch_id, "hc-market", "属部门职责"), Caller(PLATFORM))
    path = photo_path(dispatch_id, photo_id)
    look_alikes = [
        DEPARTMENT,  # the receiving department itself reads the referral's materials instead
        Principal("service:referral", "x", "hc-market", "huancui", ("referral_service",)),
        Principal(
            "service:referral", "x", "service:referral", "huancui", ("referral_service", "clerk")
        ),
        Principal("p-x", "x", "service:referral", "huancui", ("referral_service",)),
    ]
    for who in look_alikes:
        r = await p.http.get(path, headers=p.auth(who))
        assert r.status_code == 403, (who, r.text)
    elsewhere = await p.http.get(path, headers=p.auth(service_principal("referral", "fuyuan")))
    assert elsewhere.status_code in (401, 403)
    assert elsewhere.json()["error"]["code"] == "WRONG_DISTRICT"


async def test_R_GRD_01_the_referred_event_carries_each_photos_digest_and_size(
    photos: Photos,
) -> None:
    p = photos
    dispatch_id, photo_id, content = await _reported_with_photo(p)
    await p.h.refer(ReferDispatch(dispatch_id, "hc-market", "属部门职责"), Caller(PLATFORM))
    doc = await p.store.collection("dispatches").find_one({"_id": dispatch_id})
    assert doc is not None
    (event,) = [e for e in doc["outbox"] if e["type"] == "dispatch.referred.v1"]
    assert event["data"]["photo_ids"] == [photo_id]
    assert event["data"]["photos"] == [
        {
            "id": photo_id,
            "name": "现场.jpg",
            "media_type": "image/jpeg",
            "size": len(content),
            "sha256": hashlib.sha256(content).hexdigest(),
        }
    ]


async def test_R_GRD_01_a_photo_for_an_unfiled_report_belongs_to_one_report_only(
    photos: Photos,
) -> None:
    """The same person naming an uploaded photo in a second report is refused with
    PHOTO_ALREADY_USED at its index, and nothing is filed; a fresh photo files (just inside).
    Before the fix the second report was filed with the first one's photo."""
    p = photos
    first = (await p.upload(GRID)).json()["id"]
    fresh = (await p.upload(GRID)).json()["id"]
    await p.h.report(_report((first,)), Caller(GRID))
    before = await p.store.collection("dispatches").count({})
    with pytest.raises(ValidationFailed) as e:
        await p.h.report(_report((fresh, first)), Caller(GRID))
    assert (e.value.code, e.value.field) == ("PHOTO_ALREADY_USED", "photoIds.1")
    assert e.value.stable_code == "VALIDATION_FAILED"
    assert await p.store.collection("dispatches").count({}) == before
    # The refused report claimed nothing: its fresh photo still files on its own.
    d = await p.h.report(_report((fresh,)), Caller(GRID))
    assert d.report.photo_ids == (fresh,)


async def test_R_GRD_01_reports_filed_before_claims_get_them_at_start(photos: Photos) -> None:
    """A report filed before photos were claimed (its claim removed here) gets its claim
    from the start-up step, once: its photo is then refused in a new report."""
    p = photos
    photo = (await p.upload(GRID)).json()["id"]
    await p.h.report(_report((photo,)), Caller(GRID))
    claims = p.store.collection("dispatch_photo_claims")
    await claims.delete_many({})  # as before issue 17's claims
    await p.h.dispatches.claim_filed_photos()
    await p.h.dispatches.claim_filed_photos()  # a second start: nothing more
    assert await claims.count({}) == 2  # the photo's claim and the marker
    with pytest.raises(ValidationFailed) as e:
        await p.h.report(_report((photo,)), Caller(GRID))
    assert e.value.code == "PHOTO_ALREADY_USED"
