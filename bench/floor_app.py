"""P6's floor: a bare strawberry + FastAPI app answering ``{ hello }`` with the schema
extensions the services use (``kernel.graphql.errors.schema_extensions``: the parser and
validation caches, the error coding), the uvicorn settings and the event loop of
``liandong serve`` (``liandong.serving``). Nothing else: no token, no store, no metrics, no
logs of ours.

    python -m bench.floor_app PORT
"""

from __future__ import annotations

import sys

import strawberry
import uvicorn
from fastapi import FastAPI
from strawberry.fastapi import GraphQLRouter

from kernel.graphql.errors import schema_extensions
from kernel.settings import Settings
from liandong.serving import run, serve, server_config


@strawberry.type
class Query:
    @strawberry.field
    def hello(self) -> str:
        return "world"


def create_app() -> FastAPI:
    schema = strawberry.Schema(query=Query, extensions=schema_extensions(production=True))
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.include_router(GraphQLRouter(schema, graphql_ide=None), prefix="/graphql")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def main() -> None:
    port = int(sys.argv[1])
    server = uvicorn.Server(server_config(create_app(), host="127.0.0.1", port=port))
    run(serve(server, what="the floor app"), loop=Settings().event_loop)


if __name__ == "__main__":
    main()
