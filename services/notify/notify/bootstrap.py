"""Wires the notify service in one place (API, consumer and relay share it)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI
from strawberry.federation import Schema

from kernel.consumer import EventRouter
from kernel.http import create_service_app
from kernel.runtime import ServiceRuntime
from kernel.wiring import Deps
from notify.adapters.repository import AgencyNames, InboxRepository
from notify.application.handlers import NotifyHandlers
from notify.contracts.consumed import AgencyRegistered, ReferralSent
from notify.entrypoints.graphql.schema import NotifyContext, build_schema

NAME = "notify"


@dataclass
class NotifyService:
    deps: Deps
    runtime: ServiceRuntime
    handlers: NotifyHandlers
    inbox: InboxRepository
    schema: Schema

    def context(self) -> NotifyContext:
        return NotifyContext(
            self.deps.verifier, self.deps.settings.district, self.handlers, self.inbox
        )

    def create_app(self, *, manage_lifecycle: bool = True) -> FastAPI:
        return create_service_app(
            self.runtime, self.schema, self.context, manage_lifecycle=manage_lifecycle
        )


def bootstrap(deps: Deps) -> NotifyService:
    settings = deps.settings
    inbox = InboxRepository(deps.store)
    handlers = NotifyHandlers(inbox, AgencyNames(deps.store))
    router = (
        EventRouter(settings.district)
        .on(AgencyRegistered.event_type, handlers.when_agency_registered_update_names)
        .on(ReferralSent.event_type, handlers.when_referral_sent_notify_receiver)
    )
    runtime = ServiceRuntime(
        name=NAME,
        settings=settings,
        store=deps.store,
        bus=deps.bus,
        verifier=deps.verifier,
        aggregates=[],
        subscriptions=[router.subscription(settings, NAME)],
        startup=[inbox.ensure_indexes],
        owns_bus=deps.owns_bus,
    )
    return NotifyService(
        deps=deps,
        runtime=runtime,
        handlers=handlers,
        inbox=inbox,
        schema=build_schema(production=settings.env == "production"),
    )
