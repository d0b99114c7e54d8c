"""What the referral service does when other services publish: its read models of the
agency directory and the catalogue, and a dispute's ruling applied to the referral."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from kernel.contracts.catalogue import CatalogueEntryV1
from kernel.envelope import Envelope, EventPayload
from kernel.errors import DomainError
from kernel.outbox import ConcurrencyError
from kernel.store import FileDigestMismatchError, FileTooLargeError
from referral.application.runner import SYSTEM_ID, Runner
from referral.contracts.consumed import (
    AgencyRegistered,
    DispatchReferred,
    DisputeOpened,
    DisputeRuled,
    ReferredPhoto,
)
from referral.contracts.published import (
    ReferralDraftedFromDispatchV1,
    ReferralReassignedV1,
    ReferralReceiverConfirmedV1,
    ReferralReturnedToSenderV1,
)
from referral.domain.model import (
    Actor,
    AgencyRef,
    Material,
    MaterialKind,
    Ruling,
    Status,
    draft_referral,
)
from referral.domain.model.rulings import apply_ruling

log = logging.getLogger(__name__)

#: The referral drafted from a dispatch has an id derived from the dispatch's: a redelivered
#: ``dispatch.referred.v1`` finds it (one dispatch, one referral).
_FROM_DISPATCH = uuid.UUID("5b0f6c3e-6d1a-4c53-9a57-0e7f1d2c9b41")


log = logging.getLogger(__name__)


def referral_id_of_dispatch(dispatch_id: str) -> str:
    return str(uuid.uuid5(_FROM_DISPATCH, f"dispatch:{dispatch_id}"))


class DispatchPhotoRefused(Exception):
    """A referred dispatch's photo is not what coordination's event said (digest or size):
    nothing is drafted (the event is redelivered, then dead-lettered for an operator)."""


class ReferralReactions:
    def __init__(self, run: Runner) -> None:
        self.run = run
        self.ports = run.ports

    async def when_agency_registered_update_directory(self, envelope: Envelope) -> None:
        """The directory's entry; then every referred dispatch that waited for this agency
        is drafted (R-GRD-01), the ones still missing another agency wait on."""
        event: AgencyRegistered = envelope.payload(AgencyRegistered)
        await self.ports.agencies.put(
            AgencyRef(event.agency_id, event.name, event.kind, event.internal_unit),
            event.version,
            liaison=event.referral_liaison(),
            document_code=event.document_code,
        )
        if self.ports.waiting_port is not None:
            for waited in await self.ports.waiting_port.waiting_for(event.agency_id):
                await self._draft_waiting(waited, replay=True)

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

    async def when_dispatch_referred_draft_referral(self, envelope: Envelope) -> None:
        """R-GRD-01 (转为移送): the township's platform turned a dispatch into a referral to a
        department; the referral is drafted in the township's name with the report's facts,
        place and discovery time, the dispatch linked, and the report's photos copied in as
        its source materials. What the dispatch does not know (the matter, the party) the
        township's clerk completes before submitting; R-REF-02/03's checks apply then as to
        any draft. Idempotent: one dispatch, one referral (a deterministic id).

        All or nothing: every photo is fetched from coordination (retried while it is briefly
        unavailable) and stored, its bytes checked against the event's SHA-256 and size,
        before the draft is written with all of them; a photo that cannot be had or does not
        match stores nothing and drafts nothing (the event is redelivered). An event from
        before digests were published names the photos by id only (``dispatchPhotoIds``)."""
        event: DispatchReferred = envelope.payload(DispatchReferred)
        waiting = self.ports.waiting_port
        if waiting is None or not await self._unknown_agencies(event):
            await self._draft_dispatch(envelope)
            return
        # An agency the directory does not know yet (its registration may be a moment
        # behind): the dispatch waits for it instead of being refused and dead-lettered.
        await waiting.park(event.dispatch_id, envelope, await self._unknown_agencies(event))
        # The registration may have arrived between the check and the parking: look again.
        await self._draft_waiting(envelope, replay=False)

    async def _unknown_agencies(self, event: DispatchReferred) -> list[str]:
        ids = dict.fromkeys((event.platform_id, event.receiver_id))
        return [i for i in ids if await self.run.agency(i) is None]

    async def _draft_waiting(self, envelope: Envelope, *, replay: bool) -> None:
        """Draft a parked dispatch once every agency it names is known, and release it.

        A draft the domain refuses (e.g. an internal unit as receiver, R-AG-02): on the
        dispatch's own delivery the error goes to the consumer (dead-lettered with its reason,
        as before); on a replay from an agency's registration it must not fail that
        registration, so the dispatch stays parked with the reason for the operator."""
        waiting = self.ports.waiting_port
        assert waiting is not None
        event: DispatchReferred = envelope.payload(DispatchReferred)
        missing = await self._unknown_agencies(event)
        if missing:
            # Parked already; when another registration drafted and released it meanwhile,
            # parking it anew would list a drafted dispatch as stalled for ever.
            await waiting.still_waiting(event.dispatch_id, missing)
            return
        try:
            await self._draft_dispatch(envelope)
        except DomainError as refused:
            if not replay:
                await waiting.done(event.dispatch_id)
                raise
            log.warning("dispatch %s stays parked: %s", event.dispatch_id, refused)
            await waiting.refused(event.dispatch_id, str(refused))
            return
        await waiting.done(event.dispatch_id)

    async def _draft_dispatch(self, envelope: Envelope) -> None:
        """The draft of a referred dispatch whose agencies are known (see above)."""
        event: DispatchReferred = envelope.payload(DispatchReferred)
        referral_id = referral_id_of_dispatch(event.dispatch_id)
        if await self.ports.referrals.get(referral_id) is not None:
            return
        now = self.run.now()
        materials = await self._fetch_photos(event, referral_id, now)
        try:
            await self._draft_from_dispatch(event, referral_id, materials, now, envelope)
        except BaseException as exc:
            await self._forget(materials)  # the draft was not written: no unowned content
            if isinstance(exc, ConcurrencyError):
                return  # a concurrent redelivery drafted it first
            raise

    async def _draft_from_dispatch(
        self,
        event: DispatchReferred,
        referral_id: str,
        materials: tuple[Material, ...],
        now: datetime,
        envelope: Envelope,
    ) -> None:
        system = Actor(SYSTEM_ID, "联动系统", event.platform_id, ())
        what = event.what.strip() or "网格上报问题"
        facts = f"网格上报：{what}。"
        if event.reason.strip():
            facts += f"转为移送理由：{event.reason.strip()}。"
        referral = draft_referral(
            referral_id=referral_id,
            sender=await self.run.agency(event.platform_id),
            receiver=await self.run.agency(event.receiver_id),
            sender_id=event.platform_id,
            receiver_id=event.receiver_id,
            matter_code="",
            title=what,
            facts=facts,
            party="",
            place=event.place,
            found_at=event.found_at,
            urgent=False,
            actor=system,
            at=now,
            send_clock=self.run.clocks.send(event.found_at, False),
            township_id=event.platform_id,
            dispatch_id=event.dispatch_id,
            dispatch_photo_ids=tuple(event.photo_ids),
            source_materials=materials,
        )
        change = self.run.change(referral, referral, system, now)
        # The system drafts on the township's behalf: the township is told (notify never
        # tells an agency of its own act, so the actor names no agency).
        change.update(state_before=None, actor_agency_id="")
        change["deadlines"] = [self.run.clocks.to_event(d, referral.id) for d in referral.deadlines]
        payload = ReferralDraftedFromDispatchV1(
            **change,
            dispatch_id=event.dispatch_id,
            title=referral.title,
            township_id=referral.township_id,
            photo_ids=list(referral.dispatch_photo_ids),
        )
        await self.ports.referrals.add(
            referral, [self.run.event(payload, referral.id, envelope.correlationid)]
        )

    async def _fetch_photos(
        self, event: DispatchReferred, referral_id: str, now: datetime
    ) -> tuple[Material, ...]:
        """Every photo of the event stored as a source material, or none (see above)."""
        stored: list[Material] = []
        try:
            for photo in event.photos:
                stored.append(await self._fetch_photo(event.dispatch_id, photo, referral_id, now))
        except BaseException:
            await self._forget(stored)
            raise
        return tuple(stored)

    async def _fetch_photo(
        self, dispatch_id: str, photo: ReferredPhoto, referral_id: str, now: datetime
    ) -> Material:
        limit = self.ports.max_material_bytes
        content = await self.ports.dispatch_photos.photo(
            dispatch_id, photo.id, max_bytes=min(limit, photo.size)
        )
        what = f"photo {photo.id!r} of dispatch {dispatch_id!r}"
        if len(content) != photo.size:
            raise DispatchPhotoRefused(f"{what} has {len(content)} bytes, not {photo.size}")
        try:
            file = await self.ports.files.put(
                content,
                filename=photo.name.strip() or "photo",
                media_type=photo.media_type,
                metadata={"referral_id": referral_id, "kind": "source", "dispatch_photo": photo.id},
                max_size=limit,
                expected_sha256=photo.sha256.lower(),
            )
        except FileDigestMismatchError as exc:
            log.error(
                "%s: SHA-256 %s, the event says %s; not drafted", what, exc.actual, photo.sha256
            )
            raise DispatchPhotoRefused(
                f"{what} has SHA-256 {exc.actual}, not {exc.declared}"
            ) from None
        except FileTooLargeError:
            raise DispatchPhotoRefused(f"{what} is larger than {limit} bytes") from None
        return Material(
            # One photo, one material: a redelivery finds the draft and fetches nothing.
            str(uuid.uuid5(_FROM_DISPATCH, f"{referral_id}:photo:{photo.id}")),
            MaterialKind.SOURCE,
            file.filename,
            file.media_type,
            file.size,
            file.sha256,
            SYSTEM_ID,
            now,
            file.id,
        )

    async def _forget(self, materials: list[Material] | tuple[Material, ...]) -> None:
        for m in materials:
            if m.file_id is not None:
                await self.ports.files.delete(m.file_id)

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
