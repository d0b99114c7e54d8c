"""Event and command handlers of the notify service."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from kernel.caller import Caller
from kernel.envelope import Envelope
from kernel.errors import InvalidState, NotFound
from notify.adapters.repository import AgencyNames, InboxRepository
from notify.application import access
from notify.application.watch import DeadlineWatch
from notify.contracts.consumed import AgencyRegistered, ReferralSent
from notify.domain.model import InboxItem, referral_received


@dataclass(frozen=True)
class AcknowledgeInboxItem:
    """Sign for an inbox item (签收, R-NTF-04)."""

    item_id: str


class NotifyHandlers:
    def __init__(
        self,
        inbox: InboxRepository,
        agencies: AgencyNames,
        watch: DeadlineWatch,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.inbox = inbox
        self.agencies = agencies
        self.watch = watch
        self.clock = clock

    async def when_agency_registered_update_names(self, envelope: Envelope) -> None:
        event: AgencyRegistered = envelope.payload(AgencyRegistered)
        await self.agencies.put(event.agency_id, event.name, event.kind, event.version)

    async def when_referral_sent_notify_receiver(self, envelope: Envelope) -> None:
        event: ReferralSent = envelope.payload(ReferralSent)
        if event.route == "crime":
            return  # one notice to the police: the crime transfer's (R-REF-10)
        item = referral_received(
            event_id=envelope.id,
            referral_id=event.referral_id,
            receiver_id=event.receiver_id,
            sender_name=await self.agencies.name(event.sender_id),
            title=event.title,
            urgent=event.urgent,
            sent_at=event.sent_at,
            accept_due=event.accept_due,
        )
        await self.inbox.add(item)
        # Also when the item was there already: a crash between the two writes is repaired
        # by the redelivery (the timer's insert is idempotent by its id).
        await self.watch.watch_notice(item)

    async def acknowledge(self, command: AcknowledgeInboxItem, caller: Caller) -> InboxItem:
        principal = caller.principal
        item = await self.inbox.get(command.item_id)
        if item is None:
            raise NotFound(f"inbox item {command.item_id!r} does not exist", field="id")
        relations = access.agency_relations(principal, item.agency_id)
        access.authorize_on(principal, "acknowledgeInboxItem", relations, field="id")
        signed = item.acknowledge(principal.person_id, principal.agency_id, self.clock())
        if not await self.inbox.mark_read(signed):
            raise InvalidState("someone signed for this item first", code="ALREADY_DONE")
        await self.watch.notice_signed(signed)
        return signed
