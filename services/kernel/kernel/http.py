"""The HTTP face of a service: GraphQL subgraph, health and readiness."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from strawberry.fastapi import GraphQLRouter
from strawberry.federation import Schema

from kernel.graphql import RequestContext
from kernel.runtime import ServiceRuntime

__all__ = ["create_service_app"]


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
            await runtime.start()
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

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": runtime.name}

    @app.get("/readyz")
    async def readyz(_: Request) -> JSONResponse:
        checks = await runtime.readiness()
        return JSONResponse(checks, status_code=200 if checks["ready"] else 503)

    return app
