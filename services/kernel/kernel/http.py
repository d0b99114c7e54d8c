"""The HTTP face of a service: GraphQL subgraph, health and readiness, and the kit of the
plain HTTP routes (file downloads and uploads): the verified caller as a dependency
(:class:`CurrentPrincipal`) and one JSON error shape (:class:`JsonErrorRoute`)."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.datastructures import Headers, MutableHeaders
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.fastapi import GraphQLRouter
from strawberry.federation import Schema

from kernel import metrics
from kernel.auth import AuthError, Principal, TokenVerifier, accept_service_identity
from kernel.errors import DomainError
from kernel.gateway_signature import install_gateway_signature
from kernel.graphql.context import RequestContext
from kernel.graphql.errors import ErrorCode
from kernel.logs import bind, configure_logging
from kernel.runtime import ServiceRuntime
from kernel.store import StoreUnavailableError
from kernel.telemetry import instrument_app

__all__ = [
    "ERROR_STATUS",
    "CurrentPrincipal",
    "JsonErrorRoute",
    "create_service_app",
    "download_headers",
    "error_response",
]

#: The HTTP status of each stable error code (the codes of ``kernel.graphql.ErrorCode``).
ERROR_STATUS: dict[str, int] = {
    ErrorCode.VALIDATION: 400,
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.WRONG_DISTRICT: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.INVALID_STATE: 409,
    ErrorCode.CONFLICT: 409,
}


def download_headers(filename: str) -> dict[str, str]:
    """Headers of every file a service hands out (letters, materials, reports): an attachment
    whose name survives every browser (RFC 6266/5987, Chinese names included), never cached
    by a shared cache, and never content-sniffed into something the browser would run."""
    return {
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
    }


def error_response(status: int, code: str, message: str, field: str | None = None) -> JSONResponse:
    """The one error shape of the HTTP routes: ``{"error": {"code", "message", "field"}}``
    with the graph's stable codes. ``detail`` repeats the message for clients of the routes
    that answered with FastAPI's default ``{"detail": ...}`` (notify's report downloads).
    A 401 names the scheme to authenticate with."""
    return JSONResponse(
        {"error": {"code": code, "message": message, "field": field}, "detail": message},
        status_code=status,
        headers={"WWW-Authenticate": "Bearer"} if status == 401 else None,
    )


class CurrentPrincipal:
    """A FastAPI dependency: the caller of an HTTP route, authenticated exactly like the
    graph (the same ``Authorization: Bearer`` token, verified, and for this district).

    ``authenticated = Depends(CurrentPrincipal(verifier, district))``, then a route's
    ``caller: Principal = authenticated``. A missing or bad token raises ``AuthError``
    (UNAUTHENTICATED), a token of another district ``AuthError`` (WRONG_DISTRICT), which
    :class:`JsonErrorRoute` answers with 401 and 403."""

    def __init__(
        self, verifier: TokenVerifier, district: str, *, services: frozenset[str] = frozenset()
    ) -> None:
        self.verifier = verifier
        self.district = district
        self.services = services
        """The service identities (kernel.auth.service_principal) this route accepts; every
        other route refuses them (403)."""

    def __call__(self, request: Request) -> Principal:
        principal = self.verifier.verify_header(request.headers.get("authorization"))
        if principal.district != self.district:
            raise AuthError(
                f"this deployment serves district {self.district!r}; the token is for "
                f"{principal.district!r}",
                ErrorCode.WRONG_DISTRICT,
            )
        accept_service_identity(principal, self.services)
        return principal


class JsonErrorRoute(APIRoute):
    """The route class of the HTTP routes (``APIRouter(route_class=JsonErrorRoute)``): an
    ``AuthError`` (also from :class:`CurrentPrincipal`) or a ``DomainError`` raised by the
    route or its dependencies becomes :func:`error_response`: 401 for a missing or bad token,
    403 for another district or a refusal, and :data:`ERROR_STATUS` of the domain's code
    otherwise (400 for a code it does not list). A router with statuses of its own (e.g.
    413 for a file too large) overrides :meth:`status_of`."""

    def status_of(self, exc: DomainError) -> int:
        return ERROR_STATUS.get(exc.stable_code, 400)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer_errors_as_json(request: Request) -> Response:
            try:
                return await handler(request)
            except AuthError as exc:
                status = 401 if exc.code == ErrorCode.UNAUTHENTICATED else 403
                return error_response(status, exc.code, str(exc))
            except DomainError as exc:
                return error_response(self.status_of(exc), exc.stable_code, exc.message, exc.field)
            except StoreUnavailableError as exc:
                # As the graph answers it: the operation may be retried.
                return error_response(
                    503, ErrorCode.UNAVAILABLE, f"the store is unavailable: {exc}"
                )

        return answer_errors_as_json


def create_service_app(
    runtime: ServiceRuntime,
    schema: Schema,
    context_factory: Callable[[], RequestContext],
    *,
    manage_lifecycle: bool = True,
) -> FastAPI:
    """A FastAPI app serving ``/graphql``, ``/healthz`` (the process is alive) and
    ``/readyz`` (store and bus reachable, service started: 200, else 503).

    With ``manage_lifecycle`` the app starts and stops the runtime; the embedded suite mounts
    several apps under one parent and manages the runtimes itself, because Starlette does not
    run the lifespans of mounted apps.
    """

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if manage_lifecycle:
            # A service on its own (``liandong serve``) owns the process's log output.
            configure_logging(
                district=runtime.settings.district,
                service=runtime.name,
                fmt=runtime.settings.effective_log_format,
                level=runtime.settings.log_level,
            )
            await runtime.start()
            runtime.drain_on_sigterm()
        try:
            yield
        finally:
            if manage_lifecycle:
                await runtime.stop()

    production = runtime.settings.env == "production"
    app = FastAPI(
        title=f"Liandong {runtime.name}",
        lifespan=lifespan,
        docs_url=None if production else "/docs",
        redoc_url=None,
        openapi_url=None if production else "/openapi.json",
    )

    async def get_context() -> RequestContext:
        return context_factory()

    router: GraphQLRouter[Any, None] = GraphQLRouter(
        schema,
        context_getter=get_context,
        graphql_ide=None if production else "graphiql",
    )
    app.include_router(router, prefix="/graphql")
    # Before _observe: its middleware then wraps this one, so refused requests are counted.
    install_gateway_signature(app, runtime.settings)
    _observe(app, runtime, schema)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": runtime.name}

    @app.get("/readyz")
    async def readyz(_: Request) -> JSONResponse:
        checks = await runtime.readiness()
        return JSONResponse(checks, status_code=200 if checks["ready"] else 503)

    return app


def _route_template(app: FastAPI, request: Request) -> str:
    path = getattr(request.scope.get("route"), "path", None)
    if path:
        return str(path)
    # Strawberry's router does not record itself in the scope: match the few routes here
    # (an included router answers with its prefix, e.g. "/graphql").
    for candidate in app.router.routes:
        match, _ = candidate.matches(request.scope)
        if match == Match.FULL:
            path = getattr(candidate, "path", None)
            prefix = getattr(getattr(candidate, "include_context", None), "prefix", None)
            return str(path or prefix or "included")
    return "unmatched"


def _observe(app: FastAPI, runtime: ServiceRuntime, schema: Schema) -> None:
    """``/metrics``, per-request metrics and log context, GraphQL operation metrics, and
    (when tracing is on) server spans continuing the caller's ``traceparent``."""
    service = runtime.name
    extension = metrics.graphql_metrics_extension(service)
    if not any(getattr(e, "__name__", "") == extension.__name__ for e in schema.extensions):
        schema.extensions = (*schema.extensions, extension)

    @app.get("/metrics", include_in_schema=False)
    async def metrics_endpoint() -> Response:
        body, content_type = metrics.render()
        return Response(content=body, media_type=content_type)

    app.add_middleware(_RequestObserver, app_routes=app, service=service)

    if runtime.settings.tracing_enabled:
        instrument_app(app)


