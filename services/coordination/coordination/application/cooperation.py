"""What the command handlers of the cooperation duties between agencies share: assistance
(协助执法, R-AST-01/02, assistance.py), technical support (技术支撑, R-TEC-01/02, technical.py)
and information queries (信息查询, R-INF-01, information.py). Each command loads the
aggregate, lets the domain decide, and writes the new state with its events in one
conditional update (the outbox)."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Generic, Protocol, TypeVar

from coordination.adapters.cooperation import (
    RequestRepository,
)
from coordination.adapters.repository import AgencyRepository
from coordination.application import access
from coordination.application.actors import acting
from coordination.application.dispute_ladder import STEP_BODY_KINDS
from coordination.application.publishing import Publishing
from coordination.domain import assistance as ast
from coordination.domain import correction as cor
from coordination.domain import dispatch as dsp
from coordination.domain import information as inf
from coordination.domain import joint as jnt
from coordination.domain import joint_ruling as jr
from coordination.domain import meetings as mtg
from coordination.domain import onsite as ons
from coordination.domain import participation as par
from coordination.domain import technical as tec
from coordination.domain.cooperation import Actor, Clock
from coordination.domain.model import AgencyKind
from kernel.authz import Relation
from kernel.calendar import Deadline, WorkingCalendar
from kernel.caller import Caller
from kernel.contracts.deadlines import DeadlineV1
from kernel.envelope import Envelope, EventPayload
from kernel.errors import NotFound
from kernel.keyset import ListQuery
from kernel.policy import DistrictPolicy

DEPARTMENT_KINDS = {AgencyKind.DEPARTMENT, AgencyKind.APPROVAL_BUREAU}
# The legal office (政府法制机构) that mediates an assistance disagreement (CQ 三(三)): the
# coordination body where one is registered, else the justice bureau, else the government.
LEGAL_OFFICE_KINDS = STEP_BODY_KINDS["coordination_body"]


class _Base(Publishing):
    def __init__(
        self,
        agencies: AgencyRepository,
        policy: DistrictPolicy,
        calendar: WorkingCalendar,
        district: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.agencies = agencies
        self.policy = policy
        self.calendar = calendar
        self.district = district
        self.clock = clock

    def _deadlines(
        self, subject_type: str, subject_id: str, clocks: tuple[Clock, ...], *kinds: str
    ) -> list[DeadlineV1]:
        return [
            DeadlineV1(
                key=DeadlineV1.key_for(subject_type, subject_id, c.kind),
                kind=c.kind,
                subject_type=subject_type,
                subject_id=subject_id,
                responsible_agency_id=c.responsible_agency_id,
                due=c.due,
                state="met" if c.state == "met" else "cancelled" if c.state != "open" else "open",
                rule=c.rule,
                explanation_zh=self.calendar.explain_dict(c.explanation, lang="zh"),
                **DeadlineV1.calendar_fields(c.explanation),
            )
            for c in clocks
            if c.kind in kinds
        ]

    @staticmethod
    def _clock(kind: str, agency_id: str, deadline: Deadline) -> Clock:
        return Clock(kind, agency_id, deadline.due, deadline.rule, deadline.to_dict())

    def _default_clock(
        self, kind: str, agency_id: str, start: datetime, days: int, what: str, silent: str
    ) -> Clock:
        """A clock of ``days`` working days whose limit is a project default (no seed and no
        DOMAIN.md number gives one, issue 14): its rule says so and names the ``silent``
        seed passage."""
        rule = f"{what}：{days}个工作日（项目默认；{silent}未规定期限）"
        return self._clock(kind, agency_id, self.calendar.add_working_days(start, days, rule=rule))

    def _immediately(self, kind: str, agency_id: str, at: datetime, rule: str) -> Clock:
        # "Immediately" (立即, DOMAIN §0): the addressee is alerted now (an hour clock's
        # reminders fall due at once) and the act is due within the policy's few hours, so
        # an urgent request is not late the moment it is made.
        hours = self.policy.immediately.limit_hours
        return self._clock(
            kind, agency_id, self.calendar.add_hours(at, hours, rule=f"{rule}（{hours}小时内）")
        )


# --------------------------------------------------------------------------- read access

# Who reads a request is the matrix's read rule (kernel.authz, coordination.<read>): the
# parties' staff, and the supervising roles (the justice bureau supervises cooperation,
# FY (五)4; the coordination body mediates, CQ 三(三); the government decides in the end);
# the judicial observer does not.
ASSISTANCE_READ = "assistanceRequest"
TECHNICAL_READ = "technicalSupportRequest"
INFORMATION_READ = "informationQuery"


def party_scope(actor: Actor, operation: str) -> str | None:
    """The agency whose requests the caller may list, or None when it may list them all.

    A caller the matrix lets read nothing gets ``""``, which is no party, so it reads
    nothing rather than everything."""
    return access.own_scope(actor, operation)


def own_side(q: ListQuery, actor: Actor) -> ListQuery:
    """``q`` with the caller's agency when it asks for a side (sent / received) of no agency."""
    if q.direction is not None and not q.agency_id:
        return replace(q, agency_id=actor.agency_id or "")
    return q


