"""Wires the coordination service: adapters into handlers, handlers into the graph, the
outbox relay and the consumers — in one place, used by the API, the consumer and the relay."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI
from strawberry.federation import Schema

from coordination.adapters.repository import AgencyRepository
from coordination.application.handlers import CoordinationHandlers
from coordination.application.seeding import seed_agencies, shipped_seed
from coordination.entrypoints.graphql.schema import CoordinationContext, build_schema
from kernel.http import create_service_app
from kernel.runtime import ServiceRuntime
from kernel.wiring import Deps

NAME = "coordination"


@dataclass
class CoordinationService:
    deps: Deps
    runtime: ServiceRuntime
    handlers: CoordinationHandlers
    agencies: AgencyRepository
    schema: Schema

    def context(self) -> CoordinationContext:
        return CoordinationContext(
            self.deps.verifier, self.deps.settings.district, self.handlers, self.agencies
        )

    def create_app(self, *, manage_lifecycle: bool = True) -> FastAPI:
        return create_service_app(
            self.runtime, self.schema, self.context, manage_lifecycle=manage_lifecycle
        )


def bootstrap(
    deps: Deps, *, seed_file: Path | None = None, seed_demo: bool = False
) -> CoordinationService:
    """Build the service. ``seed_demo`` registers the district's shipped demo agencies at
    start (embedded suite); ``seed_file`` registers agencies from a given file."""
    district = deps.settings.district
    agencies = AgencyRepository(deps.store)
    handlers = CoordinationHandlers(agencies, district)

    async def seed() -> None:
        path = seed_file or (shipped_seed(district) if seed_demo else None)
        if path is not None:
            await seed_agencies(handlers, path)

    runtime = ServiceRuntime(
        name=NAME,
        settings=deps.settings,
        store=deps.store,
        bus=deps.bus,
        verifier=deps.verifier,
        aggregates=[agencies.aggregates],
        subscriptions=[],
        startup=[agencies.ensure_indexes, seed],
        owns_bus=deps.owns_bus,
    )
    return CoordinationService(
        deps=deps,
        runtime=runtime,
        handlers=handlers,
        agencies=agencies,
        schema=build_schema(production=deps.settings.env == "production"),
    )
