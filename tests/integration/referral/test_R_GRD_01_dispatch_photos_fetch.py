"""R-GRD-01 (转为移送): a referred dispatch's photos become the referral's source materials.

The referral service fetches each photo from coordination under its own identity (a token of
the kernel's machinery, :mod:`kernel.service_identity`), retried while coordination is briefly
unavailable, checks the bytes against the SHA-256 and size of ``dispatch.referred.v1`` and
drafts the referral with all of them, or with none and nothing stored (the event is
redelivered). A redelivered event fetches nothing and duplicates nothing. On both stores.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from coordination.application.dispatch import ReferDispatch
from coordination.contracts.dispatch import DispatchReferredV1
from coordination.entrypoints.http.photos import photo_path
from kernel.caller import Caller
from kernel.envelope import Envelope, new_envelope
from kernel.service_identity import FetchRefused, ServiceClient, ServiceCredential
from kernel.settings import Settings
from kernel.store import DocumentStore, FileContent, FileStore, StoredFile
from referral.adapters.dispatch_photos import CoordinationPhotos
from referral.adapters.repository import AgencyDirectory, ReferralRepository
from referral.application.handlers import ReferralHandlers
from referral.application.reactions import DispatchPhotoRefused, referral_id_of_dispatch
from referral.domain.model import AgencyRef, MaterialKind
from tests.integration.coordination.test_R_GRD_01_dispatch import NOW
from tests.integration.coordination.test_R_GRD_01_dispatch_photos_routes import (
    AUDIENCE,
    GRID,
    ISSUER,
    PLATFORM,
    POLICY,
    Photos,
    _photos,
    _report,
)

JPEG_1 = b"\xff\xd8\xff\xe0" + b"1" * 3000
JPEG_2 = b"\xff\xd8\xff\xe0" + b"2" * 5000


class Outage(httpx.AsyncBaseTransport):
    """Coordination unreachable for the first ``down`` requests, then served."""

    def __init__(self, inner: httpx.AsyncBaseTransport, down: int) -> None:
        self.inner, self.down, self.requests = inner, down, 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        if self.requests <= self.down:
            if self.requests % 2:
                raise httpx.ConnectError("connection refused", request=request)
            return httpx.Response(503, text="starting")
        return await self.inner.handle_async_request(request)


class Recorded:
    """The real file store, remembering the ids of what the referral service put."""

    def __init__(self, files: FileStore) -> None:
        self.files = files
        self.put_ids: list[str] = []

    async def put(self, content: FileContent, **kw: Any) -> StoredFile:
        stored = await self.files.put(content, **kw)
        self.put_ids.append(stored.id)
        return stored

    def __getattr__(self, name: str) -> Any:
        return getattr(self.files, name)


class Both:
    """Coordination's photo routes and the referral service's handlers on one store."""

    def __init__(self, photos: Photos, store: DocumentStore, tmp_path: Path) -> None:
        self.photos = photos
        self.store = store
        self.recorder = Recorded(store.files())
        settings = Settings(
            district="huancui", data_dir=tmp_path, jwt_issuer=ISSUER, jwt_audience=AUDIENCE
        )
        self.credential = ServiceCredential(settings, "referral")
        self.transport = Outage(httpx.ASGITransport(app=photos.app), down=0)
        self.client = ServiceClient(
            "http://coordination",
            self.credential,
            attempts=4,
            backoff_seconds=0,
            transport=self.transport,
        )
        self.referrals = ReferralRepository(store)
        self.agencies = AgencyDirectory(store)
        self.h = ReferralHandlers(
            self.referrals,
            self.agencies,
            POLICY,
            POLICY.working_calendar(),
            "huancui",
            lambda: NOW + timedelta(hours=1),
            files=self.recorder,
            dispatch_photos=CoordinationPhotos(self.client),
        )

    async def setup(self) -> Both:
        await self.referrals.ensure_indexes()
        await self.agencies.put(AgencyRef("hc-zhangcun", "张村镇人民政府", "township", False), 1)
        await self.agencies.put(AgencyRef("hc-market", "环翠区市场监管局", "department", False), 1)
        return self

    async def referred(self, *contents: bytes) -> Envelope:
        """A dispatch reported with these photos and referred; its event as published."""
        ids = []
        for content in contents:
            r = await self.photos.upload(GRID, content=content)
            assert r.status_code == 201, r.text
            ids.append(r.json()["id"])
        d = await self.photos.h.report(_report(tuple(ids)), Caller(GRID))
        await self.photos.h.refer(ReferDispatch(d.id, "hc-market", "属市场监管"), Caller(PLATFORM))
        doc = await self.store.collection("dispatches").find_one({"_id": d.id})
        assert doc is not None
        (data,) = [e["data"] for e in doc["outbox"] if e["type"] == "dispatch.referred.v1"]
        payload = DispatchReferredV1.model_validate(data)
        return new_envelope(payload, district="huancui", service="coordination", subject=d.id)

    async def files(self) -> int:
        """The referral's copies still stored (of every file it put)."""
        return sum([await self.store.files().exists(i) for i in self.recorder.put_ids])