def assistance_parties(r: ast.AssistanceRequest) -> tuple[str, ...]:
    """Requester, helper and, once a refusal went to mediation, the mediating legal office."""
    mediator = (r.mediation.mediator_agency_id,) if r.mediation else ()
    return (r.requester_id, r.helper_id, *mediator)


R = TypeVar("R", ast.AssistanceRequest, tec.TechnicalSupportRequest, inf.InformationQuery)
#: A record with a status, its clocks and its history: a request or a duty (duties/).
K = TypeVar(
    "K",
    ast.AssistanceRequest,
    tec.TechnicalSupportRequest,
    inf.InformationQuery,
    ons.OnSiteRequest,
    cor.CorrectionOpinion,
    par.ParticipationNotice,
    jr.JointRuling,
)
#: An aggregate a command steps: a request, a duty, a grid dispatch (R-GRD-01, dispatch.py),
#: a joint operation (joint.py) or a meeting (meetings.py).
A = TypeVar(
    "A",
    ast.AssistanceRequest,
    tec.TechnicalSupportRequest,
    inf.InformationQuery,
    ons.OnSiteRequest,
    cor.CorrectionOpinion,
    par.ParticipationNotice,
    jr.JointRuling,
    dsp.Dispatch,
    jnt.JointOperation,
    mtg.Meeting,
)
T = TypeVar("T")
#: The events of a step on a record, from the record after it, what every event of its
#: kind carries (``_RecordSteps._common``) and when the step was taken.
RecordEvents = Callable[[K, dict[str, Any], datetime], list[EventPayload]]


class AggregateStore(Protocol[T]):
    """What a command needs of a repository: the aggregate, and a conditional save."""

    async def get(self, aggregate_id: str) -> T | None: ...

    async def save(self, aggregate: T, events: Sequence[Envelope]) -> int: ...


class RecordStore(AggregateStore[T], Protocol[T]):
    """An :class:`AggregateStore` that also writes a new aggregate."""

    async def add(self, aggregate: T, events: Sequence[Envelope]) -> None: ...


#: A move in the domain: the aggregate loaded, who acts and when → the aggregate after it (a
#: coroutine where the move checks something in the stores first).
Move = Callable[[A, Actor, datetime], A | Awaitable[A]]
#: The events of a move, from the aggregate before and after it and who acted.
Payloads = Callable[[A, A, Actor], list[EventPayload] | Awaitable[list[EventPayload]]]
#: The events of a move, from the aggregate before and after it, who acted and when.
TimedPayloads = Callable[[A, A, Actor, datetime], list[EventPayload]]


async def _settled(value: T | Awaitable[T]) -> T:
    return await value if inspect.isawaitable(value) else value


class _AggregateSteps(_Base, Generic[A]):
    """The one path a command on an existing aggregate takes: load → authorize (the matrix,
    per operation) → move in the domain → one conditional write with its events."""

    #: The noun in "… does not exist".
    noun: str
    #: The field a missing aggregate's NotFound names.
    id_field: str = "id"
    #: The aggregates' repository (the subclass's constructor sets it).
    _repository: AggregateStore[A]

    def _relations(self, actor: Actor, found: A) -> set[Relation]:
        raise NotImplementedError

    async def _load(self, aggregate_id: str) -> A:
        found = await self._repository.get(aggregate_id)
        if found is None:
            raise NotFound(f"{self.noun} {aggregate_id!r} does not exist", field=self.id_field)
        return found

    async def _authorized(self, aggregate_id: str, actor: Actor, operation: str) -> A:
        """The aggregate, when the matrix lets ``actor`` do ``operation`` on it."""
        found = await self._load(aggregate_id)
        access.authorize_on(actor, operation, self._relations(actor, found))
        return found

    async def _save(self, after: A, payloads: list[EventPayload], correlation_id: str | None) -> A:
        events = [self._event(p, after.id, correlation_id) for p in payloads]
        # A concurrent change raises ConcurrencyError (a Conflict): the caller reloads.
        version = await self._repository.save(after, events)
        return replace(after, version=version)

    async def _step(
        self,
        aggregate_id: str,
        operation: str,
        caller: Caller,
        move: Move[A],
        payloads: Payloads[A],
        at: datetime | None = None,
    ) -> A:
        """The step, taken ``at`` (default: now)."""
        actor = acting(caller)
        before = await self._authorized(aggregate_id, actor, operation)
        after = await _settled(move(before, actor, at or self.clock()))
        events = await _settled(payloads(before, after, actor))
        return await self._save(after, events, caller.correlation_id)

    async def _timed_step(
        self,
        aggregate_id: str,
        operation: str,
        caller: Caller,
        move: Move[A],
        payloads: TimedPayloads[A],
    ) -> A:
        """:meth:`_step` whose events also say when the step was taken."""
        at = self.clock()
        return await self._step(
            aggregate_id,
            operation,
            caller,
            move,
            lambda before, after, actor: payloads(before, after, actor, at),
            at=at,
        )


