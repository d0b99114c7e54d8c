"""The composition roots: the whole suite in one process (embedded topology), or one
service on its own (production)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from fastapi import FastAPI
from strawberry.federation import Schema

from coordination.bootstrap import bootstrap as bootstrap_coordination
from kernel.bus import Bus
from kernel.runtime import ServiceRuntime
from kernel.settings import SERVICES, Settings
from kernel.wiring import build_deps, open_bus
from liandong.policy import load_district_policy
from notify.bootstrap import bootstrap as bootstrap_notify
from referral.bootstrap import ReferralService
from referral.bootstrap import bootstrap as bootstrap_referral

REPO_ROOT = Path(__file__).resolve().parents[2]


class Service(Protocol):
    runtime: ServiceRuntime
    schema: Schema

    def create_app(self, *, manage_lifecycle: bool = True) -> FastAPI: ...


def sdl_path(service: str) -> Path:
    return REPO_ROOT / "services" / service / "schema.graphql"


#: The composed public API schema, committed for the frontends' code generation.
API_SCHEMA_PATH = REPO_ROOT / "gateway" / "api.graphql"


async def build_service(
    name: str, settings: Settings, *, bus: Bus | None = None, seed_demo: bool = False
) -> Service:
    # The whole policy file, every section checked (and none unknown) before any service
    # starts; each service then takes its own sections from it.
    deps = await build_deps(settings, name, bus=bus, policy=load_district_policy(settings))
    if name == "referral":
        return bootstrap_referral(deps)
    if name == "coordination":
        return bootstrap_coordination(deps, seed_demo=seed_demo)
    if name == "notify":
        return bootstrap_notify(deps)
    raise ValueError(f"unknown service {name!r}; one of {', '.join(SERVICES)}")


@dataclass
class Suite:
    """The three services over one shared bus (embedded topology)."""

    bus: Bus
    services: dict[str, Service]

    async def start(self) -> None:
        await self.bus.start()
        # Consumers subscribe before coordination publishes its agencies, so the read
        # models of referral and notify see every registration.
        for name in ("referral", "notify", "coordination"):
            await self.services[name].runtime.start()

    async def stop(self) -> None:
        # Every service stops its work first; the shared bus then waits for the deliveries
        # in flight (whose handlers still need their stores); the stores close last.
        order = ("coordination", "notify", "referral")
        for name in order:
            await self.services[name].runtime.quiesce()
        await self.bus.close()
        for name in order:
            await self.services[name].runtime.close()

    def create_app(self) -> FastAPI:
        @asynccontextmanager
        async def lifespan(_: FastAPI) -> AsyncIterator[None]:
            await self.start()
            try:
                yield
            finally:
                await self.stop()

        app = FastAPI(title="Liandong suite", lifespan=lifespan, docs_url=None, redoc_url=None)

        @app.get("/healthz")
        async def healthz() -> dict[str, str]:
            return {"status": "ok"}

        for name, service in self.services.items():
            app.mount(f"/{name}", service.create_app(manage_lifecycle=False))
        referral = self.services["referral"]
        if isinstance(referral, ReferralService):
            # R-GRD-01: the referral service fetches a referred dispatch's photos from
            # coordination, here mounted beside it.
            referral.fetch_photos_in_process(app, "/coordination")
        return app


async def build_suite(settings: Settings, *, seed_demo: bool = True) -> Suite:
    bus = open_bus(settings)
    services: dict[str, Service] = {}
    for name in SERVICES:
        services[name] = await build_service(name, settings, bus=bus, seed_demo=seed_demo)
    return Suite(bus=bus, services=services)


def export_sdl(service: str, schema: Schema) -> str:
    """The subgraph SDL the gateway composes (what ``_service { sdl }`` returns)."""
    return schema.as_str().rstrip() + "\n"