@pytest.fixture
async def both(store: DocumentStore, tmp_path: Path) -> AsyncIterator[Both]:
    photos = await _photos(store, tmp_path)
    yield await Both(photos, store, tmp_path).setup()
    await photos.http.aclose()


async def test_R_GRD_01_the_photos_become_source_materials_once(both: Both) -> None:
    """After a brief outage (two failed attempts), every photo is a source material with
    coordination's digest; a redelivery fetches nothing and adds nothing."""
    envelope = await both.referred(JPEG_1, JPEG_2)
    both.transport.down = 2
    react = both.h.reactions.when_dispatch_referred_draft_referral
    await react(envelope)
    rid = referral_id_of_dispatch(envelope.subject or "")
    r = await both.referrals.get(rid)
    assert r is not None
    assert [(m.kind, m.sha256, m.size) for m in r.materials] == [
        (MaterialKind.SOURCE, hashlib.sha256(c).hexdigest(), len(c)) for c in (JPEG_1, JPEG_2)
    ]
    assert all(m.file_id and m.media_type == "image/jpeg" for m in r.materials)
    for m in r.materials:
        assert await both.store.files().read(m.file_id or "") in (JPEG_1, JPEG_2)
    assert both.transport.requests == 4  # two failures, two photos
    await react(envelope)  # redelivered
    again = await both.referrals.get(rid)
    assert again is not None and again.materials == r.materials
    assert both.transport.requests == 4 and await both.files() == 2


async def test_R_GRD_01_coordination_unavailable_throughout_drafts_nothing(both: Both) -> None:
    """Four attempts (the limit) all failing: no draft and no stored photo; the redelivery
    once coordination is back drafts it whole."""
    envelope = await both.referred(JPEG_1, JPEG_2)
    react = both.h.reactions.when_dispatch_referred_draft_referral
    # Photo 1 is served; photo 2 meets four failures (the attempts of the settings).
    served = both.transport.inner

    class SecondDown(httpx.AsyncBaseTransport):
        calls = 0

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            SecondDown.calls += 1
            if SecondDown.calls == 1:
                return await served.handle_async_request(request)
            raise httpx.ConnectError("down", request=request)

    both.transport.inner = SecondDown()
    with pytest.raises(Exception, match="failed 4 times"):
        await react(envelope)
    assert SecondDown.calls == 1 + 4
    rid = referral_id_of_dispatch(envelope.subject or "")
    assert await both.referrals.get(rid) is None
    assert await both.files() == 0  # the first photo was not left behind
    both.transport.inner = served
    await react(envelope)
    r = await both.referrals.get(rid)
    assert r is not None and len(r.materials) == 2 and await both.files() == 2


async def test_R_GRD_01_bytes_not_matching_the_digest_are_refused(both: Both) -> None:
    """A photo whose bytes differ from the event's SHA-256 (same size): nothing drafted,
    nothing stored; the same for a size that differs. Just inside: the true digest drafts."""
    envelope = await both.referred(JPEG_1)
    data = envelope.payload(DispatchReferredV1).model_dump()
    tampered = dict(data["photos"][0], sha256=hashlib.sha256(b"other").hexdigest())
    react = both.h.reactions.when_dispatch_referred_draft_referral
    for photo in (tampered, dict(data["photos"][0], size=len(JPEG_1) + 1)):
        bad = new_envelope(
            DispatchReferredV1.model_validate({**data, "photos": [photo]}),
            district="huancui",
            service="coordination",
            subject=envelope.subject,
        )
        with pytest.raises(DispatchPhotoRefused):
            await react(bad)
        assert await both.referrals.get(referral_id_of_dispatch(envelope.subject or "")) is None
        assert await both.files() == 0
    await react(envelope)
    r = await both.referrals.get(referral_id_of_dispatch(envelope.subject or ""))
    assert r is not None and r.materials[0].sha256 == hashlib.sha256(JPEG_1).hexdigest()


async def test_R_GRD_01_an_unreferred_dispatchs_photo_is_refused_at_once(both: Both) -> None:
    """The service identity asking for a photo of a dispatch not referred: 403, not retried."""
    r = await both.photos.upload(GRID, content=JPEG_1)
    d = await both.photos.h.report(_report((r.json()["id"],)), Caller(GRID))
    with pytest.raises(FetchRefused) as e:
        await both.client.get_bytes(photo_path(d.id, r.json()["id"]), max_bytes=10**6)
    assert e.value.status == 403 and both.transport.requests == 1
