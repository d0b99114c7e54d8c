"""What the referral service does when other services publish: its read models of the
agency directory and the catalogue, and a dispute's ruling applied to the referral."""

from __future__ import annotations

from kernel.contracts.catalogue import CatalogueEntryV1
from kernel.envelope import Envelope, EventPayload
from referral.application.runner import SYSTEM_ID, Runner
from referral.contracts.consumed import AgencyRegistered, DisputeOpened, DisputeRuled
from referral.contracts.published import (
    ReferralReassignedV1,
    ReferralReceiverConfirmedV1,
    ReferralReturnedToSenderV1,
)
from referral.domain.model import Actor, AgencyRef, Ruling, Status
from referral.domain.model.rulings import apply_ruling


class ReferralReactions:
    def __init__(self, run: Runner) -> None:
        self.run = run
        self.ports = run.ports

    async def when_agency_registered_update_directory(self, envelope: Envelope) -> None:
        event: AgencyRegistered = envelope.payload(AgencyRegistered)
        await self.ports.agencies.put(
            AgencyRef(event.agency_id, event.name, event.kind, event.internal_unit),
            event.version,
            liaison=event.referral_liaison(),
            document_code=event.document_code,
        )

    async def when_catalogue_entry_changed_update_read_model(self, envelope: Envelope) -> None:
        await self.ports.catalogue.put(envelope.payload(CatalogueEntryV1))

    async def when_dispute_opened_note_owner(self, envelope: Envelope) -> None:
        """R-REF-07 → R-DSP-01: the dispute opened for a declined referral owns it until its
        ruling (the stall check reads this). Recorded without an event of its own: the
        dispute's event is the public fact. Idempotent."""
        event: DisputeOpened = envelope.payload(DisputeOpened)
        if not event.referral_id:
            return
        referral = await self.ports.referrals.get(event.referral_id)
        moved = referral.owned_by_dispute(event.dispute_id) if referral else None
        if moved is None:
            return
        # A concurrent change raises Conflict: the bus redelivers and the retry reads anew.
        await self.ports.referrals.save(moved, [])

    async def when_dispute_ruled_reassign_or_confirm(self, envelope: Envelope) -> None:
        """R-DSP-03 / R-REF-07: the ruling reassigns the declined referral to the responsible
        agency or confirms the receiver; R-DSP-04: a case-transfer ruling moves the referral
        from the township that asked to the department. Idempotent: a redelivered ruling
        changes nothing."""
        event: DisputeRuled = envelope.payload(DisputeRuled)
        if not event.referral_id:
            return
        referral = await self.ports.referrals.get(event.referral_id)
        if referral is None:
            return
        now = self.run.now()
        ruling = Ruling(
            event.dispute_id,
            event.responsible_agency_id,
            event.outcome_kind,
            event.basis,
            event.rule_id or "",
            event.ruled_at,
            now,
            False,
        )
        system = Actor(SYSTEM_ID, "联动系统", referral.receiver_id, ())
        # R-DSP-04: a case-transfer ruling relieves the township that asked (its receiver).
        transfer = event.kind == "transfer_to_department"
        moved = apply_ruling(
            referral,
            ruling,
            self.run.clocks.accept(now, event.responsible_agency_id),
            system,
            transfer_from=(event.township_id or None) if transfer else None,
        )
        if moved is None:
            return
        change = self.run.change(referral, moved, system, now)
        accept = moved.accept_deadline
        payload: EventPayload
        if moved.status is Status.CLOSED:
            payload = ReferralReturnedToSenderV1(
                **change, dispute_id=event.dispute_id, basis=event.basis
            )
        elif moved.receiver_id != referral.receiver_id:
            payload = ReferralReassignedV1(
                **change,
                previous_receiver_id=referral.receiver_id,
                dispute_id=event.dispute_id,
                basis=event.basis,
                accept_due=accept.due if accept else None,
            )
        else:
            payload = ReferralReceiverConfirmedV1(
                **change,
                dispute_id=event.dispute_id,
                basis=event.basis,
                accept_due=accept.due if accept else None,
            )
        # A concurrent change raises Conflict: the bus redelivers, and the retry reads the
        # new version (and is still idempotent).
        await self.run.commit(moved, [payload], envelope.correlationid)
