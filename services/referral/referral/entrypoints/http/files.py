"""File routes of the referral service: material contents and the transfer letter (移送函).

Hive Gateway proxies GraphQL only, so files go to these routes directly (in production behind
the same ingress as the gateway), authenticated with the same Bearer token as the graph:

* ``POST /referrals/{id}/materials`` (multipart/form-data): ``file`` (the content; its part's
  Content-Type is the media type), ``kind`` (transfer_letter | source | evidence), optional
  ``name`` (default: the file name) and ``sha256`` (when given, the content must match it);
  the fields come before the file part (as browsers' FormData and httpx send them). 201 with
  the material record as JSON. The caller is authorized (the referral's sender, a draft)
  before the body is read; the body is parsed as it arrives and the file streamed into the
  store (never spooled to memory or /tmp), under a hard cap on the whole body whether its
  length was declared or it came chunked (issue 16 finding 4).
* ``GET /referrals/{id}/materials/{material_id}``: the content, for the sending and receiving
  agencies and the supervisor and government roles; others get 403.
* ``GET /referrals/{id}/letter.pdf``: the latest stored transfer letter, same visibility.
* ``GET /referrals/{id}/letter.sig``: the sending agency's detached signature of the issued
  letter (JSON, R-REF-12), checked by ``liandong letter verify``; same visibility.

Errors are JSON ``{"error": {"code", "message", "field"}}`` with the graph's stable codes:
400 validation, 401 no or bad token, 403 not allowed, 404 missing, 409 wrong state or a
concurrent change, 413 too large, 415 media type not accepted.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from kernel.auth import Principal, TokenVerifier
from kernel.caller import Caller
from kernel.errors import ValidationFailed
from kernel.http import CurrentPrincipal, download_headers
from kernel.http_files import FileRoute, file_download, upload_form
from kernel.store import StoredFile
from referral.application.commands import UploadMaterial
from referral.application.handlers import ReferralHandlers
from referral.domain.model import Material

__all__ = ["download_path", "file_routes", "letter_path"]


def download_path(referral_id: str, material_id: str) -> str:
    return f"/referrals/{quote(referral_id)}/materials/{quote(material_id)}"


def letter_path(referral_id: str) -> str:
    return f"/referrals/{quote(referral_id)}/letter.pdf"


def _material_json(referral_id: str, m: Material) -> dict[str, Any]:
    return {
        "id": m.id,
        "kind": m.kind.value,
        "name": m.name,
        "mediaType": m.media_type,
        "size": m.size,
        "sha256": m.sha256,
        "addedBy": m.added_by,
        "addedAt": m.added_at.isoformat(),
        "downloadUrl": download_path(referral_id, m.id),
    }


def _download(info: StoredFile, material: Material, chunks: AsyncIterator[bytes]) -> Any:
    return file_download(info, chunks, material.name or info.filename)


def file_routes(handlers: ReferralHandlers, verifier: TokenVerifier, district: str) -> APIRouter:
    router = APIRouter(route_class=FileRoute)
    authenticated = Depends(CurrentPrincipal(verifier, district))

    @router.post("/referrals/{referral_id}/materials", status_code=201, response_model=None)
    async def upload(
        referral_id: str, request: Request, caller: Principal = authenticated
    ) -> JSONResponse:
        # Issue 16 finding 4: who may add to this referral, and whether it still takes
        # materials, is settled before a byte of the body is read.
        who = Caller(caller, request.headers.get("x-correlation-id"))
        await handlers.materials.check_upload(referral_id, who)
        form = upload_form(request, handlers.materials.max_material_bytes)
        fields, part = await form.fields_before_file()
        kind = fields.get("kind", "")
        if not kind:
            raise ValidationFailed(
                "the 'kind' field is missing (transfer_letter, source or evidence)",
                field="kind",
                code="REQUIRED",
            )
        referral, material = await handlers.materials.upload(
            UploadMaterial(
                referral_id,
                kind=kind,
                name=fields.get("name") or part.filename,
                media_type=part.content_type,
                content=form.file_chunks(),
                declared_sha256=fields.get("sha256") or None,
            ),
            who,
        )
        return JSONResponse(_material_json(referral.id, material), status_code=201)

    @router.get("/referrals/{referral_id}/materials/{material_id}", response_model=None)
    async def download(
        referral_id: str, material_id: str, caller: Principal = authenticated
    ) -> Any:
        material, info, chunks = await handlers.materials.content(
            referral_id, material_id, Caller(caller)
        )
        return _download(info, material, chunks)

    @router.get("/referrals/{referral_id}/letter.pdf", response_model=None)
    async def letter(referral_id: str, caller: Principal = authenticated) -> Any:
        material, info, chunks = await handlers.materials.letter(referral_id, Caller(caller))
        return _download(info, material, chunks)

    @router.get("/referrals/{referral_id}/letter.sig", response_model=None)
    async def letter_signature(referral_id: str, caller: Principal = authenticated) -> Any:
        referral = await handlers.materials.letter_signature(referral_id, Caller(caller))
        document = await handlers.letters.signature_document(referral)
        return JSONResponse(document, headers=download_headers(f"{referral_id}.letter.sig.json"))

    return router
