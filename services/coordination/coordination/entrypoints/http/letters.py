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

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from coordination.application.letters import LetterService, RenderedDocument
from kernel.auth import Principal, TokenVerifier
from kernel.caller import Caller
from kernel.http import CurrentPrincipal, JsonErrorRoute, download_headers

__all__ = ["letter_routes"]


def letter_routes(letters: LetterService, verifier: TokenVerifier, district: str) -> APIRouter:
    router = APIRouter(route_class=JsonErrorRoute)
    authenticated = Depends(CurrentPrincipal(verifier, district))

    async def serve(
        request: Request,
        principal: Principal,
        render: Callable[[Caller], Awaitable[RenderedDocument]],
    ) -> Response:
        doc = await render(Caller(principal, request.headers.get("x-correlation-id")))
        return Response(
            doc.content,
            media_type="application/pdf",
            headers=download_headers(doc.filename),
        )

    @router.get("/assistance/{request_id}/request-letter.pdf", response_model=None)
    async def request_letter(
        request_id: str, request: Request, principal: Principal = authenticated
    ) -> Response:
        return await serve(
            request, principal, lambda caller: letters.request_letter(request_id, caller)
        )

    @router.get("/assistance/{request_id}/reply-letter.pdf", response_model=None)
    async def reply_letter(
        request_id: str, request: Request, principal: Principal = authenticated
    ) -> Response:
        return await serve(
            request, principal, lambda caller: letters.reply_letter(request_id, caller)
        )

    @router.get("/meetings/{meeting_id}/minutes.pdf", response_model=None)
    async def minutes(
        meeting_id: str, request: Request, principal: Principal = authenticated
    ) -> Response:
        return await serve(request, principal, lambda caller: letters.minutes(meeting_id, caller))

    return router
