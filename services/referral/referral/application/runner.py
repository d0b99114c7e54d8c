"""What every slice of the referral service's application layer shares: its ports, the
clocks, and the one path a command takes (load → authorize → move in the domain → event
payload → one conditional write with the events)."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from kernel.actions import stop_if_dry_run
from kernel.auth import Principal
from kernel.calendar import WorkingCalendar
from kernel.caller import Caller
from kernel.documents import DocumentRenderer
from kernel.envelope import Envelope, EventPayload, new_envelope
from kernel.errors import NotFound
from kernel.policy import DistrictPolicy
from kernel.signing import SigningKeys
from kernel.store import FileStore, StoredFile
from referral.adapters.repository import (
    AgencyDirectory,
    CatalogueReadModel,
    ComplaintRepository,
    ElectronicConsents,
    LetterRegister,
    ReferralRepository,
    WaitingDispatches,
)
from referral.application.access import authorize_referral
from referral.application.clocks import ReferralClocks
from referral.application.crime_follow import direct_transfer_follow_up
from referral.application.letter import default_document_code, transfer_letter
from referral.domain.model import MAX_MATERIAL_BYTES, Actor, AgencyRef, MaterialKind, Referral

SERVICE = "referral"
# Acts the service performs itself on a ruling or a delegation are recorded under this
# actor, with the agency that caused them in the note.
SYSTEM_ID = "system:referral"

#: A move in the domain: the loaded referral, who acts and when → the referral after it
#: (a coroutine where the move needs to look something up first).
Move = Callable[[Referral, Actor, datetime], Referral | Awaitable[Referral]]
#: The payload fields a transition adds to the common ones, from the referral before and
#: after it.
Extra = Callable[[Referral, Referral], dict[str, Any]]


def actor_of(p: Principal) -> Actor:
    return Actor(p.person_id, p.person_name, p.agency_id, p.roles)


class DispatchPhotoSource(Protocol):
    """Coordination's photos of a referred dispatch (R-GRD-01), fetched under this service's
    identity and retried while coordination is briefly unavailable; raises when refused or
    still unavailable after the last attempt."""

    async def photo(self, dispatch_id: str, photo_id: str, *, max_bytes: int) -> bytes: ...


@dataclass
class ReferralPorts:
    """The service's repositories and settings, as bootstrap wires them. The optional ports
    are absent only in tests that exercise one slice."""

    referrals: ReferralRepository
    agencies: AgencyDirectory
    policy: DistrictPolicy
    calendar: WorkingCalendar
    district: str
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    catalogue_port: CatalogueReadModel | None = None
    complaints_port: ComplaintRepository | None = None
    consents_port: ElectronicConsents | None = None
    files_port: FileStore | None = None
    render_port: DocumentRenderer | None = None
    # The domain's limit, lowered only by tests that need an "oversized" file cheaply.
    max_material_bytes: int = MAX_MATERIAL_BYTES
    letters_port: LetterRegister | None = None
    signing_port: SigningKeys | None = None
    dispatch_photos_port: DispatchPhotoSource | None = None
    # Referred dispatches waiting for an agency's registration (R-GRD-01); without it a
    # dispatch naming an unknown agency is refused (and dead-lettered by the consumer).
    waiting_port: WaitingDispatches | None = None

    def __post_init__(self) -> None:
        self.max_material_bytes = min(self.max_material_bytes, MAX_MATERIAL_BYTES)
        self.clocks = ReferralClocks(self.policy, self.calendar)

    @property
    def catalogue(self) -> CatalogueReadModel:
        return _wired(self.catalogue_port, "a catalogue read model")

    @property
    def complaints(self) -> ComplaintRepository:
        return _wired(self.complaints_port, "a complaint repository")

    @property
    def consents(self) -> ElectronicConsents:
        return _wired(self.consents_port, "electronic consents")

    @property
    def files(self) -> FileStore:
        return _wired(self.files_port, "a file store")

    @property
    def render(self) -> DocumentRenderer:
        return _wired(self.render_port, "a document renderer")

    @property
    def letters(self) -> LetterRegister:
        return _wired(self.letters_port, "a letter register")

    @property
    def signing(self) -> SigningKeys:
        return _wired(self.signing_port, "signing keys")

    @property
    def dispatch_photos(self) -> DispatchPhotoSource:
        return _wired(self.dispatch_photos_port, "coordination's dispatch photos")


P = TypeVar("P")


def _wired(port: P | None, what: str) -> P:
    assert port is not None, f"the referral service was wired without {what}"
    return port


class Runner:
    """The shared steps of the referral service's commands."""

    def __init__(self, ports: ReferralPorts) -> None:
        self.ports = ports
        self.clocks = ports.clocks

    def now(self) -> datetime:
        return self.ports.clock()

    def event(self, payload: EventPayload, subject: str, correlation_id: str | None) -> Envelope:
        return new_envelope(
            payload,
            district=self.ports.district,
            service=SERVICE,
            subject=subject,
            correlation_id=correlation_id,
        )

    async def load(self, referral_id: str) -> Referral:
        referral = await self.ports.referrals.get(referral_id)
        if referral is None:
            raise NotFound(f"referral {referral_id!r} does not exist", field="id")
        return referral

    async def load_for(self, operation: str, referral_id: str, principal: Principal) -> Referral:
        """Load a referral and check the caller against the authorization matrix
        (``kernel.authz``) for ``operation``, the graph's name of the act."""
        referral = await self.load(referral_id)
        authorize_referral(principal, operation, referral)
        return referral

    async def agency(self, agency_id: str) -> AgencyRef | None:
        return await self.ports.agencies.get(agency_id)

    async def document_code(self, agency_id: str) -> str:
        """The agency's 机关代字: its registration's, else derived from its name."""
        code = await self.ports.agencies.document_code(agency_id)
        if code:
            return code
        agency = await self.agency(agency_id)
        return default_document_code(agency.name if agency else agency_id)

    async def store_letter(
        self, referral: Referral, number: str, at: datetime, **metadata: Any
    ) -> StoredFile:
        """Lay out the 移送函 of ``referral`` numbered ``number`` (a draft's number leaves the
        serial blank), render it off the event loop (reportlab is CPU-bound) and store it as a
        generated letter; ``metadata`` adds to the file's."""
        sender = await self.agency(referral.sender_id)
        receiver = await self.agency(referral.receiver_id)
        document = transfer_letter(
            referral,
            sender.name if sender else referral.sender_id,
            receiver.name if receiver else referral.receiver_id,
            at,
            liaison=await self.ports.agencies.liaison(referral.sender_id),
            number=number,
        )
        pdf = await asyncio.to_thread(self.ports.render, document)
        return await self.ports.files.put(
            pdf,
            filename="移送函.pdf",
            media_type="application/pdf",
            metadata={
                "referral_id": referral.id,
                "kind": MaterialKind.TRANSFER_LETTER.value,
                "generated": True,
                **metadata,
            },
        )

    def change(
        self, before: Referral, after: Referral, actor: Actor, at: datetime
    ) -> dict[str, Any]:
        """The fields every referral event carries, with the clocks this change touched."""
        touched = [d for d in after.deadlines if d not in before.deadlines]
        return {
            "referral_id": after.id,
            "sender_id": after.sender_id,
            "receiver_id": after.receiver_id,
            "matter_code": after.matter_code,
            "actor_id": actor.person_id,
            "actor_agency_id": actor.agency_id,
            "state_before": before.status.value,
            "state_after": after.status.value,
            "at": at,
            "deadlines": [self.clocks.to_event(d, after.id) for d in touched],
        }

    async def transit(
        self,
        operation: str,
        referral_id: str,
        caller: Caller,
        move: Move,
        payload_type: Callable[..., EventPayload],
        extra: Extra | dict[str, Any] | None = None,
    ) -> Referral:
        """A transition: load the referral for ``operation`` (authorized), ``move`` it in the
        domain, publish the change (actor, before/after state, touched clocks) as
        ``payload_type`` with the ``extra`` fields, commit both in one write."""
        referral = await self.load_for(operation, referral_id, caller.principal)
        now = self.now()
        actor = actor_of(caller.principal)
        moved = move(referral, actor, now)
        if inspect.isawaitable(moved):
            moved = await moved
        fields = extra(referral, moved) if callable(extra) else dict(extra or {})
        payload = payload_type(**self.change(referral, moved, actor, now), **fields)
        return await self.commit(moved, [payload], caller.correlation_id)

    async def commit(
        self, moved: Referral, payloads: list[EventPayload], correlation_id: str | None
    ) -> Referral:
        """Save a transition together with its events (one conditional write); in a
        dry run (:mod:`kernel.actions`) the command stops here, having passed every check."""
        stop_if_dry_run(moved.id)
        moved, payloads = self._follow_crime_route(moved, payloads)
        events = [self.event(p, moved.id, correlation_id) for p in payloads]
        version = await self.ports.referrals.save(moved, events)
        return replace(moved, version=version)

    def _follow_crime_route(
        self, moved: Referral, payloads: list[EventPayload]
    ) -> tuple[Referral, list[EventPayload]]:
        """A referral drafted straight to the police: its submit, approval and sending are
        the steps of Decree 310, each with its clock and event (R-REF-14,
        ``referral.application.crime_follow``)."""
        followed, payload_type, fields = direct_transfer_follow_up(self.clocks, moved)
        if payload_type is None:
            return moved, payloads
        last = followed.history[-1]
        actor = Actor(last.actor_id, last.actor_name, last.agency_id, ())
        change = self.change(moved, followed, actor, last.at)
        return followed, [*payloads, payload_type(**change, **fields)]
