"""PDF download routes of the coordination service (the gateway proxies GraphQL only):

* ``GET /assistance/{id}/request-letter.pdf``: 协助执法函
* ``GET /assistance/{id}/reply-letter.pdf``: 协助执法复函
* ``GET /meetings/{id}/minutes.pdf``: 会议纪要 (issued minutes)

Bearer-authenticated with the graph's token verifier; the parties and the supervisor and
government roles may download, others get 403. Errors are JSON
``{"error": {"code", "message", "field"}}`` with the graph's stable codes: 401 no or bad
token, 403 not allowed, 404 missing, 409 not yet sent / replied / issued.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from coordination.application.letters import LetterService, RenderedDocument
from kernel.auth import AuthError, Principal, TokenVerifier
from kernel.caller import Caller
from kernel.errors import DomainError
from kernel.http import download_headers

__all__ = ["letter_routes"]

_STATUS = {
    "VALIDATION_FAILED": 400,
    "UNAUTHENTICATED": 401,
    "FORBIDDEN": 403,
    "NOT_FOUND": 404,
    "INVALID_STATE": 409,
    "CONFLICT": 409,
}


def _error(status: int, code: str, message: str, field: str | None = None) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message, "field": field}}, status_code=status
    )


def letter_routes(letters: LetterService, verifier: TokenVerifier, district: str) -> APIRouter:
    router = APIRouter()

    def principal(request: Request) -> Principal:
        found = verifier.verify_header(request.headers.get("authorization"))
        if found.district != district:
            raise AuthError(
                f"this deployment serves district {district!r}; the token is for "
                f"{found.district!r}",
                "FORBIDDEN",
            )
        return found

    async def serve(
        request: Request, render: Callable[[Caller], Awaitable[RenderedDocument]]
    ) -> Response:
        try:
            doc = await render(Caller(principal(request), request.headers.get("x-correlation-id")))
        except AuthError as exc:
            return _error(401 if exc.code == "UNAUTHENTICATED" else 403, exc.code, str(exc))
        except DomainError as exc:
            return _error(_STATUS.get(exc.code, 400), exc.code, str(exc), exc.field)
        return Response(
            doc.content,
            media_type="application/pdf",
            headers=download_headers(doc.filename),
        )

    @router.get("/assistance/{request_id}/request-letter.pdf", response_model=None)
    async def request_letter(request_id: str, request: Request) -> Response:
        return await serve(request, lambda caller: letters.request_letter(request_id, caller))

    @router.get("/assistance/{request_id}/reply-letter.pdf", response_model=None)
    async def reply_letter(request_id: str, request: Request) -> Response:
        return await serve(request, lambda caller: letters.reply_letter(request_id, caller))

    @router.get("/meetings/{meeting_id}/minutes.pdf", response_model=None)
    async def minutes(meeting_id: str, request: Request) -> Response:
        return await serve(request, lambda caller: letters.minutes(meeting_id, caller))

    return router
