"""Wires the referral service in one place (API, consumer and relay share it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from strawberry.federation import Schema

from kernel.adapters.official_pdf import render_pdf
from kernel.audit_anchor import CHECKPOINT_EVENT, CheckpointKeeper
from kernel.calendar_follow import CalendarFollower
from kernel.consumer import EventRouter
from kernel.contracts.calendar import HolidayScheduleV1
from kernel.contracts.catalogue import CatalogueEntryV1
from kernel.http import create_service_app
from kernel.runtime import OverdueCount, ServiceRuntime
from kernel.service_identity import ServiceClient, ServiceCredential
from kernel.signing import load_signing_keys
from kernel.wiring import Deps
from referral.adapters.dispatch_photos import CoordinationPhotos
from referral.adapters.repository import (
    AgencyDirectory,
    CatalogueReadModel,
    ComplaintRepository,
    ElectronicConsents,
    LetterRegister,
    ReferralRepository,
    WaitingDispatches,
)
from referral.application.handlers import ReferralHandlers
from referral.application.queries import ReferralQueries
from referral.contracts.consumed import (
    AgencyRegistered,
    DispatchReferred,
    DisputeOpened,
    DisputeRuled,
)
from referral.entrypoints.graphql.schema import ReferralContext, build_schema
from referral.entrypoints.http.files import file_routes
from referral.policy import policy_of

NAME = "referral"


@dataclass
class ReferralService:
    deps: Deps
    runtime: ServiceRuntime
    handlers: ReferralHandlers
    referrals: ReferralRepository
    complaints: ComplaintRepository
    schema: Schema
    waiting: WaitingDispatches | None = None

    def context(self) -> ReferralContext:
        return ReferralContext(
            self.deps.verifier,
            self.deps.settings.district,
            self.handlers,
            ReferralQueries(self.referrals, self.complaints, self.waiting),
            self.deps.calendar,
        )

    def create_app(self, *, manage_lifecycle: bool = True) -> FastAPI:
        app = create_service_app(
            self.runtime, self.schema, self.context, manage_lifecycle=manage_lifecycle
        )
        # Files bypass the gateway (it proxies GraphQL only): see entrypoints/http/files.py.
        app.include_router(
            file_routes(self.handlers, self.deps.verifier, self.deps.settings.district)
        )
        return app

    def fetch_photos_in_process(self, app: Any, coordination_path: str) -> None:
        """The embedded suite mounts coordination in the same web app as this service: the
        referred dispatch's photos are fetched through it in process (same identity, same
        route, same checks), not over a port the suite may not be listening on."""
        client = ServiceClient(
            f"http://suite{coordination_path}",
            ServiceCredential(self.deps.settings, NAME),
            attempts=self.deps.settings.service_fetch_attempts,
            backoff_seconds=self.deps.settings.service_fetch_backoff_seconds,
            transport=httpx.ASGITransport(app=app),
        )
        self.handlers.ports.dispatch_photos_port = CoordinationPhotos(client)


def bootstrap(deps: Deps) -> ReferralService:
    # The referral sections of the district's policy file: a mistake stops the boot, naming
    # the file and the field (kernel.policy validated the shared sections).
    policy_of(deps.policy)
    settings = deps.settings
    referrals = ReferralRepository(deps.store)
    agencies = AgencyDirectory(deps.store)
    complaints = ComplaintRepository(deps.store)
    consents = ElectronicConsents(deps.store)
    letters = LetterRegister(deps.store)
    waiting = WaitingDispatches(deps.store)
    photos_client = ServiceClient.to(settings, "coordination", NAME)
    # A production deployment without its own token (or with one the district's verifier
    # refuses) stops here, naming the file, instead of dead-lettering its first referred
    # dispatch with photos.
    photos_client.credential.check(deps.verifier)
    handlers = ReferralHandlers(
        referrals,
        agencies,
        deps.policy,
        deps.calendar,
        settings.district,
        catalogue=CatalogueReadModel(deps.store),
        complaints=complaints,
        consents=consents,
        files=deps.store.files(),
        clock=deps.clock,
        render=render_pdf,
        letters=letters,
        # A deployment without keys in production stops here, naming the setting.
        signing=load_signing_keys(settings),
        # R-GRD-01: a referred dispatch's photos, under this service's own identity.
        dispatch_photos=CoordinationPhotos(photos_client),
        waiting=waiting,
    )
    reactions = handlers.reactions
    # Official holiday schedules (issue 20): kept in this service's store, followed by its
    # calendar, and every open referral clock across a loaded year is checked again.
    follower = CalendarFollower(deps.store, deps.calendar, [handlers.calendar.recheck_clocks])
    checkpoints = CheckpointKeeper(deps.store)
    router = (
        EventRouter(settings.district)
        # The record's signed checkpoints, kept outside notify's database (issue 16, 8).
        .on(CHECKPOINT_EVENT, checkpoints.when_record_checkpointed_keep_it)
        .on(AgencyRegistered.event_type, reactions.when_agency_registered_update_directory)
        .on(
            CatalogueEntryV1.event_type,
            reactions.when_catalogue_entry_changed_update_read_model,
        )
        .on(DisputeRuled.event_type, reactions.when_dispute_ruled_reassign_or_confirm)
        .on(HolidayScheduleV1.event_type, follower.when_schedule_published_recheck_clocks)
        .on(DisputeOpened.event_type, reactions.when_dispute_opened_note_owner)
        # R-GRD-01: a dispatch turned into a referral is drafted here in the township's name.
        .on(DispatchReferred.event_type, reactions.when_dispatch_referred_draft_referral)
    )
    runtime = ServiceRuntime(
        name=NAME,
        settings=settings,
        store=deps.store,
        bus=deps.bus,
        verifier=deps.verifier,
        aggregates=[referrals.aggregates, complaints.aggregates, consents.aggregates],
        subscriptions=[router.subscription(settings, NAME)],
        startup=[
            referrals.ensure_indexes,
            complaints.ensure_indexes,
            letters.ensure_indexes,
            waiting.ensure_indexes,
            checkpoints.ensure_indexes,
            follower.start,
        ],
        shutdown=[referrals.stop_following],
        # Schedules another replica stored (kernel.calendar_follow).
        workers=[follower.worker(settings.calendar_sync_seconds)],
        owns_bus=deps.owns_bus,
        # Overdue referrals per receiving agency, as the liandong_overdue gauge (kernel.metrics).
        overdue=[
            OverdueCount(
                "referral",
                referrals.aggregates.collection,
                "receiver_id",
                "open_due",
                clock=deps.clock,
            )
        ],
    )
    return ReferralService(
        deps=deps,
        runtime=runtime,
        handlers=handlers,
        referrals=referrals,
        complaints=complaints,
        schema=build_schema(production=settings.env == "production"),
        waiting=waiting,
    )
