"""Inbox items from the notification matrix (R-NTF-04): each published event the matrix
addresses becomes a notice in every addressee's inbox, watched for its receipt."""

from __future__ import annotations

from kernel.envelope import Envelope
from notify.adapters.repository import AgencyNames, InboxRepository
from notify.application.watch import DeadlineWatch
from notify.domain import notices


class MatrixNotices:
    def __init__(
        self, *, inbox: InboxRepository, agencies: AgencyNames, watch: DeadlineWatch
    ) -> None:
        self.inbox = inbox
        self.agencies = agencies
        self.watch = watch

    async def when_addressed_notify_addressees(self, envelope: Envelope) -> None:
        """Idempotent: the items' ids derive from the event, so a redelivery adds nothing
        (and repairs a receipt timer a crash left unscheduled)."""
        data = envelope.data
        for row in notices.rows_for(envelope.type):
            if row.built_by == notices.DEDICATED:
                continue
            names: dict[str, str] = {}
            for path in notices.agency_fields(row):
                agency = notices.field(data, path)
                if isinstance(agency, str) and agency:
                    names[agency] = await self.agencies.name(agency)
            items = notices.build_items(
                row, event_id=envelope.id, at=envelope.time, data=data, names=names
            )
            for item in items:
                await self.inbox.add(item)
                await self.watch.watch_notice(item)
