"""Photo routes of grid dispatch (R-GRD-01: "photos as materials through the same file routes
and limits the referral service uses"): the kernel's streaming multipart form
(:mod:`kernel.http_files`, the referral's material upload uses the same), size and media
types from the district policy's ``dispatch.photos`` section.

* ``POST /dispatch-photos`` (multipart/form-data, a ``file`` part, optional ``name`` field
  before it): a photo for a report not yet filed; whoever may report a problem. The id it
  answers goes into ``reportProblem``'s ``photoIds`` (only the uploader may name it).
* ``POST /dispatches/{id}/photos``: a photo for that dispatch (its reporter, the platform,
  its teams); ``handleDispatch``'s ``photoIds`` name only these.
* ``GET /dispatches/{id}/photos/{photo_id}``: the content, for whoever may read the dispatch.

The caller is authorized before a byte of the body is read. 201 with
``{"id", "name", "mediaType", "size", "sha256"}``; errors are JSON
``{"error": {"code", "message", "field"}}``: 400 validation, 401, 403, 404, 413 too large
(code VALIDATION_FAILED, field ``file``, nothing stored), 415 media type not accepted.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from coordination.application.dispatch import DispatchHandlers, UploadDispatchPhoto
from kernel.auth import Principal, TokenVerifier
from kernel.caller import Caller
from kernel.http import CurrentPrincipal
from kernel.http_files import FileRoute, file_download, upload_form
from kernel.store import StoredFile

__all__ = ["photo_path", "photo_routes"]


def photo_path(dispatch_id: str, photo_id: str) -> str:
    return f"/dispatches/{quote(dispatch_id)}/photos/{quote(photo_id)}"


def _photo_json(stored: StoredFile) -> dict[str, Any]:
    return {
        "id": stored.id,
        "name": stored.filename,
        "mediaType": stored.media_type,
        "size": stored.size,
        "sha256": stored.sha256,
    }


def photo_routes(dispatch: DispatchHandlers, verifier: TokenVerifier, district: str) -> APIRouter:
    router = APIRouter(route_class=FileRoute)
    authenticated = Depends(CurrentPrincipal(verifier, district))
    # The download route alone also accepts the referral service's identity (R-GRD-01: a
    # referred dispatch's photos become the referral's source material).
    reader = Depends(CurrentPrincipal(verifier, district, services=frozenset({"referral"})))

    async def upload(dispatch_id: str | None, request: Request, principal: Principal) -> Any:
        who = Caller(principal, request.headers.get("x-correlation-id"))
        await dispatch.check_photo_upload(dispatch_id, who)
        form = upload_form(request, dispatch.max_photo_bytes)
        fields, part = await form.fields_before_file()
        stored = await dispatch.upload_photo(
            UploadDispatchPhoto(
                dispatch_id,
                name=fields.get("name") or part.filename,
                media_type=part.content_type,
                content=form.file_chunks(),
            ),
            who,
        )
        return JSONResponse(_photo_json(stored), status_code=201)

    @router.post("/dispatch-photos", status_code=201, response_model=None)
    async def upload_for_report(request: Request, caller: Principal = authenticated) -> Any:
        return await upload(None, request, caller)

    @router.post("/dispatches/{dispatch_id}/photos", status_code=201, response_model=None)
    async def upload_for_dispatch(
        dispatch_id: str, request: Request, caller: Principal = authenticated
    ) -> Any:
        return await upload(dispatch_id, request, caller)

    @router.get("/dispatches/{dispatch_id}/photos/{photo_id}", response_model=None)
    async def download(dispatch_id: str, photo_id: str, caller: Principal = reader) -> Any:
        info, chunks = await dispatch.photo(dispatch_id, photo_id, Caller(caller))
        return file_download(info, chunks)

    return router
