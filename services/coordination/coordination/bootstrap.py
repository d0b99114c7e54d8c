"""Wires the coordination service: adapters into handlers, handlers into the graph, the
outbox relay and the consumers — in one place, used by the API, the consumer and the relay."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI
from strawberry.federation import Schema

from coordination.adapters.calendar import HolidayScheduleRepository
from coordination.adapters.cooperation import (
    AnswerAccessLog,
    AssistanceRepository,
    InformationQueryRepository,
    TechnicalSupportRepository,
)
from coordination.adapters.dispatch import DispatchRepository
from coordination.adapters.duties import (
    CorrectionRepository,
    JointRulingRepository,
    OnSiteRepository,
    ParticipationRepository,
)
from coordination.adapters.joint import JointInspectionLog, JointOperationRepository
from coordination.adapters.known_referrals import KnownReferrals
from coordination.adapters.meetings import MeetingRepository, RoutineDueRepository
from coordination.adapters.repository import (
    AgencyRepository,
    CatalogueRepository,
    DisputeRepository,
)
from coordination.application.assistance import AssistanceHandlers
from coordination.application.calendar import CalendarHandlers, CoordinationCalendar
from coordination.application.catalogue import CatalogueHandlers
from coordination.application.catalogue_import import import_file
from coordination.application.dispatch import DispatchHandlers
from coordination.application.disputes import DisputeHandlers
from coordination.application.duties import (
    CorrectionHandlers,
    Duties,
    JointRulingHandlers,
    OnSiteHandlers,
    ParticipationHandlers,
)
from coordination.application.handlers import CoordinationHandlers
from coordination.application.information import InformationQueryHandlers
from coordination.application.joint import JointHandlers
from coordination.application.known_referrals import FOLLOWED_EVENTS, ReferralFollower
from coordination.application.letters import LetterService
from coordination.application.meetings import MeetingHandlers
from coordination.application.queries import CoordinationQueries
from coordination.application.routine import RoutineMeetings
from coordination.application.seeding import seed_agencies, shipped_catalogue, shipped_seed
from coordination.application.stalls import StallCheck
from coordination.application.technical import TechnicalSupportHandlers
from coordination.contracts.consumed import (
    DeadlineMissed,
    DisputeRuled,
    ReferralDeclined,
    ReferralDraftedFromDispatch,
    ReferralSent,
)
from coordination.entrypoints.graphql.schema import CoordinationContext, build_schema
from coordination.entrypoints.http.letters import letter_routes
from coordination.entrypoints.http.photos import photo_routes
from coordination.policy import policy_of
from kernel.adapters.official_pdf import render_pdf
from kernel.audit_anchor import CHECKPOINT_EVENT, CheckpointKeeper
from kernel.calendar_follow import CalendarFollower
from kernel.consumer import EventRouter, in_turn
from kernel.contracts.calendar import HolidayScheduleV1
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
    catalogue: CatalogueHandlers
    disputes: DisputeHandlers
    assistance: AssistanceHandlers
    technical_support: TechnicalSupportHandlers
    information: InformationQueryHandlers
    joint: JointHandlers
    schema: Schema
    meetings: MeetingHandlers
    letters: LetterService
    calendar: CalendarHandlers
    duties: Duties
    dispatch: DispatchHandlers

    def context(self) -> CoordinationContext:
        return CoordinationContext(
            self.deps.verifier,
            self.deps.settings.district,
            self.handlers,
            CoordinationQueries(
                self.agencies,
                self.catalogue.catalogue,
                self.disputes.disputes,
                StallCheck(
                    self.disputes.disputes,
                    self.assistance.requests,
                    self.technical_support.requests,
                    self.information.queries,
                    self.joint.operations,
                    self.dispatch.dispatches,
                ),
            ),
            self.catalogue,
            self.disputes,
            self.deps.calendar,
            self.assistance,
            self.technical_support,
            self.information,
            joint=self.joint,
            meetings=self.meetings,
            calendar_admin=self.calendar,
            duties=self.duties,
            dispatch=self.dispatch,
        )

    async def ensure_indexes(self) -> None:
        """Indexes of every collection (the service's start does this; the catalogue
        command, which works on the store without starting the service, calls it too)."""
        for aggregate in self.runtime.aggregates:
            await aggregate.ensure_indexes()
        await self.agencies.ensure_indexes()
        await self.catalogue.catalogue.ensure_indexes()
        await self.disputes.disputes.ensure_indexes()
        for repo in self._cooperation_repositories():
            await repo.ensure_indexes()
        await self.joint.operations.ensure_indexes()
        await self.joint.inspections.ensure_indexes()
        await self.meetings.meetings.ensure_indexes()
        await self.calendar.schedules.ensure_indexes()
        for duty in self.duties.repositories():
            await duty.ensure_indexes()
        await self.dispatch.dispatches.ensure_indexes()

    def _cooperation_repositories(
        self,
    ) -> tuple[
        AssistanceRepository,
        TechnicalSupportRepository,
        InformationQueryRepository,
        AnswerAccessLog,
    ]:
        return (
            self.assistance.requests,
            self.technical_support.requests,
            self.information.queries,
            self.information.access_log,
        )

    def create_app(self, *, manage_lifecycle: bool = True) -> FastAPI:
        app = create_service_app(
            self.runtime, self.schema, self.context, manage_lifecycle=manage_lifecycle
        )
        # PDF letters bypass the gateway (it proxies GraphQL only): entrypoints/http/letters.py.
        app.include_router(
            letter_routes(self.letters, self.deps.verifier, self.deps.settings.district)
        )
        # Dispatch photos (R-GRD-01), the kernel's streaming upload: entrypoints/http/photos.py.
        app.include_router(
            photo_routes(self.dispatch, self.deps.verifier, self.deps.settings.district)
        )
        return app


def bootstrap(
    deps: Deps, *, seed_file: Path | None = None, seed_demo: bool = False
) -> CoordinationService:
    """Build the service. ``seed_demo`` registers the district's shipped demo agencies and
    catalogue at start (embedded suite); ``seed_file`` registers agencies from a given file."""
    # The coordination sections of the district's policy file: a mistake stops the boot, naming
    # the file and the field (kernel.policy validated the shared sections).
    policy_of(deps.policy)
    settings = deps.settings
    district = settings.district
    agencies = AgencyRepository(deps.store)
    checkpoints = CheckpointKeeper(deps.store)
    handlers = CoordinationHandlers(agencies, district)
    catalogue = CatalogueHandlers(
        CatalogueRepository(deps.store), agencies, deps.policy, district, clock=deps.clock
    )
    meeting_repository = MeetingRepository(deps.store)
    disputes = DisputeHandlers(
        DisputeRepository(deps.store),
        agencies,
        catalogue,
        deps.policy,
        deps.calendar,
        district,
        clock=deps.clock,
        meetings=meeting_repository,  # minutes settle a dispute (R-DSP-03, R-MTG-01)
        # What coordination heard of referrals: a named referral is checked (issue 16).
        referrals=ReferralFollower(KnownReferrals(deps.store)),
    )
    # Cooperation duties (R-AST, R-TEC, R-INF): same policy, calendar and agency register.
    common = (agencies, deps.policy, deps.calendar, district, deps.clock)
    assistance = AssistanceHandlers(AssistanceRepository(deps.store), *common)
    technical_support = TechnicalSupportHandlers(TechnicalSupportRepository(deps.store), *common)
    information = InformationQueryHandlers(
        InformationQueryRepository(deps.store), AnswerAccessLog(deps.store), *common
    )
    cooperation_repositories = (
        assistance.requests,
        technical_support.requests,
        information.queries,
        information.access_log,
    )
    # Joint enforcement (R-JNT): operations and the per-target inspection log.
    joint = JointHandlers(
        JointOperationRepository(deps.store), JointInspectionLog(deps.store), *common
    )
    joint_repositories = (joint.operations, joint.inspections)
    meetings = MeetingHandlers(meeting_repository, *common)  # R-MTG-01
    # Routine meetings due on the policy's period (R-MTG-01, issue 14 item 7).
    meetings.routine = RoutineMeetings(RoutineDueRepository(deps.store), *common)
    # R-REF-15, R-NTF-05, R-NTF-06, R-SUP-04: duties that reach an addressee with a clock.
    duties = Duties(
        on_site=OnSiteHandlers(OnSiteRepository(deps.store), *common),
        corrections=CorrectionHandlers(CorrectionRepository(deps.store), *common),
        participation=ParticipationHandlers(ParticipationRepository(deps.store), *common),
        joint_rulings=JointRulingHandlers(
            JointRulingRepository(deps.store), disputes.disputes, joint.operations, *common
        ),
    )
    # Grid dispatch (R-GRD-01): the township platform's 派单/接单/报到/处置.
    dispatch = DispatchHandlers(DispatchRepository(deps.store), *common, files=deps.store.files())
    # The district's calendar (issue 20): the official holiday schedules loaded here, and the
    # open clocks that follow them (this service reacts to its own published schedule, as
    # every service does).
    calendar = CalendarHandlers(HolidayScheduleRepository(deps.store), district, deps.clock)
    rechecks = CoordinationCalendar(
        deps.calendar,
        district,
        deps.clock,
        {
            "AssistanceRequest": assistance.requests,
            "TechnicalSupportRequest": technical_support.requests,
            "InformationQuery": information.queries,
            # The duties' clocks (R-REF-15, R-NTF-05, R-NTF-06, R-SUP-04).
            "OnSiteRequest": duties.on_site.requests,
            "CorrectionOpinion": duties.corrections.opinions,
            "ParticipationNotice": duties.participation.notices,
            "JointRuling": duties.joint_rulings.rulings,
            # The meetings' RSVP and task clocks (R-MTG-01).
            "Meeting": meetings.meetings,
        },
        disputes.disputes,
        joint.operations,
    )
    follower = CalendarFollower(
        deps.store,
        deps.calendar,
        [rechecks.recheck_requests, rechecks.recheck_disputes, rechecks.recheck_joint_tasks],
    )
    assert disputes.referrals is not None
    remember = disputes.referrals.when_referral_changed_remember_it
    # Besides remembering the referral: a decline opens its dispute (R-REF-07 → R-DSP-01);
    # an urgent referral's receiver is due on site at once (R-REF-15).
    also = {
        ReferralDeclined.event_type: disputes.when_referral_declined_open_dispute,
        ReferralSent.event_type: duties.on_site.when_urgent_referral_sent_request_on_site,
    }
    router = (
        EventRouter(district)
        # The record's signed checkpoints, kept outside notify's database (issue 16, 8).
        .on(CHECKPOINT_EVENT, checkpoints.when_record_checkpointed_keep_it)
        .on(DeadlineMissed.event_type, disputes.when_deadline_missed_escalate)
        .on(DisputeRuled.event_type, disputes.when_dispute_ruled_add_routing_rule)
        .on(HolidayScheduleV1.event_type, follower.when_schedule_published_recheck_clocks)
        # R-GRD-01: the referral drafted from a dispatch is linked back to it.
        .on(ReferralDraftedFromDispatch.event_type, dispatch.when_referral_drafted_link_it)
    )
    for event_type in FOLLOWED_EVENTS:
        router.on(
            event_type, in_turn(remember, also[event_type]) if event_type in also else remember
        )

    async def seed() -> None:
        path = seed_file or (shipped_seed(district) if seed_demo else None)
        if path is not None:
            await seed_agencies(handlers, path)
        demo_catalogue = shipped_catalogue(district) if seed_demo else None
        if demo_catalogue is not None:
            # Idempotent: entries already as written change nothing and publish nothing.
            await import_file(demo_catalogue, catalogue)

    runtime = ServiceRuntime(
        name=NAME,
        settings=deps.settings,
        store=deps.store,
        bus=deps.bus,
        verifier=deps.verifier,
        aggregates=[
            agencies.aggregates,
            catalogue.catalogue.aggregates,
            disputes.disputes.aggregates,
            *(r.aggregates for r in cooperation_repositories),
            *(r.aggregates for r in joint_repositories),
            meetings.meetings.aggregates,
            calendar.schedules.aggregates,
            *(r.aggregates for r in duties.repositories()),
            meetings.routine.due.aggregates,
            dispatch.dispatches.aggregates,
        ],
        subscriptions=[router.subscription(settings, NAME)],
        startup=[
            checkpoints.ensure_indexes,
            agencies.ensure_indexes,
            catalogue.catalogue.ensure_indexes,
            disputes.disputes.ensure_indexes,
            *(r.ensure_indexes for r in cooperation_repositories),
            *(r.ensure_indexes for r in joint_repositories),
            meetings.meetings.ensure_indexes,
            calendar.schedules.ensure_indexes,
            *(r.ensure_indexes for r in duties.repositories()),
            meetings.routine.due.ensure_indexes,
            dispatch.dispatches.ensure_indexes,
            dispatch.dispatches.claim_filed_photos,  # issue 17: reports before photo claims
            seed,
            meetings.routine.ensure_due,  # after the seed: the conveners must be known
            dispatch.check_escalation_body,  # after the seed: the body may be seeded
            follower.start,
        ],
        # Schedules another replica stored (kernel.calendar_follow).
        workers=[follower.worker(settings.calendar_sync_seconds)],
        shutdown=[agencies.stop_following],
        owns_bus=deps.owns_bus,
    )
    return CoordinationService(
        deps=deps,
        runtime=runtime,
        handlers=handlers,
        agencies=agencies,
        catalogue=catalogue,
        disputes=disputes,
        assistance=assistance,
        technical_support=technical_support,
        information=information,
        joint=joint,
        schema=build_schema(production=deps.settings.env == "production"),
        meetings=meetings,
        letters=LetterService(agencies, assistance.requests, meetings.meetings, render_pdf),
        calendar=calendar,
        duties=duties,
        dispatch=dispatch,
    )
