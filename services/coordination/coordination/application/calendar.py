"""The district's working-day calendar (工作日): loading the State Council's yearly holiday
notice, and the coordination clocks that follow it (issue 20).

Loading (``import_schedule``): the calendar administrator — the coordination body's
``coordinator`` role (matrix row ``coordination.importHolidaySchedule``) — or the command
line (``liandong calendar import FILE``, the system's own act) loads one year's schedule.
The whole file is validated first (:func:`kernel.calendar.parse_schedule` names every bad
row) and nothing is stored unless all of it is good. Each new version is stored with where it
came from and published (``calendar.schedule_published.v1``); loading the version already in
force changes nothing and publishes nothing.

Following (``recheck_*``): every service, this one included, reacts to the published event
(kernel.calendar_follow). Here the open clocks are the cooperation requests' (assistance,
technical support, information queries) and the disputes' current steps.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any, Literal, Protocol

from coordination.adapters.calendar import HolidayScheduleRepository
from coordination.adapters.joint import JointOperationRepository
from coordination.adapters.repository import DisputeRepository
from coordination.application.access import oversight_relations
from coordination.application.dispute_ladder import STEP_KIND
from coordination.application.matrix import MATRIX
from coordination.domain.cooperation import Clock, Transition
from coordination.domain.dispute import Dispute, DisputeStatus, DisputeTransition
from kernel.calendar import Recheck, ScheduleError, WorkingCalendar, parse_schedule
from kernel.caller import Caller
from kernel.contracts.calendar import HolidayScheduleV1
from kernel.contracts.deadlines import DeadlineMovedV1, DeadlineV1
from kernel.envelope import Envelope, EventPayload, new_envelope
from kernel.errors import Conflict, ValidationFailed
from kernel.outbox import AggregateCollection

SERVICE = "coordination"
SYSTEM_ID = "system:coordination"
_ATTEMPTS = 3


@dataclass(frozen=True)
class ImportHolidaySchedule:
    """One year's official schedule as read from a file or the graph's input (unvalidated)."""

    data: Mapping[str, Any]
    source: str
    """The file's name, or ``graphql``."""


@dataclass(frozen=True)
class ScheduleImport:
    outcome: Literal["loaded", "unchanged"]
    schedule: HolidayScheduleV1


def problems_message(error: ScheduleError) -> str:
    return "the schedule has bad rows; nothing was loaded: " + "; ".join(
        str(p) for p in error.problems
    )


