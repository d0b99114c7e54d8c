"""Material contents and the transfer letter (移送函) through the referral service's file
routes (R-REF-02, R-REF-12), on both store adapters: upload with limits and digest checks,
download only for the parties and supervisors, the generated letter's hash signed."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from coordination.contracts.published import AgencyRegisteredV1, LiaisonV1
from kernel.adapters.official_pdf import render_pdf
from kernel.auth import Principal, TokenIssuer, TokenVerifier, ensure_dev_keys
from kernel.caller import Caller
from kernel.envelope import new_envelope
from kernel.policy import load_policy
from kernel.store import DocumentStore
from referral.application.commands import (
    ApproveReferral,
    GenerateTransferLetter,
    RemoveMaterial,
    SendReferral,
    SetElectronicConsent,
    SubmitReferral,
)
from referral.entrypoints.graphql.schema import Referral as ReferralType
from referral.entrypoints.graphql.types import referral_materials
from referral.entrypoints.http.files import file_routes

from .test_referral_service import (
    DISTRICT,
    GOV,
    MARKET_CLERK,
    MARKET_LEADER,
    NONGQIAO_CLERK,
    TOWN_CLERK,
    TOWN_LEADER,
    Service,
)

ISSUER, AUDIENCE = "liandong-test", "liandong"
PHOTO = b"\xff\xd8\xff\xe0 not really a jpeg, but bytes " * 100


class Files:
    """The service plus an HTTP client on its file routes and a token per principal."""

    def __init__(self, svc: Service, tmp_path: Path) -> None:
        self.svc = svc
        keys = ensure_dev_keys(tmp_path)
        self.issuer = TokenIssuer(
            keys.private_key_file.read_bytes(), kid=keys.kid, issuer=ISSUER, audience=AUDIENCE
        )
        verifier = TokenVerifier.from_file(keys.jwks_file, issuer=ISSUER, audience=AUDIENCE)
        app = FastAPI()
        app.include_router(file_routes(svc.h, verifier, DISTRICT))
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://referral"
        )

    def auth(self, p: Principal) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.issuer.issue(p)}"}

    async def upload(
        self,
        referral_id: str,
        who: Principal | None = MARKET_CLERK,
        *,
        content: bytes = PHOTO,
        media_type: str = "image/jpeg",
        data: dict[str, str] | None = None,
    ) -> httpx.Response:
        return await self.http.post(
            f"/referrals/{referral_id}/materials",
            headers=self.auth(who) if who else {},
            files={"file": ("现场照片.jpg", content, media_type)},
            data={"kind": "source"} if data is None else data,
        )

    async def get(self, path: str, who: Principal) -> httpx.Response:
        return await self.http.get(path, headers=self.auth(who))


async def _files(store: DocumentStore, tmp_path: Path) -> Files:
    svc = await Service(store, load_policy(DISTRICT)).setup()
    svc.h.ports.files_port = store.files()
    svc.h.ports.render_port = render_pdf
    svc.h.ports.max_material_bytes = 64 * 1024  # "oversized" without moving 200 MB
    return Files(svc, tmp_path)


@pytest.fixture
async def files(store: DocumentStore, tmp_path: Path) -> AsyncIterator[Files]:
    f = await _files(store, tmp_path)
    yield f
    await f.http.aclose()


@pytest.fixture
async def embedded(embedded_store: DocumentStore, tmp_path: Path) -> AsyncIterator[Files]:
    f = await _files(embedded_store, tmp_path)
    yield f
    await f.http.aclose()


def _poppler(tool: str, *args: Path | str) -> str:
    """poppler-utils (installed by scripts/infra/fonts.sh) reading a PDF back."""
    done = subprocess.run([tool, *map(str, args)], check=True, capture_output=True, text=True)
    return done.stdout


async def _draft(f: Files) -> str:
    r = await f.svc.h.referrals.draft(f.svc.draft_cmd(), Caller(MARKET_CLERK))
    return r.id


async def test_R_REF_02_uploaded_content_is_recorded_and_read_only_by_parties(
    files: Files,
) -> None:
    rid = await _draft(files)
    digest = hashlib.sha256(PHOTO).hexdigest()
    resp = await files.upload(rid, data={"kind": "source", "sha256": digest.upper()})
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert (body["kind"], body["mediaType"], body["size"], body["sha256"]) == (
        "source",
        "image/jpeg",
        len(PHOTO),
        digest,
    )
    assert body["name"] == "现场照片.jpg"
    referral = await files.svc.referrals.get(rid)
    assert referral is not None
    material = referral.materials[-1]
    assert material.file_id and material.sha256 == digest
    event = (await files.svc.events(rid))[-1]["data"]
    assert event["has_content"] is True and event["sha256"] == digest
    cal, now = files.svc.h.ports.calendar, files.svc.h.clock()
    graph = referral_materials(ReferralType.from_model(referral, cal, now, content_visible=True))
    assert graph[-1].download_url == body["downloadUrl"]
    assert graph[-1].has_content is True
    hidden = ReferralType.from_model(referral, cal, now, content_visible=False)
    assert referral_materials(hidden)[-1].download_url is None
    assert referral_materials(hidden)[-1].has_content

    for reader in (MARKET_CLERK, TOWN_CLERK, GOV):  # sender, receiver, government
        got = await files.get(body["downloadUrl"], reader)
        assert got.status_code == 200, (reader.agency_id, got.text)
        assert got.content == PHOTO
        assert got.headers["content-type"] == "image/jpeg"
        assert got.headers["x-content-sha256"] == digest
    denied = await files.get(body["downloadUrl"], NONGQIAO_CLERK)
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "FORBIDDEN"
    missing = await files.get(f"/referrals/{rid}/materials/nope", MARKET_CLERK)
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "materialId"


async def test_R_REF_02_bad_uploads_are_refused_with_the_reason_and_change_nothing(
    files: Files,
) -> None:
    rid = await _draft(files)
    before = await files.svc.raw(rid)
    cases: list[tuple[Any, int, str | None]] = [
        (files.upload(rid, media_type="application/x-msdownload"), 415, "mediaType"),
        (files.upload(rid, data={"kind": "source", "sha256": "0" * 64}), 400, "sha256"),
        (files.upload(rid, data={"kind": "source", "sha256": "xyz"}), 400, "sha256"),
        (files.upload(rid, content=b"x" * (64 * 1024 + 1)), 413, "file"),
        (files.upload(rid, content=b""), 400, "file"),
        (files.upload(rid, data={}), 400, "kind"),
        (files.upload(rid, data={"kind": "photo"}), 400, "kind"),
        (files.upload(rid, TOWN_CLERK), 403, None),  # not the sender's staff
        (files.upload(rid, None), 401, None),
        (files.upload("no-such-referral"), 404, "id"),
    ]
    for call, status, field in cases:
        resp = await call
        assert resp.status_code == status, resp.text
        assert resp.json()["error"]["field"] == field, resp.text
        assert resp.json()["error"]["message"]
    assert await files.svc.raw(rid) == before
    assert not (await files.svc.referrals.get(rid)).materials  # type: ignore[union-attr]


async def test_R_REF_02_no_uploads_once_sent(embedded: Files) -> None:
    r = await embedded.svc.complete_draft()
    await embedded.svc.h.referrals.submit(SubmitReferral(r.id), Caller(MARKET_CLERK))
    await embedded.svc.h.referrals.approve(ApproveReferral(r.id), Caller(MARKET_LEADER))
    await embedded.svc.h.referrals.send(SendReferral(r.id), Caller(MARKET_CLERK))
    before = await embedded.svc.raw(r.id)
    stored = await embedded.svc.store.collection("_files").count({})
    resp = await embedded.upload(r.id)
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "INVALID_STATE"
    assert await embedded.svc.raw(r.id) == before
    assert await embedded.svc.store.collection("_files").count({}) == stored


async def test_R_REF_02_removing_a_material_removes_its_content(embedded: Files) -> None:
    rid = await _draft(embedded)
    body = (await embedded.upload(rid)).json()
    referral = await embedded.svc.referrals.get(rid)
    assert referral is not None
    file_id = referral.materials[-1].file_id
    assert file_id is not None
    await embedded.svc.h.materials.remove(RemoveMaterial(rid, body["id"]), Caller(MARKET_CLERK))
    assert not await embedded.svc.store.files().exists(file_id)


async def test_R_REF_12_generated_letter_is_downloadable_and_its_hash_is_signed(
    files: Files, tmp_path: Path
) -> None:
    svc = files.svc
    r = await svc.h.referrals.draft(svc.draft_cmd(), Caller(MARKET_CLERK))
    await svc.upload(r.id, "source", "现场检查记录.jpg", PHOTO)
    await svc.upload(r.id, "evidence", "询问笔录.pdf", b"%PDF-1.4 record of questioning")
    assert (await files.get(f"/referrals/{r.id}/letter.pdf", MARKET_CLERK)).status_code == 404
    # R-AG-03: the sender's referral liaison, learnt from coordination's event, is printed.
    await svc.h.reactions.when_agency_registered_update_directory(
        new_envelope(
            AgencyRegisteredV1(
                agency_id="fy-market",
                name="抚远市市场监督管理局",
                kind="department",
                district="fuyuan",
                liaisons=[LiaisonV1(name="李春梅", phone="0454-5420102", duty="referral")],
                version=2,
            ),
            district="fuyuan",
            service="coordination",
        )
    )
    r, letter = await svc.h.materials.generate_transfer_letter(
        GenerateTransferLetter(r.id), Caller(MARKET_CLERK)
    )
    assert (letter.kind.value, letter.name, letter.media_type) == (
        "transfer_letter",
        "移送函.pdf",
        "application/pdf",
    )
    assert ReferralType.from_model(
        r, svc.h.ports.calendar, svc.h.clock(), content_visible=True
    ).transfer_letter_url == (f"/referrals/{r.id}/letter.pdf")
    got = await files.get(f"/referrals/{r.id}/letter.pdf", TOWN_CLERK)
    assert got.status_code == 200 and got.headers["content-type"] == "application/pdf"
    assert hashlib.sha256(got.content).hexdigest() == letter.sha256
    # Never sniffed into something a browser would run, never kept by a shared cache.
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["cache-control"] == "private, no-store"
    assert got.headers["content-disposition"] == (
        "attachment; filename*=UTF-8''%E7%A7%BB%E9%80%81%E5%87%BD.pdf"
    )
    assert (await files.get(f"/referrals/{r.id}/letter.pdf", NONGQIAO_CLERK)).status_code == 403

    pdf = tmp_path / "letter.pdf"
    pdf.write_bytes(got.content)
    text = _poppler("pdftotext", pdf, "-")
    flat = "".join(text.split())
    for expected in (
        "抚远市市场监督管理局",  # sender (落款, 版头)
        "寒葱沟镇人民政府",  # addressee (主送机关)
        "关于移送无证经营的函",
        "当事人未取得营业执照从事食品经营活动",  # the facts
        "某某食杂店",
        "寒葱沟镇中心街12号",
        "附件：1.现场检查记录",  # the materials list (附件), numbered, without extensions
        "2.询问笔录",
        "抚远移〔2026〕号",  # a draft's 文号 is blank: drawn when the letter is issued
        "二〇二六年十一月三十日",  # the date in Chinese numerals
        "联系人：李春梅0454-5420102",  # R-AG-03
    ):
        assert expected in flat, (expected, text)
    assert "(A4)" in _poppler("pdfinfo", pdf)

    # Sent (electronically, R-REF-12): the letter is issued with the agency's next number
    # and signed over the issued letter's stored bytes.
    await svc.h.referrals.set_electronic_consent(
        SetElectronicConsent("fy-market", True), Caller(TOWN_LEADER)
    )
    await svc.h.referrals.submit(SubmitReferral(r.id), Caller(MARKET_CLERK))
    await svc.h.referrals.approve(ApproveReferral(r.id), Caller(MARKET_LEADER))
    sent = await svc.h.referrals.send(SendReferral(r.id, electronic=True), Caller(MARKET_LEADER))
    assert sent.letter_number == "抚远移〔2026〕1号"
    issued = sent.materials[-1]
    assert (issued.kind.value, issued.name) == (
        "transfer_letter",
        "移送函（抚远移〔2026〕1号）.pdf",
    )
    assert sent.signature is not None and sent.signature.letter_sha256 == issued.sha256
    assert sent.signature.material_id == issued.id and issued.sha256 != letter.sha256
    assert (await svc.events(r.id))[-1]["data"]["letter_sha256"] == issued.sha256
    got = await files.get(f"/referrals/{r.id}/letter.pdf", TOWN_CLERK)
    assert hashlib.sha256(got.content).hexdigest() == issued.sha256
    pdf.write_bytes(got.content)
    flat = "".join(_poppler("pdftotext", pdf, "-").split())
    assert "抚远移〔2026〕1号" in flat and "附件：1.现场检查记录" in flat
    assert (await svc.h.letters.verify(sent)).valid


# -- issue 16 finding 4: authorize first, stream with a hard cap, never spool -------------------

BOUNDARY = "liandong-test-boundary"
LIMIT = 64 * 1024  # the fixture's material limit


def chunked_upload(
    file_bytes: bytes, pulled: list[int], *, piece: int = 16 * 1024, kind: str = "source"
) -> AsyncIterator[bytes]:
    """A multipart body sent without a Content-Length (chunked), counting what the server
    pulls of it."""
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="kind"\r\n\r\n{kind}\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="big.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    pieces = [head, *(file_bytes[i : i + piece] for i in range(0, len(file_bytes), piece)), tail]

    async def body() -> AsyncIterator[bytes]:
        for p in pieces:
            pulled.append(len(p))
            yield p

    return body()


async def _post_chunked(f: Files, rid: str, who: Principal, body: AsyncIterator[bytes]) -> Any:
    return await f.http.post(
        f"/referrals/{rid}/materials",
        content=body,
        headers={**f.auth(who), "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
    )


async def test_issue_16_an_upload_by_someone_else_is_refused_before_its_body_is_read(
    embedded: Files,
) -> None:
    """Finding 4 (failed before: request.form() read, and spooled, the whole body before
    anyone asked who was uploading): the receiving township's clerk, or a clerk of an
    uninvolved agency, gets 403 and not one byte of the body is read."""
    rid = await _draft(embedded)
    for outsider in (TOWN_CLERK, NONGQIAO_CLERK):
        pulled: list[int] = []
        resp = await _post_chunked(embedded, rid, outsider, chunked_upload(b"x" * 2**20, pulled))
        assert resp.status_code == 403, resp.text
        assert sum(pulled) == 0, f"{sum(pulled)} bytes read before the refusal"
    assert not (await embedded.svc.referrals.get(rid)).materials  # type: ignore[union-attr]


async def test_issue_16_a_chunked_body_over_the_limit_is_cut_off_at_the_cap(
    embedded: Files,
) -> None:
    """Finding 4 (failed before: the size check ran only on a declared Content-Length, so a
    chunked body was read whole): 413 once the body passes the limit plus the multipart
    framing, the rest never read, nothing stored."""
    rid = await _draft(embedded)
    files_before = await embedded.svc.store.collection("_files").count({})
    pulled: list[int] = []
    total = 16 * LIMIT
    resp = await _post_chunked(embedded, rid, MARKET_CLERK, chunked_upload(b"x" * total, pulled))
    assert resp.status_code == 413, resp.text
    assert resp.json()["error"]["field"] == "file"
    assert sum(pulled) <= LIMIT + 64 * 1024 + 16 * 1024, sum(pulled)  # limit + framing + a piece
    assert sum(pulled) < total
    assert await embedded.svc.store.collection("_files").count({}) == files_before
    assert not (await embedded.svc.referrals.get(rid)).materials  # type: ignore[union-attr]
    # Just inside the limit, chunked: stored, with the size and hash the server computed.
    pulled = []
    ok = await _post_chunked(embedded, rid, MARKET_CLERK, chunked_upload(b"y" * LIMIT, pulled))
    assert ok.status_code == 201, ok.text
    assert ok.json()["size"] == LIMIT
    assert ok.json()["sha256"] == hashlib.sha256(b"y" * LIMIT).hexdigest()


async def test_issue_16_uploads_are_never_spooled_to_temporary_files(
    embedded: Files, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding 4 (failed before: Starlette's form parser spooled every file part into a
    SpooledTemporaryFile, memory then /tmp, whose Kubernetes limit, 64 Mi, is below the
    material limit, 200 MiB): with every temporary-file maker broken, uploads still work."""
    import tempfile

    import starlette.formparsers

    def no_temporary_files(*_: Any, **__: Any) -> Any:
        raise AssertionError("an upload must not spool to a temporary file")

    for name in ("SpooledTemporaryFile", "TemporaryFile", "NamedTemporaryFile", "mkstemp"):
        monkeypatch.setattr(tempfile, name, no_temporary_files)
    monkeypatch.setattr(starlette.formparsers, "SpooledTemporaryFile", no_temporary_files)
    rid = await _draft(embedded)
    resp = await embedded.upload(rid, content=b"z" * (LIMIT - 1))
    assert resp.status_code == 201, resp.text
    pulled: list[int] = []
    chunked = await _post_chunked(
        embedded, rid, MARKET_CLERK, chunked_upload(b"w" * (LIMIT // 2), pulled)
    )
    assert chunked.status_code == 201, chunked.text
