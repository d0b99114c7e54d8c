"""The full-process record (R-SUP-01), the deadline watch (R-SUP-02) and unread-notice
escalation (R-NTF-04): what happens when an event arrives and when a timer fires."""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from kernel.bus import PermanentError
from kernel.calendar import WorkingCalendar
from kernel.consumer import check_source
from kernel.contracts.deadlines import DeadlineV1, deadlines_of
from kernel.envelope import Envelope, new_envelope
from kernel.outbox import AggregateCollection, ConcurrencyError
from kernel.policy import DistrictPolicy
from kernel.store import Document
from notify.adapters.record import RecordRepository
from notify.adapters.repository import AgencyNames, InboxRepository
from notify.adapters.watch import DeadlineRepository, TimerRepository
from notify.contracts.published import DeadlineMissedV1
from notify.domain.model import InboxItem, item_id
from notify.domain.record import CHECKPOINT_EVENT, RecordEntry, record_entry
from notify.domain.watch import (
    CHINA,
    PlannedTimer,
    WatchedDeadline,
    alert_text,
    escalation_text,
    fire_at_for_step,
    missed_text,
    plan_deadline_timers,
    receipt_limit,
    reminder_text,
    unread_escalation_text,
)
from notify.policy import policy_of

log = logging.getLogger(__name__)

SERVICE = "notify"
# How long to wait before retrying a timer whose addressee is not known yet (the agency
# directory is fed by coordination's events and may lag behind).
RETRY_LATER = timedelta(minutes=5)


def watched(block: DeadlineV1, envelope: Envelope) -> WatchedDeadline:
    return WatchedDeadline(
        key=block.key,
        kind=block.kind,
        subject_type=block.subject_type,
        subject_id=block.subject_id,
        responsible_agency_id=block.responsible_agency_id,
        due=block.due,
        state=block.state,
        rule=block.rule,
        explanation_zh=block.explanation_zh,
        event_time=envelope.time,
        event_id=envelope.id,
        mode=block.mode,
        provisional=block.provisional,
        escalate_to_agency_id=block.escalate_to_agency_id,
        escalate_to_agency_kind=block.escalate_to_agency_kind,
        escalate_to_supervisor_id=block.escalate_to_supervisor_id,
    )


class ProcessRecord:
    """Appends one entry per event of the district (R-SUP-01)."""

    def __init__(self, records: RecordRepository) -> None:
        self.records = records

    async def when_any_event_append_record(self, envelope: Envelope) -> RecordEntry | None:
        entry = record_entry(
            event_id=envelope.id,
            seq=0,
            type=envelope.type,
            subject=envelope.subject,
            time=envelope.time,
            district=envelope.district,
            service=envelope.service,
            correlation_id=envelope.correlationid,
            data=envelope.data,
        )
        return await self.records.append(entry)