#: Distinct (method, path) pairs whose route template a service process remembers.
_TEMPLATE_CACHE = 256


class _RequestObserver:
    """Per-request log context (correlation id, service, trace parent), the correlation id
    echoed in the answer, and the HTTP metrics, as a plain ASGI middleware: Starlette's
    ``BaseHTTPMiddleware`` (``@app.middleware("http")``) ran every request through an extra
    task and a streamed copy of the response, ~10 % of a referral read's CPU (issue 21, P6
    profile)."""

    def __init__(self, app: ASGIApp, *, app_routes: FastAPI, service: str) -> None:
        self.app = app
        self._routes = app_routes
        self._service = service
        # (method, path) → route template: matching every route per request was ~3 % of a
        # referral read's CPU (issue 21, P6 profile). Bounded: unmatched paths are endless.
        self._templates: dict[tuple[str, str], str] = {}

    def _template(self, request: Request) -> str:
        if request.scope.get("route") is not None:
            return _route_template(self._routes, request)
        key = (request.method, request.scope.get("path", ""))
        found = self._templates.get(key)
        if found is None:
            found = _route_template(self._routes, request)
            if len(self._templates) < _TEMPLATE_CACHE:
                self._templates[key] = found
        return found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        # The gateway forwards the client's correlation id; without one, this request
        # starts a new correlation (carried on into the events it causes).
        correlation_id = headers.get("x-correlation-id") or str(uuid.uuid4())
        started = time.perf_counter()
        status = 500

        async def answer(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                MutableHeaders(scope=message)["x-correlation-id"] = correlation_id
            await send(message)

        try:
            with bind(
                correlation_id=correlation_id,
                service=self._service,
                traceparent=headers.get("traceparent"),
            ):
                await self.app(scope, receive, answer)
        finally:
            # The route template, never the raw path: labels must stay few.
            request = Request(scope)
            path = self._template(request)
            if path != "/metrics":
                metrics.HTTP_REQUESTS.labels(self._service, request.method, path, str(status)).inc()
                metrics.HTTP_DURATION.labels(self._service, request.method, path).observe(
                    time.perf_counter() - started
                )
