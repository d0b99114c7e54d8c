"""Grid dispatch (派单 / 接单 / 报到 / 处置, R-GRD-01; HC #3, #7, #10).

A problem found by a grid member (网格员), the grid or digital city-management platform, or a
patrol is reported to the township's comprehensive enforcement platform (镇(街道)综合执法平台,
HC #3: "辖区内执法问题由同一平台发现、派单、处置"). The platform dispatches it (派单) to an
enforcement team under the township's unified command — its own centre or a department's
resident unit (派驻机构, HC #7). The team accepts (接单), arrives on site (报到) and reports what
it did (处置) with a written result and photos (HC #10: "镇(街道)派单、执法队接单"、
"网格员呼叫、执法队报到"). A team that cannot take it returns it with a reason and the
platform dispatches it again; a problem that belongs to a department becomes a referral (§2).

Every step has one open clock: the platform owes the dispatch, the team owes accept, arrive
and handle, each within the district's limit in hours (HC says only "快速反应": the numbers
are project defaults, see :class:`coordination.policy.DispatchPolicy`). A step taken after its
limit is still taken (the problem still needs handling) and is recorded as late, so the
supervision figures can count the steps done in time.

Pure Python: no I/O. The application computes each clock with the district's calendar and
hands it in; the aggregate decides which clock is open and who owes it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from coordination.domain.cooperation import (
    Actor,
    Clock,
    Transition,
    meet,
    put_clock,
    require_other,
)
from coordination.domain.errors import Forbidden, InvalidState, ValidationFailed

__all__ = [
    "ACCEPT",
    "ARRIVE",
    "DISPATCH",
    "HANDLE",
    "Assignment",
    "Coordinates",
    "Dispatch",
    "DispatchState",
    "ProblemReport",
    "ReportSource",
    "report_problem",
]

DISPATCH = "dispatch.dispatch"  # the platform owes the dispatch (派单)
ACCEPT = "dispatch.accept"  # the team owes accepting (接单)
ARRIVE = "dispatch.arrive"  # the team owes arriving on site (报到)
HANDLE = "dispatch.handle"  # the team owes its report of what it did (处置)

STEP_CLOCKS = (DISPATCH, ACCEPT, ARRIVE, HANDLE)


class DispatchState(StrEnum):
    REPORTED = "reported"  # 上报: awaiting the platform's dispatch
    DISPATCHED = "dispatched"  # 派单: awaiting the team's acceptance
    ACCEPTED = "accepted"  # 接单: the team is on its way
    ARRIVED = "arrived"  # 报到: the team is on site
    HANDLED = "handled"  # 处置: done, with a written result
    RETURNED = "returned"  # 退回: the team cannot take it; awaiting a new dispatch
    REFERRED = "referred"  # 转为移送: it belongs to a department (R-REF-01)


TERMINAL = frozenset({DispatchState.HANDLED, DispatchState.REFERRED})


class ReportSource(StrEnum):
    GRID_MEMBER = "grid_member"  # 网格员
    GRID_PLATFORM = "grid_platform"  # 网格化平台
    CITY_PLATFORM = "city_platform"  # 数字城管平台
    PATROL = "patrol"  # 巡查


@dataclass(frozen=True)
class Coordinates:
    latitude: float
    longitude: float


@dataclass(frozen=True)
class ProblemReport:
    """What was found, where and when, by whom, with its photos (material ids)."""

    source: ReportSource
    reporter_id: str  # the person who reported
    reporter_agency_id: str | None
    what: str
    place: str
    area: str  # the grid / community the place lies in (网格), for the platform's list
    found_at: datetime
    coordinates: Coordinates | None = None
    photo_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Assignment:
    """One dispatch of the problem to one team, and how far that team took it."""

    round: int
    team_id: str
    dispatched_at: datetime
    dispatched_by: str
    accepted_at: datetime | None = None
    accepted_late: bool = False
    arrived_at: datetime | None = None
    arrived_late: bool = False
    handled_at: datetime | None = None
    handled_late: bool = False
    returned_at: datetime | None = None
    return_reason: str = ""

    @property
    def accepted_in_time(self) -> bool:
        return self.accepted_at is not None and not self.accepted_late

    @property
    def arrived_in_time(self) -> bool:
        return self.arrived_at is not None and not self.arrived_late


@dataclass(frozen=True)
class Dispatch:
    id: str
    platform_id: str  # the township whose platform owns the problem
    report: ProblemReport
    reported_at: datetime
    state: DispatchState
    assignments: tuple[Assignment, ...] = ()
    result: str = ""
    result_photo_ids: tuple[str, ...] = ()
    referral_id: str | None = None
    referral_receiver_id: str | None = None
    clocks: tuple[Clock, ...] = ()
    history: tuple[Transition, ...] = ()
    version: int = 0

    # -- reading ------------------------------------------------------------------------

    @property
    def current(self) -> Assignment | None:
        """The assignment in progress (not returned), if any."""
        if self.assignments and self.assignments[-1].returned_at is None:
            return self.assignments[-1]
        return None

    @property
    def team_id(self) -> str | None:
        current = self.current
        return current.team_id if current else None

    @property
    def open_clock(self) -> Clock | None:
        return next((c for c in self.clocks if c.state == "open"), None)

    def overdue(self, now: datetime) -> bool:
        """An open step is past its limit (the platform's list filters on it)."""
        clock = self.open_clock
        return clock is not None and clock.due < now

    def parties(self) -> frozenset[str]:
        return frozenset((self.platform_id, *(a.team_id for a in self.assignments)))

    # -- commands -----------------------------------------------------------------------

    def dispatch_to(
        self, *, team_id: str, next_clock: Clock, actor: Actor, at: datetime
    ) -> Dispatch:
        """派单: the platform sends the problem to a team (again after a return)."""
        self._platform_only(actor, "dispatch it")
        if self.state not in (DispatchState.REPORTED, DispatchState.RETURNED):
            raise InvalidState(
                f"a {self.state.value} dispatch cannot be dispatched; only a reported or "
                "returned one (R-GRD-01)",
                field="id",
                code="WRONG_STATUS",
            )
        team = team_id.strip()
        if not team:
            raise ValidationFailed("name the team to dispatch to", field="teamId", code="REQUIRED")
        previous = self.assignments[-1] if self.assignments else None
        if previous is not None and previous.team_id == team:
            raise ValidationFailed(
                "this team returned the problem; dispatch it to another team",
                field="teamId",
                code="TEAM_RETURNED_IT",
            )
        self._check_clock(next_clock, ACCEPT, team)
        assignment = Assignment(len(self.assignments) + 1, team, at, actor.person_id)
        clocks = put_clock(meet(self.clocks, DISPATCH), next_clock)
        return self._move(
            "dispatch",
            actor,
            at,
            DispatchState.DISPATCHED,
            note=team,
            assignments=(*self.assignments, assignment),
            clocks=clocks,
        )

    def accept(self, *, next_clock: Clock, actor: Actor, at: datetime) -> Dispatch:
        """接单: the team takes the problem; late when after the accept limit."""
        current = self._team_step(actor, DispatchState.DISPATCHED, "accept")
        late = self._late(ACCEPT, at)
        self._check_clock(next_clock, ARRIVE, current.team_id)
        return self._step(
            "accept",
            actor,
            at,
            DispatchState.ACCEPTED,
            replace(current, accepted_at=at, accepted_late=late),
            ACCEPT,
            next_clock,
        )

    def arrive(self, *, next_clock: Clock, actor: Actor, at: datetime) -> Dispatch:
        """报到: the team is on site; late when after the arrive limit."""
        current = self._team_step(actor, DispatchState.ACCEPTED, "report arrival")
        late = self._late(ARRIVE, at)
        self._check_clock(next_clock, HANDLE, current.team_id)
        return self._step(
            "arrive",
            actor,
            at,
            DispatchState.ARRIVED,
            replace(current, arrived_at=at, arrived_late=late),
            ARRIVE,
            next_clock,
        )

    def handle(
        self, *, result: str, photo_ids: tuple[str, ...], actor: Actor, at: datetime
    ) -> Dispatch:
        """处置: the team reports what it did, in writing, with photos."""
        current = self._team_step(actor, DispatchState.ARRIVED, "report handling")
        text = result.strip()
        if not text:
            raise ValidationFailed(
                "write what was done (处置结果)", field="result", code="REQUIRED"
            )
        late = self._late(HANDLE, at)
        after = self._step(
            "handle",
            actor,
            at,
            DispatchState.HANDLED,
            replace(current, handled_at=at, handled_late=late),
            HANDLE,
            None,
        )
        return replace(after, result=text, result_photo_ids=_photos(photo_ids, "photoIds"))

    def return_to_platform(
        self, *, reason: str, next_clock: Clock, actor: Actor, at: datetime
    ) -> Dispatch:
        """退回: the team cannot take it (before it handled it); the platform owes a new
        dispatch. The team's open clock is cancelled, not met."""
        current = self.current
        if current is None or self.state not in (
            DispatchState.DISPATCHED,
            DispatchState.ACCEPTED,
            DispatchState.ARRIVED,
        ):
            raise InvalidState(
                f"a {self.state.value} dispatch cannot be returned (R-GRD-01)",
                field="id",
                code="WRONG_STATUS",
            )
        self._team_only(actor, current)
        text = reason.strip()
        if not text:
            raise ValidationFailed(
                "give the reason for returning it (退回理由)", field="reason", code="REQUIRED"
            )
        self._check_clock(next_clock, DISPATCH, self.platform_id)
        clocks = self.clocks
        for kind in (ACCEPT, ARRIVE, HANDLE):
            clocks = meet(clocks, kind, "cancelled")
        returned = replace(current, returned_at=at, return_reason=text)
        return self._move(
            "return",
            actor,
            at,
            DispatchState.RETURNED,
            note=text,
            assignments=(*self.assignments[:-1], returned),
            clocks=put_clock(clocks, next_clock),
        )

    def refer(self, *, receiver_id: str, reason: str, actor: Actor, at: datetime) -> Dispatch:
        """转为移送: the problem belongs to a department; the referral service drafts a
        referral from it (R-REF-01). Only while the platform holds it."""
        self._platform_only(actor, "turn it into a referral")
        if self.state not in (DispatchState.REPORTED, DispatchState.RETURNED):
            raise InvalidState(
                f"a {self.state.value} dispatch cannot become a referral; only a reported or "
                "returned one (R-GRD-01)",
                field="id",
                code="WRONG_STATUS",
            )
        receiver = receiver_id.strip()
        if not receiver:
            raise ValidationFailed(
                "name the department it belongs to", field="receiverId", code="REQUIRED"
            )
        require_other(self.platform_id, receiver, "a referral goes to another agency", "receiverId")
        text = reason.strip()
        if not text:
            raise ValidationFailed(
                "say why it belongs to the department", field="reason", code="REQUIRED"
            )
        return self._move(
            "refer",
            actor,
            at,
            DispatchState.REFERRED,
            note=text,
            referral_receiver_id=receiver,
            clocks=meet(self.clocks, DISPATCH),
        )

    def link_referral(self, referral_id: str) -> Dispatch:
        """The referral service drafted the referral: the dispatch names it (linked both
        ways). Idempotent for the same referral."""
        if self.state is not DispatchState.REFERRED:
            raise InvalidState(
                "only a referred dispatch links a referral", field="id", code="WRONG_STATUS"
            )
        if self.referral_id not in (None, referral_id):
            raise InvalidState(
                f"already linked to referral {self.referral_id}", field="id", code="ALREADY_DONE"
            )
        return replace(self, referral_id=referral_id)

    # -- internals ----------------------------------------------------------------------

    def _platform_only(self, actor: Actor, what: str) -> None:
        if actor.agency_id is not None and actor.agency_id != self.platform_id:
            raise Forbidden(
                f"only the township's platform may {what} (R-GRD-01)", code="PLATFORM_ONLY"
            )

    @staticmethod
    def _team_only(actor: Actor, current: Assignment) -> None:
        if actor.agency_id is not None and actor.agency_id != current.team_id:
            raise Forbidden(
                "this dispatch was sent to another team (R-GRD-01)",
                code="DISPATCHED_TO_ANOTHER_TEAM",
            )

    def _team_step(self, actor: Actor, expected: DispatchState, what: str) -> Assignment:
        current = self.current
        if current is None or self.state is not expected:
            raise InvalidState(
                f"cannot {what}: the dispatch is {self.state.value}, the step needs it "
                f"{expected.value} (R-GRD-01)",
                field="id",
                code="WRONG_STATUS",
            )
        self._team_only(actor, current)
        return current

    def _late(self, kind: str, at: datetime) -> bool:
        clock = next((c for c in self.clocks if c.kind == kind and c.state == "open"), None)
        return clock is not None and at > clock.due

    @staticmethod
    def _check_clock(clock: Clock, kind: str, agency_id: str) -> None:
        if clock.kind != kind or clock.responsible_agency_id != agency_id:
            raise ValueError(
                f"expected a {kind} clock owed by {agency_id}, got {clock.kind} owed by "
                f"{clock.responsible_agency_id}"
            )

    def _step(
        self,
        action: str,
        actor: Actor,
        at: datetime,
        after: DispatchState,
        assignment: Assignment,
        met: str,
        next_clock: Clock | None,
    ) -> Dispatch:
        clocks = meet(self.clocks, met)
        if next_clock is not None:
            clocks = put_clock(clocks, next_clock)
        return self._move(
            action,
            actor,
            at,
            after,
            assignments=(*self.assignments[:-1], assignment),
            clocks=clocks,
        )

    def _move(
        self,
        action: str,
        actor: Actor,
        at: datetime,
        after: DispatchState,
        note: str = "",
        **changes: object,
    ) -> Dispatch:
        t = Transition(
            action, actor.person_id, actor.agency_id, at, self.state.value, after.value, note
        )
        return replace(self, state=after, history=(*self.history, t), **changes)  # type: ignore[arg-type]


def _photos(photo_ids: tuple[str, ...], field: str) -> tuple[str, ...]:
    cleaned = tuple(p.strip() for p in photo_ids)
    for i, p in enumerate(cleaned):
        if not p:
            raise ValidationFailed(
                "a photo reference is empty", field=f"{field}.{i}", code="REQUIRED"
            )
    if len(set(cleaned)) != len(cleaned):
        raise ValidationFailed("the same photo is listed twice", field=field, code="LISTED_TWICE")
    return cleaned


def report_problem(
    *,
    dispatch_id: str,
    platform_id: str,
    source: str,
    what: str,
    place: str,
    area: str,
    found_at: datetime,
    coordinates: tuple[float, float] | None,
    photo_ids: tuple[str, ...],
    dispatch_clock: Clock,
    actor: Actor,
    at: datetime,
) -> Dispatch:
    """上报: a problem reaches the platform; the platform owes its dispatch."""
    try:
        kind = ReportSource(source)
    except ValueError:
        allowed = ", ".join(s.value for s in ReportSource)
        raise ValidationFailed(
            f"unknown source {source!r}; one of: {allowed}", field="source", code="UNKNOWN_VALUE"
        ) from None
    text = what.strip()
    if not text:
        raise ValidationFailed("say what was found", field="what", code="REQUIRED")
    where = place.strip()
    if not where:
        raise ValidationFailed("say where it was found (地点)", field="place", code="REQUIRED")
    if found_at > at:
        raise ValidationFailed(
            "a problem cannot be found after it is reported", field="foundAt", code="IN_THE_FUTURE"
        )
    point = None
    if coordinates is not None:
        lat, lon = coordinates
        if not -90 <= lat <= 90:
            raise ValidationFailed(
                f"latitude {lat} is not within -90..90", field="latitude", code="OUT_OF_RANGE"
            )
        if not -180 <= lon <= 180:
            raise ValidationFailed(
                f"longitude {lon} is not within -180..180", field="longitude", code="OUT_OF_RANGE"
            )
        point = Coordinates(lat, lon)
    Dispatch._check_clock(dispatch_clock, DISPATCH, platform_id)
    report = ProblemReport(
        source=kind,
        reporter_id=actor.person_id,
        reporter_agency_id=actor.agency_id,
        what=text,
        place=where,
        area=area.strip(),
        found_at=found_at,
        coordinates=point,
        photo_ids=_photos(photo_ids, "photoIds"),
    )
    t = Transition("report", actor.person_id, actor.agency_id, at, None, "reported", "")
    return Dispatch(
        id=dispatch_id,
        platform_id=platform_id,
        report=report,
        reported_at=at,
        state=DispatchState.REPORTED,
        clocks=(dispatch_clock,),
        history=(t,),
    )