class DeadlineWatch:
    """Tracks every deadline block and fires the timers they need."""

    def __init__(
        self,
        *,
        district: str,
        deadlines: DeadlineRepository,
        timers: TimerRepository,
        inbox: InboxRepository,
        agencies: AgencyNames,
        missed: AggregateCollection,
        policy: DistrictPolicy,
        calendar: WorkingCalendar,
        clock: Callable[[], datetime],
    ) -> None:
        self.district = district
        self.deadlines = deadlines
        self.timers = timers
        self.inbox = inbox
        self.agencies = agencies
        self.missed = missed
        self.policy = policy
        self.calendar = calendar
        self.clock = clock

    # -- events ---------------------------------------------------------------------------

    async def when_event_carries_deadlines_track_them(self, envelope: Envelope) -> None:
        try:
            blocks = deadlines_of(envelope.data)
        except ValidationError as exc:
            # A malformed block must not hold up the record of the same event; the producer's
            # contract tests are where it gets fixed.
            log.warning("event %s has malformed deadline blocks: %s", envelope.id, exc)
            return
        for block in blocks:
            await self.deadlines.put(watched(block, envelope))
            # Reconcile from what is stored, not from this event: a redelivered or older event
            # then re-applies the current state, which is harmless, and a crash between the
            # two writes is repaired by the redelivery.
            await self.reconcile(block.key)

    def _supervising_kind(self, deadline: WatchedDeadline) -> str:
        if deadline.escalate_to_agency_kind is not None:
            return deadline.escalate_to_agency_kind  # the producer's policy names it (R-GRD-01)
        for step in policy_of(self.policy).reminders.escalation:
            if step.to == "supervising_body" and step.agency_kind is not None:
                return step.agency_kind
        return "justice_bureau"

    async def _supervisor(self, deadline: WatchedDeadline, kind: str) -> str | None:
        """The agency the producer's policy names (R-GRD-01: ``dispatch.escalation``) when
        this service knows it as an agency of ``kind``; else the first agency of ``kind``."""
        named = deadline.escalate_to_supervisor_id
        if named is not None:
            if await self.agencies.kind(named) == kind:
                return named
            log.warning("escalation target %s is not a known %s; the first one serves", named, kind)
        return await self.agencies.first_of_kind(kind)

    async def reconcile(self, key: str) -> None:
        current = await self.deadlines.get(key)
        if current is None:
            return
        if current.state in ("met", "cancelled"):
            await self.timers.cancel_for(key)
            return
        state = "paused" if current.state == "paused" else "pending"
        for planned in plan_deadline_timers(
            current, policy_of(self.policy).reminders, self.calendar, self.policy.immediately
        ):
            await self.timers.schedule(
                planned,
                state=state,
                fields={
                    "deadline_key": key,
                    "due": current.due,
                    "agency_id": current.responsible_agency_id,
                },
                planned_from=current.event_time,
            )

    async def replan_year(self, year: int | None) -> int:
        """Plan again the timers of the open clocks due in ``year`` (or early the next), once
        an official schedule of it is loaded (issue 20): reminders counted in working days
        follow the new days; a clock that moved comes with its own ``deadline.moved.v1``."""
        if year is None:
            return 0
        start = datetime(year, 1, 1, tzinfo=CHINA)
        # A reminder before a clock due early next January falls in this year.
        end = datetime(year + 1, 1, 20, tzinfo=CHINA)
        count = 0
        for deadline in await self.deadlines.due_between(start, end):
            if deadline.state in ("open", "paused"):
                await self.reconcile(deadline.key)
                count += 1
        return count

    async def watch_notice(self, item: InboxItem) -> None:
        """R-NTF-04: an unread notice escalates past the district's receipt limit."""
        if not item.receipt_required:
            return
        fire_at = receipt_limit(
            item.created_at, item.urgent, policy_of(self.policy).notices, self.calendar
        )
        await self.timers.schedule(
            PlannedTimer(
                id=f"receipt:{item.id}", kind="notice.receipt", step="receipt", fire_at=fire_at
            ),
            state="pending",
            fields={"item_id": item.id, "agency_id": item.agency_id, "due": fire_at},
        )

    async def notice_signed(self, item: InboxItem) -> None:
        await self.timers.cancel(f"receipt:{item.id}")

    # -- timers ---------------------------------------------------------------------------

    async def fire(self, timer: Document, owner: str) -> str:
        """Do what the claimed timer asks; returns the state it ended in."""
        now = self.clock()
        if timer["kind"] == "notice.receipt":
            outcome = await self._fire_receipt(timer)
        else:
            outcome = await self._fire_deadline(timer, now, owner)
        if outcome == "released":
            return outcome
        await self.timers.finish(timer["_id"], owner, outcome, now)
        if outcome == "paused":
            await self._plan_again_unless(timer["deadline_key"], lambda c: c.state == "paused")
        return outcome

    async def _plan_again_unless(
        self, key: str, as_read: Callable[[WatchedDeadline], bool]
    ) -> None:
        """A timer being fired is not planned (a plan written meanwhile passes it by): once
        the fire has put it back, a clock no longer ``as_read`` by the fire plans its timers
        again from its current state (R-SUP-02)."""
        current = await self.deadlines.get(key)
        if current is not None and not as_read(current):
            await self.reconcile(key)

    async def _fire_receipt(self, timer: Document) -> str:
        item = await self.inbox.get(timer["item_id"])
        if item is None or not item.unread:
            return "skipped"
        name = await self.agencies.name(item.agency_id)
        title, body = unread_escalation_text(item.title, name, item.created_at)
        await self._notify(
            timer,
            agency_id=item.agency_id,
            kind="notice.unread_escalated",
            title=title,
            body=body,
            subject_type=item.subject_type,
            subject_id=item.subject_id,
            due_at=None,
            audience="leader",
        )
        return "fired"

    async def _fire_deadline(self, timer: Document, now: datetime, owner: str) -> str:
        deadline = await self.deadlines.get(timer["deadline_key"])
        if deadline is None or deadline.state in ("met", "cancelled"):
            return "cancelled"
        if deadline.state == "paused":
            return "paused"
        if deadline.due != timer["due"]:
            # The clock moved between the claim and now: fire at the new time instead.
            fire_at = fire_at_for_step(
                deadline,
                timer["step"],
                policy_of(self.policy).reminders,
                self.calendar,
                self.policy.immediately,
            )
            if fire_at is None:
                return "cancelled"
            if fire_at > now:
                await self.timers.release(timer["_id"], owner, fire_at, {"due": deadline.due})
                await self._plan_again_unless(deadline.key, lambda c: c == deadline)
                return "released"
        kind = timer["kind"]
        agency = deadline.responsible_agency_id
        if kind == "deadline.remind":
            if now > deadline.due:
                return "skipped"  # too late to remind; the missed timer takes over
            text = alert_text if timer["step"] == "alert" else reminder_text
            title, body = text(deadline)
            await self._notify(
                timer,
                agency_id=agency,
                kind="deadline.reminder",
                title=title,
                body=body,
                deadline=deadline,
            )
            return "fired"
        if kind == "deadline.missed":
            await self._publish_missed(timer, deadline, now)
            title, body = missed_text(deadline)
            await self._notify(
                timer,
                agency_id=agency,
                kind="deadline.missed",
                title=title,
                body=body,
                deadline=deadline,
            )
            return "fired"
        name = await self.agencies.name(agency)
        if timer.get("escalate_to") == "supervising_body":
            # The supervising body the district names (R-SUP-02): the justice bureau, or e.g.
            # Huancui's district enforcement platform office (a coordination body).
            kind = self._supervising_kind(deadline)
            supervisor = await self._supervisor(deadline, kind)
            if supervisor is None:
                log.warning("no %s known yet; escalation %s retried", kind, timer["_id"])
                await self.timers.release(timer["_id"], owner, now + RETRY_LATER, {})
                return "released"
            title, body = escalation_text(deadline, "supervising_body", name)
            await self._notify(
                timer,
                agency_id=supervisor,
                kind="deadline.escalated",
                title=title,
                body=body,
                deadline=deadline,
            )
            return "fired"
        # R-GRD-01: a grid team's late step goes to the leader of the township whose platform
        # dispatched it (and to the team's own leader), never only to the team.
        leaders = [agency]
        if deadline.escalate_to_agency_id and deadline.escalate_to_agency_id != agency:
            leaders.insert(0, deadline.escalate_to_agency_id)
        for leader in leaders:
            title, body = escalation_text(
                deadline, "agency_leader" if leader == agency else "platform_leader", name
            )
            await self._notify(
                timer,
                agency_id=leader,
                kind="deadline.escalated",
                title=title,
                body=body,
                deadline=deadline,
                audience="leader",
            )
        return "fired"

    async def _notify(
        self,
        timer: Document,
        *,
        agency_id: str,
        kind: str,
        title: str,
        body: str,
        deadline: WatchedDeadline | None = None,
        subject_type: str = "",
        subject_id: str = "",
        due_at: datetime | None = None,
        audience: str = "agency",
    ) -> None:
        # Keyed by the timer id: a timer fired again after a lost lease finds it there.
        await self.inbox.add(
            InboxItem(
                id=item_id(timer["_id"], agency_id),
                agency_id=agency_id,
                kind=kind,
                title=title,
                body=body,
                subject_type=deadline.subject_type if deadline else subject_type,
                subject_id=deadline.subject_id if deadline else subject_id,
                source_event_id=timer["_id"],
                created_at=self.clock(),
                due_at=deadline.due if deadline else due_at,
                urgent=deadline is not None and kind != "deadline.reminder",
                audience=audience,
                receipt_required=False,
            )
        )

    async def _publish_missed(
        self, timer: Document, deadline: WatchedDeadline, now: datetime
    ) -> None:
        payload = DeadlineMissedV1(
            key=deadline.key,
            kind=deadline.kind,
            subject_type=deadline.subject_type,
            subject_id=deadline.subject_id,
            responsible_agency_id=deadline.responsible_agency_id,
            due=deadline.due,
            missed_at=now,
        )
        envelope = new_envelope(
            payload,
            district=self.district,
            service=SERVICE,
            subject=deadline.subject_id,
            # Derived from the timer, so a re-fired timer produces the same event id.
            event_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"liandong:timer:{timer['_id']}")),
            time=now,
        )
        doc: dict[str, Any] = {"_id": timer["_id"], "deadline_key": deadline.key}
        with contextlib.suppress(ConcurrencyError):  # published (or pending) already
            await self.missed.insert(doc, [envelope])


class EveryEvent:
    """The handler of notify's second subscription (every event of the district): the
    full-process record first, then the deadline watch. Both steps are idempotent, so a
    redelivery after a failure in the second step only repeats what is missing."""

    def __init__(self, district: str, record: ProcessRecord, watch: DeadlineWatch) -> None:
        self.district = district
        self.record = record
        self.watch = watch

    async def __call__(self, envelope: Envelope) -> None:
        if envelope.district != self.district:
            raise PermanentError(
                f"event {envelope.id} belongs to district {envelope.district!r}; "
                f"this deployment serves {self.district!r}"
            )
        # Issue 16, finding 7: a forged event (its service is not its type's publisher) is
        # dead-lettered, never recorded. A checkpoint of the record is not an entry of it
        # (each checkpoint would otherwise grow the chain it vouches for).
        check_source(envelope)
        if envelope.type != CHECKPOINT_EVENT:
            await self.record.when_any_event_append_record(envelope)
        await self.watch.when_event_carries_deadlines_track_them(envelope)
