"""Command handlers of grid dispatch (派单 / 接单 / 报到 / 处置, R-GRD-01; HC #3, #7, #10).

Each command loads the dispatch, lets the domain decide and writes the new state with its
events in one conditional update (the outbox). Each step's clock comes from the district's
``dispatch`` policy section in clock hours (project defaults, HC gives none).

Who stands how to a dispatch (the matrix's relations, docs/authorization.md): the person who
reported it is ``SENDER`` (a grid member reads only its own reports), the township whose
platform owns it is ``RECEIVER``, every team it was dispatched to is ``PARTY`` (the domain
lets only the current team act).

The photo steps (upload, check, read) are in ``dispatch_photos``; these handlers extend them.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from coordination.adapters.dispatch import DispatchFilter, DispatchRepository
from coordination.application import access
from coordination.application.actors import acting
from coordination.application.cooperation import DEPARTMENT_KINDS
from coordination.application.dispatch_photos import DispatchPhotos, UploadDispatchPhoto
from coordination.contracts.consumed import ReferralDraftedFromDispatch
from coordination.contracts.dispatch import (
    DispatchAcceptedV1,
    DispatchArrivedV1,
    DispatchDispatchedV1,
    DispatchHandledV1,
    DispatchReferredV1,
    DispatchReturnedV1,
    ProblemReportedV1,
)
from coordination.domain import dispatch as dsp
from coordination.domain.cooperation import Actor, Clock
from coordination.domain.model import AgencyKind
from coordination.policy import policy_of
from kernel.authz import Relation
from kernel.caller import Caller
from kernel.contracts.deadlines import DeadlineV1
from kernel.envelope import Envelope, EventPayload
from kernel.errors import ValidationFailed
from kernel.policy_base import PolicyError, PolicyProblem
from kernel.store import FileStore

__all__ = [
    "SUBJECT",
    "AcceptDispatch",
    "ArriveDispatch",
    "DispatchHandlers",
    "DispatchProblem",
    "HandleDispatch",
    "ListDispatches",
    "ReferDispatch",
    "ReportProblem",
    "ReturnDispatch",
    "UploadDispatchPhoto",
    "dispatch_relations",
]

SUBJECT = "Dispatch"
log = logging.getLogger(__name__)

_STEP_RULES = {
    dsp.DISPATCH: ("dispatch_limit_hours", "综合执法平台派单"),
    dsp.ACCEPT: ("accept_limit_hours", "执法队接单"),
    dsp.ARRIVE: ("arrive_limit_hours", "执法队报到"),
    dsp.HANDLE: ("handle_limit_hours", "执法队处置并反馈"),
}


#: The team's steps before handling, by the clock they start: their event and lateness.
_TEAM_STEPS: dict[str, tuple[type[DispatchAcceptedV1 | DispatchArrivedV1], Callable[..., bool]]] = {
    dsp.ARRIVE: (DispatchAcceptedV1, lambda a: a.accepted_late),
    dsp.HANDLE: (DispatchArrivedV1, lambda a: a.arrived_late),
}


@dataclass(frozen=True)
class ReportProblem:
    platform_id: str
    source: str
    what: str
    place: str
    area: str
    found_at: datetime
    latitude: float | None = None
    longitude: float | None = None
    photo_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class DispatchProblem:
    dispatch_id: str
    team_id: str


@dataclass(frozen=True)
class AcceptDispatch:
    dispatch_id: str


@dataclass(frozen=True)
class ArriveDispatch:
    dispatch_id: str


@dataclass(frozen=True)
class HandleDispatch:
    dispatch_id: str
    result: str
    photo_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReturnDispatch:
    dispatch_id: str
    reason: str


@dataclass(frozen=True)
class ReferDispatch:
    dispatch_id: str
    receiver_id: str
    reason: str


@dataclass(frozen=True)
class ListDispatches:
    platform_id: str | None = None
    state: str | None = None
    team_id: str | None = None
    area: str | None = None
    overdue: bool | None = None
    after: str | None = None
    limit: int = 50


def dispatch_relations(actor: Actor, d: dsp.Dispatch) -> set[Relation]:
    held = access.relations_to(
        actor, receiver=[d.platform_id], party=[a.team_id for a in d.assignments]
    )
    if actor.person_id == d.report.reporter_id:
        held.discard(Relation.NONE)
        held.add(Relation.SENDER)
    return held


class DispatchHandlers(DispatchPhotos):
    noun = "dispatch"

    def __init__(
        self, dispatches: DispatchRepository, *args: Any, files: FileStore, **kw: Any
    ) -> None:
        super().__init__(*args, **kw)
        self._repository = self.dispatches = dispatches
        self.files = files

    def _relations(self, actor: Actor, found: dsp.Dispatch) -> set[Relation]:
        return dispatch_relations(actor, found)

    async def check_escalation_body(self) -> None:
        """The agency ``dispatch.escalation.agency_id`` names, when registered, is of the
        policy's ``agency_kind`` and acts externally; a mismatch stops the start, naming the
        field (a body not registered yet is only logged: notify then escalates to the first
        agency of the kind until it is)."""
        named = policy_of(self.policy).dispatch.escalation
        if named.agency_id is None:
            return
        agency = await self.agencies.get(named.agency_id)
        field = "dispatch.escalation.agency_id"
        if agency is None:
            log.warning("%s: %s is not registered yet", field, named.agency_id)
            return
        if agency.kind.value != named.agency_kind or agency.internal_unit:
            raise PolicyError(
                f"district {self.district}",
                [
                    PolicyProblem(
                        field,
                        f"{named.agency_id} ({agency.name}) is a "
                        f"{'internal unit' if agency.internal_unit else agency.kind.value}; "
                        f"the policy's agency_kind is {named.agency_kind}",
                    )
                ],
            )

    # -- helpers --------------------------------------------------------------------------

    def _step_clock(self, kind: str, agency_id: str, at: datetime) -> Clock:
        field, what = _STEP_RULES[kind]
        hours = getattr(policy_of(self.policy).dispatch, field)
        rule = f"{what}{hours}小时内（R-GRD-01，项目默认）"
        return self._clock(kind, agency_id, self.calendar.add_hours(at, hours, rule=rule))

    def _common(
        self, before: dsp.Dispatch | None, after: dsp.Dispatch, actor: Actor
    ) -> dict[str, Any]:
        last = after.assignments[-1] if after.assignments else None
        return dict(
            dispatch_id=after.id,
            platform_id=after.platform_id,
            team_id=last.team_id if last else None,
            area=after.report.area,
            what=after.report.what,
            place=after.report.place,
            actor_id=actor.person_id,
            actor_agency_id=actor.agency_id,
            state_before=before.state.value if before else None,
            state_after=after.state.value,
            deadlines=self._deadlines_of(before, after),
        )

    def _deadlines_of(self, before: dsp.Dispatch | None, after: dsp.Dispatch) -> list[DeadlineV1]:
        """The clocks this step touched: those whose state changed or that are new."""
        earlier = {(c.kind, c.state, c.due) for c in before.clocks} if before else set()
        kinds = [c.kind for c in after.clocks if (c.kind, c.state, c.due) not in earlier]
        # R-GRD-01, R-SUP-02: a late step escalates to the platform's leader first (a team's
        # clock never only to the team), then to the body the policy names (HC: the district
        # platform office).
        named = policy_of(self.policy).dispatch.escalation
        escalation = {
            "escalate_to_agency_id": after.platform_id,
            "escalate_to_agency_kind": named.agency_kind,
            "escalate_to_supervisor_id": named.agency_id,
        }
        return [
            block.model_copy(update=escalation)
            for block in self._deadlines(SUBJECT, after.id, after.clocks, *kinds)
        ]

    async def _team(self, platform_id: str, team_id: str) -> None:
        """R-GRD-01, HC #7: a team under the township's unified command — the township's own
        centre (the township itself) or a resident unit it commands; never an internal unit."""
        team = await self.agencies.get(team_id)
        if team is None:
            raise ValidationFailed(
                f"agency {team_id!r} is not registered",
                field="teamId",
                code="AGENCY_NOT_REGISTERED",
            )
        if team.id == platform_id:
            return
        if (
            team.kind is not AgencyKind.RESIDENT_UNIT
            or team.commanded_by_id != platform_id
            or team.internal_unit
        ):
            raise ValidationFailed(
                f"{team.name} is not an enforcement team under this township's command "
                "(its own centre or a resident unit 派驻机构 it commands, HC #7)",
                field="teamId",
                code="TEAM_NOT_UNDER_COMMAND",
            )

    # -- reading --------------------------------------------------------------------------

    async def get(self, dispatch_id: str, caller: Caller) -> dsp.Dispatch | None:
        """The dispatch when the caller may read it; None when absent or not its to see."""
        actor = acting(caller)
        found = await self.dispatches.get(dispatch_id)
        if found is None:
            return None
        return found if access.may(actor, "dispatch", dispatch_relations(actor, found)) else None

    @staticmethod
    def _scope(actor: Actor) -> tuple[str | None, str | None]:
        """(party agency, reporter person) the caller's reads are limited to: oversight
        roles none, agency staff their agency's dispatches, a grid member its own reports."""
        if access.may(actor, "dispatch", {Relation.SUPERVISOR}):
            return None, None
        if access.may(actor, "dispatch", {Relation.RECEIVER}):
            return actor.agency_id or "", None
        return None, actor.person_id

    async def changed_since(
        self, since: datetime, platform_id: str | None, caller: Caller
    ) -> list[dsp.Dispatch]:
        """The live view's poll: dispatches the caller may read whose state changed since."""
        party, reporter = self._scope(acting(caller))
        return await self.dispatches.changed_since(
            since,
            DispatchFilter(platform_id=platform_id, party_id=party, reporter_id=reporter),
            limit=500,
        )

    async def search(self, q: ListDispatches, caller: Caller) -> list[dsp.Dispatch]:
        """The platform's list, filtered by state, team, area and overdue; a grid member
        sees only its own reports, agency staff only their agency's, oversight roles all."""
        where = self._listed(q, caller)
        # A page of at most 200 and the one row more that tells whether a next page exists
        # (the graph asks for first + 1: a client's first: 200 is within).
        if not 1 <= q.limit <= 201:
            raise ValidationFailed(
                "limit must be within 1..201", field="limit", code="OUT_OF_RANGE"
            )
        now = self.clock()
        where.overdue_at = now if q.overdue else None
        found = await self.dispatches.search(where, after=q.after, limit=q.limit)
        if q.overdue is False:
            found = [d for d in found if not d.overdue(now)]
        return found

    async def count(self, q: ListDispatches, caller: Caller) -> int:
        """How many dispatches :meth:`search` lists for ``q``, all pages together (the
        overdue ones subtracted when ``q.overdue`` is False, as the list leaves them out)."""
        where = self._listed(q, caller)
        if q.overdue is None:
            return await self.dispatches.count(where)
        where.overdue_at = self.clock()
        overdue = await self.dispatches.count(where)
        if q.overdue:
            return overdue
        where.overdue_at = None
        return await self.dispatches.count(where) - overdue

    def _listed(self, q: ListDispatches, caller: Caller) -> DispatchFilter:
        """The list's filter (overdue aside) within the caller's read scope."""
        party, reporter = self._scope(acting(caller))
        if q.state is not None:
            try:
                dsp.DispatchState(q.state)
            except ValueError:
                allowed = ", ".join(s.value for s in dsp.DispatchState)
                raise ValidationFailed(
                    f"unknown state {q.state!r}; one of: {allowed}",
                    field="state",
                    code="UNKNOWN_VALUE",
                ) from None
        return DispatchFilter(
            platform_id=q.platform_id,
            state=q.state,
            team_id=q.team_id,
            area=q.area,
            reporter_id=reporter,
            party_id=party,
        )

    async def open_dispatches(self) -> list[dsp.Dispatch]:
        return await self.dispatches.open_all()

    # -- commands -------------------------------------------------------------------------

    async def report(self, cmd: ReportProblem, caller: Caller) -> dsp.Dispatch:
        """上报 (R-GRD-01): the platform's dispatch clock starts."""
        actor = acting(caller)
        access.authorize_on(
            actor, "reportProblem", {Relation.SENDER} | access.oversight_relations(actor)
        )
        await self._external({"platformId": cmd.platform_id}, {AgencyKind.TOWNSHIP})
        if cmd.found_at.tzinfo is None:
            raise ValidationFailed(
                "give the time found with its offset", field="foundAt", code="BAD_FORMAT"
            )
        if (cmd.latitude is None) != (cmd.longitude is None):
            raise ValidationFailed(
                "give both latitude and longitude, or neither",
                field="latitude" if cmd.latitude is None else "longitude",
                code="REQUIRED",
            )
        await self._uploaded(cmd.photo_ids, "photoIds", dispatch_id=None, actor=actor)
        coordinates = (
            (cmd.latitude, cmd.longitude)
            if cmd.latitude is not None and cmd.longitude is not None
            else None
        )
        now = self.clock()
        d = dsp.report_problem(
            dispatch_id=str(uuid.uuid4()),
            platform_id=cmd.platform_id,
            source=cmd.source,
            what=cmd.what,
            place=cmd.place,
            area=cmd.area,
            found_at=cmd.found_at,
            coordinates=coordinates,
            photo_ids=cmd.photo_ids,
            dispatch_clock=self._step_clock(dsp.DISPATCH, cmd.platform_id, now),
            actor=actor,
            at=now,
        )
        payload = ProblemReportedV1(
            **self._common(None, d, actor),
            source=d.report.source.value,
            reporter_id=d.report.reporter_id,
            found_at=d.report.found_at,
            latitude=d.report.coordinates.latitude if d.report.coordinates else None,
            longitude=d.report.coordinates.longitude if d.report.coordinates else None,
            photo_ids=list(d.report.photo_ids),
        )
        # A photo uploaded for a report not yet filed belongs to one report only.
        taken = await self.dispatches.claim_photos(d.id, d.report.photo_ids)
        if taken is not None:
            raise ValidationFailed(
                f"photo {d.report.photo_ids[taken]!r} already belongs to another report; "
                "upload it again for this one",
                field=f"photoIds.{taken}",
                code="PHOTO_ALREADY_USED",
            )
        try:
            await self.dispatches.add(d, [self._event(payload, d.id, caller.correlation_id)])
        except BaseException:
            await self.dispatches.release_photos(d.report.photo_ids)
            raise
        return replace(d, version=1)

    async def dispatch(self, cmd: DispatchProblem, caller: Caller) -> dsp.Dispatch:
        """派单: to the township's own centre or a resident unit it commands."""

        async def move(d: dsp.Dispatch, actor: Actor, now: datetime) -> dsp.Dispatch:
            await self._team(d.platform_id, cmd.team_id)
            clock = self._step_clock(dsp.ACCEPT, cmd.team_id, now)
            return d.dispatch_to(team_id=cmd.team_id, next_clock=clock, actor=actor, at=now)

        def payloads(b: dsp.Dispatch, a: dsp.Dispatch, actor: Actor) -> list[EventPayload]:
            return [DispatchDispatchedV1(**self._common(b, a, actor), round=len(a.assignments))]

        return await self._step(cmd.dispatch_id, "dispatchProblem", caller, move, payloads)

    async def accept(self, cmd: AcceptDispatch, caller: Caller) -> dsp.Dispatch:
        """接单: the arrive clock starts."""
        return await self._team_step(
            cmd.dispatch_id, "acceptDispatch", caller, dsp.ARRIVE, dsp.Dispatch.accept
        )

    async def arrive(self, cmd: ArriveDispatch, caller: Caller) -> dsp.Dispatch:
        """报到: the handle clock starts."""
        return await self._team_step(
            cmd.dispatch_id, "arriveDispatch", caller, dsp.HANDLE, dsp.Dispatch.arrive
        )

    async def _team_step(
        self,
        dispatch_id: str,
        operation: str,
        caller: Caller,
        next_kind: str,
        step: Callable[..., dsp.Dispatch],
    ) -> dsp.Dispatch:
        """The team's accept or arrive: the step, its lateness, the next step's clock."""
        event, late_of = _TEAM_STEPS[next_kind]

        def move(d: dsp.Dispatch, actor: Actor, now: datetime) -> dsp.Dispatch:
            clock = self._step_clock(next_kind, d.team_id or "", now)
            return step(d, next_clock=clock, actor=actor, at=now)

        def payloads(b: dsp.Dispatch, a: dsp.Dispatch, actor: Actor) -> list[EventPayload]:
            return [event(**self._common(b, a, actor), late=late_of(a.assignments[-1]))]

        return await self._step(dispatch_id, operation, caller, move, payloads)

    async def handle(self, cmd: HandleDispatch, caller: Caller) -> dsp.Dispatch:
        async def move(d: dsp.Dispatch, actor: Actor, now: datetime) -> dsp.Dispatch:
            await self._uploaded(cmd.photo_ids, "photoIds", dispatch_id=d.id, actor=actor)
            return d.handle(result=cmd.result, photo_ids=cmd.photo_ids, actor=actor, at=now)

        def payloads(b: dsp.Dispatch, a: dsp.Dispatch, actor: Actor) -> list[EventPayload]:
            return [
                DispatchHandledV1(
                    **self._common(b, a, actor),
                    result=a.result,
                    photo_ids=list(a.result_photo_ids),
                    late=a.assignments[-1].handled_late,
                )
            ]

        return await self._step(cmd.dispatch_id, "handleDispatch", caller, move, payloads)

    async def return_(self, cmd: ReturnDispatch, caller: Caller) -> dsp.Dispatch:
        def move(d: dsp.Dispatch, actor: Actor, now: datetime) -> dsp.Dispatch:
            clock = self._step_clock(dsp.DISPATCH, d.platform_id, now)
            return d.return_to_platform(reason=cmd.reason, next_clock=clock, actor=actor, at=now)

        def payloads(b: dsp.Dispatch, a: dsp.Dispatch, actor: Actor) -> list[EventPayload]:
            reason = a.assignments[-1].return_reason
            return [DispatchReturnedV1(**self._common(b, a, actor), reason=reason)]

        return await self._step(cmd.dispatch_id, "returnDispatch", caller, move, payloads)

    async def refer(self, cmd: ReferDispatch, caller: Caller) -> dsp.Dispatch:
        """转为移送: the referral service drafts the referral from the event (R-REF-01)."""

        async def move(d: dsp.Dispatch, actor: Actor, now: datetime) -> dsp.Dispatch:
            await self._external({"receiverId": cmd.receiver_id}, DEPARTMENT_KINDS)
            return d.refer(receiver_id=cmd.receiver_id, reason=cmd.reason, actor=actor, at=now)

        async def payloads(b: dsp.Dispatch, a: dsp.Dispatch, actor: Actor) -> list[EventPayload]:
            return [
                DispatchReferredV1(
                    **self._common(b, a, actor),
                    receiver_id=cmd.receiver_id,
                    reason=cmd.reason.strip(),
                    found_at=a.report.found_at,
                    reporter_id=a.report.reporter_id,
                    photo_ids=list(a.report.photo_ids),
                    photos=await self._referred_photos(a),
                )
            ]

        return await self._step(cmd.dispatch_id, "referDispatch", caller, move, payloads)

    async def when_referral_drafted_link_it(self, envelope: Envelope) -> None:
        """R-GRD-01: the referral service drafted the dispatch's referral; link it back
        (idempotent on redelivery)."""
        event = envelope.payload(ReferralDraftedFromDispatch)
        await self.link_referral(event.dispatch_id, event.referral_id)

    async def link_referral(self, dispatch_id: str, referral_id: str) -> dsp.Dispatch | None:
        """The referral service drafted the referral (its event names the dispatch): link it
        back. Unknown dispatches are ignored (another district's, or already linked)."""
        found = await self.dispatches.get(dispatch_id)
        if found is None or found.referral_id == referral_id:
            return found
        after = found.link_referral(referral_id)
        version = await self.dispatches.save(after, [])
        return replace(after, version=version)
