"""The HTTP face of a service: GraphQL subgraph, health and readiness."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from starlette.routing import Match
from strawberry.fastapi import GraphQLRouter
from strawberry.federation import Schema

from kernel import metrics
from kernel.gateway_signature import install_gateway_signature
from kernel.graphql import RequestContext
from kernel.logs import bind, configure_logging
from kernel.runtime import ServiceRuntime
from kernel.telemetry import instrument_app

__all__ = ["create_service_app", "download_headers"]


def download_headers(filename: str) -> dict[str, str]:
    """Headers of every file a service hands out (letters, materials, reports): an attachment
    whose name survives every browser (RFC 6266/5987, Chinese names included), never cached
    by a shared cache, and never content-sniffed into something the browser would run."""
    return {
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
    }


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

    @app.middleware("http")
    async def request_context(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        # The gateway forwards the client's correlation id; without one, this request
        # starts a new correlation (carried on into the events it causes).
        correlation_id = request.headers.get("x-correlation-id") or str(uuid.uuid4())
        started = time.perf_counter()
        status = 500
        try:
            with bind(
                correlation_id=correlation_id,
                service=service,
                traceparent=request.headers.get("traceparent"),
            ):
                response = await call_next(request)
            status = response.status_code
            response.headers["x-correlation-id"] = correlation_id
            return response
        finally:
            # The route template, never the raw path: labels must stay few.
            path = _route_template(app, request)
            if path != "/metrics":
                metrics.HTTP_REQUESTS.labels(service, request.method, path, str(status)).inc()
                metrics.HTTP_DURATION.labels(service, request.method, path).observe(
                    time.perf_counter() - started
                )

    if runtime.settings.tracing_enabled:
        instrument_app(app)