class _RecordSteps(_AggregateSteps[K], Generic[K]):
    """What the kinds of request and the duties share: reading one under the matrix's read
    rule, the command path of :class:`_AggregateSteps` with the fields every event of the
    kind carries, and writing a new one."""

    #: The matrix's read operation.
    read_operation: str
    #: The aggregate's name in its deadlines (``DeadlineV1.subject_type``).
    subject_type: str
    _repository: RecordStore[K]

    def _fields(self, record: K) -> dict[str, Any]:
        """What every event of the kind says of the record (its id, its parties...)."""
        raise NotImplementedError

    async def visible(self, record_id: str, caller: Caller) -> K | None:
        """The record when the caller may read it; None when absent or not its to see (the
        same answer, so a non-party cannot learn that it exists)."""
        actor = acting(caller)
        found = await self._repository.get(record_id)
        if found is None:
            return None
        return (
            found if access.may(actor, self.read_operation, self._relations(actor, found)) else None
        )

    def _deadlines_of(self, r: K, *kinds: str) -> list[DeadlineV1]:
        """The record's clocks of ``kinds`` as its events carry them."""
        return self._deadlines(self.subject_type, r.id, r.clocks, *kinds)

    def _common(self, before: K | None, after: K, actor: Actor) -> dict[str, Any]:
        """What every event of the kind carries: :meth:`_fields`, who acted and the state
        before (none for a new record) and after."""
        return {
            **self._fields(after),
            "actor_id": actor.person_id,
            "actor_agency_id": actor.agency_id,
            "state_before": before.status.value if before else None,
            "state_after": after.status.value,
        }

    async def _recorded_step(
        self,
        record_id: str,
        operation: str,
        caller: Caller,
        move: Move[K],
        events: RecordEvents[K],
    ) -> K:
        """:meth:`_timed_step` on a record: ``events`` makes the step's events from the
        record after it, :meth:`_common` and the step's time."""
        return await self._timed_step(
            record_id,
            operation,
            caller,
            move,
            lambda before, after, actor, at: events(after, self._common(before, after, actor), at),
        )

    async def _added(self, record: K, payload: EventPayload, correlation_id: str | None) -> K:
        """A new record, written with its first event (version 1)."""
        await self._repository.add(record, [self._event(payload, record.id, correlation_id)])
        return replace(record, version=1)


class _RequestHandlers(_RecordSteps[R], Generic[R]):
    """What the three kinds of request share: :class:`_RecordSteps`, their lists, and the
    fields their events carry (the request and its two parties)."""

    #: The id field of the kind's events, and the party fields every event of it carries
    #: (named as the request names them).
    event_id: str = "request_id"
    event_parties: tuple[str, str]

    def __init__(self, repository: RequestRepository[R], *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._repository = repository
        self._requests: RequestRepository[R] = repository

    def _fields(self, record: R) -> dict[str, Any]:
        return {
            self.event_id: record.id,
            **{party: getattr(record, party) for party in self.event_parties},
        }

    async def list_visible(self, q: ListQuery, *, limit: int, caller: Caller) -> Sequence[R]:
        """A page of the requests ``q`` asks for, among those the caller may read (its own
        agency's unless its role supervises); a direction without an agency is the caller's
        agency's side."""
        actor = acting(caller)
        return await self._requests.search(
            own_side(q, actor), limit=limit, party_id=party_scope(actor, self.read_operation)
        )

    async def count_visible(self, q: ListQuery, *, caller: Caller) -> int:
        """How many requests :meth:`list_visible` lists for ``q``, all pages together."""
        actor = acting(caller)
        return await self._requests.count(
            own_side(q, actor), party_id=party_scope(actor, self.read_operation)
        )
