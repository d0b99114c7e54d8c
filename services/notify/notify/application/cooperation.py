"""Coordination's joint-enforcement and meeting events become inbox items of the agencies
that must act (R-JNT-04, R-MTG-01); each item is watched for its receipt (R-NTF-04). The
clocks the events carry are watched by the deadline watch like any other (R-SUP-02)."""

from __future__ import annotations

from collections.abc import Sequence

from kernel.contracts.deadlines import DeadlineV1
from kernel.envelope import Envelope
from notify.adapters.repository import AgencyNames, InboxRepository
from notify.application.watch import DeadlineWatch
from notify.contracts.consumed import (
    JointTaskAssigned,
    MeetingMinutesDrafted,
    MeetingMinutesIssued,
    MeetingScheduled,
    MeetingTask,
)
from notify.domain import cooperation as coop
from notify.domain.model import InboxItem


def _clocks(blocks: Sequence[DeadlineV1]) -> list[coop.Clock]:
    return [coop.Clock(b.kind, b.responsible_agency_id, b.due) for b in blocks]


def _tasks(tasks: Sequence[MeetingTask]) -> list[coop.DecidedTask]:
    return [
        coop.DecidedTask(t.task_id, t.description, t.owner_agency_id, t.deadline) for t in tasks
    ]


class CooperationNotices:
    def __init__(
        self, *, inbox: InboxRepository, agencies: AgencyNames, watch: DeadlineWatch
    ) -> None:
        self.inbox = inbox
        self.agencies = agencies
        self.watch = watch

    async def _deliver(self, items: Sequence[InboxItem]) -> None:
        for item in items:
            await self.inbox.add(item)
            # Also when the item was there already: a redelivery repairs a missing timer.
            await self.watch.watch_notice(item)

    async def when_joint_task_assigned_tell_agency(self, envelope: Envelope) -> None:
        e = envelope.payload(JointTaskAssigned)
        item = coop.joint_task_assigned(
            event_id=envelope.id,
            at=envelope.time,
            operation_id=e.operation_id,
            task_id=e.task_id,
            agency_id=e.agency_id,
            lead_name=await self.agencies.name(e.lead_id),
            description=e.description,
            deadline=e.deadline,
            report_due=coop.due_of(_clocks(e.deadlines), coop.JOINT_TASK_REPORT, e.agency_id)
            or e.report_due,
        )
        await self._deliver([item])

    async def when_meeting_scheduled_notify_attendees(self, envelope: Envelope) -> None:
        e = envelope.payload(MeetingScheduled)
        await self._deliver(
            coop.meeting_notices(
                event_id=envelope.id,
                at=envelope.time,
                meeting_id=e.meeting_id,
                convener_id=e.convener_id,
                convener_name=await self.agencies.name(e.convener_id),
                title=e.title,
                starts_at=e.starts_at,
                place=e.place,
                attendee_ids=e.attendee_ids,
                agenda=e.agenda,
                urgent=e.urgent,
                clocks=_clocks(e.deadlines),
            )
        )

    async def when_minutes_drafted_ask_attendees_to_agree(self, envelope: Envelope) -> None:
        e = envelope.payload(MeetingMinutesDrafted)
        await self._deliver(
            coop.minutes_to_agree(
                event_id=envelope.id,
                at=envelope.time,
                meeting_id=e.meeting_id,
                convener_name=await self.agencies.name(e.convener_id),
                revision=e.revision,
                awaiting=e.awaiting_agreement_of,
                tasks=_tasks(e.tasks),
            )
        )

    async def when_minutes_issued_assign_tasks(self, envelope: Envelope) -> None:
        e = envelope.payload(MeetingMinutesIssued)
        await self._deliver(
            coop.meeting_tasks_assigned(
                event_id=envelope.id,
                at=envelope.time,
                meeting_id=e.meeting_id,
                number=e.number,
                tasks=_tasks(e.tasks),
                clocks=_clocks(e.deadlines),
            )
        )