class CalendarHandlers:
    def __init__(
        self,
        schedules: HolidayScheduleRepository,
        district: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.schedules = schedules
        self.district = district
        self.clock = clock

    async def import_schedule(self, cmd: ImportHolidaySchedule, caller: Caller) -> ScheduleImport:
        """Load a year's official schedule (the calendar administrator, roles only)."""
        principal = caller.principal
        MATRIX.authorize(
            principal, "coordination.importHolidaySchedule", oversight_relations(principal)
        )
        return await self._import(cmd, principal.person_id, caller.correlation_id)

    async def import_schedule_as_system(
        self, cmd: ImportHolidaySchedule, loaded_by: str = "cli"
    ) -> ScheduleImport:
        """``import_schedule`` as the system's own act (the command line on the server)."""
        return await self._import(cmd, loaded_by, None)

    async def _import(
        self, cmd: ImportHolidaySchedule, loaded_by: str, correlation_id: str | None
    ) -> ScheduleImport:
        try:
            schedule = parse_schedule(cmd.data, cmd.source)
        except ScheduleError as exc:
            raise ValidationFailed(problems_message(exc), field="schedule") from exc
        latest = await self.schedules.latest(schedule.year)
        if latest is not None and latest.digest == schedule.version:
            return ScheduleImport("unchanged", latest)
        payload = HolidayScheduleV1.of(
            schedule,
            revision=(latest.revision + 1) if latest else 1,
            source=cmd.source,
            loaded_by=loaded_by,
            loaded_at=self.clock(),
        )
        event = new_envelope(
            payload,
            district=self.district,
            service=SERVICE,
            subject=str(schedule.year),
            correlation_id=correlation_id,
        )
        await self.schedules.add(payload, [event])
        return ScheduleImport("loaded", payload)


# --------------------------------------------------------------------------- rechecking


def _note(kind: str, found: Recheck) -> str:
    if not found.moved:
        return f"{kind}: {found.summary_zh}"
    revision = found.after.explanation.revisions[-1]
    return f"{kind}: 因{revision.notice_zh}，{found.summary_zh}"


class ClockedRepository(Protocol):
    """A repository of aggregates with ``clocks``, a ``status`` and a ``history`` of
    transitions: the cooperation requests, the duties and the meetings."""

    aggregates: AggregateCollection

    async def get(self, aggregate_id: str) -> Any: ...

    async def save(self, aggregate: Any, events: Sequence[Envelope]) -> int: ...


class CoordinationCalendar:
    """Rechecks the coordination service's open clocks when the calendar learns a year."""

    def __init__(
        self,
        calendar: WorkingCalendar,
        district: str,
        clock: Callable[[], datetime],
        requests: Mapping[str, ClockedRepository],
        disputes: DisputeRepository,
        operations: JointOperationRepository | None = None,
    ) -> None:
        self.calendar = calendar
        self.district = district
        self.clock = clock
        self.requests = requests
        """subject type (as in deadline blocks) → its repository."""
        self.disputes = disputes
        self.operations = operations

    def _event(self, payload: EventPayload, subject: str) -> Envelope:
        return new_envelope(payload, district=self.district, service=SERVICE, subject=subject)

    def _block(self, subject_type: str, subject_id: str, c: Clock) -> DeadlineV1:
        return DeadlineV1(
            key=DeadlineV1.key_for(subject_type, subject_id, c.kind),
            kind=c.kind,
            subject_type=subject_type,
            subject_id=subject_id,
            responsible_agency_id=c.responsible_agency_id,
            due=c.due,
            state="open",
            rule=c.rule,
            explanation_zh=self.calendar.explain_dict(c.explanation, lang="zh"),
            **DeadlineV1.calendar_fields(c.explanation),
        )

    async def recheck_requests(self, year: int | None) -> int:
        changed = 0
        for subject_type, repo in self.requests.items():
            docs = await repo.aggregates.collection.find(
                {"clocks.state": "open"}, sort=[("_id", 1)]
            )
            for doc in docs:
                changed += await _retrying(
                    partial(self._recheck_request, subject_type, repo, doc["_id"], year)
                )
        return changed

    async def _recheck_request(
        self, subject_type: str, repo: ClockedRepository, request_id: str, year: int | None
    ) -> int:
        request = await repo.get(request_id)
        if request is None:
            return 0
        now = self.clock()
        clocks = list(request.clocks)
        payloads: list[EventPayload] = []
        notes: list[str] = []
        for i, c in enumerate(clocks):
            if c.state != "open" or not c.explanation:
                continue
            found = self.calendar.recheck(c.explanation, at=now, year=year)
            if found is None:
                continue
            clocks[i] = replace(c, due=found.after.due, explanation=found.after.to_dict())
            notes.append(_note(c.kind, found))
            if found.moved:
                block = self._block(subject_type, request.id, clocks[i])
                payloads.append(DeadlineMovedV1.of(block, found))
        if not notes:
            return 0
        status = request.status.value
        t = Transition("revise_clocks", SYSTEM_ID, None, now, status, status, "；".join(notes))
        revised = replace(request, clocks=tuple(clocks), history=(*request.history, t))
        await repo.save(revised, [self._event(p, request.id) for p in payloads])
        return len(notes)

    async def recheck_disputes(self, year: int | None) -> int:
        changed = 0
        docs = await self.disputes.aggregates.collection.find(
            {"status": DisputeStatus.OPEN.value}, sort=[("status", 1), ("_id", 1)]
        )
        for doc in docs:
            changed += await _retrying(partial(self._recheck_dispute, doc["_id"], year))
        return changed

    async def _recheck_dispute(self, dispute_id: str, year: int | None) -> int:
        dispute = await self.disputes.get(dispute_id)
        if dispute is None or dispute.status is not DisputeStatus.OPEN:
            return 0
        step = dispute.current_step
        if not step.explanation or dispute.steps[-1].ended_at is not None:
            return 0
        now = self.clock()
        found = self.calendar.recheck(step.explanation, at=now, year=year)
        if found is None:
            return 0
        plan = replace(step, due=found.after.due, explanation=found.after.to_dict())
        t = DisputeTransition(
            "revise_clocks",
            SYSTEM_ID,
            None,
            now,
            dispute.status,
            dispute.status,
            _note("dispute.step", found),
        )
        revised: Dispute = replace(
            dispute,
            steps=(*dispute.steps[:-1], replace(dispute.steps[-1], plan=plan)),
            history=(*dispute.history, t),
        )
        events = []
        if found.moved:
            block = DeadlineV1(
                key=DeadlineV1.key_for("Dispute", dispute.id, STEP_KIND),
                kind=STEP_KIND,
                subject_type="Dispute",
                subject_id=dispute.id,
                responsible_agency_id=plan.decided_by_agency_id,
                due=plan.due,
                rule=plan.rule,
                explanation_zh=self.calendar.explain_dict(plan.explanation, lang="zh"),
                **DeadlineV1.calendar_fields(plan.explanation),
            )
            events.append(self._event(DeadlineMovedV1.of(block, found), dispute.id))
        await self.disputes.save(revised, events)
        return 1

    async def recheck_joint_tasks(self, year: int | None) -> int:
        """The joint tasks' report clocks (R-JNT-04: 5 working days after a task's deadline)."""
        if self.operations is None:
            return 0
        changed = 0
        docs = await self.operations.aggregates.collection.find(
            {"tasks.report_clock.state": "open"}, sort=[("_id", 1)]
        )
        for doc in docs:
            changed += await _retrying(partial(self._recheck_operation, doc["_id"], year))
        return changed

    async def _recheck_operation(self, operation_id: str, year: int | None) -> int:
        assert self.operations is not None
        operation = await self.operations.get(operation_id)
        if operation is None:
            return 0
        now = self.clock()
        tasks = list(operation.tasks)
        events: list[Envelope] = []
        notes: list[str] = []
        for i, task in enumerate(tasks):
            c = task.report_clock
            if c.state != "open" or not c.explanation:
                continue
            found = self.calendar.recheck(c.explanation, at=now, year=year)
            if found is None:
                continue
            clock = replace(c, due=found.after.due, explanation=found.after.to_dict())
            tasks[i] = replace(task, report_clock=clock)
            notes.append(_note(f"{task.id} {c.kind}", found))
            if found.moved:
                block = self._block("JointTask", task.id, clock)
                events.append(self._event(DeadlineMovedV1.of(block, found), operation.id))
        if not notes:
            return 0
        status = operation.status.value
        t = Transition("revise_clocks", SYSTEM_ID, None, now, status, status, "；".join(notes))
        revised = replace(operation, tasks=tuple(tasks), history=(*operation.history, t))
        await self.operations.save(revised, events)
        return len(notes)


async def _retrying(attempt: Callable[[], Awaitable[int]]) -> int:
    """One aggregate's recheck, retried from the stored state after a concurrent change."""
    for n in range(_ATTEMPTS):
        try:
            return await attempt()
        except Conflict:
            if n == _ATTEMPTS - 1:
                raise
    return 0
