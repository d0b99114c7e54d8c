"""Command and event handlers of the referral service."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from kernel.auth import Principal
from kernel.authz import Relation, authorize
from kernel.calendar import SHANGHAI, WorkingCalendar
from kernel.documents import render_pdf
from kernel.envelope import Envelope, EventPayload, new_envelope
from kernel.errors import Conflict, Forbidden, InvalidState, NotFound, ValidationFailed
from kernel.jurisdiction import CatalogueEntryV1, resolve
from kernel.policy import DistrictPolicy
from kernel.store import (
    FileDigestMismatchError,
    FileMissingError,
    FileStore,
    FileTooLargeError,
    StoredFile,
)
from referral.adapters.repository import (
    AgencyDirectory,
    CatalogueReadModel,
    ComplaintRepository,
    ElectronicConsents,
    ReferralRepository,
)
from referral.application.access import (
    authorize_referral,
    complaint_relations,
    oversight_relations,
)
from referral.application.clocks import ReferralClocks
from referral.application.letter import transfer_letter
from referral.contracts.consumed import AgencyRegistered, DisputeRuled
from referral.contracts.published import (
    ComplainantNotifiedV1,
    ComplaintCheckedV1,
    ComplaintHandoverAnsweredV1,
    ComplaintHandoverRequestedV1,
    ComplaintRegisteredV1,
    ElectronicConsentChangedV1,
    ReferralAcceptedV1,
    ReferralApprovedV1,
    ReferralClosedV1,
    ReferralConsentRecordedV1,
    ReferralCrimeTransferredV1,
    ReferralDeclinedV1,
    ReferralDraftedV1,
    ReferralFiledWithJusticeV1,
    ReferralHandledV1,
    ReferralMaterialChangedV1,
    ReferralMovedAtDelegationV1,
    ReferralPenaltyRecordedV1,
    ReferralPoliceDecidedV1,
    ReferralReassignedV1,
    ReferralReceiverConfirmedV1,
    ReferralResultReportedV1,
    ReferralReturnedToSenderV1,
    ReferralSendDeadlineExtendedV1,
    ReferralSentV1,
    ReferralSubmittedV1,
    ReferralSupervisedV1,
    ReferralWithdrawnV1,
)
from referral.domain.complaint import (
    Complaint,
    ComplaintStatus,
    HandoverMode,
    register_complaint,
)
from referral.domain.model import (
    ALLOWED_MEDIA_TYPES,
    MAX_MATERIAL_BYTES,
    Actor,
    AgencyRef,
    Competence,
    DeadlineInfo,
    Material,
    MaterialKind,
    OngoingViolation,
    Penalty,
    Referral,
    Ruling,
    Signature,
    Status,
    check_competence,
    draft_referral,
)

SERVICE = "referral"
# Acts the service performs itself on a ruling or a delegation are recorded under this
# actor, with the agency that caused them in the note.
SYSTEM_ID = "system:referral"


@dataclass(frozen=True)
class DraftReferral:
    sender_id: str
    receiver_id: str
    matter_code: str
    title: str
    facts: str
    party: str
    place: str
    found_at: datetime
    urgent: bool = False
    township_id: str | None = None
    penalty_kinds: tuple[str, ...] = ()
    possible_fine_yuan: int | None = None
    competence_reason: str = ""
    ongoing: bool = False
    stop_order: str = ""
    stop_ordered_at: datetime | None = None
    immediate_notice: str = ""
    notified_at: datetime | None = None
    major_or_difficult: bool = False
    forwarded_from: str | None = None
    complaint_id: str | None = None


@dataclass(frozen=True)
class AddMaterial:
    kind: str
    name: str
    media_type: str
    size: int
    sha256: str


@dataclass(frozen=True)
class RegisterComplaint:
    complainant_name: str
    complainant_contact: str
    content: str
    matter_code: str = ""
    place: str = ""
    township_id: str | None = None


@dataclass(frozen=True)
class DelegationReport:
    """R-REF-11: what moved to the township and what stayed (and why)."""

    moved: list[str]
    stayed: list[tuple[str, str]]


def actor_of(p: Principal) -> Actor:
    return Actor(p.person_id, p.person_name, p.agency_id, p.roles)


class ReferralHandlers:
    def __init__(
        self,
        referrals: ReferralRepository,
        agencies: AgencyDirectory,
        policy: DistrictPolicy,
        calendar: WorkingCalendar,
        district: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        *,
        catalogue: CatalogueReadModel | None = None,
        complaints: ComplaintRepository | None = None,
        consents: ElectronicConsents | None = None,
        files: FileStore | None = None,
        max_material_bytes: int = MAX_MATERIAL_BYTES,
    ) -> None:
        self.referrals = referrals
        self.agencies = agencies
        self.policy = policy
        self.calendar = calendar
        self.district = district
        self.clock = clock
        self.clocks = ReferralClocks(policy, calendar)
        store_less = "the referral service was wired without"
        self._catalogue = catalogue
        self._complaints = complaints
        self._consents = consents
        self._files = files
        # The domain's limit, lowered only by tests that need an "oversized" file cheaply.
        self.max_material_bytes = min(max_material_bytes, MAX_MATERIAL_BYTES)
        self._missing = store_less

    # -- plumbing ---------------------------------------------------------------------

    @property
    def catalogue(self) -> CatalogueReadModel:
        assert self._catalogue is not None, f"{self._missing} a catalogue read model"
        return self._catalogue

    @property
    def complaints(self) -> ComplaintRepository:
        assert self._complaints is not None, f"{self._missing} a complaint repository"
        return self._complaints

    @property
    def consents(self) -> ElectronicConsents:
        assert self._consents is not None, f"{self._missing} electronic consents"
        return self._consents

    @property
    def files(self) -> FileStore:
        assert self._files is not None, f"{self._missing} a file store"
        return self._files

    def _event(self, payload: EventPayload, subject: str, correlation_id: str | None) -> Envelope:
        return new_envelope(
            payload,
            district=self.district,
            service=SERVICE,
            subject=subject,
            correlation_id=correlation_id,
        )

    async def _load(self, referral_id: str) -> Referral:
        referral = await self.referrals.get(referral_id)
        if referral is None:
            raise NotFound(f"referral {referral_id!r} does not exist", field="id")
        return referral

    async def _load_for(self, operation: str, referral_id: str, principal: Principal) -> Referral:
        """Load a referral and check the caller against the authorization matrix
        (``kernel.authz``) for ``operation``, the graph's name of the act."""
        referral = await self._load(referral_id)
        authorize_referral(principal, operation, referral)
        return referral

    async def _agency(self, agency_id: str) -> AgencyRef | None:
        return await self.agencies.get(agency_id)

    def _change(
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

    async def _transit(
        self,
        operation: str,
        referral_id: str,
        principal: Principal,
        cid: str | None,
        move: Callable[[Referral, Actor, datetime], Referral],
        payload_type: Callable[..., EventPayload],
        **extra: Any,
    ) -> Referral:
        """The common shape of a plain transition: load, move in the domain, publish the
        change (actor, before/after state, clocks) with ``extra`` fields, commit."""
        referral = await self._load_for(operation, referral_id, principal)
        now = self.clock()
        actor = actor_of(principal)
        moved = move(referral, actor, now)
        payload = payload_type(**self._change(referral, moved, actor, now), **extra)
        return await self._commit(moved, [payload], cid)

    async def _commit(
        self, moved: Referral, payloads: list[EventPayload], correlation_id: str | None
    ) -> Referral:
        """Save a transition together with its events (one conditional write)."""
        events = [self._event(p, moved.id, correlation_id) for p in payloads]
        version = await self.referrals.save(moved, events)
        return replace(moved, version=version)

    # -- drafting ---------------------------------------------------------------------

    async def assess_competence(
        self,
        matter_code: str,
        township_id: str | None,
        on: datetime,
        penalty_kinds: tuple[str, ...],
        fine_yuan: int | None,
    ) -> Competence:
        """R-CAT-02/03: who the catalogue names for matter, place, date and severity."""
        entry: CatalogueEntryV1 | None = await self.catalogue.get(matter_code)
        major = self.policy.major_penalty.is_major(penalty_kinds, fine_yuan)
        res = resolve(
            entry,
            township_id=township_id or "",
            on=on.astimezone(SHANGHAI).date(),
            major_penalty=major,
        )
        return Competence(res.agency_id, res.reason, res.explanation, major, on, res.rule_id)

    async def draft_referral(
        self, cmd: DraftReferral, principal: Principal, correlation_id: str | None = None
    ) -> Referral:
        sending = {Relation.SENDER} if cmd.sender_id == principal.agency_id else set()
        authorize(
            principal,
            "referral.draftReferral",
            sending | oversight_relations(principal),
            field="senderId",
        )
        now = self.clock()
        actor = actor_of(principal)
        sender = await self._agency(cmd.sender_id)
        receiver = await self._agency(cmd.receiver_id)
        township_id = cmd.township_id
        if township_id is None:
            # The place's township defaults to whichever side is a township.
            for side in (sender, receiver):
                if side is not None and side.kind == "township":
                    township_id = side.id
                    break
        origin = await self._load(cmd.forwarded_from) if cmd.forwarded_from else None
        if origin is not None and origin.receiver_id != actor.agency_id:
            raise Forbidden("only the receiver of a referral can act on it", field="forwardedFrom")
        ongoing: OngoingViolation | None = None
        if cmd.ongoing:
            # R-REF-05: the finder orders the violation stopped at once and tells the
            # competent agency immediately; the referral records both.
            if not cmd.stop_order.strip() or cmd.stop_ordered_at is None:
                raise ValidationFailed(
                    "an ongoing violation needs the stop order (责令停止) and when it was given",
                    field="stopOrder",
                )
            if not cmd.immediate_notice.strip() or cmd.notified_at is None:
                raise ValidationFailed(
                    "an ongoing violation needs the immediate notice to the competent agency",
                    field="immediateNotice",
                )
            ongoing = OngoingViolation(
                cmd.stop_order.strip(),
                cmd.stop_ordered_at,
                cmd.immediate_notice.strip(),
                cmd.notified_at,
            )
        competence: Competence | None = None
        if receiver is not None and receiver.kind not in (
            "public_security",
            "procuratorate",
            "court",
        ):
            assessed = await self.assess_competence(
                cmd.matter_code.strip(),
                township_id,
                now,
                cmd.penalty_kinds,
                cmd.possible_fine_yuan,
            )
            competence = check_competence(assessed, receiver.id, cmd.competence_reason)
        referral = draft_referral(
            referral_id=str(uuid.uuid4()),
            sender=sender,
            receiver=receiver,
            sender_id=cmd.sender_id,
            receiver_id=cmd.receiver_id,
            matter_code=cmd.matter_code,
            title=cmd.title,
            facts=cmd.facts,
            party=cmd.party,
            place=cmd.place,
            found_at=cmd.found_at,
            urgent=cmd.urgent,
            actor=actor,
            at=now,
            send_clock=self.clocks.send(cmd.found_at, cmd.urgent),
            township_id=township_id,
            penalty_kinds=cmd.penalty_kinds,
            possible_fine_yuan=cmd.possible_fine_yuan,
            competence=competence,
            ongoing=ongoing,
            major_or_difficult=cmd.major_or_difficult,
            complaint_id=cmd.complaint_id,
            origin=origin,
        )
        change = self._change(referral, referral, actor, now)
        change["state_before"] = None
        change["deadlines"] = [self.clocks.to_event(d, referral.id) for d in referral.deadlines]
        event = self._event(
            ReferralDraftedV1(
                **change,
                title=referral.title,
                urgent=referral.urgent,
                township_id=referral.township_id,
                complaint_id=referral.complaint_id,
                route=referral.route.value,
                ongoing_violation=ongoing is not None,
                stop_order=ongoing.stop_order if ongoing else None,
                immediate_notice=ongoing.notice if ongoing else None,
            ),
            referral.id,
            correlation_id,
        )
        await self.referrals.add(referral, [event])
        return replace(referral, version=1)

    async def add_material(
        self,
        referral_id: str,
        cmd: AddMaterial,
        principal: Principal,
        cid: str | None = None,
        *,
        file_id: str | None = None,
    ) -> Referral:
        referral = await self._load_for("addReferralMaterial", referral_id, principal)
        try:
            kind = MaterialKind(cmd.kind)
        except ValueError:
            raise ValidationFailed(
                "kind must be transfer_letter, source or evidence", field="kind"
            ) from None
        now = self.clock()
        m = Material(
            str(uuid.uuid4()),
            kind,
            cmd.name.strip(),
            cmd.media_type.strip().lower(),
            cmd.size,
            cmd.sha256.strip().lower(),
            principal.person_id,
            now,
            file_id,
        )
        actor = actor_of(principal)
        moved = referral.add_material(m, actor)
        payload = ReferralMaterialChangedV1(
            **self._change(referral, moved, actor, now),
            material_id=m.id,
            kind=m.kind.value,
            name=m.name,
            media_type=m.media_type,
            size=m.size,
            sha256=m.sha256,
            has_content=file_id is not None,
        )
        return await self._commit(moved, [payload], cid)

    # -- material contents and the transfer letter (R-REF-02) -----------------------------

    async def upload_material(
        self,
        referral_id: str,
        *,
        kind: str,
        name: str,
        media_type: str,
        content: AsyncIterable[bytes],
        declared_sha256: str | None,
        principal: Principal,
        cid: str | None = None,
    ) -> tuple[Referral, Material]:
        """Store an attachment's content and record it; a refusal stores nothing.

        Everything that can be checked before the bytes arrive is checked first (state,
        sender staff, kind, media type, digest format); size and digest while streaming.
        """
        referral = await self._load_for("addReferralMaterial", referral_id, principal)
        referral.check_may_add_material(actor_of(principal))
        if kind not in {k.value for k in MaterialKind}:
            raise ValidationFailed("kind must be transfer_letter, source or evidence", field="kind")
        media = media_type.split(";")[0].strip().lower()
        if media not in ALLOWED_MEDIA_TYPES:
            raise ValidationFailed(
                f"media type {media!r} is not accepted; one of: "
                + ", ".join(sorted(ALLOWED_MEDIA_TYPES)),
                field="mediaType",
            )
        if not name.strip():
            raise ValidationFailed("a material needs a name", field="name")
        declared = declared_sha256.strip().lower() if declared_sha256 else None
        if declared is not None and (
            len(declared) != 64 or any(c not in "0123456789abcdef" for c in declared)
        ):
            raise ValidationFailed("sha256 must be 64 hexadecimal digits", field="sha256")
        try:
            stored = await self.files.put(
                content,
                filename=name.strip(),
                media_type=media,
                metadata={"referral_id": referral_id, "kind": kind},
                max_size=self.max_material_bytes,
                expected_sha256=declared,
            )
        except FileTooLargeError:
            raise ValidationFailed(
                f"the file is larger than the limit of {self.max_material_bytes} bytes",
                field="file",
            ) from None
        except FileDigestMismatchError as exc:
            raise ValidationFailed(
                f"the uploaded content has SHA-256 {exc.actual}, not the declared {exc.declared}",
                field="sha256",
            ) from None
        if stored.size == 0:
            await self.files.delete(stored.id)
            raise ValidationFailed("the file is empty", field="file")
        return await self._record_stored(referral_id, kind, stored, principal, cid)

    async def _record_stored(
        self,
        referral_id: str,
        kind: str,
        stored: StoredFile,
        principal: Principal,
        cid: str | None,
    ) -> tuple[Referral, Material]:
        cmd = AddMaterial(kind, stored.filename, stored.media_type, stored.size, stored.sha256)
        try:
            moved = await self.add_material(referral_id, cmd, principal, cid, file_id=stored.id)
        except BaseException:
            # The record was refused (or lost a race): the content must not linger unowned.
            await self.files.delete(stored.id)
            raise
        return moved, moved.materials[-1]

    async def generate_transfer_letter(
        self, referral_id: str, principal: Principal, cid: str | None = None
    ) -> tuple[Referral, Material]:
        """Render the 移送函 from the draft and attach it as its transfer_letter material.

        Its SHA-256 is what an electronic signature at sending covers (R-REF-12).
        """
        referral = await self._load_for("generateTransferLetter", referral_id, principal)
        referral.check_may_add_material(actor_of(principal))
        sender = await self._agency(referral.sender_id)
        receiver = await self._agency(referral.receiver_id)
        now = self.clock()
        document = transfer_letter(
            referral,
            sender.name if sender else referral.sender_id,
            receiver.name if receiver else referral.receiver_id,
            now,
            liaison=await self.agencies.liaison(referral.sender_id),
        )
        # reportlab is CPU-bound: off the event loop.
        pdf = await asyncio.to_thread(render_pdf, document)
        stored = await self.files.put(
            pdf,
            filename="移送函.pdf",
            media_type="application/pdf",
            metadata={"referral_id": referral_id, "kind": "transfer_letter", "generated": True},
        )
        return await self._record_stored(
            referral_id, MaterialKind.TRANSFER_LETTER.value, stored, principal, cid
        )

    async def material_content(
        self, referral_id: str, material_id: str, principal: Principal
    ) -> tuple[Material, StoredFile, AsyncIterator[bytes]]:
        """A material's content for a party or a supervisor (others: Forbidden)."""
        referral = await self._readable_files(referral_id, principal)
        material = next((m for m in referral.materials if m.id == material_id), None)
        if material is None:
            raise NotFound(
                f"referral {referral_id!r} has no material {material_id!r}", field="materialId"
            )
        return await self._open(material)

    async def letter_content(
        self, referral_id: str, principal: Principal
    ) -> tuple[Material, StoredFile, AsyncIterator[bytes]]:
        """The latest stored transfer letter (generated or uploaded)."""
        referral = await self._readable_files(referral_id, principal)
        letter = referral.latest_letter_file()
        if letter is None:
            raise NotFound(
                f"referral {referral_id!r} has no stored transfer letter yet: generate it "
                "(generateTransferLetter) or upload one of kind transfer_letter",
                field="letter",
            )
        return await self._open(letter)

    async def _readable_files(self, referral_id: str, principal: Principal) -> Referral:
        referral = await self._load(referral_id)
        authorize_referral(principal, "Referral.materialContent", referral)
        return referral

    async def _open(self, material: Material) -> tuple[Material, StoredFile, AsyncIterator[bytes]]:
        if material.file_id is None:
            raise NotFound(
                f"material {material.id!r} is a record only; its content was never uploaded",
                field="materialId",
            )
        try:
            info, chunks = await self.files.open(material.file_id)
        except FileMissingError:
            raise NotFound(
                f"the content of material {material.id!r} is gone", field="materialId"
            ) from None
        return material, info, chunks

    async def remove_material(
        self, referral_id: str, material_id: str, principal: Principal, cid: str | None = None
    ) -> Referral:
        referral = await self._load_for("removeReferralMaterial", referral_id, principal)
        now = self.clock()
        actor = actor_of(principal)
        moved = referral.remove_material(material_id, actor, now)
        m = next(x for x in referral.materials if x.id == material_id)
        payload = ReferralMaterialChangedV1(
            **self._change(referral, moved, actor, now),
            material_id=m.id,
            kind=m.kind.value,
            name=m.name,
            media_type=m.media_type,
            size=m.size,
            sha256=m.sha256,
            removed=True,
        )
        saved = await self._commit(moved, [payload], cid)
        if m.file_id is not None:
            # Only after the record is gone: a failed removal keeps the content reachable.
            await self.files.delete(m.file_id)
        return saved

    async def extend_send_deadline(
        self,
        referral_id: str,
        working_days: int,
        reason: str,
        notify_receiver: bool,
        principal: Principal,
        cid: str | None = None,
    ) -> Referral:
        referral = await self._load_for("extendReferralSendDeadline", referral_id, principal)
        now = self.clock()
        actor = actor_of(principal)
        s = self.policy.send
        moved = referral.extend_send_deadline(
            actor,
            now,
            working_days=working_days,
            max_working_days=s.extension_max_working_days,
            limit_working_days=s.limit_working_days,
            reason=reason,
            notify_receiver=notify_receiver,
            new_clock=replace(
                self.clocks.send(referral.found_at, False, working_days),
                responsible_agency_id=referral.sender_id,
            ),
        )
        payload = ReferralSendDeadlineExtendedV1(
            **self._change(referral, moved, actor, now),
            working_days=working_days,
            reason=reason.strip(),
            notified_agency_id=referral.receiver_id,
        )
        return await self._commit(moved, [payload], cid)

    async def submit_for_approval(
        self, referral_id: str, principal: Principal, correlation_id: str | None = None
    ) -> Referral:
        referral = await self._load_for("submitReferral", referral_id, principal)
        now = self.clock()
        actor = actor_of(principal)
        moved = referral.submit_for_approval(actor, now)
        payload = ReferralSubmittedV1(**self._change(referral, moved, actor, now))
        return await self._commit(moved, [payload], correlation_id)

    async def approve(
        self, referral_id: str, principal: Principal, correlation_id: str | None = None
    ) -> Referral:
        referral = await self._load_for("approveReferral", referral_id, principal)
        now = self.clock()
        actor = actor_of(principal)
        moved = referral.approve(actor, now)
        payload = ReferralApprovedV1(**self._change(referral, moved, actor, now))
        return await self._commit(moved, [payload], correlation_id)

    def accept_deadline(self, sent_at: datetime, receiver_id: str = "") -> DeadlineInfo | None:
        """R-REF-06: the receiver states in writing within the district's limit."""
        return self.clocks.accept(sent_at, receiver_id)

    async def send(
        self,
        referral_id: str,
        principal: Principal,
        correlation_id: str | None = None,
        *,
        electronic: bool = False,
    ) -> Referral:
        referral = await self._load_for("sendReferral", referral_id, principal)
        now = self.clock()
        actor = actor_of(principal)
        competence = referral.competence
        if referral.competence is not None:
            # The catalogue may have changed since the draft: check again on the send date;
            # a reason stated at draft time still covers a mismatch.
            again = await self.assess_competence(
                referral.matter_code,
                referral.township_id,
                now,
                referral.penalty_kinds,
                referral.possible_fine_yuan,
            )
            competence = check_competence(
                again, referral.receiver_id, referral.competence.override_reason
            )
        signature: Signature | None = None
        if electronic:
            consented, _ = await self.consents.get(referral.receiver_id, referral.sender_id)
            if not consented:
                raise Forbidden(
                    "the receiving agency has not consented to electronic transfer from this "
                    "agency (R-REF-12); send the paper letter or ask for consent",
                    field="electronic",
                )
            # The real letter's hash when its content is stored (generated or uploaded);
            # otherwise the declared hash of the letter record.
            letter = referral.latest_letter_file() or referral.transfer_letter()
            if letter is not None:
                signature = Signature(
                    principal.person_id, principal.person_name, now, letter.sha256
                )
        deadline = self.accept_deadline(now, referral.receiver_id)
        moved = referral.send(actor, now, deadline, competence=competence, signature=signature)
        accept = moved.accept_deadline if deadline else None
        payload = ReferralSentV1(
            **self._change(referral, moved, actor, now),
            title=moved.title,
            urgent=moved.urgent,
            sent_at=now,
            accept_due=accept.due if accept else None,
            electronic=moved.electronic,
            letter_sha256=signature.letter_sha256 if signature else None,
            competence_override_reason=competence.override_reason if competence else "",
        )
        return await self._commit(moved, [payload], correlation_id)

    async def withdraw(
        self, referral_id: str, reason: str, principal: Principal, cid: str | None = None
    ) -> Referral:
        return await self._transit(
            "withdrawReferral",
            referral_id,
            principal,
            cid,
            lambda r, actor, now: r.withdraw(actor, now, reason),
            ReferralWithdrawnV1,
            reason=reason,
        )

    # -- receiving --------------------------------------------------------------------

    async def accept(
        self, referral_id: str, statement: str, principal: Principal, cid: str | None = None
    ) -> Referral:
        referral = await self._load_for("acceptReferral", referral_id, principal)
        now = self.clock()
        actor = actor_of(principal)
        moved = referral.accept(
            actor, now, statement, self.clocks.report(now, referral.receiver_id)
        )
        report = moved.clock("report")
        payload = ReferralAcceptedV1(
            **self._change(referral, moved, actor, now),
            statement=moved.acceptance_statement,
            report_due=report.due if report else None,
        )
        return await self._commit(moved, [payload], cid)

    async def decline(
        self,
        referral_id: str,
        reasons: str,
        catalogue_basis: str,
        interim_handler_id: str,
        principal: Principal,
        cid: str | None = None,
    ) -> Referral:
        referral = await self._load_for("declineReferral", referral_id, principal)
        now = self.clock()
        actor = actor_of(principal)
        moved = referral.decline(
            actor,
            now,
            may_refuse=self.policy.acceptance.may_refuse,
            reasons=reasons,
            catalogue_basis=catalogue_basis,
            interim_handler=await self._agency(interim_handler_id),
            interim_handler_id=interim_handler_id,
        )
        assert moved.decline_info is not None
        payload = ReferralDeclinedV1(
            **self._change(referral, moved, actor, now),
            township_id=moved.township_id,
            reasons=moved.decline_info.reasons,
            catalogue_basis=moved.decline_info.catalogue_basis,
            interim_handler_id=moved.decline_info.interim_handler_id,
            declined_at=now,
        )
        return await self._commit(moved, [payload], cid)

    async def record_penalty(
        self,
        referral_id: str,
        decision_number: str,
        kinds: tuple[str, ...],
        fine_yuan: int | None,
        principal: Principal,
        cid: str | None = None,
    ) -> Referral:
        referral = await self._load_for("recordReferralPenalty", referral_id, principal)
        now = self.clock()
        actor = actor_of(principal)
        moved = referral.record_penalty(actor, now, Penalty(kinds, fine_yuan, decision_number, now))
        payload = ReferralPenaltyRecordedV1(
            **self._change(referral, moved, actor, now),
            decision_number=decision_number.strip(),
            kinds=list(kinds),
            fine_yuan=fine_yuan,
        )
        return await self._commit(moved, [payload], cid)

    async def mark_handled(
        self, referral_id: str, summary: str, principal: Principal, cid: str | None = None
    ) -> Referral:
        return await self._transit(
            "markReferralHandled",
            referral_id,
            principal,
            cid,
            lambda r, actor, now: r.mark_handled(actor, now, summary),
            ReferralHandledV1,
            summary=summary,
        )

    async def report_result(
        self, referral_id: str, result: str, principal: Principal, cid: str | None = None
    ) -> Referral:
        """R-REF-08: result to the sender; a complaint-born case also tells the complainant."""
        referral = await self._load_for("reportReferralResult", referral_id, principal)
        now = self.clock()
        actor = actor_of(principal)
        moved = referral.report_result(actor, now, result)
        payload = ReferralResultReportedV1(
            **self._change(referral, moved, actor, now),
            result=moved.result,
            complaint_id=moved.complaint_id,
        )
        saved = await self._commit(moved, [payload], cid)
        if moved.complaint_id and self._complaints is not None:
            # A second aggregate: if this write fails the referral's result stands and the
            # complaint can still be told by tellComplainantResult (same outcome).
            complaint = await self.complaints.get(moved.complaint_id)
            if complaint is not None and complaint.status is ComplaintStatus.REFERRED:
                await self._tell_result(complaint, actor, now, moved.result, cid)
        return saved

    async def close(
        self, referral_id: str, principal: Principal, cid: str | None = None
    ) -> Referral:
        return await self._transit(
            "closeReferral",
            referral_id,
            principal,
            cid,
            lambda r, actor, now: r.close(actor, now),
            ReferralClosedV1,
        )

    async def supervise(
        self, referral_id: str, note: str, principal: Principal, cid: str | None = None
    ) -> Referral:
        return await self._transit(
            "superviseReferral",
            referral_id,
            principal,
            cid,
            lambda r, actor, now: r.supervise(actor, now, note),
            ReferralSupervisedV1,
            note=note,
        )

    # -- upward (R-REF-09) and crime (R-REF-10) -----------------------------------------

    async def record_department_consent(
        self, referral_id: str, note: str, principal: Principal, cid: str | None = None
    ) -> Referral:
        return await self._transit(
            "consentToUpwardReferral",
            referral_id,
            principal,
            cid,
            lambda r, actor, now: r.record_department_consent(actor, now, note),
            ReferralConsentRecordedV1,
            note=note,
        )

    async def record_justice_filing(
        self, referral_id: str, filing_number: str, principal: Principal, cid: str | None = None
    ) -> Referral:
        referral = await self._load_for("recordReferralJusticeFiling", referral_id, principal)
        now = self.clock()
        actor = actor_of(principal)
        bureau = await self.agencies.first_of_kind("justice_bureau")
        if bureau is None:
            raise ValidationFailed("no justice bureau is registered in this district")
        moved = referral.record_justice_filing(actor, now, bureau.id, filing_number)
        payload = ReferralFiledWithJusticeV1(
            **self._change(referral, moved, actor, now),
            justice_bureau_id=bureau.id,
            filing_number=filing_number.strip(),
        )
        return await self._commit(moved, [payload], cid)

    async def transfer_to_police(
        self,
        referral_id: str,
        police_id: str,
        reason: str,
        principal: Principal,
        cid: str | None = None,
    ) -> Referral:
        referral = await self._load_for("transferReferralToPolice", referral_id, principal)
        now = self.clock()
        actor = actor_of(principal)
        moved = referral.transfer_to_police(
            actor, now, await self._agency(police_id), police_id, reason
        )
        payload = ReferralCrimeTransferredV1(
            **self._change(referral, moved, actor, now), police_id=police_id, reason=reason
        )
        return await self._commit(moved, [payload], cid)

    async def record_police_decision(
        self, referral_id: str, filed: bool, note: str, principal: Principal, cid: str | None = None
    ) -> Referral:
        referral = await self._load_for("recordPoliceDecision", referral_id, principal)
        now = self.clock()
        actor = actor_of(principal)
        moved = referral.record_police_decision(
            actor,
            now,
            filed=filed,
            note=note,
            report_clock=self.clocks.report(now, referral.receiver_id),
        )
        payload = ReferralPoliceDecidedV1(
            **self._change(referral, moved, actor, now),
            police_id=principal.agency_id,
            filed=filed,
            note=note,
        )
        return await self._commit(moved, [payload], cid)

    # -- electronic transfer consent (R-REF-12) -------------------------------------------

    async def set_electronic_consent(
        self, sender_id: str, consented: bool, principal: Principal, cid: str | None = None
    ) -> bool:
        """The receiving agency (the caller's) consents to electronic transfer from
        ``sender_id``; a leader decides for the agency."""
        # By construction the caller's agency is the receiver that consents.
        authorize(principal, "referral.setElectronicTransferConsent", {Relation.RECEIVER})
        if await self._agency(sender_id) is None:
            raise ValidationFailed(f"agency {sender_id!r} is not registered", field="senderId")
        now = self.clock()
        before, version = await self.consents.get(principal.agency_id, sender_id)
        payload = ElectronicConsentChangedV1(
            receiver_id=principal.agency_id,
            sender_id=sender_id,
            consented=consented,
            actor_id=principal.person_id,
            actor_agency_id=principal.agency_id,
            state_before=("consented" if before else "not_consented") if version else None,
            state_after="consented" if consented else "not_consented",
            at=now,
        )
        event = self._event(payload, ElectronicConsents.key(principal.agency_id, sender_id), cid)
        await self.consents.put(
            principal.agency_id,
            sender_id,
            consented,
            version,
            {"by": principal.person_id, "at": now},
            [event],
        )
        return consented

    # -- bulk transfer at delegation (R-REF-11) -------------------------------------------

    async def transfer_at_delegation(
        self,
        department_id: str,
        matter_code: str,
        township_id: str,
        basis: str,
        principal: Principal,
        cid: str | None = None,
    ) -> DelegationReport:
        # The department holds the open cases as their receiver.
        holding = {Relation.RECEIVER} if principal.agency_id == department_id else set()
        authorize(
            principal,
            "referral.transferReferralsAtDelegation",
            holding | oversight_relations(principal),
        )
        town = await self._agency(township_id)
        if town is None or town.kind != "township" or town.internal_unit:
            raise ValidationFailed(f"{township_id!r} is not a township", field="townshipId")
        if not basis.strip():
            raise ValidationFailed("cite the delegation decision or agreement", field="basis")
        now = self.clock()
        moved: list[str] = []
        stayed: list[tuple[str, str]] = []
        for r in await self.referrals.open_for_delegation(department_id, matter_code):
            if r.township_id not in (None, township_id):
                stayed.append((r.id, f"place is in {r.township_id}"))
                continue
            if r.status not in (Status.SENT, Status.ACCEPTED):
                why = (
                    "archived with the department"
                    if r.status
                    in (
                        Status.CLOSED,
                        Status.RESULT_REPORTED,
                        Status.WITHDRAWN,
                    )
                    else f"{r.status.value}: not movable now"
                )
                stayed.append((r.id, why))
                continue
            after = r.move_at_delegation(
                actor_of(principal),
                now,
                township_id,
                self.clocks.accept(now, township_id),
                self.clocks.report(now, township_id),
                basis.strip(),
            )
            change = self._change(r, after, actor_of(principal), now)
            try:
                await self._commit(
                    after,
                    [
                        ReferralMovedAtDelegationV1(
                            **change, previous_receiver_id=r.receiver_id, basis=basis.strip()
                        )
                    ],
                    cid,
                )
            except Conflict:
                stayed.append((r.id, "changed meanwhile; run the transfer again"))
                continue
            moved.append(r.id)
        return DelegationReport(moved, stayed)

    # -- complaints (R-CMP) --------------------------------------------------------------

    async def _load_complaint(self, complaint_id: str) -> Complaint:
        c = await self.complaints.get(complaint_id)
        if c is None:
            raise NotFound(f"complaint {complaint_id!r} does not exist", field="id")
        return c

    async def _complaint_for(
        self, operation: str, complaint_id: str, principal: Principal
    ) -> Complaint:
        """Load a complaint and check the caller against the authorization matrix."""
        c = await self._load_complaint(complaint_id)
        authorize(principal, f"referral.{operation}", complaint_relations(principal, c))
        return c

    def _complaint_change(
        self, before: Complaint | None, after: Complaint, actor: Actor, at: datetime
    ) -> dict[str, Any]:
        return {
            "complaint_id": after.id,
            "owner_agency_id": after.owner_agency_id,
            "actor_id": actor.person_id,
            "actor_agency_id": actor.agency_id,
            "state_before": before.status.value if before else None,
            "state_after": after.status.value,
            "at": at,
        }

    def _notices(
        self, before: Complaint | None, after: Complaint, actor: Actor, at: datetime
    ) -> list[EventPayload]:
        new = after.notices[len(before.notices) if before else 0 :]
        return [
            ComplainantNotifiedV1(
                **self._complaint_change(before, after, actor, at),
                kind=n.kind,
                text=n.text,
                contact=after.complainant_contact,
                to_agency_id=n.to_agency_id,
            )
            for n in new
        ]

    async def _save_complaint(
        self,
        before: Complaint,
        after: Complaint,
        payloads: list[EventPayload],
        actor: Actor,
        at: datetime,
        cid: str | None,
    ) -> Complaint:
        events = [
            self._event(p, after.id, cid)
            for p in [*payloads, *self._notices(before, after, actor, at)]
        ]
        version = await self.complaints.save(after, events)
        return replace(after, version=version)

    async def register_complaint(
        self, cmd: RegisterComplaint, principal: Principal, cid: str | None = None
    ) -> Complaint:
        # The caller's agency receives the complaint (首问) and owns it.
        authorize(principal, "referral.registerComplaint", {Relation.RECEIVER})
        now = self.clock()
        actor = actor_of(principal)
        c = register_complaint(
            complaint_id=str(uuid.uuid4()),
            agency=await self._agency(principal.agency_id),
            actor=actor,
            at=now,
            complainant_name=cmd.complainant_name,
            complainant_contact=cmd.complainant_contact,
            content=cmd.content,
            matter_code=cmd.matter_code,
            place=cmd.place,
            township_id=cmd.township_id,
        )
        payload = ComplaintRegisteredV1(
            **self._complaint_change(None, c, actor, now), matter_code=c.matter_code
        )
        await self.complaints.add(c, [self._event(payload, c.id, cid)])
        return replace(c, version=1)

    async def answer_complaint(
        self, complaint_id: str, answer: str, principal: Principal, cid: str | None = None
    ) -> Complaint:
        c = await self._complaint_for("answerComplaint", complaint_id, principal)
        now = self.clock()
        actor = actor_of(principal)
        after = c.answer_no_violation(actor, now, answer)
        p = ComplaintCheckedV1(**self._complaint_change(c, after, actor, now), outcome="answered")
        return await self._save_complaint(c, after, [p], actor, now, cid)

    async def open_case_from_complaint(
        self, complaint_id: str, case_number: str, principal: Principal, cid: str | None = None
    ) -> Complaint:
        c = await self._complaint_for("openCaseFromComplaint", complaint_id, principal)
        now = self.clock()
        actor = actor_of(principal)
        after = c.open_case(actor, now, case_number)
        p = ComplaintCheckedV1(
            **self._complaint_change(c, after, actor, now),
            outcome="case_opened",
            case_number=after.case_number,
        )
        return await self._save_complaint(c, after, [p], actor, now, cid)

    async def refer_complaint(
        self, complaint_id: str, cmd: DraftReferral, principal: Principal, cid: str | None = None
    ) -> tuple[Complaint, Referral]:
        """R-CMP-03: the complaint becomes a referral (a draft, linked both ways)."""
        c = await self._complaint_for("referComplaint", complaint_id, principal)
        if c.status is not ComplaintStatus.REGISTERED:
            raise InvalidState(
                f"cannot refer a complaint that is {c.status.value}; it must be registered",
                field="status",
            )
        referral = await self.draft_referral(replace(cmd, complaint_id=c.id), principal, cid)
        now = self.clock()
        actor = actor_of(principal)
        receiver = await self._agency(referral.receiver_id)
        after = c.refer(
            actor, now, referral.id, receiver.name if receiver else referral.receiver_id
        )
        p = ComplaintCheckedV1(
            **self._complaint_change(c, after, actor, now),
            outcome="referred",
            referral_id=referral.id,
        )
        return await self._save_complaint(c, after, [p], actor, now, cid), referral

    async def request_complaint_handover(
        self,
        complaint_id: str,
        to_agency_id: str,
        mode: str,
        reason: str,
        principal: Principal,
        cid: str | None = None,
    ) -> Complaint:
        c = await self._complaint_for("requestComplaintHandover", complaint_id, principal)
        try:
            how = HandoverMode(mode)
        except ValueError:
            raise ValidationFailed("mode must be guide or material", field="mode") from None
        now = self.clock()
        actor = actor_of(principal)
        after = c.request_handover(
            actor, now, await self._agency(to_agency_id), to_agency_id, how, reason
        )
        p = ComplaintHandoverRequestedV1(
            **self._complaint_change(c, after, actor, now),
            to_agency_id=to_agency_id,
            mode=how.value,
            reason=reason,
        )
        return await self._save_complaint(c, after, [p], actor, now, cid)

    async def answer_complaint_handover(
        self,
        complaint_id: str,
        consent: bool,
        note: str,
        principal: Principal,
        cid: str | None = None,
    ) -> Complaint:
        c = await self._complaint_for("answerComplaintHandover", complaint_id, principal)
        now = self.clock()
        actor = actor_of(principal)
        me = await self._agency(principal.agency_id)
        after = c.answer_handover(actor, now, consent, me.name if me else principal.agency_id, note)
        assert c.handover is not None
        p = ComplaintHandoverAnsweredV1(
            **self._complaint_change(c, after, actor, now),
            to_agency_id=c.handover.to_agency_id,
            consented=consent,
            mode=c.handover.mode.value,
        )
        return await self._save_complaint(c, after, [p], actor, now, cid)

    async def _tell_result(
        self, c: Complaint, actor: Actor, at: datetime, result: str, cid: str | None
    ) -> Complaint:
        after = c.tell_result(actor, at, result)
        return await self._save_complaint(c, after, [], actor, at, cid)

    async def tell_complainant_result(
        self, complaint_id: str, result: str, principal: Principal, cid: str | None = None
    ) -> Complaint:
        c = await self._load_complaint(complaint_id)
        held = complaint_relations(principal, c)
        if c.status is ComplaintStatus.REFERRED and c.referral_id:
            r = await self._load(c.referral_id)
            # R-CMP-04: the agency that handled the referral born from it tells the result.
            held = {Relation.RECEIVER} if principal.agency_id == r.receiver_id else set()
            if principal.agency_id == c.owner_agency_id:
                held.add(Relation.RECEIVER)
        authorize(principal, "referral.tellComplainantResult", held)
        return await self._tell_result(c, actor_of(principal), self.clock(), result, cid)

    # -- events -----------------------------------------------------------------------

    async def when_agency_registered_update_directory(self, envelope: Envelope) -> None:
        event: AgencyRegistered = envelope.payload(AgencyRegistered)
        await self.agencies.put(
            AgencyRef(event.agency_id, event.name, event.kind, event.internal_unit),
            event.version,
            liaison=event.referral_liaison(),
        )

    async def when_catalogue_entry_changed_update_read_model(self, envelope: Envelope) -> None:
        await self.catalogue.put(envelope.payload(CatalogueEntryV1))

    async def when_dispute_ruled_reassign_or_confirm(self, envelope: Envelope) -> None:
        """R-DSP-03 / R-REF-07: the ruling reassigns the declined referral to the responsible
        agency or confirms the receiver. Idempotent: a redelivered ruling changes nothing."""
        event: DisputeRuled = envelope.payload(DisputeRuled)
        if not event.referral_id:
            return
        referral = await self.referrals.get(event.referral_id)
        if referral is None:
            return
        now = self.clock()
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
        moved = referral.apply_ruling(
            ruling, self.clocks.accept(now, event.responsible_agency_id), system
        )
        if moved is None:
            return
        change = self._change(referral, moved, system, now)
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
        await self._commit(moved, [payload], envelope.correlationid)
